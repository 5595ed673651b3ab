// Record batch v2 (magic 2): a view over the batch bytes where they lie, plus
// validation, in-place patching, lazy record iteration and a builder.
//
// Layout (offsets relative to the start of the batch; big-endian):
//    0 baseOffset int64        (not covered by the CRC)
//    8 batchLength int32       (bytes after this field; batch size = 12 + batchLength)
//   12 partitionLeaderEpoch int32 (not covered by the CRC)
//   16 magic int8
//   17 crc uint32             CRC-32C of bytes [21, end of batch)
//   21 attributes int16        bits 0-2 codec, 3 timestamp type, 4 transactional,
//                              5 control, 6 delete horizon
//   23 lastOffsetDelta int32
//   27 baseTimestamp int64
//   35 maxTimestamp int64
//   43 producerId int64
//   51 producerEpoch int16
//   53 baseSequence int32
//   57 recordsCount int32
//   61 records (compressed as one blob when codec != 0)
//
// Numbers: offsets and timestamps are JS numbers. They are exact while
// |value| <= 2^53 - 1 (Number.MAX_SAFE_INTEGER, ~9e15): offsets beyond that
// are not supported (a partition would need 9 quadrillion records) and
// millisecond timestamps stay far below it. producerId is a bigint (exact
// int64), since it is an opaque 64-bit id. Writers accept number or bigint.
//
// Error model:
//  - validateBatch()/validateProduceRecords() never throw for bad input; they
//    return an error kind (Kafka error name) or null.
//  - records() throws RecordsError (with .kind) for malformed records or an
//    undecodable compressed section. Bad client input is data: callers (the
//    produce path, fetch-side tooling) must catch RecordsError and map .kind
//    to the Kafka error code.
//  - parseBatchHeader() throws RecordsError('CORRUPT_MESSAGE') when fewer than
//    61 bytes are available.
//  - walkRecords() (the Produce path's LogValidator pass) never throws: it
//    records a structural RecordsError or per-record errors in its RecordWalk,
//    walking bytes only (no record objects), resumable in slices.

import { crc32c } from '@node-rs/crc32';
import { decompress as defaultDecompress, compress as defaultCompress, isSupportedCodec, CompressionError } from './compression.ts';
import { VarintCursor, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';

export const LOG_OVERHEAD = 12; // baseOffset + batchLength
export const RECORD_BATCH_OVERHEAD = 61;
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD; // 49
export const MAGIC_V2 = 2;

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;
export const DELETE_HORIZON_MASK = 0x40;

/** 0 = CreateTime, 1 = LogAppendTime. */
export type TimestampType = 0 | 1;
export const CREATE_TIME: TimestampType = 0;
export const LOG_APPEND_TIME: TimestampType = 1;
export const NO_TIMESTAMP = -1;

/** Kafka error names returned by validation / carried by RecordsError. */
export type BatchErrorKind =
  | 'CORRUPT_MESSAGE'
  | 'UNSUPPORTED_FOR_MESSAGE_FORMAT'
  | 'INVALID_RECORD'
  | 'UNSUPPORTED_COMPRESSION_TYPE';

export class RecordsError extends Error {
  readonly kind: BatchErrorKind;
  constructor(kind: BatchErrorKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RecordsError';
    this.kind = kind;
  }
}

// ---------------------------------------------------------------------------
// int64 helpers (number <-> two int32 halves)

const TWO_32 = 4294967296;

/** Reads a big-endian int64 as a number (exact for |v| <= 2^53). */
export function readInt64Number(buf: Buffer, off: number): number {
  return buf.readInt32BE(off) * TWO_32 + buf.readUInt32BE(off + 4);
}

/** Writes a number (safe integer) or bigint as a big-endian int64. */
export function writeInt64(buf: Buffer, off: number, value: number | bigint): void {
  if (typeof value === 'bigint') {
    buf.writeBigInt64BE(BigInt.asIntN(64, value), off);
    return;
  }
  if (!Number.isSafeInteger(value)) throw new RangeError(`int64 value ${value} is not a safe integer; pass a bigint`);
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, off);
  buf.writeUInt32BE(value - hi * TWO_32, off + 4);
}

// ---------------------------------------------------------------------------
// Header access

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  /** 12 + batchLength */
  size: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/**
 * A lazy view of the batch at buf[offset...]. Getters read the bytes on each
 * access (nothing is cached, so in-place patches are visible). The view does
 * not validate; call validate() first for untrusted input. Reading a header
 * field beyond the end of `buf` throws a RangeError from Buffer.
 */
export class RecordBatchView {
  readonly buf: Buffer;
  readonly offset: number;

  constructor(buf: Buffer, offset = 0) {
    this.buf = buf;
    this.offset = offset;
  }

