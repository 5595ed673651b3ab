// One segment: `<base>.log` plus its sparse indexes. Sizes and offsets here are *committed* state
// (bytes whose write completed); the partition log tracks reserved-but-unwritten bytes separately.
import { join } from 'node:path';
import { HEADER_SIZE, LOG_OVERHEAD, MAGIC_OFFSET, baseOffsetAt, batchSizeAt, lastOffsetAt, maxTimestampAt, storedBatchProblem } from './batch.ts';
import { type FsLike, readFully, readWholeFile, writeFully } from './fs.ts';
import { OffsetIndex, TimeIndex } from './indexes.ts';
import { type AbortedTxn } from './txn-index.ts';
import { StorageError } from './types.ts';

export const segmentFileName = (base: number): string => String(base).padStart(20, '0');
const SCAN_CHUNK = 1 << 20;

export interface ScanResult {
  /** Bytes of complete valid batches from the start of the file. */
  validBytes: number;
  fileSize: number;
  /** Why scanning stopped before the end of the file, or null. */
  problem: string | null;
}

export class Segment {
  readonly dir: string;
  readonly baseOffset: number;
  fd = -1;
  /** Committed bytes: readers see [0, size). */
  size = 0;
  /** size + bytes of appends queued or in flight. */
  reserved = 0;
  /** One past the last committed offset (baseOffset when empty). */
  nextOffset: number;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  bytesSinceIndex = 0;
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** When segment.ms counts from. */
  createdMs: number;
  /** segment.jitter.ms drawn for this segment (Kafka's rollJitterMs); -1 until first needed. */
  rollJitterMs = -1;
  lastModifiedMs: number;
  /** Written since the last fdatasync. */
  unflushed = false;
  readers = 0;
  deleted = false;
  /** Being rewritten by the log cleaner: retention leaves it alone until the cleaner swaps it out. */
  cleaning = false;
  /** Replaced by a cleaned segment: its files were already renamed over or unlinked by the cleaner. */
  keepFiles = false;
  /** Aborted transactions whose abort marker is in this segment (`.txnindex`), in marker order. */
  aborted: AbortedTxn[] = [];

