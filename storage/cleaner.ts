// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner (re-derived from its behaviour):
//
// - Only non-active segments are cleaned. The dirty section runs from the cleaner checkpoint
//   (`cleaner-offset-checkpoint`) to the first uncleanable offset: the active segment, a segment still
//   being written, or the first segment younger than min.compaction.lag.ms. A pass runs when the dirty
//   bytes are ≥ min.cleanable.dirty.ratio of the cleanable bytes, when the oldest dirty batch is older than
//   max.compaction.lag.ms, or when a kept tombstone's delete horizon has passed.
// - An offset map (key → latest offset) is built over the dirty section; then every segment from the log
//   start to the end of the mapped range is rewritten, in groups of consecutive segments that fit in
//   segment.bytes, keeping a record only if it is the latest for its key. Records without a key are
//   dropped (Kafka's cleaner does the same; produce refuses them on compacted topics).
// - Batches keep their base offset and last offset delta (the producer's sequence stays valid); an
//   emptied batch is dropped unless it is its producer's last batch or the last batch of its group (the
//   segment keeps its end offset, which also makes crash recovery exact), then only its header stays.
// - Tombstones (null value): the first cleaning that keeps one stamps its batch with a delete horizon
//   (KIP-534: attribute bit 6 set, base timestamp = now + delete.retention.ms, record timestamp deltas
//   re-encoded against it); a later cleaning after the horizon removes it.
// - Left untouched: transactional batches and control batches (markers), and compressed batches when no
//   codec is injected or they fail to decode. Their keys do not enter the offset map, so they never make
//   another record obsolete; they are only kept, never lost. (Kafka cleans committed transactional data
//   and removes markers of emptied transactions; that waits for transactions.)
// - A segment with aborted transactions (`.txnindex`) is cleaned on its own, keeping its base offset, so
//   its `.txnindex` stays valid as it is.
//
// Crash safety. The cleaned group is written to `<base>.log.cleaned` and synced; renaming it to
// `<base>.log.swap` is the commit point. Then the old segments' files are unlinked and the swap is renamed
// over `<base>.log`; index files are written last. At load (recoverCleaning): `.cleaned` files are
// deleted (the old segments are intact); a `.swap` file replaces every segment whose base lies within its
// offset range, then takes its name; missing indexes are rebuilt from the log. Offsets never move.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { ATTRIBUTES_OFFSET, CRC_OFFSET, HEADER_SIZE, LOG_OVERHEAD, MAGIC_OFFSET, baseOffsetAt, batchSizeAt, lastOffsetAt, maxTimestampAt, readInt64, writeInt64 } from './batch.ts';
import type { LogConfig } from './config.ts';
import { type FsLike, readFully, writevFully } from './fs.ts';
import { Segment, segmentFileName } from './segment.ts';
import type { Clock } from './clock.ts';
import { type Logger, StorageError } from './types.ts';

/** Compression codecs, injected by the broker (storage imports nothing of ours). Codec ids are Kafka's (1 gzip … 4 zstd). */
export interface RecordCodecs {
  decompress(codec: number, data: Buffer): Buffer;
  compress(codec: number, data: Buffer): Buffer;
}

export interface CleanOptions {
  /** Upper bound on distinct keys in the offset map of one pass (memory bound; the rest waits for the next pass). */
  maxMapEntries: number;
  codecs?: RecordCodecs;
  /** Clean whatever is cleanable now, ignoring the dirty ratio (tests). */
  force?: boolean;
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
  closed(): boolean;
  /** First dirty offset (the cleaner checkpoint). */
  checkpoint(): number;
  /** Records the outcome of a pass: new checkpoint and the earliest delete horizon kept (-1 none). */
  cleaned(upTo: number, deleteHorizon: number): void;
  /** Earliest delete horizon of tombstones kept by the last pass, -1 if none or unknown. */
  deleteHorizon(): number;
  hold(seg: Segment): void;
  release(seg: Segment): void;
  /** Settles once background work after rolls (syncs, index writes) queued so far is done. */
  background(): Promise<void>;
  /** Synchronously replaces the consecutive segments `old` by `next`; false if they are no longer in the log. */
  replace(old: Segment[], next: Segment): boolean;
  markOffline(what: string, err: unknown): void;
}