  get baseOffset(): number {
    return readInt64Number(this.buf, this.offset);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(this.offset + BATCH_LENGTH_OFFSET);
  }
  /** Total bytes of the batch: 12 + batchLength. */
  get size(): number {
    return LOG_OVERHEAD + this.batchLength;
  }
  /** Offset in `buf` just past this batch. */
  get end(): number {
    return this.offset + this.size;
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.offset + PARTITION_LEADER_EPOCH_OFFSET);
  }
  get magic(): number {
    return this.buf.readInt8(this.offset + MAGIC_OFFSET);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.offset + CRC_OFFSET);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.offset + ATTRIBUTES_OFFSET);
  }
  get compression(): number {
    return this.attributes & COMPRESSION_CODEC_MASK;
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_MASK ? 1 : 0;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_MASK) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_MASK) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_MASK) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.offset + LAST_OFFSET_DELTA_OFFSET);
  }
  /** baseOffset + lastOffsetDelta */
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  /** lastOffset + 1 */
  get nextOffset(): number {
    return this.lastOffset + 1;
  }
  get baseTimestamp(): number {
    return readInt64Number(this.buf, this.offset + BASE_TIMESTAMP_OFFSET);
  }
  get maxTimestamp(): number {
    return readInt64Number(this.buf, this.offset + MAX_TIMESTAMP_OFFSET);
  }
  /** The delete horizon (baseTimestamp) when the delete-horizon flag is set, else null. */
  get deleteHorizonMs(): number | null {
    return this.hasDeleteHorizon ? this.baseTimestamp : null;
  }
  get producerId(): bigint {
    return this.buf.readBigInt64BE(this.offset + PRODUCER_ID_OFFSET);
  }
  get hasProducerId(): boolean {
    return this.buf.readInt32BE(this.offset + PRODUCER_ID_OFFSET) >= 0;
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.offset + PRODUCER_EPOCH_OFFSET);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.offset + BASE_SEQUENCE_OFFSET);
  }
  get recordsCount(): number {
    return this.buf.readInt32BE(this.offset + RECORDS_COUNT_OFFSET);
  }
  /** The batch bytes as a subarray (no copy). */
  bytes(): Buffer {
    return this.buf.subarray(this.offset, this.offset + this.size);
  }
  header(): BatchHeader {
    return parseBatchHeader(this.buf, this.offset);
  }
  validate(options?: ValidateOptions): BatchErrorKind | null {
    return validateBatch(this.buf, this.offset, options);
  }
  records(decompressFn?: DecompressFn): Generator<KafkaRecord, void, undefined> {
    return records(this, decompressFn);
  }
}

