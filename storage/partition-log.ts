// The log of one partition: a list of segments, the last one active. Offsets are assigned synchronously
// when append() is called (no await between reading and advancing the next offset); the bytes go to a
// per-partition write queue that writes in order, coalescing queued appends into one writev (group
// write), and the log end offset / high watermark advance only once the bytes are written.
import { join } from 'node:path';
import { assignOffsets, baseOffsetAt, batchSizeAt, checkBatches, lastOffsetAt, maxTimestampAt } from './batch.ts';
import type { LogConfig } from './config.ts';
import { type FsLike, readFully, readWholeFile, writeFileAtomic, writevFully } from './fs.ts';
import { type CleanOptions, type CleanResult, type TransactionBounds, cleanLog, recoverCleaning } from './cleaner.ts';
import type { DeferredDeletes } from './deletes.ts';
import { type EpochEndOffset, type EpochEntry, LEADER_EPOCH_FILE, LeaderEpochCache } from './leader-epoch-cache.ts';
import { Segment, segmentFileName } from './segment.ts';
import { type AbortedTxn, parseTxnIndex, serializeTxnIndex } from './txn-index.ts';
import type { Clock } from './clock.ts';
import { type Logger, StorageError } from './types.ts';

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker's append time when the topic uses LogAppendTime, else -1. */
  logAppendTime: number;
}

export interface ReadOptions {
  /** Return the first batch even when it is larger than maxBytes (Kafka's default for fetch). */
  minOneBatch?: boolean;
  /** Exclusive upper bound: batches starting at or after it are not returned (the last stable offset for read_committed). */
  maxOffset?: number;
  /** Read up to the log end instead of the high watermark (Kafka's FetchIsolation LOG_END: replica fetches). */
  toLogEnd?: boolean;
}

interface LogPosition {
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

export type ReadResult =
  | (LogPosition & { error: null; /** Views of whole stored batches (each view holds one or more). */ batches: Buffer[] })
  | (LogPosition & { error: 'OFFSET_OUT_OF_RANGE' | 'KAFKA_STORAGE_ERROR'; message: string; batches: [] });

export interface OffsetAndTimestamp {
  offset: number;
  timestamp: number;
}

/** What a partition log needs from its storage. */
export interface LogHost {
  readonly fs: FsLike;
  readonly clock: Clock;
  readonly log: Logger;
  /** Recovery point or log start offset changed: the checkpoint files need rewriting. */
  checkpointDirty(): void;
  /** A segment rolled and the previous one is synced and indexed (the broker snapshots producer state). */
  rolled?(log: PartitionLog): void;
  /** Resolves once the checkpoint files reflect this log's current state (after a truncation). */
  checkpointsWritten?(): Promise<void>;
  /**
   * Whether logs start with their high watermark following the log end (a leader whose ISR is itself, the
   * single-node case; default true). A replicating broker opens storage with false and moves it itself.
   */
  readonly highWatermarkFollowsLogEnd?: boolean;
  /** Deferred deletes (file.delete.delay.ms); without it files are unlinked at once. */
  readonly deletes?: DeferredDeletes;
  /** Uniform in [0, 1): draws segment.jitter.ms per segment (default Math.random). */
  readonly random?: () => number;
}

interface WriteOp {
  kind: 'write';
  seg: Segment;
  pos: number;
  buf: Buffer;
  lastOffset: number;
  offsetCount: number;
  result: AppendResult;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

interface RollOp {
  kind: 'roll';
  prev: Segment;
}

// A group write takes at most half of the queue (and 8 MiB), so that under a steady stream the next
// group is already queued when one completes: the writer never idles while acknowledgements and new
// appends run on the event loop.
const MAX_GROUP = 256;
const MAX_GROUP_BYTES = 8 * 1024 * 1024;
const MAX_RELATIVE_OFFSET = 2 ** 31 - 1;

export interface LoadOptions {
  recoveryPoint: number;
  logStartOffset: number;
  /** The previous shutdown was clean: segments before the active one are trusted. */
  clean: boolean;
  /** From replication-offset-checkpoint (missing: 0, as Kafka); capped at the recovered log end. */
  highWatermark?: number;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  #host: LogHost;
  #config: LogConfig;
  #segments: Segment[] = [];
  /** Next offset to assign (includes appends not yet written). */
  #nextOffset = 0;
  /** One past the last written offset. */
  #leo = 0;
  #logStartOffset = 0;
  #recoveryPoint = 0;
  #highWatermark = 0;
  #hwFollowsLogEnd = true;
  #epochs = new LeaderEpochCache();
  /** leader-epoch-checkpoint rewrites, in order; a flush waits for them before advancing the recovery point. */
  #epochWrites: Promise<void> = Promise.resolve();
  /** An epoch assigned to the empty log, not written yet (see assignEpochStartOffset). */
  #epochWriteDeferred = false;
  #epochWriteQueued = false;
  /** leader-epoch-checkpoint writes queued or running. */
  #epochWritesPending = 0;
  /** truncateTo / truncateFullyAndStartAt in progress: appends, retention and cleaning wait it out (rejected). */
  #truncating = false;
  #deletedDir = false;
  #offline: StorageError | null = null;
  #closed = false;
  #queue: Array<WriteOp | RollOp> = [];
  #draining: Promise<void> | null = null;
  #unflushedMessages = 0;
  #flushInFlight: Promise<void> | null = null;
  #flushNext: Promise<void> | null = null;
  #flushTimer: unknown = null;
  /** Background work after rolls (sync + index files), in roll order. */
  #bg: Promise<void> = Promise.resolve();
  #removed = 0;
  /** Renames of deleted segment files to `*.deleted`, in order (closing waits for them). */
  #renames: Promise<void> = Promise.resolve();
  #renamesPending = 0;
  /** `.txnindex` rewrites, in order. */
  #txnWrites: Promise<void> = Promise.resolve();
  /** First offset the cleaner has not cleaned (Kafka's cleaner-offset-checkpoint); storage loads and persists it. */
  cleanerCheckpoint = 0;
  /** Earliest delete horizon of the tombstones the last cleaning kept (-1: none or unknown). */
  #deleteHorizon = -1;
  #cleaning: Promise<CleanResult | null> | null = null;
  /**
   * Set by the log's owner (the broker's partition): the first unstable offset bounds cleaning, and the
   * active producers decide which producer headers cleaning keeps. Null: none known (every producer active).
   */
  transactionBounds: TransactionBounds | null = null;

  private constructor(host: LogHost, topic: string, partition: number, dir: string, config: LogConfig) {
    this.#host = host;
    this.topic = topic;
    this.partition = partition;
    this.dir = dir;
    this.#config = config;
  }

