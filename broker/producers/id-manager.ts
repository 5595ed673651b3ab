// Producer id allocation. Ids are handed out from blocks of BLOCK_SIZE (Kafka's controller hands brokers
// blocks of 1000, ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE). Before the first id of a block is handed out,
// the block's end is written durably (temp file, fdatasync, rename, directory fsync) to
// `<data dir>/gregor-producer-ids.json`, so a crash can skip the rest of a block but never reuse an id.
// In-memory storage uses the in-memory file system: ids are unique for the life of the process.
import { join } from 'node:path';
import { type FsLike, readWholeFile, writeFileAtomic } from '../../storage/fs.ts';

export const BLOCK_SIZE = 1000;
export const PRODUCER_IDS_FILE = 'gregor-producer-ids.json';

export class ProducerIdError extends Error {}

/**
 * Where blocks come from when a controller allocates them (a committed ProducerIdsRecord, Kafka's
 * AllocateProducerIds): `floor` is the file's high-water mark from before, which the block must not go below.
 */
export type ProducerIdBlockSource = (floor: number) => Promise<{ start: number; size: number }>;

export class ProducerIdManager {
  readonly #fs: FsLike;
  readonly #file: string;
  readonly #blockSize: number;
  /** Next id to hand out, and one past the last id of the current block. */
  #next = 0;
  #end = 0;
  /** First id of the next block to claim (what the file says). */
  #nextBlockStart = 0;
  #claiming: Promise<void> | null = null;

  readonly #source: ProducerIdBlockSource | null;

  constructor(fs: FsLike, dataDir: string, blockSize = BLOCK_SIZE, source: ProducerIdBlockSource | null = null) {
    this.#source = source;
    this.#fs = fs;
    this.#file = join(dataDir, PRODUCER_IDS_FILE);
    this.#blockSize = blockSize;
  }

  /** Reads the persisted high-water mark. A missing file starts at 0; an unreadable one is an error (never guess). */
  async load(): Promise<void> {
    const buf = await readWholeFile(this.#fs, this.#file);
    if (buf === null) return;
    let start: unknown;
    try {
      start = (JSON.parse(buf.toString('utf8')) as { nextBlockStart?: unknown }).nextBlockStart;
    } catch (e) {
      throw new ProducerIdError(`${this.#file}: ${(e as Error).message}`);
    }
    if (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) throw new ProducerIdError(`${this.#file}: bad nextBlockStart ${String(start)}`);
    this.#nextBlockStart = this.#next = this.#end = start;
  }

  /** The id the next claimed block would start at (tests). */
  get nextBlockStart(): number { return this.#nextBlockStart; }

  /** A fresh producer id: synchronously while the current block lasts, else after the next block is persisted. */
  generate(): bigint | Promise<bigint> {
    if (this.#next < this.#end && this.#claiming === null) return BigInt(this.#next++);
    return this.#generateAsync();
  }

  async #generateAsync(): Promise<bigint> {
    // Callers queue behind one claim at a time, in call order.
    for (;;) {
      if (this.#claiming) {
        await this.#claiming;
        continue;
      }
      if (this.#next < this.#end) return BigInt(this.#next++);
      this.#claiming = this.#claim().finally(() => { this.#claiming = null; });
    }
  }

  async #claim(): Promise<void> {
    if (this.#source) {
      // The controller's block is durable once committed; the old file only sets a floor (it is no longer written).
      const b = await this.#source(this.#nextBlockStart);
      this.#nextBlockStart = b.start + b.size;
      this.#next = b.start;
      this.#end = b.start + b.size;
      return;
    }
    const start = this.#nextBlockStart;
    const end = start + this.#blockSize;
    await writeFileAtomic(this.#fs, this.#file, Buffer.from(JSON.stringify({ version: 1, nextBlockStart: end }) + '\n'));
    this.#nextBlockStart = end;
    this.#next = start;
    this.#end = end;
  }
}
