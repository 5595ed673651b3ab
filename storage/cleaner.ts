// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner (re-derived from its behaviour):
//
// - Only non-active segments are cleaned. The dirty section runs from the cleaner checkpoint
//   (`cleaner-offset-checkpoint`) to the first uncleanable offset: the active segment, the segment holding
//   the last stable offset (first open transaction, else the high watermark), a segment still being
//   written, or the first segment younger than min.compaction.lag.ms. A pass runs when the dirty bytes are
//   ≥ min.cleanable.dirty.ratio of the cleanable bytes, when the oldest dirty batch is older than
//   max.compaction.lag.ms, or when a kept tombstone's or marker's delete horizon has passed.
// - An offset map (key → latest offset) is built over the dirty section (aborted transactions' data and
//   markers stay out of it); then every segment from the log start to the end of the mapped range is
//   rewritten, in groups of consecutive segments that fit in segment.bytes, keeping a record only if it is
//   the latest for its key. Records without a key are dropped (as Kafka's cleaner; produce refuses them on
//   compacted topics). Transactions: cleaner-txn.ts; the per-batch decision: cleaner-filter.ts.
// - Batches keep their base offset and last offset delta (the producer's sequence stays valid); an
//   emptied batch is dropped unless it is its producer's last batch or the last batch of its group (the
//   segment keeps its end offset, which also makes crash recovery exact), then only its header stays.
// - Tombstones (null value) and markers of emptied transactions: the first cleaning that keeps one stamps
//   its batch with a delete horizon (KIP-534: attribute bit 6 set, base timestamp = now +
//   delete.retention.ms, record timestamp deltas re-encoded against it); a later cleaning after the
//   horizon removes it. The horizon is in the batch, so it survives restarts.
// - Left untouched: compressed batches when no codec is injected or they fail to decode.
//
// Crash safety. The cleaned group is written to `<base>.log.cleaned` (its aborted-transaction entries to
// `<base>.txnindex.cleaned`) and synced; renaming the index to `<base>.txnindex.swap` and then the log to
// `<base>.log.swap` is the commit point. Then the old segments' files are renamed to `*.deleted` (removed
// after file.delete.delay.ms, deletes.ts), the txnindex swap and the log swap take their names; index
// files are written last. At load (recoverCleaning): `.cleaned` files and a txnindex swap without a log
// swap are deleted (the old segments are intact); a `.log.swap` replaces every segment whose base lies
// within its offset range, then takes its name; missing indexes are rebuilt from the log. Offsets never move.
import { join } from 'node:path';
import { ATTRIBUTES_OFFSET, HEADER_SIZE, MAGIC_OFFSET, batchSizeAt, lastOffsetAt, maxTimestampAt } from './batch.ts';
import type * as FilterModule from './cleaner-filter.ts';
import type { FilterContext, RecordCodecs } from './cleaner-filter.ts';
import type * as TxnModule from './cleaner-txn.ts';
import type { TransactionBounds } from './cleaner-txn.ts';
import type { LogConfig } from './config.ts';
import { type FsLike, readFully, writeFully, writevFully } from './fs.ts';
import { Segment, segmentFileName } from './segment.ts';
import type { Clock } from './clock.ts';
import { serializeTxnIndex } from './txn-index.ts';
import { type Logger, StorageError } from './types.ts';

export type { RecordCodecs } from './cleaner-filter.ts';
export type { TransactionBounds } from './cleaner-txn.ts';

// The per-batch filter and the transaction bookkeeping, loaded by the first cleaning (cleanLog awaits
// loadFilters before clean runs): a broker with nothing to compact does not load them at start.
let F: typeof FilterModule;
let X: typeof TxnModule;
async function loadFilters(): Promise<void> {
  if (!F) [F, X] = await Promise.all([import('./cleaner-filter.ts'), import('./cleaner-txn.ts')]);
}

export interface CleanOptions {
  /** Upper bound on distinct keys in the offset map of one pass (memory bound; the rest waits for the next pass). */
  maxMapEntries: number;
  codecs?: RecordCodecs;
  /** Clean whatever is cleanable now, ignoring the dirty ratio (tests). */
  force?: boolean;
  /** log.cleaner.io.max.bytes.per.second: pauses the pass (never appends) to keep its reads and writes under it. */
  throttle?: Throttler;
}

