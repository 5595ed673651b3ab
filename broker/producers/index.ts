// Producer ids and the durability of per-partition producer state for the whole broker (each Partition
// holds its own state, broker/partitions/; this registry loads, snapshots and expires it).
//
// Snapshots: `<partition dir>/<20-digit offset>.snapshot` (Kafka's name; our own JSON content, written
// atomically) holds the state of every producer after all batches below `offset`. They are written when a
// segment rolls (as Kafka does, so a crash replays at most about one segment), at clean shutdown and every
// `SNAPSHOT_INTERVAL_MS` for partitions whose state changed; the two newest are kept. Appends in flight do
// not block a snapshot: its offset is the lowest offset still in flight (PartitionProducerState.snapshotFloor). At start every
// partition loads its newest usable snapshot (offset within [log start, log end], same topic id) and
// replays the batch headers after it through PartitionLog.read; without one it replays the whole log.
// Guarantee: after a clean shutdown or a crash, dedup state equals what it was for every batch in the
// log (the log is the truth; a snapshot only shortens the replay).
import { join } from 'node:path';
import { CONTROL_TYPE_COMMIT, parseControlRecordKey, RecordBatchView, records as iterateRecords } from '../../protocol/records.ts';
import { type FsLike, readWholeFile, writeFileAtomic } from '../../storage/fs.ts';
import type { PartitionLog } from '../../storage/index.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import type { Partition, PartitionManager } from '../partitions/index.ts';
import { type Periodic, every } from '../timers.ts';
import { ProducerIdManager, type ProducerIdBlockSource } from './id-manager.ts';
import { type BatchMeta, lastSequence, PartitionProducerState } from './state.ts';

export { ProducerIdManager, BLOCK_SIZE, PRODUCER_IDS_FILE } from './id-manager.ts';
export { PartitionProducerState, lastSequence, BATCHES_TO_RETAIN } from './state.ts';
export type { BatchMeta, CheckResult, Reservation, ProducerEntry } from './state.ts';

export const SNAPSHOT_INTERVAL_MS = 60_000;
const SNAPSHOT_RE = /^(\d{20})\.snapshot$/;
const REPLAY_READ_BYTES = 4 << 20;

export interface ProducerRegistryOptions {
  /** The hosted partitions; each holds its own producer state (Partition.producerState). */
  partitions: PartitionManager;
  /** Where producer-ids and snapshots live (the storage data dir and its file system). */
  fs: FsLike;
  dataDir: string;
  clock: Clock;
  log: Logger;
  /** producer.id.expiration.ms (Kafka default 86400000). */
  expirationMs: number;
  /** producer.id.expiration.check.interval.ms (Kafka default 600000). */
  expirationCheckIntervalMs: number;
  snapshotIntervalMs?: number;
  /** Producer id blocks from the controller (ProducerIdsRecord); without it, gregor-producer-ids.json. */
  producerIdBlocks?: ProducerIdBlockSource;
}

interface SnapshotFile {
  version: 1;
  topicId: string;
  offset: number;
  producers: Array<{ id: string; epoch: number; lastTimestamp: number; coordinatorEpoch?: number; batches: Array<[number, number, number, number, number]> }>;
  /** Open transactions: [producer id, first offset]. */
  txns?: Array<[string, number]>;
}

/** The type of a control batch's marker (CONTROL_TYPE_COMMIT / CONTROL_TYPE_ABORT), or -1 when unreadable. */
export function markerType(view: RecordBatchView): number {
  try {
    for (const r of iterateRecords(view)) return parseControlRecordKey(r.key)?.type ?? -1;
  } catch {
    // an undecodable marker counts as none
  }
  return -1;
}

export const snapshotFileName = (offset: number): string => `${String(offset).padStart(20, '0')}.snapshot`;

export class ProducerRegistry {
  readonly ids: ProducerIdManager;
  readonly #partitions: PartitionManager;
  readonly #fs: FsLike;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #expirationMs: number;
  readonly #expirationInterval: number;
  readonly #snapshotInterval: number;
  #timers: Periodic[] = [];
  #snapshotting: Promise<void> = Promise.resolve();
  #closed = false;
  #started = false;