  get name(): string { return `${this.topic}-${this.partition}`; }
  get logStartOffset(): number { return this.#logStartOffset; }
  get logEndOffset(): number { return this.#leo; }
  /** The offset the next append gets (the log end plus appends not yet written). */
  get nextOffset(): number { return this.#nextOffset; }
  /** Offsets below it are committed: consumers read up to it. Follows the log end while highWatermarkFollowsLogEnd. */
  get highWatermark(): number { return this.#highWatermark; }
  /**
   * True (the default): the high watermark moves with the log end, as a leader whose ISR is itself.
   * A follower, or a leader with other ISR members, sets it to false and moves it with setHighWatermark.
   */
  get highWatermarkFollowsLogEnd(): boolean { return this.#hwFollowsLogEnd; }
  set highWatermarkFollowsLogEnd(v: boolean) {
    this.#hwFollowsLogEnd = v;
    if (v) this.#highWatermark = this.#leo;
  }
  /** The leader-epoch cache's entries (epoch, start offset), oldest first. */
  get leaderEpochs(): readonly EpochEntry[] { return this.#epochs.entries; }
  /** The latest leader epoch of the log, -1 when none. */
  get latestEpoch(): number { return this.#epochs.latestEpoch; }
  get recoveryPoint(): number { return Math.min(this.#recoveryPoint, this.#leo); }
  /** Set when the partition cannot take appends (corrupt segment, failed fsync); reads may still work. */
  get offline(): StorageError | null { return this.#offline; }
  get config(): LogConfig { return this.#config; }
  set config(c: LogConfig) { this.#config = c; }
  /** Committed bytes over all segments. */
  get size(): number { return this.#segments.reduce((n, s) => n + s.size, 0); }
  get segmentBaseOffsets(): number[] { return this.#segments.map((s) => s.baseOffset); }

  /** Opens (creating if needed) the partition directory and recovers it. Never throws for corrupt data: the log comes back offline. */
  static async load(host: LogHost, topic: string, partition: number, dir: string, config: LogConfig, opts: LoadOptions): Promise<PartitionLog> {
    const pl = new PartitionLog(host, topic, partition, dir, config);
    await pl.#load(opts);
    return pl;
  }

  async #load(opts: LoadOptions): Promise<void> {
    const { fs, clock, log } = this.#host;
    await fs.mkdir(this.dir);
    await recoverCleaning(fs, this.dir, log, this.name);
    const now = clock.now();
    const bases = (await fs.readdir(this.dir))
      .map((f) => /^(\d{20})\.log$/.exec(f))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    /** Epochs of the batches re-scanned by recovery that reach the log start, in offset order (Kafka's LogSegment.recover assigns them). */
    const scanned: EpochEntry[] = [];
    if (bases.length === 0) {
      const seg = new Segment(this.dir, Math.max(0, opts.logStartOffset), now);
      await seg.open(fs, true);
      this.#segments = [seg];
    } else {
      this.#segments = bases.map((b) => new Segment(this.dir, b, now));
      let rpIdx = 0;
      for (let i = 0; i < bases.length; i++) if (bases[i] <= opts.recoveryPoint) rpIdx = i;
      for (let i = 0; i < this.#segments.length; i++) {
        const seg = this.#segments[i];
        const isLast = i === this.#segments.length - 1;
        const nextBase = isLast ? Infinity : this.#segments[i + 1].baseOffset;
        await seg.open(fs, false);
        const st = await fs.fstat(seg.fd);
        seg.lastModifiedMs = st.mtimeMs;
        let mustScan = isLast || (!opts.clean && i >= rpIdx);
        if (!mustScan) {
          const problem = await seg.loadIndexes(fs, st.size, nextBase);
          if (problem) {
            log.warn(`${this.name}: rebuilding indexes of ${segmentFileName(seg.baseOffset)}: ${problem}`);
            mustScan = true;
          }
        }
        if (!mustScan) continue;
        const r = await seg.scan(fs, true, this.#config.indexIntervalBytes, (h, o) => {
          if (lastOffsetAt(h, o) >= opts.logStartOffset) scanned.push({ epoch: h.readInt32BE(o + 12), startOffset: baseOffsetAt(h, o) });
        });
        if (r.problem !== null && !isLast) {
          this.#offline = new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: corrupt segment ${seg.logPath}: ${r.problem}`);
          log.error(`${this.name}: corrupt segment ${seg.logPath} in the middle of the log (${r.problem}); partition marked offline, other partitions are unaffected`);
          break;
        }
        if (seg.nextOffset > nextBase) {
          this.#offline = new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: segment ${seg.logPath} overlaps the next one`);
          log.error(`${this.name}: segment ${seg.logPath} holds offsets up to ${seg.nextOffset - 1}, beyond the next segment's base ${nextBase}; partition marked offline`);
          break;
        }
        if (r.problem !== null) {
          log.warn(`${this.name}: truncating ${seg.logPath} from ${r.fileSize} to ${r.validBytes} bytes: ${r.problem}`);
          await fs.ftruncate(seg.fd, r.validBytes);
        }
        seg.size = seg.reserved = r.validBytes;
        if (!isLast) {
          // Recovered non-active segment: persist what a roll would have.
          await fs.fdatasync(seg.fd);
          await seg.writeIndexes(fs);
        }
      }
    }
    const active = this.#segments[this.#segments.length - 1];
    this.#leo = this.#nextOffset = active.nextOffset;
    for (const seg of this.#segments) {
      const buf = await readWholeFile(fs, seg.txnIndexPath);
      // Entries past the recovered log end belong to truncated markers: the broker's replay re-adds the rest.
      if (buf) seg.aborted = parseTxnIndex(buf).filter((e) => e.lastOffset < this.#leo);
    }
    this.#logStartOffset = Math.min(Math.max(opts.logStartOffset, this.#segments[0].baseOffset), this.#leo);
    this.#recoveryPoint = opts.clean ? this.#leo : active.baseOffset;
    this.#hwFollowsLogEnd = this.#host.highWatermarkFollowsLogEnd ?? true;
    this.#highWatermark = this.#hwFollowsLogEnd ? this.#leo : Math.max(this.#logStartOffset, Math.min(opts.highWatermark ?? 0, this.#leo));
    if (!this.#offline) await this.#loadEpochs(scanned);
  }

  /**
   * leader-epoch-checkpoint, plus the epochs of batches recovery re-scanned (newer than the file when the
   * crash came before its rewrite), cut to [log start, log end). Missing or corrupt: rebuilt by walking
   * every batch header of the log.
   */
  async #loadEpochs(scanned: EpochEntry[]): Promise<void> {
    const { fs, log } = this.#host;
    const path = join(this.dir, LEADER_EPOCH_FILE);
    let cache: LeaderEpochCache | null = null;
    let existed = false;
    try {
      const buf = await readWholeFile(fs, path);
      existed = buf !== null;
      if (buf) cache = LeaderEpochCache.parse(buf.toString('utf8'));
    } catch (e) {
      log.warn(`${this.name}: ${path}: ${(e as Error).message}; rebuilding it from the log`);
    }
    let changed = false;
    if (cache) {
      for (const e of scanned) if (e.epoch > cache.latestEpoch) changed = cache.assign(e.epoch, e.startOffset) || changed;
    } else {
      cache = new LeaderEpochCache();
      changed = existed;
      for (const seg of this.#segments) {
        if (seg.size === 0) continue;
        await seg.walk(fs, seg.baseOffset, seg.size, (h, o) => {
          const epoch = h.readInt32BE(o + 12);
          if (epoch > cache!.latestEpoch && lastOffsetAt(h, o) >= this.#logStartOffset) changed = cache!.assign(epoch, baseOffsetAt(h, o)) || changed;
          return false;
        });
      }
    }
    changed = cache.truncateFromEnd(this.#leo) || changed;
    changed = cache.truncateFromStart(this.#logStartOffset) || changed;
    this.#epochs = cache;
    if (changed) {
      this.#scheduleEpochWrite();
      await this.#epochWrites;
    }
  }

  /** Rewrites leader-epoch-checkpoint atomically (coalesced: one write covers every change made before it starts). */
  #scheduleEpochWrite(): void {
    if (this.#epochWriteQueued) return;
    this.#epochWriteQueued = true;
    this.#epochWritesPending++;
    this.#epochWrites = this.#epochWrites.then(async () => {
      this.#epochWriteQueued = false;
      try {
        if (!this.#deletedDir) await writeFileAtomic(this.#host.fs, join(this.dir, LEADER_EPOCH_FILE), this.#epochs.serialize());
      } catch (e) {
        // Kafka fails the log dir on a checkpoint write error; the recovery point stops here.
        this.#markOffline('writing leader-epoch-checkpoint failed', e);
      } finally {
        this.#epochWritesPending--;
      }
    });
  }

  /** Kafka's maybeAssignEpochStartOffset: a leader records its new epoch at its log end when elected. */
  assignEpochStartOffset(epoch: number, startOffset: number): void {
    if (!this.#epochs.assign(epoch, startOffset)) return;
    // An empty log's checkpoint waits for its first append (or close): a new partition costs no file write and
    // sync when it becomes leader, and a crash before any data loses nothing (the next election assigns it again).
    if (this.#leo === 0 && this.#logStartOffset === 0) this.#epochWriteDeferred = true;
    else this.#scheduleEpochWrite();
  }

  /**
   * OffsetForLeaderEpoch from the leader-epoch cache (Kafka's LeaderEpochFileCache.endOffsetFor): the largest
   * epoch ≤ `epoch` and its end offset (the next epoch's start, or the log end for the latest); -1/-1 unknown.
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.#epochs.endOffsetFor(epoch, this.#leo);
  }

  // ---- high watermark -----------------------------------------------------------------------------

  /**
   * Moves the high watermark forward (Kafka's maybeIncrementHighWatermark): capped at the log end, never
   * backwards (only truncation lowers it). Returns the high watermark.
   */
  setHighWatermark(offset: number): number {
    const hw = Math.min(offset, this.#leo);
    if (hw > this.#highWatermark) this.#highWatermark = hw;
    return this.#highWatermark;
  }

  /**
   * A follower's update from its leader's fetch response (Kafka's updateHighWatermark): bounded to
   * [log start, log end], and may move backwards (a new leader can have a lower high watermark).
   */
  updateHighWatermark(offset: number): number {
    this.#highWatermark = Math.max(this.#logStartOffset, Math.min(offset, this.#leo));
    return this.#highWatermark;
  }

  // ---- append -------------------------------------------------------------------------------------

  /**
   * Appends one or more concatenated v2 batches (CRC already validated by the caller). Offsets are patched
   * into `records` in place. Resolves once the bytes are written (to the page cache, or synced when
   * flush.messages demands it); rejects with a StorageError.
   */
  append(records: Buffer, opts: { leaderEpoch?: number } = {}): Promise<AppendResult> {
    const refused = this.#refuseAppend();
    if (refused) return Promise.reject(refused);
    const cfg = this.#config;
    let info;
    try {
      info = checkBatches(records, cfg.maxMessageBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    if (records.length > cfg.segmentBytes) {
      return Promise.reject(new StorageError('RECORD_LIST_TOO_LARGE', `${records.length} bytes exceed segment.bytes ${cfg.segmentBytes}`));
    }
    const now = this.#host.clock.now();
    let seg = this.#segments[this.#segments.length - 1];
    if (seg.reserved > 0 && (seg.reserved + records.length > cfg.segmentBytes || this.#rollDue(seg, now) ||
        this.#nextOffset + info.offsetCount - 1 - seg.baseOffset > MAX_RELATIVE_OFFSET)) {
      seg = this.#roll(now);
    }
    const baseOffset = this.#nextOffset;
    const logAppendTime = cfg.logAppendTime ? now : -1;
    this.#nextOffset = assignOffsets(records, baseOffset, opts.leaderEpoch, cfg.logAppendTime ? now : undefined);
    return this.#enqueue(seg, records, { baseOffset, lastOffset: this.#nextOffset - 1, logAppendTime }, info.offsetCount);
  }

  #refuseAppend(): StorageError | null {
    if (this.#offline) return this.#offline;
    if (this.#closed) return new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: log is closed`);
    if (this.#truncating) return new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: log is being truncated`);
    return null;
  }

  #enqueue(seg: Segment, records: Buffer, result: AppendResult, offsetCount: number): Promise<AppendResult> {
    const pos = seg.reserved;
    seg.reserved += records.length;
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ kind: 'write', seg, pos, buf: records, lastOffset: result.lastOffset, offsetCount, result, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /**
   * Kafka's appendAsFollower: batches fetched from the leader keep their offsets, leader epochs and
   * timestamps. Their base offsets must lie at or above the next offset and increase (gaps are allowed, as
   * a compacted leader log has them); an overlap rejects with OFFSET_OUT_OF_RANGE and writes nothing.
   */
  appendAsFollower(records: Buffer): Promise<AppendResult> {
    const refused = this.#refuseAppend();
    if (refused) return Promise.reject(refused);
    const cfg = this.#config;
    let info;
    try {
      info = checkBatches(records, cfg.maxMessageBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    if (records.length > cfg.segmentBytes) {
      return Promise.reject(new StorageError('RECORD_LIST_TOO_LARGE', `${records.length} bytes exceed segment.bytes ${cfg.segmentBytes}`));
    }
    const firstOffset = baseOffsetAt(records, 0);
    let next = this.#nextOffset;
    for (let p = 0; p < records.length; p += batchSizeAt(records, p)) {
      const base = baseOffsetAt(records, p);
      if (base < next) {
        return Promise.reject(new StorageError('OFFSET_OUT_OF_RANGE', p === 0
          ? `${this.name}: follower append at offset ${base} overlaps the log (next offset ${this.#nextOffset}); truncate first`
          : `${this.name}: follower append has batch offsets out of order (${base} after ${next - 1})`));
      }
      next = lastOffsetAt(records, p) + 1;
    }
    const lastOffset = next - 1;
    const now = this.#host.clock.now();
    let seg = this.#segments[this.#segments.length - 1];
    const tooFar = lastOffset - seg.baseOffset > MAX_RELATIVE_OFFSET;
    if (tooFar || (seg.reserved > 0 && (seg.reserved + records.length > cfg.segmentBytes || this.#rollDue(seg, now)))) {
      this.#nextOffset = firstOffset; // a rolled segment starts at the first fetched offset, as Kafka's
      seg = this.#roll(now);
    }
    this.#nextOffset = next;
    return this.#enqueue(seg, records, { baseOffset: firstOffset, lastOffset, logAppendTime: -1 }, info.offsetCount);
  }

  /**
   * Kafka's LogSegment.shouldRoll besides size: segment.ms less this segment's jitter (a draw in
   * [0, min(segment.jitter.ms, segment.ms)), as Kafka's randomSegmentJitter) has passed, or an index holds
   * segment.index.bytes worth of entries (offset index 8 bytes each, time index 12; checked against the
   * committed entries, so appends in flight may add a few more).
   */
  #rollDue(seg: Segment, now: number): boolean {
    const cfg = this.#config;
    if (seg.rollJitterMs < 0) {
      const span = Math.min(cfg.segmentJitterMs, cfg.segmentMs);
      seg.rollJitterMs = span > 0 && Number.isFinite(span) ? Math.floor((this.#host.random ?? Math.random)() * span) : 0;
    }
    if (now - seg.createdMs >= cfg.segmentMs - seg.rollJitterMs) return true;
    return seg.offsetIndex.entries >= Math.floor(cfg.segmentIndexBytes / 8) || seg.timeIndex.entries >= Math.floor(cfg.segmentIndexBytes / 12);
  }

  /** Starts a new segment at the next offset; the previous one is synced and indexed in the background. */
  #roll(now: number): Segment {
    const prev = this.#segments[this.#segments.length - 1];
    const next = new Segment(this.dir, this.#nextOffset, now);
    this.#segments.push(next);
    this.#queue.push({ kind: 'roll', prev });
    this.#draining ??= this.#drain();
    return next;
  }

  async #drain(): Promise<void> {
    await Promise.resolve(); // let appends made in the same tick join the first group
    const { fs } = this.#host;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0];
        if (head.kind === 'roll') {
          this.#queue.shift();
          this.#afterRoll(head.prev);
          continue;
        }
        const seg = head.seg;
        let n = 1;
        let bytes = head.buf.length;
        const maxN = Math.min(MAX_GROUP, Math.ceil(this.#queue.length / 2));
        while (n < maxN) {
          const op = this.#queue[n];
          if (op.kind !== 'write' || op.seg !== seg || bytes + op.buf.length > MAX_GROUP_BYTES) break;
          bytes += op.buf.length;
          n++;
        }
        const group = this.#queue.slice(0, n) as WriteOp[];
        try {
          if (seg.fd < 0) await seg.open(fs, true);
          await writevFully(fs, seg.fd, group.map((o) => o.buf), head.pos);
        } catch (e) {
          await this.#writeFailed(e, seg, head.pos);
          continue;
        }
        this.#queue.splice(0, n);
        this.#commit(seg, group);
      }
    } finally {
      this.#draining = null;
    }
  }

  #commit(seg: Segment, group: WriteOp[]): void {
    const interval = this.#config.indexIntervalBytes;
    let messages = 0;
    let epochsChanged = false;
    for (const op of group) {
      for (let p = 0; p < op.buf.length; p += batchSizeAt(op.buf, p)) {
        seg.onBatch(op.buf, p, op.pos + p, interval);
        // Kafka's append: a batch of a new leader epoch starts that epoch in the cache.
        const epoch = op.buf.readInt32BE(p + 12);
        if (epoch >= 0 && epoch !== this.#epochs.latestEpoch) epochsChanged = this.#epochs.assign(epoch, baseOffsetAt(op.buf, p)) || epochsChanged;
      }
      seg.size = op.pos + op.buf.length;
      messages += op.offsetCount;
    }
    seg.lastModifiedMs = this.#host.clock.now();
    seg.unflushed = true;
    this.#leo = group[group.length - 1].lastOffset + 1;
    if (this.#hwFollowsLogEnd) this.#highWatermark = this.#leo;
    if (epochsChanged || this.#epochWriteDeferred) { this.#epochWriteDeferred = false; this.#scheduleEpochWrite(); }
    this.#unflushedMessages += messages;
    if (this.#unflushedMessages >= this.#config.flushMessages) {
      // flush.messages: acknowledge only once synced; concurrent appends share one fdatasync.
      this.flush().then(() => { for (const op of group) op.resolve(op.result); }, (e) => { for (const op of group) op.reject(e); });
      return;
    }
    for (const op of group) op.resolve(op.result);
    if (Number.isFinite(this.#config.flushMs) && this.#flushTimer === null) {
      this.#flushTimer = this.#host.clock.setTimeout(() => {
        this.#flushTimer = null;
        this.flush().catch(() => {});
      }, this.#config.flushMs);
    }
  }

  /** A write failed: nothing from the failed write on is acknowledged; state returns to the last written offset. */
  async #writeFailed(err: unknown, seg: Segment, pos: number): Promise<void> {
    const e = new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: append failed: ${(err as Error).message}`, { cause: err });
    this.#host.log.error(e.message);
    const failed = this.#queue.splice(0);
    this.#nextOffset = this.#leo;
    // Segments rolled for the failed appends start past the log end now; drop them (they hold nothing).
    while (this.#segments.length > 1) {
      const last = this.#segments[this.#segments.length - 1];
      if (last.size > 0 || last.baseOffset <= this.#leo) break;
      this.#segments.pop();
      last.deleted = true;
      if (last.readers === 0) last.dispose(this.#host.fs, true).catch(() => {});
    }
    for (const s of this.#segments) s.reserved = s.size;
    for (const op of failed) {
      if (op.kind === 'write') op.reject(e);
      else if (op.prev !== this.#segments[this.#segments.length - 1] && !op.prev.deleted) this.#afterRoll(op.prev);
    }
    // Cut a partially written tail so a restart does not have to; the next write overwrites it anyway.
    if (seg.fd >= 0 && !seg.deleted) {
      await this.#host.fs.ftruncate(seg.fd, pos).catch((te: Error) => this.#host.log.warn(`${this.name}: truncate after failed write: ${te.message}`));
    }
  }

  #afterRoll(prev: Segment): void {
    prev.readers++;
    this.#bg = this.#bg.then(async () => {
      try {
        if (prev.deleted) return;
        if (prev.fd >= 0 && prev.unflushed) {
          prev.unflushed = false;
          await this.#host.fs.fdatasync(prev.fd);
        }
        await prev.writeIndexes(this.#host.fs);
        if (this.#epochWritesPending > 0) await this.#epochWrites;
        if (this.#offline) return;
        if (prev.nextOffset > this.#recoveryPoint) {
          this.#recoveryPoint = prev.nextOffset;
          this.#host.checkpointDirty();
        }
        this.#host.rolled?.(this);
      } catch (e) {
        this.#markOffline(`sync after roll of ${prev.logPath} failed`, e);
      } finally {
        this.#release(prev);
      }
    });
  }

  #markOffline(what: string, err: unknown): void {
    if (this.#offline) return;
    this.#offline = new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: ${what}: ${(err as Error).message}`, { cause: err });
    this.#host.log.error(`${this.#offline.message}; partition marked offline for appends`);
  }

  /**
   * fdatasync of every segment with unsynced writes, never on the event loop. Group commit: a caller
   * arriving while a sync runs waits for the next one, which covers everything written by then.
   */
  flush(): Promise<void> {
    if (this.#flushInFlight === null) return this.#startFlush();
    this.#flushNext ??= this.#flushInFlight.then(() => {
      this.#flushNext = null;
      return this.#startFlush();
    });
    return this.#flushNext;
  }

  #startFlush(): Promise<void> {
    const target = this.#leo;
    this.#unflushedMessages = 0;
    const segs = this.#segments.filter((s) => s.unflushed && s.fd >= 0);
    for (const s of segs) { s.unflushed = false; s.readers++; }
    const p = (async () => {
      try {
        for (const s of segs) if (s.fd >= 0) await this.#host.fs.fdatasync(s.fd);
        // The recovery point covers only data whose leader epochs are in leader-epoch-checkpoint.
        if (this.#epochWritesPending > 0) await this.#epochWrites;
        if (this.#offline) throw this.#offline;
        if (target > this.#recoveryPoint) {
          this.#recoveryPoint = target;
          this.#host.checkpointDirty();
        }
      } catch (e) {
        this.#markOffline('fdatasync failed', e);
        throw this.#offline;
      } finally {
        for (const s of segs) this.#release(s);
        this.#flushInFlight = null;
      }
    })();
    this.#flushInFlight = p;
    return p;
  }

  // ---- transactions -------------------------------------------------------------------------------

  /**
   * Records an aborted transaction whose abort marker (entry.lastOffset) is written. Idempotent per
   * (producer, marker offset), so the broker may re-add entries when it replays the log after a crash.
   * The segment's `.txnindex` is rewritten atomically in the background (aborts are rare, files small).
   */
  addAbortedTxn(entry: AbortedTxn): void {
    if (entry.lastOffset >= this.#leo) throw new Error(`${this.name}: abort marker ${entry.lastOffset} is not written (log end ${this.#leo})`);
    const seg = this.#segmentFor(entry.lastOffset);
    if (!seg || seg.aborted.some((e) => e.lastOffset === entry.lastOffset && e.producerId === entry.producerId)) return;
    seg.aborted.push(entry);
    seg.aborted.sort((a, b) => a.lastOffset - b.lastOffset);
    seg.readers++;
    this.#txnWrites = this.#txnWrites.then(async () => {
      try {
        if (!seg.deleted) await writeFileAtomic(this.#host.fs, seg.txnIndexPath, serializeTxnIndex(seg.aborted));
      } catch (e) {
        this.#host.log.warn(`${this.name}: writing ${seg.txnIndexPath}: ${(e as Error).message} (rebuilt from the log at the next start)`);
      } finally {
        this.#release(seg);
      }
    });
  }

  /** Settles once every `.txnindex` write queued so far is done (the broker awaits it before a producer snapshot). */
  txnIndexWritten(): Promise<void> { return this.#txnWrites; }

  /** Aborted transactions overlapping [fetchOffset, upperBound): Kafka's collectAbortedTransactions. */
  abortedTransactions(fetchOffset: number, upperBound: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (const seg of this.#segments) {
      if (seg.aborted.length === 0 || seg.nextOffset <= fetchOffset) continue;
      for (const e of seg.aborted) if (e.lastOffset >= fetchOffset && e.firstOffset < upperBound) out.push(e);
    }
    return out;
  }

  // ---- read ---------------------------------------------------------------------------------------

  #position(): LogPosition {
    return { highWatermark: this.#highWatermark, logStartOffset: this.#logStartOffset, logEndOffset: this.#leo };
  }

  /** The segment holding `offset` among committed data, or undefined past the end. */
  #segmentFor(offset: number): Segment | undefined {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    let i = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid].baseOffset <= offset) { i = mid; lo = mid + 1; } else hi = mid - 1;
    }
    while (i < segs.length && segs[i].nextOffset <= offset) i++;
    return segs[i];
  }

  /** Renames a file leaving the log to `*.deleted`, removed after file.delete.delay.ms (the background, in order). */
  #deleteLater(path: string): Promise<void> {
    const deletes = this.#host.deletes;
    this.#renamesPending++;
    const p = this.#renames.then(() => deletes
      ? deletes.renameAndSchedule(path, this.#config.fileDeleteDelayMs)
      : this.#host.fs.unlink(path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; }));
    this.#renames = p.catch((e: Error) => this.#host.log.warn(`${this.name}: deleting ${path}: ${e.message} (removed at the next start)`))
      .finally(() => { this.#renamesPending--; });
    return p;
  }

  #release(seg: Segment): void {
    if (--seg.readers === 0 && seg.deleted) {
      seg.dispose(this.#host.fs, true).catch((e: Error) => this.#host.log.warn(`${this.name}: deleting ${seg.logPath}: ${e.message}`));
    }
  }

  /**
   * Whole stored batches from the one containing `offset`, up to maxBytes (at least one batch when
   * minOneBatch), from a single segment, as views of one buffer. Only written batches are visible.
   */
  async read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult> {
    const minOneBatch = opts.minOneBatch ?? true;
    const at = this.#position();
    const end = opts.toLogEnd ? at.logEndOffset : at.highWatermark;
    if (offset < at.logStartOffset || offset > end) {
      return { ...at, error: 'OFFSET_OUT_OF_RANGE', message: `offset ${offset} is outside [${at.logStartOffset}, ${end}] of ${this.name}`, batches: [] };
    }
    const upper = Math.min(end, opts.maxOffset ?? Infinity);
    const seg = offset < upper ? this.#segmentFor(offset) : undefined;
    if (!seg || seg.size === 0) return { ...at, error: null, batches: [] };
    const limit = seg.size;
    seg.readers++;
    try {
      let start = -1;
      let firstSize = 0;
      await seg.walk(this.#host.fs, offset, limit, (h, o, pos) => {
        if (lastOffsetAt(h, o) < offset) return false;
        start = pos;
        firstSize = batchSizeAt(h, o);
        return true;
      });
      if (start < 0) {
        // `offset` lies in a gap after this segment's data (a follower's or compacted log): the next segment.
        const next = this.#segments[this.#segments.indexOf(seg) + 1];
        if (next && next.baseOffset > offset && next.baseOffset < upper) return await this.read(next.baseOffset, maxBytes, opts);
        return { ...at, error: null, batches: [] };
      }
      let want = Math.min(Math.max(0, maxBytes), limit - start);
      if (firstSize > want) {
        if (!minOneBatch) return { ...at, error: null, batches: [] };
        want = firstSize;
      }
      const buf = Buffer.allocUnsafe(want);
      const n = await readFully(this.#host.fs, seg.fd, buf, start);
      let end = 0;
      while (end + 12 <= n) {
        const s = batchSizeAt(buf, end);
        if (s < 12 || end + s > n) break;
        if (buf.readInt32BE(end) * 2 ** 32 + buf.readUInt32BE(end + 4) >= upper) break;
        end += s;
      }
      return { ...at, error: null, batches: end > 0 ? [buf.subarray(0, end)] : [] };
    } catch (e) {
      return { ...at, error: 'KAFKA_STORAGE_ERROR', message: `${this.name}: read failed: ${(e as Error).message}`, batches: [] };
    } finally {
      this.#release(seg);
    }
  }

  /**
   * ListOffsets by timestamp: the first batch (in offset order) whose max timestamp is ≥ ts. The offset
   * is that batch's base offset (not the exact record: storage does not decode records), at least the
   * log start offset. null when no batch qualifies. Negative ts: -1 latest, -2 earliest, -3 max timestamp.
   */
  async offsetForTimestamp(ts: number): Promise<OffsetAndTimestamp | null> {
    if (ts === -1) return { offset: this.highWatermark, timestamp: -1 };
    if (ts === -2 || ts === -4) return { offset: this.#logStartOffset, timestamp: -1 };
    if (ts === -3) return this.maxTimestamp();
    // The first segment whose max timestamp qualifies may hold the qualifying batches only below the
    // log start offset (DeleteRecords inside it), so keep looking in later segments.
    for (const seg of this.#segments.filter((x) => x.size > 0 && x.maxTimestamp >= ts && x.nextOffset > this.#logStartOffset)) {
      let found: OffsetAndTimestamp | null = null;
      seg.readers++;
      try {
        const lso = this.#logStartOffset;
        await seg.walk(this.#host.fs, Math.max(lso, seg.timeIndex.floorOffset(ts)), seg.size, (h, o) => {
          const t = maxTimestampAt(h, o);
          if (t < ts || lastOffsetAt(h, o) < lso) return false;
          found = { offset: Math.max(lso, h.readInt32BE(o) * 2 ** 32 + h.readUInt32BE(o + 4)), timestamp: t };
          return true;
        });
      } finally {
        this.#release(seg);
      }
      if (found) return found;
    }
    return null;
  }

  /** The largest batch timestamp and the last offset of that batch (Kafka's shallow offset of max timestamp). */
  maxTimestamp(): OffsetAndTimestamp | null {
    let best: OffsetAndTimestamp | null = null;
    for (const s of this.#segments) {
      if (s.maxTimestamp >= 0 && (best === null || s.maxTimestamp > best.timestamp)) best = { offset: s.offsetOfMaxTimestamp, timestamp: s.maxTimestamp };
    }
    return best;
  }

  // ---- retention ----------------------------------------------------------------------------------

  /** DeleteRecords: advances the log start offset (-1 = the high watermark); whole segments below it go. */
  deleteRecordsBefore(offset: number): number {
    if (this.#truncating) throw new StorageError('KAFKA_STORAGE_ERROR', `${this.name}: log is being truncated`);
    const target = offset === -1 ? this.highWatermark : offset;
    if (target < 0 || target > this.highWatermark) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `${this.name}: cannot delete records before ${offset}; high watermark is ${this.highWatermark}`);
    }
    if (target > this.#logStartOffset) {
      this.#logStartOffset = target;
      this.#host.checkpointDirty();
      if (this.#epochs.truncateFromStart(target)) this.#scheduleEpochWrite();
      this.#deleteBelowLogStart();
    }
    return this.#logStartOffset;
  }

  #deleteBelowLogStart(): void {
    const segs = this.#segments;
    const active = segs[segs.length - 1];
    // Everything is below the start offset: roll so the old active segment becomes deletable.
    if (active.size > 0 && active.nextOffset <= this.#logStartOffset && this.#nextOffset === this.#leo) this.#roll(this.#host.clock.now());
    let n = 0;
    while (n < segs.length - 1 && segs[n + 1].baseOffset <= this.#logStartOffset && segs[n].reserved === segs[n].size && !segs[n].cleaning && !this.#truncating) n++;
    this.#remove(n, 'below the log start offset');
  }

  /** Removes the n oldest segments from the log (synchronously) and deletes their files once unread. */
  #remove(n: number, why: string): void {
    if (n <= 0) return;
    const gone = this.#segments.splice(0, n);
    this.#removed += n;
    const newStart = this.#segments[0].baseOffset;
    if (newStart > this.#logStartOffset) {
      this.#logStartOffset = newStart;
      this.#host.checkpointDirty();
      if (this.#epochs.truncateFromStart(newStart)) this.#scheduleEpochWrite();
    }
    for (const seg of gone) {
      seg.deleted = true;
      this.#host.log.info(`${this.name}: deleting segment ${segmentFileName(seg.baseOffset)} (${why})`);
      if (this.#host.deletes) {
        // Renamed to *.deleted now, removed after file.delete.delay.ms; reads in progress keep their fd.
        seg.keepFiles = true;
        for (const p of [seg.logPath, seg.indexPath, seg.timeIndexPath, seg.txnIndexPath]) this.#deleteLater(p);
      }
      seg.readers++;
      this.#release(seg);
    }
  }

  /**
   * One retention pass (retention.ms, retention.bytes, log start offset). Chooses synchronously, deletes
   * files in the background: never blocks appends or reads. Returns the number of segments removed.
   */
  applyRetention(): number {
    if (this.#truncating) return 0;
    const before = this.#removed;
    const cfg = this.#config;
    const now = this.#host.clock.now();
    const segs = this.#segments;
    // Never above the high watermark (Kafka's deletableSegments): a follower keeps what is not yet committed.
    const deletable = (s: Segment) => s !== segs[segs.length - 1] && s.reserved === s.size && !s.cleaning && s.nextOffset <= this.#highWatermark;
    if (cfg.deleteEnabled && cfg.retentionMs >= 0) {
      let n = 0;
      while (n < segs.length && deletable(segs[n]) && now - segs[n].largestTimestamp > cfg.retentionMs) n++;
      this.#remove(n, `retention.ms ${cfg.retentionMs}`);
      const active = segs[segs.length - 1];
      // An expired active segment is rolled so the next pass can delete it (as Kafka does).
      if (segs.length === 1 && active.size > 0 && active.reserved === active.size && now - active.largestTimestamp > cfg.retentionMs) this.#roll(now);
    }
    if (cfg.deleteEnabled && cfg.retentionBytes >= 0) {
      let diff = segs.reduce((t, s) => t + s.size, 0) - cfg.retentionBytes;
      let n = 0;
      while (n < segs.length && deletable(segs[n]) && diff - segs[n].size >= 0) {
        diff -= segs[n].size;
        n++;
      }
      this.#remove(n, `retention.bytes ${cfg.retentionBytes}`);
    }
    this.#deleteBelowLogStart();
    return this.#removed - before;
  }

  // ---- truncation (replication) ------------------------------------------------------------------

  /**
   * Kafka's truncateTo: removes every batch at or above `offset` (a batch containing it goes whole). The log
   * end becomes `offset`, or the base of the batch it fell inside; the high watermark, recovery point,
   * cleaner checkpoint and leader-epoch cache follow. Waits for queued writes; appends, retention and
   * cleaning are refused until it is done. Crash-safe: later segments are unlinked newest first (each
   * unlink made durable) before the containing segment is cut, so a crash at any step leaves a prefix of
   * the old log, never old data after a hole. Resolves to whether anything was removed.
   */
  async truncateTo(offset: number): Promise<boolean> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new StorageError('OFFSET_OUT_OF_RANGE', `${this.name}: cannot truncate to ${offset}`);
    const refused = this.#refuseAppend();
    if (refused) throw refused;
    this.#truncating = true;
    try {
      await this.idle();
      await this.#txnWrites;
      if (offset >= this.#leo) return false;
      if (this.#segments[0].baseOffset > offset) {
        await this.#truncateFully(offset);
        return true;
      }
      await this.#truncateWithin(offset);
      return true;
    } catch (e) {
      if (!(e instanceof StorageError)) this.#markOffline(`truncation to ${offset} failed`, e);
      throw this.#offline ?? e;
    } finally {
      this.#truncating = false;
    }
  }

  /**
   * Kafka's truncateFullyAndStartAt: deletes the whole log and starts it empty at `offset` (a follower
   * whose log is behind its leader's log start). Log start, log end and high watermark become `offset`.
   */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new StorageError('OFFSET_OUT_OF_RANGE', `${this.name}: cannot start at ${offset}`);
    const refused = this.#refuseAppend();
    if (refused) throw refused;
    this.#truncating = true;
    try {
      await this.idle();
      await this.#txnWrites;
      await this.#truncateFully(offset);
    } catch (e) {
      if (!(e instanceof StorageError)) this.#markOffline(`truncation to start at ${offset} failed`, e);
      throw this.#offline ?? e;
    } finally {
      this.#truncating = false;
    }
  }

  async #truncateWithin(offset: number): Promise<void> {
    const { fs } = this.#host;
    const segs = this.#segments;
    let ci = 0;
    while (ci + 1 < segs.length && segs[ci + 1].baseOffset <= offset) ci++;
    let c = segs[ci];
    // The cut: the first batch of the containing segment that reaches `offset`.
    let cutPos = c.size;
    let cutBase = offset;
    if (c.size > 0) {
      if (c.fd < 0) await c.open(fs, false);
      await this.#walkHeld(c, offset, c.size, (h, o, pos) => {
        if (lastOffsetAt(h, o) < offset) return false;
        cutPos = pos;
        cutBase = baseOffsetAt(h, o);
        return true;
      });
    }
    // A segment the cut empties goes whole (unless it is the first): the log then ends where the data does.
    if (cutPos === 0 && ci > 0) {
      c = segs[--ci];
      cutPos = c.size;
    }
    // The new log end is the end of the last kept batch (the segment's base when none is kept), so a
    // restart recovers the same log end (Kafka sets it to `offset`, which a reload does not reproduce in a gap).
    // (A loaded segment's nextOffset is the next segment's base, past any gap: walk to its last batch.)
    let newEnd = c.baseOffset;
    if (cutPos > 0) {
      await this.#walkHeld(c, cutPos < c.size ? cutBase - 1 : c.offsetIndex.lastOffset(), cutPos, (h, o) => {
        newEnd = lastOffsetAt(h, o) + 1;
        return false;
      });
    }
    const gone = segs.splice(ci + 1);
    this.#host.log.info(`${this.name}: truncating to offset ${offset} (log end ${this.#leo} -> ${newEnd}, ${gone.length} later segment(s) deleted)`);
    this.#setEnd(newEnd);
    // On disk: later segments newest first, each unlink durable before the next step.
    for (const seg of gone.reverse()) {
      seg.deleted = true;
      seg.keepFiles = true;
      await this.#unlinkSegmentFiles(seg);
      seg.readers++;
      this.#release(seg);
    }
    const oldSize = (c.fd >= 0 ? (await fs.fstat(c.fd)).size : 0);
    await c.truncateTo(fs, cutPos, newEnd);
    if (c.fd >= 0 && oldSize > cutPos) {
      await fs.ftruncate(c.fd, cutPos);
      await fs.fdatasync(c.fd);
    }
    const aborted = c.aborted.filter((e) => e.lastOffset < newEnd);
    if (aborted.length !== c.aborted.length) {
      c.aborted = aborted;
      await this.#rewriteTxnIndex(c);
    }
    await this.#afterTruncation();
  }

  async #walkHeld(seg: Segment, from: number, limit: number, visit: (h: Buffer, o: number, pos: number) => boolean): Promise<void> {
    seg.readers++;
    try {
      await seg.walk(this.#host.fs, from, limit, visit);
    } finally {
      this.#release(seg);
    }
  }

  async #truncateFully(offset: number): Promise<void> {
    const { fs, clock } = this.#host;
    const gone = this.#segments.splice(0);
    this.#host.log.info(`${this.name}: truncating fully, log now starts at ${offset} (${gone.length} segment(s) deleted)`);
    const seg = new Segment(this.dir, offset, clock.now());
    this.#segments = [seg];
    this.#epochs.clear();
    this.#setEnd(offset);
    this.#logStartOffset = offset;
    this.#recoveryPoint = offset;
    this.cleanerCheckpoint = offset;
    if (!this.#hwFollowsLogEnd) this.#highWatermark = offset;
    // The epoch file goes first: a crash from here on rebuilds the cache from whatever segments remain.
    await this.#epochWrites;
    await fs.unlink(join(this.dir, LEADER_EPOCH_FILE)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
    for (const s of gone.reverse()) {
      s.deleted = true;
      s.keepFiles = true;
      await this.#unlinkSegmentFiles(s);
      s.readers++;
      this.#release(s);
    }
    await seg.open(fs, true);
    await fs.fsyncDir(this.dir);
    this.#host.checkpointDirty();
    await this.#host.checkpointsWritten?.();
  }

  /** In-memory state for a log that now ends at `end` (truncation). */
  #setEnd(end: number): void {
    this.#leo = this.#nextOffset = end;
    for (const s of this.#segments) s.reserved = s.size;
    this.#highWatermark = this.#hwFollowsLogEnd ? end : Math.min(this.#highWatermark, end);
    this.#recoveryPoint = Math.min(this.#recoveryPoint, end);
    this.#logStartOffset = Math.min(this.#logStartOffset, end);
    this.cleanerCheckpoint = Math.min(this.cleanerCheckpoint, end);
    this.#deleteHorizon = -1;
    this.#epochs.truncateFromEnd(end);
    this.#unflushedMessages = 0;
  }

  async #unlinkSegmentFiles(seg: Segment): Promise<void> {
    const { fs } = this.#host;
    for (const p of [seg.logPath, seg.indexPath, seg.timeIndexPath, seg.txnIndexPath]) {
      await fs.unlink(p).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
    }
    await fs.fsyncDir(this.dir);
  }

  async #rewriteTxnIndex(seg: Segment): Promise<void> {
    const { fs } = this.#host;
    if (seg.aborted.length > 0) await writeFileAtomic(fs, seg.txnIndexPath, serializeTxnIndex(seg.aborted));
    else await fs.unlink(seg.txnIndexPath).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  }

  /** Persists what a truncation changed outside the segments: leader epochs, then the checkpoint files. */
  async #afterTruncation(): Promise<void> {
    this.#scheduleEpochWrite();
    await this.#epochWrites;
    if (this.#offline) throw this.#offline;
    this.#host.checkpointDirty();
    await this.#host.checkpointsWritten?.();
  }

  // ---- compaction (cleaner.ts) --------------------------------------------------------------------

  /** One log-cleaner pass if one is due (cleanup.policy=compact); concurrent calls share the running one. */
  compact(opts: CleanOptions): Promise<CleanResult | null> {
    if (this.#closed || this.#offline || this.#truncating) return Promise.resolve(null);
    this.#cleaning ??= cleanLog({
      name: this.name, dir: this.dir, fs: this.#host.fs, clock: this.#host.clock, log: this.#host.log,
      config: () => this.#config,
      segments: () => this.#segments,
      logStartOffset: () => this.#logStartOffset,
      highWatermark: () => this.#highWatermark,
      transactions: () => this.transactionBounds,
      closed: () => this.#closed,
      checkpoint: () => this.cleanerCheckpoint,
      cleaned: (upTo, horizon) => {
        this.#deleteHorizon = horizon;
        if (upTo !== this.cleanerCheckpoint) {
          this.cleanerCheckpoint = upTo;
          this.#host.checkpointDirty();
        }
      },
      deleteHorizon: () => this.#deleteHorizon,
      hold: (seg) => { seg.readers++; },
      release: (seg) => this.#release(seg),
      background: () => this.#bg,
      replace: (old, next) => {
        const i = this.#segments.indexOf(old[0]);
        if (i < 0 || old.some((s, j) => this.#segments[i + j] !== s || s.deleted)) return false;
        this.#segments.splice(i, old.length, next);
        for (const s of old) {
          // Its files were renamed over or are unlinked by the cleaner; the fd closes after the last reader.
          s.deleted = true;
          s.keepFiles = true;
          s.readers++;
          this.#release(s);
        }
        return true;
      },
      markOffline: (what, err) => this.#markOffline(what, err),
      deleteLater: (path) => this.#deleteLater(path),
    }, opts).finally(() => { this.#cleaning = null; });
    return this.#cleaning;
  }

  /** Forces a roll at the next append (tests, and a future AlterConfigs of segment settings). */
  roll(): void {
    const active = this.#segments[this.#segments.length - 1];
    if (active.reserved > 0) this.#roll(this.#host.clock.now());
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  /** Waits for queued writes and background work. */
  async idle(): Promise<void> {
    while (this.#draining || this.#flushInFlight || this.#cleaning) {
      await this.#draining;
      await this.#flushInFlight?.catch(() => {});
      await this.#cleaning;
    }
    await this.#bg;
    if (this.#renamesPending > 0) await this.#renames;
  }

  /** Clean close: drain, sync, write the active segment's indexes, close files. Returns whether all was synced. */
  async close(): Promise<boolean> {
    this.#closed = true;
    if (this.#flushTimer !== null) this.#host.clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    await this.idle();
    await this.#txnWrites;
    if (this.#epochWriteDeferred) { this.#epochWriteDeferred = false; this.#scheduleEpochWrite(); }
    await this.#epochWrites;
    await this.#renames;
    let clean = this.#offline === null;
    if (clean) {
      try {
        await this.flush();
        const active = this.#segments[this.#segments.length - 1];
        if (active.fd >= 0) await active.writeIndexes(this.#host.fs);
      } catch (e) {
        this.#markOffline('sync on close failed', e);
        clean = false;
      }
    }
    for (const s of this.#segments) await s.dispose(this.#host.fs, false).catch(() => {});
    return clean;
  }

  /** Closes without syncing or writing anything, and deletes the directory's files (topic deletion). */
  async closeForDelete(): Promise<void> {
    this.#closed = true;
    this.#deletedDir = true;
    if (this.#flushTimer !== null) this.#host.clock.clearTimeout(this.#flushTimer);
    await this.idle();
    await this.#epochWrites; // one under way would write into the directory being renamed away
    await this.#renames;
    for (const s of this.#segments) {
      s.deleted = true;
      if (s.readers === 0) await s.dispose(this.#host.fs, false).catch(() => {});
    }
  }
}