/** Reads all header fields eagerly. Throws RecordsError('CORRUPT_MESSAGE') if < 61 bytes are available. */
export function parseBatchHeader(buf: Buffer, offset = 0): BatchHeader {
  if (buf.length - offset < RECORD_BATCH_OVERHEAD) {
    throw new RecordsError('CORRUPT_MESSAGE', `record batch header needs ${RECORD_BATCH_OVERHEAD} bytes, have ${buf.length - offset}`);
  }
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET);
  const batchLength = buf.readInt32BE(offset + BATCH_LENGTH_OFFSET);
  return {
    baseOffset: readInt64Number(buf, offset),
    batchLength,
    size: LOG_OVERHEAD + batchLength,
    partitionLeaderEpoch: buf.readInt32BE(offset + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(offset + MAGIC_OFFSET),
    crc: buf.readUInt32BE(offset + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_CODEC_MASK,
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? 1 : 0,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(offset + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64Number(buf, offset + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64Number(buf, offset + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(offset + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(offset + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(offset + BASE_SEQUENCE_OFFSET),
    recordsCount: buf.readInt32BE(offset + RECORDS_COUNT_OFFSET),
  };
}

// ---------------------------------------------------------------------------
// Record sets (concatenated batches)

export interface BatchSpan {
  /** Start of the batch in the record-set buffer. */
  offset: number;
  /** Total batch bytes (12 + batchLength). */
  size: number;
}

export interface RecordSetTail {
  /** Offset just past the last complete batch (= bytes covered by complete batches, from `start`). */
  end: number;
  /** A partial batch follows `end` (normal at the end of fetch responses). */
  truncated: boolean;
  /** The bytes at `end` cannot be a batch (batchLength below any valid minimum). */
  corrupt: boolean;
}

// Smallest legal size field for any magic (magic 0 record overhead: crc 4 +
// magic 1 + attributes 1 + key length 4 + value length 4).
const MIN_ANY_MAGIC_LENGTH = 14;

/**
 * Walks buf[start, end) yielding each complete batch's span, in order. Does
 * not validate magic or CRC (use validateBatch). A truncated tail ends the
 * walk silently; the generator's return value (RecordSetTail) says whether
 * that happened — see scanRecordSet for a non-generator form.
 */
export function* iterateBatches(buf: Buffer, start = 0, end = buf.length): Generator<BatchSpan, RecordSetTail, undefined> {
  let pos = start;
  while (pos < end) {
    if (end - pos < LOG_OVERHEAD) return { end: pos, truncated: true, corrupt: false };
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (batchLength < MIN_ANY_MAGIC_LENGTH) return { end: pos, truncated: false, corrupt: true };
    const size = LOG_OVERHEAD + batchLength;
    if (end - pos < size) return { end: pos, truncated: true, corrupt: false };
    yield { offset: pos, size };
    pos += size;
  }
  return { end: pos, truncated: false, corrupt: false };
}

export interface RecordSetScan extends RecordSetTail {
  batches: BatchSpan[];
}

/** iterateBatches collected into an array, with the tail status. */
export function scanRecordSet(buf: Buffer, start = 0, end = buf.length): RecordSetScan {
  const batches: BatchSpan[] = [];
  const it = iterateBatches(buf, start, end);
  for (;;) {
    const r = it.next();
    if (r.done) return { batches, ...r.value };
    batches.push(r.value);
  }
}

// ---------------------------------------------------------------------------
// Validation

export interface ValidateOptions {
  /**
   * Apply the extra checks Kafka applies to batches written by clients
   * (Produce): lastOffsetDelta + 1 == recordsCount (> 0), no control batches,
   * a producer id implies baseSequence >= 0, transactional implies a producer
   * id. Leave off for replicated / compacted data (compaction keeps
   * lastOffsetDelta while dropping records). Default false.
   */
  fromClient?: boolean;
}

/** CRC-32C of the batch at buf[off...] as it should be stored (bytes 21..end). */
export function computeCrc(buf: Buffer, off = 0): number {
  const end = off + LOG_OVERHEAD + buf.readInt32BE(off + BATCH_LENGTH_OFFSET);
  return crc32c(buf.subarray(off + ATTRIBUTES_OFFSET, end)) >>> 0;
}

/**
 * Checks the batch starting at buf[offset]: magic 2, sane batchLength that fits
 * in `buf`, CRC-32C, known codec, non-negative record count (+ client checks,
 * see ValidateOptions). Does not decode records (see validateBatchRecords).
 * Never throws for bad bytes; returns the Kafka error name or null.
 */
export function validateBatch(buf: Buffer, offset = 0, options: ValidateOptions = {}): BatchErrorKind | null {
  const avail = buf.length - offset;
  if (offset < 0 || avail < MAGIC_OFFSET + 1) return 'CORRUPT_MESSAGE';
  const magic = buf.readInt8(offset + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) return magic >= 0 && magic < MAGIC_V2 ? 'UNSUPPORTED_FOR_MESSAGE_FORMAT' : 'CORRUPT_MESSAGE';
  const batchLength = buf.readInt32BE(offset + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) return 'CORRUPT_MESSAGE';
  if (avail < LOG_OVERHEAD + batchLength) return 'CORRUPT_MESSAGE';
  const stored = buf.readUInt32BE(offset + CRC_OFFSET);
  if (computeCrc(buf, offset) !== stored) return 'CORRUPT_MESSAGE';
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET);
  if (!isSupportedCodec(attributes & COMPRESSION_CODEC_MASK)) return 'UNSUPPORTED_COMPRESSION_TYPE';
  const count = buf.readInt32BE(offset + RECORDS_COUNT_OFFSET);
  if (count < 0) return 'INVALID_RECORD';
  if (options.fromClient) {
    const lastOffsetDelta = buf.readInt32BE(offset + LAST_OFFSET_DELTA_OFFSET);
    if (lastOffsetDelta < 0 || lastOffsetDelta + 1 !== count) return 'INVALID_RECORD';
    if (attributes & CONTROL_MASK) return 'INVALID_RECORD';
    const hasPid = buf.readInt32BE(offset + PRODUCER_ID_OFFSET) >= 0;
    if (hasPid && buf.readInt32BE(offset + BASE_SEQUENCE_OFFSET) < 0) return 'INVALID_RECORD';
    if (!hasPid && attributes & TRANSACTIONAL_MASK) return 'INVALID_RECORD';
  }
  return null;
}

/**
 * Produce-request check of one partition's `records`: exactly one batch, no
 * trailing bytes, validateBatch(fromClient) clean, and zstd only for Produce
 * v7+ (pass apiVersion; omitted = no version check).
 * Note: Kafka 4 answers INVALID_RECORD for a non-v2 batch in Produce (its
 * ProduceRequest.validateRecords); here magic 0/1 yields
 * UNSUPPORTED_FOR_MESSAGE_FORMAT like validateBatch — map as you see fit.
 */
export function validateProduceRecords(buf: Buffer, apiVersion?: number): BatchErrorKind | null {
  if (buf.length < LOG_OVERHEAD) return buf.length === 0 ? 'INVALID_RECORD' : 'CORRUPT_MESSAGE';
  const err = validateBatch(buf, 0, { fromClient: true });
  if (err !== null) return err;
  const size = LOG_OVERHEAD + buf.readInt32BE(BATCH_LENGTH_OFFSET);
  if (size !== buf.length) {
    // More than one batch, or trailing garbage.
    return buf.length - size >= LOG_OVERHEAD + MIN_BATCH_LENGTH ? 'INVALID_RECORD' : 'CORRUPT_MESSAGE';
  }
  if (apiVersion !== undefined && apiVersion < 7 && (buf.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) === 4) {
    return 'UNSUPPORTED_COMPRESSION_TYPE';
  }
  return null;
}

/**
 * Decodes every record of an already validateBatch()-clean batch (decompressing
 * if needed) and returns the RecordsError kind of the first problem, or null.
 */
export function validateBatchRecords(buf: Buffer, offset = 0, decompressFn: DecompressFn = defaultDecompress): BatchErrorKind | null {
  try {
    for (const _ of records(new RecordBatchView(buf, offset), decompressFn)) {
      // decode only
    }
    return null;
  } catch (e) {
    if (e instanceof RecordsError) return e.kind;
    return 'CORRUPT_MESSAGE';
  }
}

// ---------------------------------------------------------------------------
// Record walk (Kafka's LogValidator per-record pass, without record objects)

/** Per-record problems the walk collects (LogValidator's RecordErrors): the batch is rejected, these are named. */
export const REC_NO_KEY = 0; // compacted topic, null key → INVALID_RECORD
export const REC_TS_RANGE = 1; // CreateTime outside [lower, upper] → INVALID_TIMESTAMP
export const REC_TS_TYPE = 2; // producer set LogAppendTime → INVALID_TIMESTAMP
// Broker-side schema validation (Confluent's confluent.key/value.schema.validation) → INVALID_RECORD; the
// error's timestamp slot holds the schema id found, or -1 when the bytes do not start with magic byte 0 and an id.
export const REC_KEY_SCHEMA = 3;
export const REC_VALUE_SCHEMA = 4;

/** Whether a schema id is registered under the subject the topic's strategy names (called once per record). */
export type SchemaIdCheck = (id: number) => boolean;

export interface RecordCheckOptions {
  /** cleanup.policy contains compact: every record needs a key. */
  compacted?: boolean;
  /** The topic's message.timestamp.type is CreateTime (record timestamps are range-checked when bounds are given). */
  createTime?: boolean;
  /** Inclusive CreateTime bounds (now - before.max.ms, now + after.max.ms); omit for none. */
  lowerTimestamp?: number;
  upperTimestamp?: number;
  /** Largest record body (Kafka's max.decompressed.message.bytes); Kafka applies it to compressed batches only. */
  maxRecordBytes?: number;
  /** Non-null keys / values must start with magic byte 0 and a 4-byte schema id this accepts (null ones pass). */
  keySchema?: SchemaIdCheck;
  valueSchema?: SchemaIdCheck;
}

/** The state of one record walk; resumable (walkRecords continues from `index`/`pos`). */
export interface RecordWalk {
  data: Buffer;
  pos: number;
  end: number;
  /** Records walked so far. */
  index: number;
  count: number;
  baseOffset: number;
  baseTimestamp: number;
  /** maxTimestamp for LogAppendTime batches (every record reports it), else null. */
  logAppendTime: number | null;
  /** Largest record timestamp seen (NO_TIMESTAMP if none). */
  maxTimestamp: number;
  /** Every record's offsetDelta equals its index (Kafka rewrites compressed batches where not). */
  consecutive: boolean;
  /** Structural failure (the whole batch is rejected, no per-record list), or null. */
  error: RecordsError | null;
  /** Per-record problems: [index, REC_* kind, timestamp, offsetDelta] quadruples, or null when none. */
  recordErrors: number[] | null;
  opts: RecordCheckOptions;
}

/**
 * Starts a walk over the records of the batch at buf[off...] (already validateBatch-clean). `data/pos/end`
 * is the records section: the batch's own bytes when uncompressed, else the decompressed section.
 */
export function startRecordWalk(buf: Buffer, off: number, data: Buffer, pos: number, end: number, opts: RecordCheckOptions = {}): RecordWalk {
  const attrs = buf.readInt16BE(off + ATTRIBUTES_OFFSET);
  const logAppend = (attrs & TIMESTAMP_TYPE_MASK) !== 0;
  return {
    data, pos, end, index: 0,
    count: buf.readInt32BE(off + RECORDS_COUNT_OFFSET),
    baseOffset: readInt64Number(buf, off),
    baseTimestamp: readInt64Number(buf, off + BASE_TIMESTAMP_OFFSET),
    logAppendTime: logAppend ? readInt64Number(buf, off + MAX_TIMESTAMP_OFFSET) : null,
    maxTimestamp: NO_TIMESTAMP,
    consecutive: true,
    error: null,
    recordErrors: null,
    opts,
  };
}

function structure(msg: string): RecordsError {
  return new RecordsError('INVALID_RECORD', msg);
}

/**
 * Walks up to `limit` more records (Kafka's DefaultRecord.readFrom checks, by skipping bytes: record
 * length inside the section, varints well formed, key/value/header lengths inside the record, header
 * count ≥ 0, the record's fields adding up to its length; then, at the end, no bytes left over).
 * Returns true when the walk is finished (all records, or w.error set). Never throws for bad bytes.
 */
export function walkRecords(w: RecordWalk, limit = Infinity): boolean {
  if (w.error !== null) return true;
  const data = w.data;
  const end = w.end;
  const stop = Math.min(w.count, w.index + limit);
  const o = w.opts;
  const maxBody = o.maxRecordBytes ?? Infinity;
  const checkRange = o.createTime === true && (o.lowerTimestamp !== undefined || o.upperTimestamp !== undefined);
  const lower = o.lowerTimestamp ?? -Infinity;
  const upper = o.upperTimestamp ?? Infinity;
  const compacted = o.compacted === true;
  const createTime = o.createTime === true;
  const logAppendTime = w.logAppendTime;
  const baseTimestamp = w.baseTimestamp;
  const keySchema = o.keySchema;
  const valueSchema = o.valueSchema;
  let i = w.index;
  let maxTs = w.maxTimestamp;
  let pos = w.pos;
  try {
    for (; i < stop; i++) {
      if (pos >= end) throw structure('Incorrect declared batch size, premature EOF reached');
      const length = varint(data, pos, end);
      const start = V_POS;
      if (length > end - start) throw structure(`Invalid record size: expected ${length} bytes in record payload, but instead the buffer has only ${end - start} remaining bytes.`);
      if (length > maxBody) throw structure(`Record size ${length} exceeds the configured maximum record size ${maxBody}`);
      if (length < 1) throw structure(`Invalid record size: expected to read ${length} bytes in record payload, but instead read 0`);
      const recEnd = start + length;
      // attributes (unused in v2), then the timestamp delta
      const tsDelta = varlong(data, start + 1, recEnd);
      const offsetDelta = varint(data, V_POS, recEnd);
      const keyLen = varint(data, V_POS, recEnd);
      pos = V_POS;
      const keyAt = pos;
      if (keyLen > 0) {
        if (keyLen > recEnd - pos) throw structure('Found invalid record structure');
        pos += keyLen;
      }
      const valueLen = varint(data, pos, recEnd);
      pos = V_POS;
      const valueAt = pos;
      if (valueLen > 0) {
        if (valueLen > recEnd - pos) throw structure('Found invalid record structure');
        pos += valueLen;
      }
      const headers = varint(data, pos, recEnd);
      pos = V_POS;
      if (headers !== 0) {
        if (headers < 0) throw structure(`Found invalid number of record headers ${headers}`);
        if (headers > recEnd - pos) throw structure(`Found invalid number of record headers. ${headers} is larger than the remaining size of the buffer`);
        for (let h = 0; h < headers; h++) {
          const hk = varint(data, pos, recEnd);
          pos = V_POS;
          if (hk < 0) throw structure(`Invalid negative header key size ${hk}`);
          if (hk > recEnd - pos) throw structure('Found invalid record structure');
          pos += hk;
          const hv = varint(data, pos, recEnd);
          pos = V_POS;
          if (hv > 0) {
            if (hv > recEnd - pos) throw structure('Found invalid record structure');
            pos += hv;
          }
        }
      }
      if (pos !== recEnd) throw structure(`Invalid record size: expected to read ${length} bytes in record payload, but instead read ${pos - start}`);

      if (offsetDelta !== i) w.consecutive = false;
      const ts = logAppendTime ?? baseTimestamp + tsDelta;
      if (ts > maxTs) maxTs = ts;
      // LogValidator.validateRecord: the key first, then the timestamp.
      let kind = -1;
      if (compacted && keyLen < 0) kind = REC_NO_KEY;
      else if (createTime && ts !== NO_TIMESTAMP) {
        if (checkRange && (ts < lower || ts > upper)) kind = REC_TS_RANGE;
      } else if (logAppendTime !== null) kind = REC_TS_TYPE;
      let slot = ts;
      if (kind < 0 && keySchema !== undefined && keyLen >= 0) {
        slot = schemaId(data, keyAt, keyLen);
        if (slot < 0 || !keySchema(slot)) kind = REC_KEY_SCHEMA;
      }
      if (kind < 0 && valueSchema !== undefined && valueLen >= 0) {
        slot = schemaId(data, valueAt, valueLen);
        if (slot < 0 || !valueSchema(slot)) kind = REC_VALUE_SCHEMA;
      }
      if (kind >= 0) (w.recordErrors ??= []).push(i, kind, kind >= REC_KEY_SCHEMA ? slot : ts, offsetDelta);
    }
    w.index = i;
    w.pos = pos;
    w.maxTimestamp = maxTs;
    if (i < w.count) return false;
    if (pos !== end) throw structure('Incorrect declared batch size, records still remaining in file');
    return true;
  } catch (e) {
    w.error = e instanceof RecordsError ? e : structure('Found invalid record structure');
    w.index = i;
    return true;
  }
}

/** Confluent's wire format: magic byte 0, then the schema id (big-endian int32); -1 when the bytes are not that. */
function schemaId(data: Buffer, at: number, len: number): number {
  if (len < 5 || data[at] !== 0) return -1;
  const id = data.readInt32BE(at + 1);
  return id < 0 ? -1 : id;
}

// The walk's varint readers return the value and leave the position after it in V_POS (no allocation).
let V_POS = 0;
const varintCursor = new VarintCursor(Buffer.alloc(0));

const MALFORMED = new RecordsError('INVALID_RECORD', 'Found invalid record structure');

/** Zig-zag varint at data[pos] within `lim` (Kafka's readVarint: at most 5 bytes); throws when malformed or past `lim`. */
function varint(data: Buffer, pos: number, lim: number): number {
  // One loop without a cursor object: most fields are 1-2 bytes, offset and timestamp deltas up to 3.
  let u = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= lim || shift > 28) throw MALFORMED;
    const b = data[pos++]!;
    if (b < 0x80) {
      u |= b << shift;
      break;
    }
    u |= (b & 0x7f) << shift;
  }
  V_POS = pos;
  return (u >>> 1) ^ -(u & 1);
}

/** Zig-zag varlong as a number, like varint (up to 3 bytes inline, longer ones through VarintCursor). */
function varlong(data: Buffer, pos: number, lim: number): number {
  if (pos + 2 < lim) {
    const b = data[pos]!;
    if (b < 0x80) {
      V_POS = pos + 1;
      return (b >>> 1) ^ -(b & 1);
    }
    const b1 = data[pos + 1]!;
    if (b1 < 0x80) {
      V_POS = pos + 2;
      const u = (b & 0x7f) | (b1 << 7);
      return (u >>> 1) ^ -(u & 1);
    }
    const b2 = data[pos + 2]!;
    if (b2 < 0x80) {
      V_POS = pos + 3;
      const u = (b & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
      return (u >>> 1) ^ -(u & 1);
    }
  }
  varintCursor.buf = data;
  varintCursor.pos = pos;
  varintCursor.end = lim;
  const v = varintCursor.readVarlong();
  V_POS = varintCursor.pos;
  return v;
}

/**
 * Kafka's client-batch header checks with its messages (LogValidator.validateBatch and
 * DefaultRecordBatch): count > 0, lastOffsetDelta + 1 == count, no control batch, a producer id needs
 * a sequence. Returns a RecordsError or null. validateBatch(fromClient) gives the same verdicts without
 * the messages.
 */
export function clientBatchError(buf: Buffer, off = 0): RecordsError | null {
  const count = buf.readInt32BE(off + RECORDS_COUNT_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(off + LAST_OFFSET_DELTA_OFFSET);
  const base = readInt64Number(buf, off);
  if (lastOffsetDelta < 0) return structure(`Batch has an invalid offset range: [${base}, ${base + lastOffsetDelta}]`);
  if (count <= 0) return structure(`Invalid reported count for record batch: ${count}`);
  if (lastOffsetDelta + 1 !== count) return structure(`Inconsistent batch offset range [${base}, ${base + lastOffsetDelta}] and count of records ${count}`);
  const attrs = buf.readInt16BE(off + ATTRIBUTES_OFFSET);
  if (attrs & CONTROL_MASK) return structure('Clients are not allowed to write control records');
  const pid = buf.readBigInt64BE(off + PRODUCER_ID_OFFSET);
  const seq = buf.readInt32BE(off + BASE_SEQUENCE_OFFSET);
  if (pid >= 0n && seq < 0) return structure(`Invalid sequence number ${seq} in record batch with producerId ${pid}`);
  return null;
}

// ---------------------------------------------------------------------------
// In-place patching

/** Sets baseOffset (outside the CRC; no CRC update needed). */
export function setBaseOffset(buf: Buffer, off: number, value: number | bigint): void {
  writeInt64(buf, off + BASE_OFFSET_OFFSET, value);
}

/** Sets partitionLeaderEpoch (outside the CRC; no CRC update needed). */
export function setPartitionLeaderEpoch(buf: Buffer, off: number, epoch: number): void {
  buf.writeInt32BE(epoch, off + PARTITION_LEADER_EPOCH_OFFSET);
}

/** Recomputes and stores the CRC-32C of the batch at buf[off...]; returns it. */
export function recomputeCrc(buf: Buffer, off = 0): number {
  const crc = computeCrc(buf, off);
  buf.writeUInt32BE(crc, off + CRC_OFFSET);
  return crc;
}

/**
 * Sets the timestamp-type attribute bit and maxTimestamp, recomputing the CRC
 * (both are CRC-covered). No-op (no CRC work) when nothing changes — like
 * Kafka's DefaultRecordBatch.setMaxTimestamp.
 */
export function setMaxTimestamp(buf: Buffer, off: number, timestampType: TimestampType, maxTimestamp: number): void {
  const attrs = buf.readInt16BE(off + ATTRIBUTES_OFFSET);
  const newAttrs = timestampType === 1 ? attrs | TIMESTAMP_TYPE_MASK : attrs & ~TIMESTAMP_TYPE_MASK;
  if (newAttrs === attrs && readInt64Number(buf, off + MAX_TIMESTAMP_OFFSET) === maxTimestamp) return;
  buf.writeInt16BE(newAttrs, off + ATTRIBUTES_OFFSET);
  writeInt64(buf, off + MAX_TIMESTAMP_OFFSET, maxTimestamp);
  recomputeCrc(buf, off);
}

/** For topics with message.timestamp.type=LogAppendTime: LogAppendTime bit + maxTimestamp = appendTime, CRC updated. */
export function setMaxTimestampAndLogAppendTime(buf: Buffer, off: number, logAppendTime: number): void {
  setMaxTimestamp(buf, off, LOG_APPEND_TIME, logAppendTime);
}

// ---------------------------------------------------------------------------
// Records

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** Record attributes byte (unused by Kafka, normally 0). */
  attributes: number;
  offsetDelta: number;
  timestampDelta: number;
  /** baseOffset + offsetDelta */
  offset: number;
  /** baseTimestamp + timestampDelta, or maxTimestamp for LogAppendTime batches (as Kafka reports it). */
  timestamp: number;
  /** Views into the batch (or into the decompressed section); copy to retain beyond the buffer's life. */
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export type DecompressFn = (codec: number, data: Buffer) => Buffer;

function invalid(msg: string, cause?: unknown): RecordsError {
  return new RecordsError('INVALID_RECORD', msg, cause);
}

/**
 * Lazily decodes the records of one batch. `batch` is a RecordBatchView or a
 * Buffer that starts with the batch. For compressed batches the records
 * section is decompressed once (via decompressFn, default compression.ts's
 * decompress) before the first record is yielded.
 *
 * Does NOT check the CRC (call validateBatch first on untrusted bytes).
 * Throws RecordsError:
 *   UNSUPPORTED_FOR_MESSAGE_FORMAT  magic != 2
 *   CORRUPT_MESSAGE                 batch shorter than its header says; undecodable compressed data
 *   UNSUPPORTED_COMPRESSION_TYPE    codec 5-7
 *   INVALID_RECORD                  malformed record, wrong count, bytes left over (Kafka's InvalidRecordException cases)
 * Keys/values/header values are subarrays (no copy); header keys are decoded UTF-8.
 * Like Kafka, any negative key/value length means null; a negative header key
 * length or header count is INVALID_RECORD.
 */
export function* records(batch: Buffer | RecordBatchView, decompressFn: DecompressFn = defaultDecompress): Generator<KafkaRecord, void, undefined> {
  const view = batch instanceof RecordBatchView ? batch : new RecordBatchView(batch, 0);
  const buf = view.buf;
  const off = view.offset;
  if (buf.length - off < RECORD_BATCH_OVERHEAD) throw new RecordsError('CORRUPT_MESSAGE', 'record batch shorter than its header');
  const magic = view.magic;
  if (magic !== MAGIC_V2) throw new RecordsError('UNSUPPORTED_FOR_MESSAGE_FORMAT', `record batch magic ${magic} is not supported`);
  const batchLength = view.batchLength;
  if (batchLength < MIN_BATCH_LENGTH || buf.length - off < LOG_OVERHEAD + batchLength) {
    throw new RecordsError('CORRUPT_MESSAGE', `record batch length ${batchLength} does not fit the ${buf.length - off} available bytes`);
  }
  const count = view.recordsCount;
  if (count < 0) throw invalid(`Found invalid record count ${count} in magic v2 batch`);
  const codec = view.compression;
  const baseOffset = view.baseOffset;
  const baseTimestamp = view.baseTimestamp;
  const logAppendTime = view.timestampType === LOG_APPEND_TIME ? view.maxTimestamp : null;

  let data: Buffer;
  let pos: number;
  let end: number;
  if (codec === 0) {
    data = buf;
    pos = off + RECORDS_OFFSET;
    end = off + LOG_OVERHEAD + batchLength;
  } else {
    if (!isSupportedCodec(codec)) throw new RecordsError('UNSUPPORTED_COMPRESSION_TYPE', `Unknown compression codec id ${codec}`);
    const compressed = buf.subarray(off + RECORDS_OFFSET, off + LOG_OVERHEAD + batchLength);
    try {
      data = decompressFn(codec, compressed);
    } catch (e) {
      if (e instanceof RecordsError) throw e;
      const kind = e instanceof CompressionError && e.kind === 'UNSUPPORTED_CODEC' ? 'UNSUPPORTED_COMPRESSION_TYPE' : 'CORRUPT_MESSAGE';
      throw new RecordsError(kind, `cannot decompress record batch: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    pos = 0;
    end = data.length;
  }

  const cur = new VarintCursor(data, pos, end);
  for (let i = 0; i < count; i++) {
    let rec: KafkaRecord;
    try {
      rec = readRecord(cur, end, baseOffset, baseTimestamp, logAppendTime);
    } catch (e) {
      if (e instanceof RecordsError) throw e;
      throw invalid(`Found invalid record structure in record ${i} of ${count}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    yield rec;
  }
  if (cur.pos !== end) throw invalid(`Incorrect declared batch size, ${end - cur.pos} bytes remaining after ${count} records`);
}

function readRecord(cur: VarintCursor, end: number, baseOffset: number, baseTimestamp: number, logAppendTime: number | null): KafkaRecord {
  const length = cur.readVarint();
  const start = cur.pos;
  if (length < 0 || length > end - start) throw invalid(`Invalid record size ${length} (${end - start} bytes left)`);
  const recEnd = start + length;
  cur.end = recEnd; // all reads of this record stay inside it
  const buf = cur.buf;
  if (cur.pos >= recEnd) throw invalid('record too short');
  const attributes = buf[cur.pos++]!;
  const timestampDelta = cur.readVarlong();
  const offsetDelta = cur.readVarint();
  const key = readBytes(cur);
  const value = readBytes(cur);
  const headersCount = cur.readVarint();
  if (headersCount < 0) throw invalid(`Found invalid number of record headers ${headersCount}`);
  if (headersCount > cur.end - cur.pos) throw invalid(`record claims ${headersCount} headers in ${cur.end - cur.pos} bytes`);
  const headers: RecordHeader[] = new Array(headersCount);
  for (let h = 0; h < headersCount; h++) {
    const keyLen = cur.readVarint();
    if (keyLen < 0) throw invalid(`Invalid negative header key size ${keyLen}`);
    if (keyLen > cur.end - cur.pos) throw invalid('header key runs past the record');
    const hkey = buf.toString('utf8', cur.pos, cur.pos + keyLen);
    cur.pos += keyLen;
    headers[h] = { key: hkey, value: readBytes(cur) };
  }
  if (cur.pos !== recEnd) throw invalid(`Invalid record size: expected to read ${length} bytes in record payload, but instead read ${cur.pos - start}`);
  cur.end = end;
  return {
    attributes,
    offsetDelta,
    timestampDelta,
    offset: baseOffset + offsetDelta,
    timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
    key,
    value,
    headers,
  };
}

function readBytes(cur: VarintCursor): Buffer | null {
  const n = cur.readVarint();
  if (n < 0) return null;
  if (n > cur.end - cur.pos) throw invalid(`field length ${n} runs past the record`);
  const b = cur.buf.subarray(cur.pos, cur.pos + n);
  cur.pos += n;
  return b;
}

// ---------------------------------------------------------------------------
// Builder

export type BytesInput = Buffer | Uint8Array | string | null | undefined;

export interface HeaderInput {
  key: string;
  value?: BytesInput;
}

export interface RecordInput {
  key?: BytesInput;
  value?: BytesInput;
  headers?: HeaderInput[];
  /** Default: the batch's `now` (Date.now() at build time). */
  timestamp?: number;
  /** Default: the record's index. */
  offsetDelta?: number;
}

export interface BuildRecordBatchOptions {
  baseOffset?: number | bigint;
  records: RecordInput[];
  /** Codec id 0-4 (default 0). */
  compression?: number;
  producerId?: number | bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampType;
  /** maxTimestamp for LogAppendTime batches (default `now`). */
  logAppendTime?: number;
  /** Sets the delete-horizon flag; baseTimestamp := deleteHorizonMs and deltas are relative to it. */
  deleteHorizonMs?: number;
  /** Default: last record's offsetDelta (0 for an empty batch). */
  lastOffsetDelta?: number;
  /** Timestamp used for records without one (default Date.now()). */
  now?: number;
  /** Compressor (default compression.ts compress). */
  compressFn?: (codec: number, data: Buffer) => Buffer;
}

function toBytes(v: BytesInput): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function sizeOfBytes(b: Buffer | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

function writeBytesField(out: Buffer, off: number, b: Buffer | null): number {
  if (b === null) return writeVarint(out, off, -1);
  off = writeVarint(out, off, b.length);
  b.copy(out, off);
  return off + b.length;
}

/**
 * Builds a magic-2 record batch with a correct CRC-32C. Uncompressed: sizes
 * are computed first and the batch is allocated once. Compressed: the
 * records section is written once at its exact size, compressed, then the
 * batch is allocated once at 61 + compressed size.
 * Defaults: baseOffset 0, producerId/epoch/baseSequence -1, leader epoch -1,
 * CreateTime. baseTimestamp = first record's timestamp, maxTimestamp = max
 * record timestamp (or logAppendTime); both -1 for an empty batch.
 */
export function buildRecordBatch(opts: BuildRecordBatchOptions): Buffer {
  const codec = opts.compression ?? 0;
  if (!isSupportedCodec(codec)) throw new RangeError(`Unknown compression codec id ${codec}`);
  const now = opts.now ?? Date.now();
  const input = opts.records;
  const n = input.length;

  const keys: (Buffer | null)[] = new Array(n);
  const values: (Buffer | null)[] = new Array(n);
  const headers: { key: Buffer; value: Buffer | null }[][] = new Array(n);
  const timestamps: number[] = new Array(n);
  const offsetDeltas: number[] = new Array(n);
  const bodySizes: number[] = new Array(n);

  let maxTs = NO_TIMESTAMP;
  for (let i = 0; i < n; i++) {
    const r = input[i]!;
    const ts = r.timestamp ?? now;
    timestamps[i] = ts;
    if (i === 0 || ts > maxTs) maxTs = ts;
    offsetDeltas[i] = r.offsetDelta ?? i;
  }
  const baseTimestamp = opts.deleteHorizonMs ?? (n > 0 ? timestamps[0]! : NO_TIMESTAMP);

  let recordsBytes = 0;
  for (let i = 0; i < n; i++) {
    const r = input[i]!;
    const key = toBytes(r.key);
    const value = toBytes(r.value);
    keys[i] = key;
    values[i] = value;
    const hs = (r.headers ?? []).map((h) => ({ key: Buffer.from(h.key, 'utf8'), value: toBytes(h.value) }));
    headers[i] = hs;
    let body = 1 + sizeOfVarlong(timestamps[i]! - baseTimestamp) + sizeOfVarint(offsetDeltas[i]!) + sizeOfBytes(key) + sizeOfBytes(value) + sizeOfVarint(hs.length);
    for (const h of hs) body += sizeOfBytes(h.key) + sizeOfBytes(h.value);
    bodySizes[i] = body;
    recordsBytes += sizeOfVarint(body) + body;
  }

  const writeRecords = (out: Buffer, off: number): number => {
    for (let i = 0; i < n; i++) {
      off = writeVarint(out, off, bodySizes[i]!);
      out[off++] = 0;
      off = writeVarlong(out, off, timestamps[i]! - baseTimestamp);
      off = writeVarint(out, off, offsetDeltas[i]!);
      off = writeBytesField(out, off, keys[i]!);
      off = writeBytesField(out, off, values[i]!);
      const hs = headers[i]!;
      off = writeVarint(out, off, hs.length);
      for (const h of hs) {
        off = writeBytesField(out, off, h.key);
        off = writeBytesField(out, off, h.value);
      }
    }
    return off;
  };

  let out: Buffer;
  if (codec === 0) {
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + recordsBytes);
    const endOff = writeRecords(out, RECORDS_OFFSET);
    if (endOff !== out.length) throw new Error(`internal: record size mismatch ${endOff} != ${out.length}`);
  } else {
    const raw = Buffer.allocUnsafe(recordsBytes);
    const endOff = writeRecords(raw, 0);
    if (endOff !== raw.length) throw new Error(`internal: record size mismatch ${endOff} != ${raw.length}`);
    const compressed = (opts.compressFn ?? defaultCompress)(codec, raw);
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length);
    compressed.copy(out, RECORDS_OFFSET);
  }

  const timestampType = opts.timestampType ?? CREATE_TIME;
  let attributes = codec;
  if (timestampType === LOG_APPEND_TIME) attributes |= TIMESTAMP_TYPE_MASK;
  if (opts.isTransactional) attributes |= TRANSACTIONAL_MASK;
  if (opts.isControl) attributes |= CONTROL_MASK;
  if (opts.deleteHorizonMs !== undefined) attributes |= DELETE_HORIZON_MASK;
  const maxTimestamp = timestampType === LOG_APPEND_TIME ? (opts.logAppendTime ?? now) : maxTs;

  writeInt64(out, BASE_OFFSET_OFFSET, opts.baseOffset ?? 0);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  out.writeInt8(MAGIC_V2, MAGIC_OFFSET);
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.writeInt32BE(opts.lastOffsetDelta ?? (n > 0 ? offsetDeltas[n - 1]! : 0), LAST_OFFSET_DELTA_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64(out, PRODUCER_ID_OFFSET, opts.producerId ?? -1);
  out.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(n, RECORDS_COUNT_OFFSET);
  recomputeCrc(out, 0);
  return out;
}

// ---------------------------------------------------------------------------
// Control records (transaction markers)

export const CONTROL_TYPE_ABORT = 0;
export const CONTROL_TYPE_COMMIT = 1;

/** Control record key: int16 version 0 + int16 type. */
export function controlRecordKey(type: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt16BE(0, 0);
  b.writeInt16BE(type, 2);
  return b;
}

/** Reads a control record key; null if it is not 4+ bytes. */
export function parseControlRecordKey(key: Buffer | null): { version: number; type: number } | null {
  if (key === null || key.length < 4) return null;
  return { version: key.readInt16BE(0), type: key.readInt16BE(2) };
}

/**
 * A transaction marker batch (COMMIT or ABORT) as the coordinator writes it:
 * control + transactional, one record, key = (0, type), value = int16 version 0
 * + int32 coordinatorEpoch, baseSequence -1.
 */
export function buildEndTxnMarker(opts: {
  baseOffset?: number | bigint;
  producerId: number | bigint;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestamp?: number;
  partitionLeaderEpoch?: number;
}): Buffer {
  const value = Buffer.allocUnsafe(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(opts.coordinatorEpoch, 2);
  return buildRecordBatch({
    baseOffset: opts.baseOffset ?? 0,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    records: [
      {
        key: controlRecordKey(opts.commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT),
        value,
        ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
      },
    ],
  });
}
