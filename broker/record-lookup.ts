// Exact record offsets for ListOffsets. Storage indexes batches (it never decodes records); Kafka answers
// with the exact record, so the broker reads the one candidate batch and walks its records.
import { LOG_APPEND_TIME, RecordBatchView, records } from '../protocol/records.ts';
import type { PartitionLog } from '../storage/index.ts';

export interface OffsetAndTimestamp {
  offset: number;
  timestamp: number;
}

/** The batch stored at or containing `offset`, or null. */
async function batchAt(log: PartitionLog, offset: number): Promise<RecordBatchView | null> {
  const res = await log.read(offset, 1, { minOneBatch: true });
  const buf = res.error === null ? res.batches[0] : undefined;
  return buf && buf.length >= 61 ? new RecordBatchView(buf, 0) : null;
}

/** The first record at or after the log start offset whose timestamp is ≥ ts; null when none. */
export async function offsetForTimestamp(log: PartitionLog, ts: number): Promise<OffsetAndTimestamp | null> {
  const candidate = await log.offsetForTimestamp(ts);
  if (!candidate) return null;
  const batch = await batchAt(log, candidate.offset);
  if (!batch) return candidate;
  const lso = log.logStartOffset;
  if (batch.timestampType === LOG_APPEND_TIME) {
    return { offset: Math.max(lso, batch.baseOffset), timestamp: batch.maxTimestamp };
  }
  for (const r of records(batch)) {
    if (r.offset >= lso && r.timestamp >= ts) return { offset: r.offset, timestamp: r.timestamp };
  }
  return candidate;
}

/** The record with the largest timestamp (the first one carrying it), as Kafka's MAX_TIMESTAMP (-3). */
export async function maxTimestampRecord(log: PartitionLog): Promise<OffsetAndTimestamp | null> {
  const shallow = log.maxTimestamp();
  if (!shallow) return null;
  const batch = await batchAt(log, shallow.offset);
  if (!batch || batch.timestampType === LOG_APPEND_TIME) return shallow;
  for (const r of records(batch)) {
    if (r.timestamp === shallow.timestamp) return { offset: r.offset, timestamp: r.timestamp };
  }
  return shallow;
}
