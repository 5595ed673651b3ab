// Record-level work of the log cleaner: parsing records of a batch, the offset-map key, and the filter
// that decides what of a batch a cleaning keeps (Kafka's Cleaner.cleanInto / MemoryRecords.filterTo).
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { ATTRIBUTES_OFFSET, CRC_OFFSET, HEADER_SIZE, LOG_OVERHEAD, baseOffsetAt, lastOffsetAt, maxTimestampAt, readInt64, writeInt64 } from './batch.ts';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, type CleanedTransactions } from './cleaner-txn.ts';

/** Compression codecs, injected by the broker (storage imports nothing of ours). Codec ids are Kafka's (1 gzip … 4 zstd). */
export interface RecordCodecs {
  decompress(codec: number, data: Buffer): Buffer;
  compress(codec: number, data: Buffer): Buffer;
}

const ATTR_COMPRESSION = 0x07;
const ATTR_LOG_APPEND_TIME = 0x08;
const ATTR_DELETE_HORIZON = 0x40;
const BASE_TIMESTAMP_OFFSET = 27;
export const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const RECORDS_COUNT_OFFSET = 57;

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

export interface RecordView {
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
export function keyId(recs: Buffer, start: number, len: number): string {
  if (len <= 16) return 'r' + recs.toString('latin1', start, start + len);
  return 'h' + createHash('md5').update(recs.subarray(start, start + len)).digest('base64');
}

export interface Decoded {
  base: number;
  baseTimestamp: number;
  attrs: number;
  recs: Buffer;
  records: RecordView[];
}

/** Decodes a batch's records, or null if it must stay untouched (undecodable, compressed without codecs). */
export function decode(batch: Buffer, codecs: RecordCodecs | undefined): Decoded | null {
  const attrs = batch.readInt16BE(ATTRIBUTES_OFFSET);
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


/** The control type of a marker batch (0 abort, 1 commit), -1 when it has no record left (cleaned before). */
function controlType(batch: Buffer): number {
  if (batch.readInt32BE(RECORDS_COUNT_OFFSET) === 0) return -1;
  try {
    const [r] = parseRecords(batch.subarray(HEADER_SIZE), 1);
    return r.keyLen >= 4 ? batch.readInt16BE(HEADER_SIZE + r.keyStart + 2) : -2;
  } catch {
    return -2;
  }
}

// ---- filtering a batch -----------------------------------------------------------------------------

export interface FilterContext {
  map: Map<string, number>;
  /** Without the log owner's producer state: producer id → last offset of its last data batch in the log. */
  lastOfProducer: Map<bigint, number> | null;
  /** The log owner's active producers (Kafka's producerStateManager.activeProducers). */
  activeProducers: ReadonlyMap<bigint, { lastDataOffset: number; epoch: number }> | null;
  txns: CleanedTransactions;
  now: number;
  deleteRetentionMs: number;
  codecs: RecordCodecs | undefined;
  /** One past the group's last offset: its last batch always stays (at least as a header). */
  groupEnd: number;
}

export interface Filtered {
  /** The batch to write: the input itself when unchanged, a rebuilt one, or null to drop it. */
  out: Buffer | null;
  /** Delete horizon of the tombstones or markers this batch keeps, -1 if none. */
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

/** Kafka's isBatchLastRecordOfProducer: this batch's header must stay for its producer's sequence/epoch. */
function lastOfItsProducer(batch: Buffer, ctx: FilterContext, control: boolean, last: number): boolean {
  const pid = batch.readBigInt64BE(PRODUCER_ID_OFFSET);
  if (pid < 0n) return false;
  if (ctx.activeProducers === null) return !control && ctx.lastOfProducer?.get(pid) === last;
  const p = ctx.activeProducers.get(pid);
  if (!p) return false;
  return p.lastDataOffset >= 0 ? last === p.lastDataOffset : control && batch.readInt16BE(PRODUCER_EPOCH_OFFSET) === p.epoch;
}

/** Re-encodes the kept records against `newBase` (a delete horizon) and rebuilds the batch around them. */
function rebuild(batch: Buffer, d: Decoded, kept: RecordView[], horizon: number, codecs: RecordCodecs | undefined): Buffer {
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
  if (codec !== 0) recs = codecs!.compress(codec, recs);
  const out = Buffer.allocUnsafe(HEADER_SIZE + recs.length);
  batch.copy(out, 0, 0, HEADER_SIZE);
  recs.copy(out, HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, 8);
  out.writeInt16BE((d.attrs & ~ATTR_DELETE_HORIZON) | (horizon >= 0 ? ATTR_DELETE_HORIZON : 0), ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, newBase);
  if ((d.attrs & ATTR_LOG_APPEND_TIME) === 0) writeInt64(out, 35, maxTs);
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET);
  return finishBatch(out);
}

/**
 * What a cleaning keeps of one batch (Kafka's checkBatchRetention + shouldRetainRecord): aborted data goes,
 * committed and plain data keep the latest record per key, tombstones and markers of emptied transactions
 * stay until their delete horizon; a producer's last batch keeps at least its header.
 */
export function filterBatch(batch: Buffer, ctx: FilterContext): Filtered {
  const attrs = batch.readInt16BE(ATTRIBUTES_OFFSET);
  const control = (attrs & ATTR_CONTROL) !== 0;
  const last = lastOffsetAt(batch, 0);
  const pid = batch.readBigInt64BE(PRODUCER_ID_OFFSET);
  const hasHorizon = (attrs & ATTR_DELETE_HORIZON) !== 0;
  const oldHorizon = hasHorizon ? readInt64(batch, BASE_TIMESTAMP_OFFSET) : -1;
  const discardable = control
    ? ctx.txns.onMarker(pid, controlType(batch), last)
    : ctx.txns.onBatch(pid, (attrs & ATTR_TRANSACTIONAL) !== 0, last);
  const discardRecords = control ? discardable && hasHorizon && ctx.now >= oldHorizon : discardable;
  const isLast = lastOfItsProducer(batch, ctx, control, last);
  const count = batch.readInt32BE(RECORDS_COUNT_OFFSET);
  const emptied = (): Filtered => {
    // Also an empty header left by an earlier clean: it goes once it is no longer needed.
    const keep = isLast || last + 1 === ctx.groupEnd;
    return { out: keep ? (count === 0 ? batch : emptyHeader(batch)) : null, horizon: -1 };
  };
  if (discardRecords || count === 0) return emptied();
  if (control) {
    // A marker stays whole; one whose transaction is empty gets its delete horizon on the first cleaning.
    if (!discardable || hasHorizon) return { out: batch, horizon: discardable ? oldHorizon : -1 };
    const d = decode(batch, ctx.codecs);
    if (d === null) return { out: batch, horizon: -1 };
    const horizon = ctx.now + ctx.deleteRetentionMs;
    return { out: rebuild(batch, d, d.records, horizon, ctx.codecs), horizon };
  }
  const d = decode(batch, ctx.codecs);
  if (d === null) return { out: batch, horizon: -1 };
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
  if (kept.length === 0) return emptied();
  if (kept.length === d.records.length && (!tombstones || hasHorizon)) return { out: batch, horizon: tombstones ? oldHorizon : -1 };
  const horizon = hasHorizon ? oldHorizon : tombstones ? ctx.now + ctx.deleteRetentionMs : -1;
  return { out: rebuild(batch, d, kept, horizon, ctx.codecs), horizon: tombstones ? horizon : -1 };
}

/** The offset map's view of a batch: its keyed records, or null when they must not enter it (markers, aborted data, undecodable). */
export function mappableRecords(batch: Buffer, txns: CleanedTransactions, codecs: RecordCodecs | undefined): Decoded | null {
  const attrs = batch.readInt16BE(ATTRIBUTES_OFFSET);
  const pid = batch.readBigInt64BE(PRODUCER_ID_OFFSET);
  const last = lastOffsetAt(batch, 0);
  if (attrs & ATTR_CONTROL) {
    txns.onMarker(pid, controlType(batch), last);
    return null;
  }
  if (txns.onBatch(pid, (attrs & ATTR_TRANSACTIONAL) !== 0, last)) return null;
  return decode(batch, codecs);
}