  constructor(opts: ProducerRegistryOptions) {
    this.#partitions = opts.partitions;
    this.#fs = opts.fs;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#expirationMs = opts.expirationMs;
    this.#expirationInterval = opts.expirationCheckIntervalMs;
    this.#snapshotInterval = opts.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS;
    this.ids = new ProducerIdManager(this.#fs, opts.dataDir, undefined, opts.producerIdBlocks ?? null);
  }

  /** Loads the producer id high-water mark and every partition's producer state; arms the timers. */
  async start(): Promise<void> {
    await this.ids.load();
    let producers = 0;
    for (const p of [...this.#partitions.all()]) {
      if (p.offline || p.topicId === undefined) continue;
      const st = await this.#load(p, p.topicId);
      producers += st.size;
    }
    this.#started = true;
    if (producers > 0) this.#log.info(`producer state: ${producers} producer entr${producers === 1 ? 'y' : 'ies'} loaded`);
    this.#timers.push(every(this.#clock, this.#expirationInterval, () => this.expire()));
    this.#timers.push(every(this.#clock, this.#snapshotInterval, () => { this.snapshotAll(false).catch(() => {}); }));
    this.#partitions.onRoll((p) => { if (!this.#closed) this.snapshotAfterRoll(p).catch(() => {}); });
  }

  /** Removes idle producers everywhere (producer.id.expiration.ms). */
  expire(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const p of this.#partitions.all()) n += p.producerStateIfAny?.expire(now, this.#expirationMs) ?? 0;
    if (n > 0) this.#log.info(`producer state: expired ${n} idle producer(s)`);
    return n;
  }

  /**
   * Writes a snapshot for every partition whose state changed (all of them with `force`), serialised with
   * other snapshot runs.
   */
  snapshotAll(force: boolean): Promise<void> {
    return this.#serial(async () => {
      for (const p of [...this.#partitions.all()]) await this.#snapshotIfChanged(p, force);
    });
  }

  /** A segment of the partition rolled: snapshot it (Kafka writes one per segment). */
  snapshotAfterRoll(p: Partition): Promise<void> {
    return this.#serial(() => this.#snapshotIfChanged(p, false));
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#snapshotting.then(fn);
    this.#snapshotting = run.catch(() => {});
    return run;
  }

  async #snapshotIfChanged(p: Partition, force: boolean): Promise<void> {
    const st = p.producerStateIfAny;
    const log = p.log;
    if (!st || log.offline) return;
    if (!st.dirty && (!force || st.snapshotOffset === log.logEndOffset)) return;
    const topicId = this.#partitions.ofLog(log)?.topicId;
    if (topicId === undefined) return;
    try {
      await this.#writeSnapshot(log, st, topicId);
    } catch (e) {
      this.#log.warn(`${log.name}: producer state snapshot failed: ${(e as Error).message}`);
    }
  }

  async #writeSnapshot(log: PartitionLog, st: PartitionProducerState, topicId: string): Promise<void> {
    // Read synchronously with the state: every producer batch and marker below it is in `st`, none above.
    const offset = st.snapshotFloor(log.logEndOffset);
    const data: SnapshotFile = { version: 1, topicId, offset, producers: [] };
    for (const [id, e] of st.entries()) {
      data.producers.push({ id: String(id), epoch: e.epoch, lastTimestamp: e.lastTimestamp, coordinatorEpoch: e.coordinatorEpoch, batches: e.batches.map((b) => [b.firstSeq, b.lastSeq, b.firstOffset, b.lastOffset, b.timestamp]) });
    }
    // A transaction opened by a batch still in flight is left to the replay (which finds the batch, if written).
    data.txns = [...st.ongoingTxns()].filter(([, first]) => first < offset).map(([id, first]) => [String(id), first]);
    st.dirty = false;
    if (!this.#partitions.ofLog(log)) return; // deleted meanwhile
    // Aborts below `offset` must be durable in .txnindex: the replay after this snapshot will not re-add them.
    await log.txnIndexWritten();
    await writeFileAtomic(this.#fs, join(log.dir, snapshotFileName(offset)), Buffer.from(JSON.stringify(data)));
    st.snapshotOffset = offset;
    // Keep the two newest; remove older ones and any beyond this offset (left by a log that was truncated).
    const names = (await this.#fs.readdir(log.dir)).filter((f) => SNAPSHOT_RE.test(f)).sort();
    const keep = new Set(names.filter((f) => Number(f.slice(0, 20)) <= offset).slice(-2));
    for (const f of names) if (!keep.has(f)) await this.#fs.unlink(join(log.dir, f)).catch(() => {});
  }

  /** Newest usable snapshot, then replay of the batch headers after it. */
  async #load(p: Partition, topicId: string): Promise<PartitionProducerState> {
    const log = p.log;
    const st = p.producerState;
    let from = log.logStartOffset;
    const names = (await this.#fs.readdir(log.dir)).filter((f) => SNAPSHOT_RE.test(f)).sort().reverse();
    for (const f of names) {
      const offset = Number(f.slice(0, 20));
      if (offset > log.logEndOffset || offset < log.logStartOffset) continue;
      const snap = await this.#readSnapshot(join(log.dir, f));
      if (!snap || snap.topicId !== topicId || snap.offset !== offset) {
        this.#log.warn(`${log.name}: ignoring producer state snapshot ${f}`);
        continue;
      }
      for (const p of snap.producers) {
        st.restore(BigInt(p.id), { epoch: p.epoch, lastTimestamp: p.lastTimestamp, coordinatorEpoch: p.coordinatorEpoch, batches: p.batches.map(([firstSeq, lastSeq, firstOffset, lastOffset, timestamp]) => ({ firstSeq, lastSeq, firstOffset, lastOffset, timestamp })) });
      }
      for (const [id, first] of snap.txns ?? []) st.restoreTxn(BigInt(id), first);
      from = offset;
      st.snapshotOffset = offset;
      break;
    }
    const replayed = await this.#replay(log, st, from);
    st.dirty = replayed > 0;
    return st;
  }

  async #readSnapshot(path: string): Promise<SnapshotFile | null> {
    try {
      const buf = await readWholeFile(this.#fs, path);
      if (!buf) return null;
      const s = JSON.parse(buf.toString('utf8')) as SnapshotFile;
      return s.version === 1 && Array.isArray(s.producers) ? s : null;
    } catch {
      return null;
    }
  }

  /**
   * Rebuilds state from the batches in [from, log end): headers only, no validation (Kafka's log recovery).
   * Markers close transactions; aborts are (re-)added to the log's aborted-transaction index.
   */
  async #replay(log: PartitionLog, st: PartitionProducerState, from: number): Promise<number> {
    let offset = from;
    let n = 0;
    const end = log.logEndOffset;
    while (offset < end) {
      const r = await log.read(offset, REPLAY_READ_BYTES);
      if (r.error !== null) throw new Error(`${log.name}: rebuilding producer state at offset ${offset}: ${r.message}`);
      let progressed = false;
      for (const buf of r.batches) {
        for (let pos = 0; pos + 61 <= buf.length;) {
          const v = new RecordBatchView(buf, pos);
          pos += v.size;
          if (v.nextOffset <= offset) continue;
          offset = v.nextOffset;
          progressed = true;
          if (v.producerId < 0n) continue;
          if (v.isControl) {
            const type = markerType(v);
            if (type < 0) continue;
            const first = st.completeTxn(v.producerId, v.producerEpoch, -1, v.maxTimestamp);
            if (type !== CONTROL_TYPE_COMMIT && first !== undefined) {
              log.addAbortedTxn({ producerId: v.producerId, firstOffset: first, lastOffset: v.baseOffset, lastStableOffset: st.firstUnstableOffset ?? v.baseOffset + 1 });
            }
            n++;
            continue;
          }
          if (v.isTransactional) st.beginTxn(v.producerId, v.baseOffset);
          const meta: BatchMeta = { firstSeq: v.baseSequence, lastSeq: lastSequence(v.baseSequence, v.lastOffsetDelta), firstOffset: v.baseOffset, lastOffset: v.lastOffset, timestamp: v.maxTimestamp };
          st.apply(v.producerId, v.producerEpoch, meta);
          n++;
        }
      }
      if (!progressed) break;
    }
    return n;
  }

  /** Clean shutdown: call after storage drained its appends, before it closes. Writes every snapshot. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.stop();
    this.#timers = [];
    if (!this.#started) return; // a half-loaded state must never be written
    await Promise.all([...this.#partitions.all()].map((p) => p.log.idle()));
    await this.snapshotAll(true);
  }
}