const ATTR_COMPRESSION = 0x07;
const ATTR_LOG_APPEND_TIME = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const ATTR_DELETE_HORIZON = 0x40;
const BASE_TIMESTAMP_OFFSET = 27;
const PRODUCER_ID_OFFSET = 43;
const RECORDS_COUNT_OFFSET = 57;
const READ_CHUNK = 1 << 20;
const WRITE_CHUNK = 1 << 20;
const MAX_RELATIVE_OFFSET = 2 ** 31 - 1;

// ---- varints (Kafka's zig-zag varint/varlong; numbers are exact up to 2^53) ----------------------------

function readVarlong(b: Buffer, pos: { p: number }): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos.p >= b.length) throw new RangeError('varint past the end');
    const byte = b[pos.p++];
    v += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return v % 2 === 1 ? -(v + 1) / 2 : v / 2;
    mul *= 128;
  }
  throw new RangeError('varint too long');
}

function writeVarlong(n: number, out: number[]): void {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

interface RecordView {
  /** Where the record's length varint starts; the body is [start, end). */
  lenStart: number;
  start: number;
  end: number;
  /** Where the timestamp delta field starts and ends (attributes byte precedes it). */
  tsStart: number;
  tsEnd: number;
  timestampDelta: number;
  offsetDelta: number;
  keyStart: number;
  /** -1 = null key */
  keyLen: number;
  valueNull: boolean;
}

/** The records of an uncompressed records section; throws RangeError on damage. */
function parseRecords(recs: Buffer, count: number): RecordView[] {
  const out: RecordView[] = [];
  const pos = { p: 0 };
  for (let i = 0; i < count; i++) {
    const lenStart = pos.p;
    const len = readVarlong(recs, pos);
    const start = pos.p;
    const end = start + len;
    if (len < 1 || end > recs.length) throw new RangeError(`record ${i}: bad length ${len}`);
    pos.p++; // attributes
    const tsStart = pos.p;
    const timestampDelta = readVarlong(recs, pos);
    const tsEnd = pos.p;
    const offsetDelta = readVarlong(recs, pos);
    const keyLen = readVarlong(recs, pos);
    const keyStart = pos.p;
    if (keyLen > 0) pos.p += keyLen;
    const valueLen = readVarlong(recs, pos);
    if (pos.p > end || keyLen < -1 || valueLen < -1) throw new RangeError(`record ${i}: fields overrun it`);
    out.push({ lenStart, start, end, tsStart, tsEnd, timestampDelta, offsetDelta, keyStart, keyLen, valueNull: valueLen < 0 });
    pos.p = end;
  }
  return out;
}

/** Offset-map key: short keys as themselves, longer ones by MD5 (as Kafka's SkimpyOffsetMap). */
function keyId(recs: Buffer, start: number, len: number): string {
  if (len <= 16) return 'r' + recs.toString('latin1', start, start + len);
  return 'h' + createHash('md5').update(recs.subarray(start, start + len)).digest('base64');
}

interface Decoded {
  base: number;
  baseTimestamp: number;
  attrs: number;
  recs: Buffer;
  records: RecordView[];
}

/** Decodes a data batch's records, or null if it must stay untouched (transactional, control, undecodable). */
function decode(batch: Buffer, codecs: RecordCodecs | undefined): Decoded | null {
  const attrs = batch.readInt16BE(ATTRIBUTES_OFFSET);
  if (attrs & (ATTR_TRANSACTIONAL | ATTR_CONTROL)) return null;
  const codec = attrs & ATTR_COMPRESSION;
  let recs = batch.subarray(HEADER_SIZE);
  try {
    if (codec !== 0) {
      if (!codecs) return null;
      recs = codecs.decompress(codec, recs);
    }
    const records = parseRecords(recs, batch.readInt32BE(RECORDS_COUNT_OFFSET));
    return { base: baseOffsetAt(batch, 0), baseTimestamp: readInt64(batch, BASE_TIMESTAMP_OFFSET), attrs, recs, records };
  } catch {
    return null;
  }
}

// ---- reading and writing segments ----------------------------------------------------------------------

/** Every committed batch of a segment in order, each as its own buffer (safe to keep). */
async function* batchesOf(fs: FsLike, seg: Segment, limit: number): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  let bufStart = 0;
  let pos = 0;
  while (pos < limit) {
    if (pos + HEADER_SIZE > bufStart + buf.length) {
      buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, limit - pos));
      bufStart = pos;
      buf = buf.subarray(0, await readFully(fs, seg.fd, buf, pos));
    }
    let o = pos - bufStart;
    const size = buf.length - o >= 12 ? batchSizeAt(buf, o) : 0;
    if (size >= HEADER_SIZE && pos + size <= limit && o + size > buf.length) {
      buf = Buffer.allocUnsafe(Math.max(size, Math.min(READ_CHUNK, limit - pos)));
      bufStart = pos;
      buf = buf.subarray(0, await readFully(fs, seg.fd, buf, pos));
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
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #written = 0;
  pos = 0;

  constructor(fs: FsLike, seg: Segment, indexIntervalBytes: number) {
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
    this.#written = this.pos;
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

// ---- filtering a batch -----------------------------------------------------------------------------

interface FilterContext {
  map: Map<string, number>;
  /** Producer id → last offset of its last data batch in the log. */
  lastOfProducer: Map<bigint, number>;
  now: number;
  deleteRetentionMs: number;
  codecs: RecordCodecs | undefined;
  /** One past the group's last offset: its last batch always stays (at least as a header). */
  groupEnd: number;
}

interface Filtered {
  /** The batch to write: the input itself when unchanged, a rebuilt one, or null to drop it. */
  out: Buffer | null;
  /** Delete horizon of the tombstones this batch keeps, -1 if none. */
  horizon: number;
}

function finishBatch(b: Buffer): Buffer {
  b.writeUInt32BE(crc32c(b.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return b;
}

/** Kafka's empty batch header: offsets, producer id/epoch/sequence and max timestamp kept, no records. */
function emptyHeader(batch: Buffer): Buffer {
  const h = Buffer.from(batch.subarray(0, HEADER_SIZE));
  const attrs = batch.readInt16BE(ATTRIBUTES_OFFSET) & (ATTR_LOG_APPEND_TIME | ATTR_TRANSACTIONAL | ATTR_CONTROL);
  h.writeInt32BE(HEADER_SIZE - LOG_OVERHEAD, 8);
  h.writeInt16BE(attrs, ATTRIBUTES_OFFSET);
  writeInt64(h, BASE_TIMESTAMP_OFFSET, maxTimestampAt(batch, 0));
  h.writeInt32BE(0, RECORDS_COUNT_OFFSET);
  return finishBatch(h);
}

function filterBatch(batch: Buffer, ctx: FilterContext): Filtered {
  const d = decode(batch, ctx.codecs);
  if (d === null) return { out: batch, horizon: -1 };
  const hasHorizon = (d.attrs & ATTR_DELETE_HORIZON) !== 0;
  const oldHorizon = hasHorizon ? d.baseTimestamp : -1;
  const kept: RecordView[] = [];
  let tombstones = false;
  for (const r of d.records) {
    if (r.keyLen < 0) continue;
    const offset = d.base + r.offsetDelta;
    const latest = ctx.map.get(keyId(d.recs, r.keyStart, r.keyLen));
    if (latest !== undefined && offset < latest) continue;
    if (r.valueNull && hasHorizon && ctx.now >= oldHorizon) continue;
    if (r.valueNull) tombstones = true;
    kept.push(r);
  }
  const last = lastOffsetAt(batch, 0);
  if (kept.length === 0) {
    // Also an empty header left by an earlier clean: it goes once it is no longer needed.
    const pid = batch.readBigInt64BE(PRODUCER_ID_OFFSET);
    const keep = (pid >= 0n && ctx.lastOfProducer.get(pid) === last) || last + 1 === ctx.groupEnd;
    return { out: keep ? (d.records.length === 0 ? batch : emptyHeader(batch)) : null, horizon: -1 };
  }
  if (kept.length === d.records.length && (!tombstones || hasHorizon)) return { out: batch, horizon: tombstones ? oldHorizon : -1 };
  const horizon = hasHorizon ? oldHorizon : tombstones ? ctx.now + ctx.deleteRetentionMs : -1;
  const newBase = horizon >= 0 ? horizon : d.baseTimestamp;
  const parts: Buffer[] = [];
  let maxTs = -1;
  for (const r of kept) {
    const ts = d.baseTimestamp + r.timestampDelta;
    if (ts > maxTs) maxTs = ts;
    if (newBase === d.baseTimestamp) {
      parts.push(d.recs.subarray(r.lenStart, r.end));
      continue;
    }
    const mid: number[] = [d.recs[r.start]];
    writeVarlong(ts - newBase, mid);
    const body = Buffer.concat([Buffer.from(mid), d.recs.subarray(r.tsEnd, r.end)]);
    const len: number[] = [];
    writeVarlong(body.length, len);
    parts.push(Buffer.from(len), body);
  }
  let recs: Buffer = Buffer.concat(parts);
  const codec = d.attrs & ATTR_COMPRESSION;
  if (codec !== 0) recs = ctx.codecs!.compress(codec, recs);
  const out = Buffer.allocUnsafe(HEADER_SIZE + recs.length);
  batch.copy(out, 0, 0, HEADER_SIZE);
  recs.copy(out, HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, 8);
  out.writeInt16BE((d.attrs & ~ATTR_DELETE_HORIZON) | (horizon >= 0 ? ATTR_DELETE_HORIZON : 0), ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, newBase);
  if ((d.attrs & ATTR_LOG_APPEND_TIME) === 0) writeInt64(out, 35, maxTs);
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET);
  return { out: finishBatch(out), horizon: tombstones ? horizon : -1 };
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
  for (const s of segs) {
    if (s === active) break;
    if (s.nextOffset <= firstDirty) continue;
    if (s.reserved !== s.size || s.cleaning || (cfg.minCompactionLagMs > 0 && s.largestTimestamp > now - cfg.minCompactionLagMs)) {
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
  if (horizon >= 0 && now >= horizon && p.cleanBytes + p.dirtyBytes > 0) return 'tombstones past their delete horizon';
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

  // Producers' last data batches (their headers survive cleaning) and the offset map of the dirty section.
  const lastOfProducer = new Map<bigint, number>();
  for (const s of segs) {
    view.hold(s);
    try {
      await s.walk(fs, s.baseOffset, s.size, (h, o) => {
        const pid = h.readBigInt64BE(o + PRODUCER_ID_OFFSET);
        if (pid >= 0n && (h.readInt16BE(o + ATTRIBUTES_OFFSET) & ATTR_CONTROL) === 0) lastOfProducer.set(pid, lastOffsetAt(h, o));
        return false;
      });
    } finally {
      view.release(s);
    }
  }
  const map = new Map<string, number>();
  let cleanEnd = p.firstDirty;
  for (const s of segs) {
    if (s === active || s.baseOffset >= p.firstUncleanable) break;
    if (s.nextOffset <= p.firstDirty) continue;
    if (map.size >= opts.maxMapEntries && cleanEnd > p.firstDirty) break;
    view.hold(s);
    try {
      for await (const b of batchesOf(fs, s, s.size)) {
        const d = decode(b, opts.codecs);
        if (!d) continue;
        for (const r of d.records) {
          const off = d.base + r.offsetDelta;
          if (r.keyLen >= 0 && off >= p.firstDirty) map.set(keyId(d.recs, r.keyStart, r.keyLen), off);
        }
      }
    } finally {
      view.release(s);
    }
    cleanEnd = s.nextOffset;
  }
  if (cleanEnd <= p.firstDirty && !(view.deleteHorizon() >= 0 && now >= view.deleteHorizon())) return null;

  // Groups of consecutive segments below cleanEnd that fit one segment; a segment with aborted
  // transactions stays alone (its .txnindex keeps its name and content).
  const groups: Segment[][] = [];
  for (const s of segs) {
    if (s === active || s.nextOffset > cleanEnd || s.baseOffset >= cleanEnd) break;
    const g = groups[groups.length - 1];
    const fits = g && s.aborted.length === 0 && g[0].aborted.length === 0 &&
      g.reduce((n, x) => n + x.size, 0) + s.size <= cfg.segmentBytes && s.nextOffset - 1 - g[0].baseOffset <= MAX_RELATIVE_OFFSET;
    if (fits) g.push(s);
    else groups.push([s]);
  }

  const result: CleanResult = { segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, cleanedUpTo: cleanEnd };
  let horizon = -1;
  for (const g of groups) {
    if (view.closed()) return null;
    const r = await cleanGroup(view, g, { map, lastOfProducer, now, deleteRetentionMs: cfg.deleteRetentionMs, codecs: opts.codecs, groupEnd: g[g.length - 1].nextOffset });
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
async function cleanGroup(view: CleanerView, group: Segment[], ctx: FilterContext): Promise<{ swapped: boolean; horizon: number; before: number; after: number } | null> {
  const { fs } = view;
  const cfg = view.config();
  const base = group[0].baseOffset;
  const out = new Segment(view.dir, base, view.clock.now());
  const cleanedPath = out.logPath + '.cleaned';
  const swapPath = out.logPath + '.swap';
  let changed = false;
  let horizon = -1;
  let before = 0;
  // Retention may have removed a segment since the pass was planned; it skips segments being cleaned.
  if (group.some((s) => s.deleted)) return null;
  for (const s of group) s.cleaning = true;
  try {
    out.fd = await fs.open(cleanedPath, 'w+');
    const w = new SegmentWriter(fs, out, cfg.indexIntervalBytes);
    try {
      for (const s of group) {
        before += s.size;
        view.hold(s);
        try {
          for await (const b of batchesOf(fs, s, s.size)) {
            const f = filterBatch(b, ctx);
            if (f.out !== b) changed = true;
            if (f.horizon >= 0 && (horizon < 0 || f.horizon < horizon)) horizon = f.horizon;
            if (f.out) await w.add(f.out);
          }
        } finally {
          view.release(s);
        }
      }
      if (group.length > 1) changed = true; // merging segments is a change even when no record goes
      await w.flush();
      if (changed) await fs.fdatasync(out.fd);
    } catch (e) {
      await fs.close(out.fd).catch(() => {});
      await unlinkIfPresent(fs, cleanedPath).catch(() => {});
      throw e;
    }
    if (!changed || view.closed()) {
      await fs.close(out.fd);
      await unlinkIfPresent(fs, cleanedPath);
      return changed ? null : { swapped: false, horizon, before, after: before };
    }
    out.size = out.reserved = w.pos;
    out.lastModifiedMs = Math.max(...group.map((s) => s.lastModifiedMs));
    out.aborted = group.length === 1 ? group[0].aborted : [];
    try {
      await fs.rename(cleanedPath, swapPath);
      await fs.fsyncDir(view.dir);
    } catch (e) {
      await fs.close(out.fd).catch(() => {});
      await unlinkIfPresent(fs, cleanedPath).catch(() => {});
      await unlinkIfPresent(fs, swapPath).catch(() => {});
      throw e;
    }
    // Committed: from here a crash completes the swap at the next start.
    if (group.length === 1) out.aborted = group[0].aborted; // entries added meanwhile belong to the same offsets
    if (!view.replace(group, out)) {
      // The log was closed for deletion meanwhile: the swap must not resurrect anything.
      await fs.close(out.fd).catch(() => {});
      await unlinkIfPresent(fs, swapPath).catch(() => {});
      return null;
    }
    view.hold(out);
    try {
      for (const s of group) {
        if (s.baseOffset !== base) {
          await unlinkIfPresent(fs, s.logPath);
          await unlinkIfPresent(fs, s.txnIndexPath);
        }
        await unlinkIfPresent(fs, s.indexPath);
        await unlinkIfPresent(fs, s.timeIndexPath);
      }
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
 * Completes or rolls back a cleaning interrupted by a crash, before the log is loaded: `.cleaned` (and
 * Kafka's `.deleted`) files go; each `<base>.log.swap` replaces the segments within its offset range.
 */
export async function recoverCleaning(fs: FsLike, dir: string, log: Logger, name: string): Promise<void> {
  const files = await fs.readdir(dir);
  for (const f of files) {
    if (f.endsWith('.cleaned') || f.endsWith('.deleted')) {
      log.warn(`${name}: removing ${f} left by an interrupted log cleaning`);
      await unlinkIfPresent(fs, join(dir, f));
    }
  }
  for (const f of files) {
    const m = /^(\d{20})\.log\.swap$/.exec(f);
    if (!m) continue;
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
      // The swap's own base keeps its .txnindex (a segment with aborted transactions is cleaned alone).
      if ((b > base && b < next) || (b === base && (gm[2] === 'index' || gm[2] === 'timeindex'))) await unlinkIfPresent(fs, join(dir, g));
    }
    await fs.rename(join(dir, f), join(dir, `${m[1]}.log`));
    log.warn(`${name}: completed an interrupted log cleaning: ${f} replaces the segments in [${base}, ${next})`);
  }
  await fs.fsyncDir(dir);
}