  constructor(dir: string, baseOffset: number, nowMs: number) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.offsetIndex = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
    this.createdMs = nowMs;
    this.lastModifiedMs = nowMs;
  }

  get logPath(): string { return join(this.dir, segmentFileName(this.baseOffset) + '.log'); }
  get indexPath(): string { return join(this.dir, segmentFileName(this.baseOffset) + '.index'); }
  get timeIndexPath(): string { return join(this.dir, segmentFileName(this.baseOffset) + '.timeindex'); }
  get txnIndexPath(): string { return join(this.dir, segmentFileName(this.baseOffset) + '.txnindex'); }

  /** Largest timestamp for retention: the max batch timestamp, else the last modification (as Kafka). */
  get largestTimestamp(): number { return this.maxTimestamp >= 0 ? this.maxTimestamp : this.lastModifiedMs; }

  /** Records a committed batch (header at buf[bpos]) stored at file position `pos`; Kafka's index policy. */
  onBatch(buf: Buffer, bpos: number, pos: number, indexIntervalBytes: number): void {
    const last = lastOffsetAt(buf, bpos);
    const ts = maxTimestampAt(buf, bpos);
    if (ts > this.maxTimestamp) {
      this.maxTimestamp = ts;
      this.offsetOfMaxTimestamp = last;
    }
    if (this.bytesSinceIndex > indexIntervalBytes) {
      this.offsetIndex.append(last, pos);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndex = 0;
    }
    this.bytesSinceIndex += batchSizeAt(buf, bpos);
    this.nextOffset = last + 1;
  }

  resetIndexes(): void {
    this.offsetIndex = new OffsetIndex(this.baseOffset);
    this.timeIndex = new TimeIndex(this.baseOffset);
    this.bytesSinceIndex = 0;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.nextOffset = this.baseOffset;
  }

  async open(fs: FsLike, create: boolean): Promise<void> {
    this.fd = await fs.open(this.logPath, create ? 'w+' : 'r+');
  }

  /**
   * Scans the log from position 0, checking framing, offsets and (when checkCrc) CRC-32C of every batch,
   * and rebuilds the indexes from it. Stops at the first invalid batch.
   */
  async scan(fs: FsLike, checkCrc: boolean, indexIntervalBytes: number, onBatch?: (h: Buffer, o: number) => void): Promise<ScanResult> {
    this.resetIndexes();
    const fileSize = (await fs.fstat(this.fd)).size;
    let buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, Math.max(fileSize, HEADER_SIZE)));
    let bufStart = 0;
    let bufLen = 0;
    let pos = 0;
    const fill = async (need: number) => {
      if (buf.length < need) buf = Buffer.allocUnsafe(need);
      bufStart = pos;
      bufLen = await readFully(fs, this.fd, buf.subarray(0, Math.min(buf.length, fileSize - pos)), pos);
    };
    while (pos < fileSize) {
      if (pos + HEADER_SIZE > bufStart + bufLen) await fill(HEADER_SIZE);
      let o = pos - bufStart;
      if (bufLen - o >= 12) {
        const size = LOG_OVERHEAD + buf.readInt32BE(o + 8);
        if (size > bufLen - o && size <= fileSize - pos && size > HEADER_SIZE) {
          await fill(size);
          o = 0;
        }
      }
      const problem = storedBatchProblem(buf, o, Math.min(bufLen - o, fileSize - pos), this.nextOffset, checkCrc);
      if (problem) return { validBytes: pos, fileSize, problem: `${problem} at position ${pos}` };
      this.onBatch(buf, o, pos, indexIntervalBytes);
      onBatch?.(buf, o);
      pos += batchSizeAt(buf, o);
    }
    return { validBytes: pos, fileSize, problem: null };
  }

  /** Loads and sanity-checks the index files; returns why they cannot be used, or null. */
  async loadIndexes(fs: FsLike, logSize: number, nextOffset: number): Promise<string | null> {
    const [ib, tb] = await Promise.all([readWholeFile(fs, this.indexPath), readWholeFile(fs, this.timeIndexPath)]);
    if (ib === null) return 'offset index missing';
    if (tb === null) return 'time index missing';
    const oi = OffsetIndex.parse(this.baseOffset, ib, logSize, nextOffset);
    if (typeof oi === 'string') return `offset index: ${oi}`;
    const ti = TimeIndex.parse(this.baseOffset, tb, nextOffset);
    if (typeof ti === 'string') return `time index: ${ti}`;
    // The last entry must point at a batch that really ends at that offset.
    if (oi.entries > 0) {
      const e = oi.entry(oi.entries - 1);
      const h = Buffer.allocUnsafe(HEADER_SIZE);
      if (await readFully(fs, this.fd, h, e.position) < HEADER_SIZE || h[MAGIC_OFFSET] !== 2 || lastOffsetAt(h, 0) !== e.offset) {
        return `offset index: last entry (${e.offset} at ${e.position}) does not match the log`;
      }
    }
    this.offsetIndex = oi;
    this.timeIndex = ti;
    this.size = this.reserved = logSize;
    this.nextOffset = nextOffset;
    this.maxTimestamp = ti.lastTimestamp();
    this.offsetOfMaxTimestamp = ti.entries > 0 ? ti.entry(ti.entries - 1).offset : -1;
    return null;
  }

  /** Writes both index files (Kafka's format) and syncs them. */
  async writeIndexes(fs: FsLike): Promise<void> {
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    for (const [path, data] of [[this.indexPath, this.offsetIndex.serialize()], [this.timeIndexPath, this.timeIndex.serialize()]] as const) {
      const fd = await fs.open(path, 'w+');
      try {
        await writeFully(fs, fd, data, 0);
        await fs.fdatasync(fd);
      } finally {
        await fs.close(fd);
      }
    }
  }

  /**
   * Walks committed batch headers from the index position for `fromOffset`, calling visit(header, pos)
   * until it returns true; returns the position where it stopped, or -1 at the end of the committed bytes.
   */
  async walk(fs: FsLike, fromOffset: number, limit: number, visit: (h: Buffer, o: number, pos: number) => boolean): Promise<number> {
    let pos = this.offsetIndex.floorPosition(fromOffset);
    const win = Buffer.allocUnsafe(16384);
    let winStart = 0;
    let winLen = 0;
    while (pos < limit) {
      if (pos < winStart || pos + HEADER_SIZE > winStart + winLen) {
        winStart = pos;
        winLen = await readFully(fs, this.fd, win.subarray(0, Math.min(win.length, limit - pos)), pos);
      }
      const o = pos - winStart;
      const size = winLen - o >= HEADER_SIZE ? batchSizeAt(win, o) : 0;
      if (size < HEADER_SIZE || win[o + MAGIC_OFFSET] !== 2 || baseOffsetAt(win, o) < this.baseOffset || pos + size > limit) {
        throw new StorageError('KAFKA_STORAGE_ERROR', `${this.logPath}: unreadable batch header at position ${pos}`);
      }
      if (visit(win, o, pos)) return pos;
      pos += size;
    }
    return -1;
  }

  /**
   * In-memory part of a truncation at byte `pos` (a batch start), the segment now ending at `nextOffset`:
   * index entries at or past the cut go; the max timestamp is recomputed from the time index and the
   * batches after the last offset-index entry (the only ones the time index may not cover).
   */
  async truncateTo(fs: FsLike, pos: number, nextOffset: number): Promise<void> {
    this.offsetIndex.truncateToPosition(pos);
    this.timeIndex.truncateToOffset(nextOffset);
    this.size = this.reserved = pos;
    this.nextOffset = nextOffset;
    const ti = this.timeIndex;
    this.maxTimestamp = ti.lastTimestamp();
    this.offsetOfMaxTimestamp = ti.entries > 0 ? ti.entry(ti.entries - 1).offset : -1;
    const from = this.offsetIndex.lastPosition();
    this.bytesSinceIndex = pos - from;
    if (pos === 0 || this.fd < 0) return;
    await this.walk(fs, this.offsetIndex.lastOffset(), pos, (h, o) => {
      const ts = maxTimestampAt(h, o);
      if (ts > this.maxTimestamp) {
        this.maxTimestamp = ts;
        this.offsetOfMaxTimestamp = lastOffsetAt(h, o);
      }
      return false;
    });
  }

  /** Closes the fd (once no read holds it) and, when deleting, unlinks the files. */
  async dispose(fs: FsLike, unlink: boolean): Promise<void> {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await fs.close(fd);
    }
    if (unlink && !this.keepFiles) {
      for (const p of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) {
        await fs.unlink(p).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
      }
    }
  }
}
