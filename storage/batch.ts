// The minimal view of a record batch v2 header that storage needs (storage imports nothing else of ours).
// Offsets within a batch: 0 BaseOffset i64, 8 BatchLength i32, 12 PartitionLeaderEpoch i32, 16 Magic i8,
// 17 CRC u32 (CRC-32C over [21, end)), 21 Attributes i16, 23 LastOffsetDelta i32, 27 BaseTimestamp i64,
// 35 MaxTimestamp i64, 43 ProducerId i64, 51 ProducerEpoch i16, 53 BaseSequence i32, 57 RecordsCount i32.
import { crc32c } from '@node-rs/crc32';
import { StorageError } from './types.ts';

export const LOG_OVERHEAD = 12;
export const HEADER_SIZE = 61;
/** Bytes of a header storage reads when it only needs offsets and sizes. */
export const SHORT_HEADER = 27;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const MAX_TIMESTAMP_OFFSET = 35;
const TIMESTAMP_TYPE_BIT = 0x08;
const TWO_32 = 2 ** 32;

export function readInt64(buf: Uint8Array & Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * TWO_32, pos + 4);
}

export const baseOffsetAt = (buf: Buffer, pos: number): number => readInt64(buf, pos);
export const batchSizeAt = (buf: Buffer, pos: number): number => LOG_OVERHEAD + buf.readInt32BE(pos + 8);
export const lastOffsetAt = (buf: Buffer, pos: number): number => readInt64(buf, pos) + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
export const maxTimestampAt = (buf: Buffer, pos: number): number => readInt64(buf, pos + MAX_TIMESTAMP_OFFSET);

export interface AppendInfo {
  /** Number of offsets the batches occupy (sum of lastOffsetDelta + 1). */
  offsetCount: number;
  batchCount: number;
}

/**
 * Checks the framing of a buffer of concatenated batches (the caller already validated CRCs; storage
 * re-checks lengths and magic because it trusts them to find batch boundaries on disk).
 */
export function checkBatches(buf: Buffer, maxMessageBytes: number): AppendInfo {
  let pos = 0;
  let offsetCount = 0;
  let batchCount = 0;
  if (buf.length === 0) throw new StorageError('CORRUPT_MESSAGE', 'empty record set');
  while (pos < buf.length) {
    if (buf.length - pos < HEADER_SIZE) throw new StorageError('CORRUPT_MESSAGE', `truncated batch header at byte ${pos}`);
    const len = buf.readInt32BE(pos + 8);
    if (len < HEADER_SIZE - LOG_OVERHEAD) throw new StorageError('CORRUPT_MESSAGE', `batch length ${len} too small at byte ${pos}`);
    const size = LOG_OVERHEAD + len;
    if (size > buf.length - pos) throw new StorageError('CORRUPT_MESSAGE', `batch at byte ${pos} claims ${size} bytes, ${buf.length - pos} present`);
    if (buf[pos + MAGIC_OFFSET] !== 2) throw new StorageError('CORRUPT_MESSAGE', `unsupported magic ${buf[pos + MAGIC_OFFSET]} at byte ${pos}`);
    if (size > maxMessageBytes) throw new StorageError('MESSAGE_TOO_LARGE', `batch of ${size} bytes exceeds max.message.bytes ${maxMessageBytes}`);
    const delta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    if (delta < 0) throw new StorageError('CORRUPT_MESSAGE', `negative lastOffsetDelta at byte ${pos}`);
    offsetCount += delta + 1;
    batchCount++;
    pos += size;
  }
  return { offsetCount, batchCount };
}

/**
 * Assigns offsets in place: patches BaseOffset (and PartitionLeaderEpoch when given) of each batch; both
 * lie outside the CRC. With LogAppendTime the timestamp type bit and MaxTimestamp change, so the CRC is
 * recomputed (as Kafka does). Returns the next offset.
 */
export function assignOffsets(buf: Buffer, firstOffset: number, leaderEpoch: number | undefined, logAppendTime: number | undefined): number {
  let pos = 0;
  let next = firstOffset;
  while (pos < buf.length) {
    const size = batchSizeAt(buf, pos);
    writeInt64(buf, pos, next);
    if (leaderEpoch !== undefined) buf.writeInt32BE(leaderEpoch, pos + 12);
    if (logAppendTime !== undefined) {
      buf.writeInt16BE(buf.readInt16BE(pos + ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_BIT, pos + ATTRIBUTES_OFFSET);
      writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, logAppendTime);
      buf.writeUInt32BE(crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size)), pos + CRC_OFFSET);
    }
    next += buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += size;
  }
  return next;
}

/** Why a stored batch at `pos` is not valid, or null. `avail` = bytes present from pos. */
export function storedBatchProblem(buf: Buffer, pos: number, avail: number, expectedMinOffset: number, checkCrc: boolean): string | null {
  if (avail < HEADER_SIZE) return `truncated header (${avail} bytes)`;
  const len = buf.readInt32BE(pos + 8);
  if (len < HEADER_SIZE - LOG_OVERHEAD) return `invalid batch length ${len}`;
  if (buf[pos + MAGIC_OFFSET] !== 2) return `invalid magic ${buf[pos + MAGIC_OFFSET]}`;
  if (LOG_OVERHEAD + len > avail) return `partial batch (${avail} of ${LOG_OVERHEAD + len} bytes)`;
  const base = baseOffsetAt(buf, pos);
  if (base < expectedMinOffset) return `offset ${base} below expected ${expectedMinOffset}`;
  if (buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) < 0) return 'negative lastOffsetDelta';
  if (checkCrc && crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + LOG_OVERHEAD + len)) !== buf.readUInt32BE(pos + CRC_OFFSET)) return 'CRC mismatch';
  return null;
}
