// Test helpers for transactional logs: transactional batches, commit/abort markers, raw batch listing and
// a read_committed reader modelled on Kafka's consumer (aborted-transaction list + abort markers).
import { crc32c } from '@node-rs/crc32';
import type { PartitionLog } from '../partition-log.ts';
import { buildBatch, type ParsedRecord, parseRecords } from './records.ts';

function stamp(b: Buffer, pid: bigint, epoch: number, seq: number, attrs: number): Buffer {
  b.writeInt16BE(attrs, 21);
  b.writeBigInt64BE(pid, 43);
  b.writeInt16BE(epoch, 51);
  b.writeInt32BE(seq, 53);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

/** A transactional data batch of `pid`. */
export function txnBatch(pid: bigint, seq: number, recs: Array<{ key: string; value: string | null }>, ts: number): Buffer {
  return stamp(buildBatch(recs.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })), ts), pid, 0, seq, 0x10);
}

/** A control batch with one marker: type 0 abort, 1 commit. */
export function marker(pid: bigint, type: 0 | 1, ts: number): Buffer {
  return stamp(buildBatch([{ key: Buffer.from([0, 0, 0, type]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], ts), pid, 0, -1, 0x30);
}

export interface RawBatch {
  base: number;
  last: number;
  attrs: number;
  pid: bigint;
  count: number;
  baseTimestamp: number;
  control: boolean;
  horizon: boolean;
  /** Data records (none for markers). */
  records: ParsedRecord[];
  /** Marker type: 0 abort, 1 commit, -1 none (data, or an emptied control batch). */
  markerType: number;
}

/** Every stored batch from the log start to the log end. */
export async function rawBatches(log: PartitionLog): Promise<RawBatch[]> {
  const out: RawBatch[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const r = await log.read(next, 1 << 20, { toLogEnd: true });
    if (r.error) throw new Error(r.message);
    if (r.batches.length === 0) break;
    for (const buf of r.batches) {
      for (let p = 0; p < buf.length;) {
        const b = buf.subarray(p, p + 12 + buf.readInt32BE(p + 8));
        const attrs = b.readInt16BE(21);
        const base = Number(b.readBigInt64BE(0));
        const control = (attrs & 0x20) !== 0;
        const recs = parseRecords(b);
        out.push({
          base, last: base + b.readInt32BE(23), attrs, pid: b.readBigInt64BE(43), count: b.readInt32BE(57),
          baseTimestamp: Number(b.readBigInt64BE(27)), control, horizon: (attrs & 0x40) !== 0,
          records: control ? [] : recs,
          markerType: control && recs.length > 0 ? recs[0].key!.charCodeAt(3) : -1,
        });
        next = base + b.readInt32BE(23) + 1;
        p += b.length;
      }
    }
  }
  return out;
}

/** What a read_committed consumer sees: the latest value per key (Kafka's consumer rules over the aborted list). */
export async function readCommitted(log: PartitionLog): Promise<Map<string, string | null>> {
  const aborted = log.abortedTransactions(log.logStartOffset, log.logEndOffset).sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedPids = new Set<bigint>();
  const seen = new Map<string, string | null>();
  let i = 0;
  for (const b of await rawBatches(log)) {
    if (b.pid >= 0n) {
      while (i < aborted.length && aborted[i].firstOffset <= b.last) abortedPids.add(aborted[i++].producerId);
    }
    if (b.control) {
      if (b.markerType === 0) abortedPids.delete(b.pid);
      continue;
    }
    if (b.attrs & 0x10 && abortedPids.has(b.pid)) continue;
    for (const r of b.records) if (r.key !== null) seen.set(r.key, r.value);
  }
  return seen;
}