export interface CleanResult {
  /** Segments rewritten (replaced by cleaned ones). */
  segmentsCleaned: number;
  bytesBefore: number;
  bytesAfter: number;
  /** The new first dirty offset. */
  cleanedUpTo: number;
}

/** What the cleaner needs of a partition log (PartitionLog.compact provides it). */
export interface CleanerView {
  readonly name: string;
  readonly dir: string;
  readonly fs: FsLike;
  readonly clock: Clock;
  readonly log: Logger;
  config(): LogConfig;
  segments(): readonly Segment[];
  logStartOffset(): number;
  highWatermark(): number;
  /** The owner's producer state (the broker's partition); null: no transactions known, every producer active. */
  transactions(): TransactionBounds | null;
  closed(): boolean;
  /** First dirty offset (the cleaner checkpoint). */
  checkpoint(): number;
  /** Records the outcome of a pass: new checkpoint and the earliest delete horizon kept (-1 none). */
  cleaned(upTo: number, deleteHorizon: number): void;
  /** Earliest delete horizon of tombstones or markers kept by the last pass, -1 if none or unknown. */
  deleteHorizon(): number;
  hold(seg: Segment): void;
  release(seg: Segment): void;
  /** Settles once background work after rolls (syncs, index writes) queued so far is done. */
  background(): Promise<void>;
  /** Synchronously replaces the consecutive segments `old` by `next`; false if they are no longer in the log. */
  replace(old: Segment[], next: Segment): boolean;
  markOffline(what: string, err: unknown): void;
  /** Renames a replaced segment file to `*.deleted` and removes it later (file.delete.delay.ms). */
  deleteLater(path: string): Promise<void>;
}

const READ_CHUNK = 1 << 20;
const WRITE_CHUNK = 1 << 20;
const MAX_RELATIVE_OFFSET = 2 ** 31 - 1;

/** Kafka's Throttler for log.cleaner.io.max.bytes.per.second: sleeps (clock timers) when the rate runs ahead. */
export class Throttler {
  readonly #clock: Clock;
  readonly #bytesPerSec: number;
  #periodStart = -1;
  #bytes = 0;
  constructor(clock: Clock, bytesPerSec: number) {
    this.#clock = clock;
    this.#bytesPerSec = bytesPerSec;
  }

  async maybeThrottle(bytes: number): Promise<void> {
    if (!(this.#bytesPerSec > 0) || !Number.isFinite(this.#bytesPerSec)) return;
    const now = this.#clock.now();
    if (this.#periodStart < 0) this.#periodStart = now;
    this.#bytes += bytes;
    const elapsed = now - this.#periodStart;
    const due = (this.#bytes / this.#bytesPerSec) * 1000;
    if (due > elapsed) {
      const sleep = Math.ceil(due - elapsed);
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, sleep));
    }
    // Kafka measures over 300 ms periods; a longer window would let an idle gap buy a later burst.
    if (this.#clock.now() - this.#periodStart >= 300) {
      this.#periodStart = this.#clock.now();
      this.#bytes = 0;
    }
  }
}

// ---- reading and writing segments ----------------------------------------------------------------------

/** Every committed batch of a segment in order, each as its own buffer (safe to keep). */
async function* batchesOf(fs: FsLike, seg: Segment, limit: number, throttle?: Throttler): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  let bufStart = 0;
  let pos = 0;
  while (pos < limit) {
    if (pos + HEADER_SIZE > bufStart + buf.length) {
      buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, limit - pos));
      bufStart = pos;
      buf = buf.subarray(0, await readFully(fs, seg.fd, buf, pos));
      await throttle?.maybeThrottle(buf.length);
    }
    let o = pos - bufStart;
    const size = buf.length - o >= 12 ? batchSizeAt(buf, o) : 0;
    if (size >= HEADER_SIZE && pos + size <= limit && o + size > buf.length) {
      buf = Buffer.allocUnsafe(Math.max(size, Math.min(READ_CHUNK, limit - pos)));
      bufStart = pos;
      buf = buf.subarray(0, await readFully(fs, seg.fd, buf, pos));
      await throttle?.maybeThrottle(buf.length);
      o = 0;
    }
    if (size < HEADER_SIZE || pos + size > limit || o + size > buf.length || buf[o + MAGIC_OFFSET] !== 2) {
      throw new StorageError('KAFKA_STORAGE_ERROR', `${seg.logPath}: unreadable batch at position ${pos}`);
    }
    yield buf.subarray(o, o + size);
    pos += size;
  }
}

class SegmentWriter {
  readonly seg: Segment;
  readonly #fs: FsLike;
  readonly #interval: number;
  readonly #throttle: Throttler | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #written = 0;
  pos = 0;

  constructor(fs: FsLike, seg: Segment, indexIntervalBytes: number, throttle: Throttler | undefined) {
    this.#throttle = throttle;
    this.#fs = fs;
    this.seg = seg;
    this.#interval = indexIntervalBytes;
  }

  async add(batch: Buffer): Promise<void> {
    this.seg.onBatch(batch, 0, this.pos, this.#interval);
    this.#pending.push(batch);
    this.#pendingBytes += batch.length;
    this.pos += batch.length;
    if (this.#pendingBytes >= WRITE_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    await writevFully(this.#fs, this.seg.fd, this.#pending, this.#written);
    await this.#throttle?.maybeThrottle(this.pos - this.#written);
    this.#written = this.pos;
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

// ---- one pass ----------------------------------------------------------------------------------------

interface Plan {
  firstDirty: number;
  firstUncleanable: number;
  dirtyBytes: number;
  cleanBytes: number;
}

function plan(view: CleanerView, now: number): Plan | null {
  const cfg = view.config();
  const segs = view.segments();
  if (segs.length < 2) return null;
  const active = segs[segs.length - 1];
  const logStart = view.logStartOffset();
  let firstDirty = view.checkpoint();
  if (firstDirty < logStart || firstDirty > active.nextOffset) firstDirty = logStart;
  let firstUncleanable = active.baseOffset;
  // Kafka's cleanableOffsets: never past the last stable offset (first open transaction, else the HWM).
  const lso = Math.min(view.transactions()?.firstUnstableOffset() ?? Infinity, view.highWatermark());
  for (const s of segs) {
    if (s === active) break;
    if (s.nextOffset <= firstDirty) continue;
    if (s.nextOffset > lso || s.reserved !== s.size || s.cleaning || (cfg.minCompactionLagMs > 0 && s.largestTimestamp > now - cfg.minCompactionLagMs)) {
      firstUncleanable = s.baseOffset;
      break;
    }
  }
  let dirtyBytes = 0;
  let cleanBytes = 0;
  for (const s of segs) {
    if (s.baseOffset >= firstUncleanable) break;
    if (s.nextOffset <= firstDirty) cleanBytes += s.size;
    else dirtyBytes += s.size;
  }
  return { firstDirty, firstUncleanable, dirtyBytes, cleanBytes };
}

/** Why this log should be cleaned now, or null. */
async function reason(view: CleanerView, p: Plan, now: number, force: boolean): Promise<string | null> {
  const cfg = view.config();
  const horizon = view.deleteHorizon();
  if (p.dirtyBytes > 0) {
    const ratio = p.dirtyBytes / (p.dirtyBytes + p.cleanBytes);
    if (force) return 'forced';
    if (ratio >= cfg.minCleanableDirtyRatio) return `dirty ratio ${ratio.toFixed(2)}`;
    if (Number.isFinite(cfg.maxCompactionLagMs)) {
      const first = view.segments().find((s) => s.nextOffset > p.firstDirty && s.size > 0);
      if (first) {
        const h = Buffer.allocUnsafe(HEADER_SIZE);
        view.hold(first);
        try {
          if (await readFully(view.fs, first.fd, h, 0) === HEADER_SIZE && now - maxTimestampAt(h, 0) > cfg.maxCompactionLagMs) return 'max.compaction.lag.ms';
        } catch { /* unreadable: the pass itself would fail too */ } finally {
          view.release(first);
        }
      }
    }
  }
  if (horizon >= 0 && now >= horizon && p.cleanBytes + p.dirtyBytes > 0) return 'tombstones or markers past their delete horizon';
  return null;
}

/**
 * One cleaning pass over a log, if it is due. Never throws for I/O trouble: a failure before the commit
 * point abandons the pass (the log is unchanged), one after it marks the partition offline (reads go on;
 * the next start completes the swap).
 */
export async function cleanLog(view: CleanerView, opts: CleanOptions): Promise<CleanResult | null> {
  const cfg = view.config();
  if (!cfg.compact || view.closed()) return null;
  const now = view.clock.now();
  const p = plan(view, now);
  if (!p) return null;
  const why = await reason(view, p, now, opts.force === true);
  if (!why) return null;
  await view.background();
  try {
    await loadFilters();
    return await clean(view, p, now, opts, why);
  } catch (e) {
    view.log.warn(`${view.name}: log cleaning abandoned: ${(e as Error).message}`);
    return null;
  }
}

async function clean(view: CleanerView, p: Plan, now: number, opts: CleanOptions, why: string): Promise<CleanResult | null> {
  const { fs } = view;
  const cfg = view.config();
  const segs = [...view.segments()];
  const active = segs[segs.length - 1];

  // Without the owner's producer state every producer id counts as active: its last data batch stays.
  const bounds = view.transactions();
  const activeProducers = bounds ? bounds.activeProducers() : null;
  let lastOfProducer: Map<bigint, number> | null = null;
  if (!activeProducers) {
    lastOfProducer = new Map();
    for (const s of segs) {
      view.hold(s);
      try {
        await s.walk(fs, s.baseOffset, s.size, (h, o) => {
          const pid = h.readBigInt64BE(o + F.PRODUCER_ID_OFFSET);
          if (pid >= 0n && (h.readInt16BE(o + ATTRIBUTES_OFFSET) & X.ATTR_CONTROL) === 0) lastOfProducer!.set(pid, lastOffsetAt(h, o));
          return false;
        });
      } finally {
        view.release(s);
      }
    }
  }
  // The offset map of the dirty section; aborted transactions' data stays out of it.
  const map = new Map<string, number>();
  let cleanEnd = p.firstDirty;
  const mapTxns = new X.CleanedTransactions(X.abortedIn(segs, p.firstDirty, p.firstUncleanable));
  for (const s of segs) {
    if (s === active || s.baseOffset >= p.firstUncleanable) break;
    if (s.nextOffset <= p.firstDirty) continue;
    if (map.size >= opts.maxMapEntries && cleanEnd > p.firstDirty) break;
    view.hold(s);
    try {
      for await (const b of batchesOf(fs, s, s.size, opts.throttle)) {
        const d = F.mappableRecords(b, mapTxns, opts.codecs);
        if (!d) continue;
        for (const r of d.records) {
          const off = d.base + r.offsetDelta;
          if (r.keyLen >= 0 && off >= p.firstDirty) map.set(F.keyId(d.recs, r.keyStart, r.keyLen), off);
        }
      }
    } finally {
      view.release(s);
    }
    cleanEnd = s.nextOffset;
  }
  if (cleanEnd <= p.firstDirty && !(view.deleteHorizon() >= 0 && now >= view.deleteHorizon())) return null;

  // Groups of consecutive segments below cleanEnd that fit one segment.
  const groups: Segment[][] = [];
  for (const s of segs) {
    if (s === active || s.nextOffset > cleanEnd || s.baseOffset >= cleanEnd) break;
    const g = groups[groups.length - 1];
    const fits = g && g.reduce((n, x) => n + x.size, 0) + s.size <= cfg.segmentBytes && s.nextOffset - 1 - g[0].baseOffset <= MAX_RELATIVE_OFFSET;
    if (fits) g.push(s);
    else groups.push([s]);
  }

  const result: CleanResult = { segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, cleanedUpTo: cleanEnd };
  let horizon = -1;
  for (const g of groups) {
    if (view.closed()) return null;
    const groupEnd = g[g.length - 1].nextOffset;
    // Kafka collects the aborted transactions per group: a marker whose data lies in an earlier group counts as emptied.
    const txns = new X.CleanedTransactions(X.abortedIn(segs, g[0].baseOffset, groupEnd));
    const r = await cleanGroup(view, g, { map, lastOfProducer, activeProducers, txns, now, deleteRetentionMs: cfg.deleteRetentionMs, codecs: opts.codecs, groupEnd }, opts.throttle);
    if (r === null) return null;
    if (r.horizon >= 0 && (horizon < 0 || r.horizon < horizon)) horizon = r.horizon;
    if (r.swapped) {
      result.segmentsCleaned += g.length;
      result.bytesBefore += r.before;
      result.bytesAfter += r.after;
    }
  }
  view.cleaned(cleanEnd, horizon);
  if (result.segmentsCleaned > 0) {
    view.log.info(`${view.name}: cleaned ${result.segmentsCleaned} segment(s) up to offset ${cleanEnd} (${why}): ${result.bytesBefore} → ${result.bytesAfter} bytes`);
  }
  return result;
}

async function unlinkIfPresent(fs: FsLike, path: string): Promise<void> {
  await fs.unlink(path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
}

/** Cleans one group into a new segment and swaps it in. null = pass abandoned (closed, or I/O before the commit). */
async function cleanGroup(view: CleanerView, group: Segment[], ctx: FilterContext, throttle: Throttler | undefined): Promise<{ swapped: boolean; horizon: number; before: number; after: number } | null> {
  const { fs } = view;
  const cfg = view.config();
  const base = group[0].baseOffset;
  const out = new Segment(view.dir, base, view.clock.now());
  const cleanedPath = out.logPath + '.cleaned';
  const swapPath = out.logPath + '.swap';
  const txnCleanedPath = out.txnIndexPath + '.cleaned';
  const txnSwapPath = out.txnIndexPath + '.swap';
  let changed = false;
  let horizon = -1;
  let before = 0;
  // Retention may have removed a segment since the pass was planned; it skips segments being cleaned.
  if (group.some((s) => s.deleted)) return null;
  for (const s of group) s.cleaning = true;
  try {
    out.fd = await fs.open(cleanedPath, 'w+');
    const w = new SegmentWriter(fs, out, cfg.indexIntervalBytes, throttle);
    try {
      for (const s of group) {
        before += s.size;
        view.hold(s);
        try {
          for await (const b of batchesOf(fs, s, s.size, throttle)) {
            const f = F.filterBatch(b, ctx);
            if (f.out !== b) changed = true;
            if (f.horizon >= 0 && (horizon < 0 || f.horizon < horizon)) horizon = f.horizon;
            if (f.out) await w.add(f.out);
          }
        } finally {
          view.release(s);
        }
      }
      if (group.length > 1) changed = true; // merging segments is a change even when no record goes
      // Kafka rewrites the aborted-transaction index: only entries whose marker stays with data remain.
      const oldTxns = serializeTxnIndex(group.flatMap((s) => s.aborted));
      const newTxns = serializeTxnIndex(ctx.txns.kept);
      if (!oldTxns.equals(newTxns)) changed = true;
      await w.flush();
      if (changed) {
        await fs.fdatasync(out.fd);
        const tfd = await fs.open(txnCleanedPath, 'w+');
        try {
          await writeFully(fs, tfd, newTxns, 0);
          await fs.fdatasync(tfd);
        } finally {
          await fs.close(tfd);
        }
      }
    } catch (e) {
      await fs.close(out.fd).catch(() => {});
      await unlinkIfPresent(fs, cleanedPath).catch(() => {});
      await unlinkIfPresent(fs, txnCleanedPath).catch(() => {});
      throw e;
    }
    if (!changed || view.closed()) {
      await fs.close(out.fd);
      await unlinkIfPresent(fs, cleanedPath);
      return changed ? null : { swapped: false, horizon, before, after: before };
    }
    out.size = out.reserved = w.pos;
    out.lastModifiedMs = Math.max(...group.map((s) => s.lastModifiedMs));
    out.aborted = [...ctx.txns.kept].sort((a, b) => a.lastOffset - b.lastOffset);
    try {
      // The txnindex swap first: a log swap at the next start always finds its index beside it.
      await fs.rename(txnCleanedPath, txnSwapPath);
      await fs.fsyncDir(view.dir);
      await fs.rename(cleanedPath, swapPath);
      await fs.fsyncDir(view.dir);
    } catch (e) {
      await fs.close(out.fd).catch(() => {});
      for (const f of [cleanedPath, swapPath, txnCleanedPath, txnSwapPath]) await unlinkIfPresent(fs, f).catch(() => {});
      throw e;
    }
    // Committed: from here a crash completes the swap at the next start.
    if (!view.replace(group, out)) {
      // The log was closed for deletion meanwhile: the swap must not resurrect anything.
      await fs.close(out.fd).catch(() => {});
      await unlinkIfPresent(fs, swapPath).catch(() => {});
      await unlinkIfPresent(fs, txnSwapPath).catch(() => {});
      return null;
    }
    view.hold(out);
    try {
      // Old files go to `*.deleted` (readers keep their open fds), removed after file.delete.delay.ms.
      for (const s of group) for (const f of [s.logPath, s.txnIndexPath, s.indexPath, s.timeIndexPath]) await view.deleteLater(f);
      if (out.aborted.length > 0) await fs.rename(txnSwapPath, out.txnIndexPath);
      else await unlinkIfPresent(fs, txnSwapPath);
      await fs.rename(swapPath, out.logPath);
      await fs.fsyncDir(view.dir);
    } catch (e) {
      view.markOffline(`swapping in the cleaned segment ${segmentFileName(base)}`, e);
      view.release(out);
      return null;
    }
    try {
      await out.writeIndexes(fs);
    } catch (e) {
      view.log.warn(`${view.name}: writing indexes of cleaned segment ${segmentFileName(base)}: ${(e as Error).message} (rebuilt at the next start)`);
    }
    view.release(out);
    return { swapped: true, horizon, before, after: out.size };
  } finally {
    for (const s of group) s.cleaning = false;
  }
}

// ---- recovery -----------------------------------------------------------------------------------------

/**
 * Completes or rolls back a cleaning interrupted by a crash, before the log is loaded: `.cleaned` files go,
 * and `.deleted` ones (a restart finishes pending deletes); each `<base>.log.swap` replaces the segments
 * within its offset range, its `<base>.txnindex.swap` (if still there) the old aborted-transaction index;
 * a txnindex swap without a log swap belongs to a cleaning that never committed.
 */
export async function recoverCleaning(fs: FsLike, dir: string, log: Logger, name: string): Promise<void> {
  const files = await fs.readdir(dir);
  // The directory is synced only when something here changed it: a new or clean partition costs no fsync.
  let changed = false;
  for (const f of files) {
    if (f.endsWith('.cleaned')) log.warn(`${name}: removing ${f} left by an interrupted log cleaning`);
    if (f.endsWith('.cleaned') || f.endsWith('.deleted')) { await unlinkIfPresent(fs, join(dir, f)); changed = true; }
  }
  const done = new Set<string>();
  for (const f of files) {
    const m = /^(\d{20})\.log\.swap$/.exec(f);
    if (!m) continue;
    changed = true;
    const base = Number(m[1]);
    const seg = new Segment(dir, base, 0);
    seg.fd = await fs.open(join(dir, f), 'r+');
    let next: number;
    try {
      await seg.scan(fs, true, Number.MAX_SAFE_INTEGER);
      next = seg.nextOffset;
    } finally {
      await fs.close(seg.fd);
    }
    for (const g of files) {
      const gm = /^(\d{20})\.(log|index|timeindex|txnindex)$/.exec(g);
      if (!gm) continue;
      const b = Number(gm[1]);
      // The base's own .txnindex is replaced below only when its swap is still there (else it is the new one).
      if ((b > base && b < next) || (b === base && (gm[2] === 'index' || gm[2] === 'timeindex'))) await unlinkIfPresent(fs, join(dir, g));
    }
    const txnSwap = `${m[1]}.txnindex.swap`;
    if (files.includes(txnSwap)) {
      done.add(txnSwap);
      await unlinkIfPresent(fs, join(dir, `${m[1]}.txnindex`));
      const st = await fs.stat(join(dir, txnSwap));
      if (st && st.size > 0) await fs.rename(join(dir, txnSwap), join(dir, `${m[1]}.txnindex`));
      else await unlinkIfPresent(fs, join(dir, txnSwap));
    }
    await fs.rename(join(dir, f), join(dir, `${m[1]}.log`));
    log.warn(`${name}: completed an interrupted log cleaning: ${f} replaces the segments in [${base}, ${next})`);
  }
  for (const f of files) if (f.endsWith('.txnindex.swap') && !done.has(f)) { await unlinkIfPresent(fs, join(dir, f)); changed = true; }
  if (changed) await fs.fsyncDir(dir);
}
