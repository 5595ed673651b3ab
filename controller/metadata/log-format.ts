// `__cluster_metadata` on disk, as Kafka writes it: ordinary v2 record batches (uncompressed, no producer),
// each record with a null key and a MetadataRecordSerde value; KRaft control records (LeaderChange,
// SnapshotHeader, SnapshotFooter) in control batches whose record key is (int16 0, int16 type) and whose
// value is the message at version 0 without a version prefix (ControlRecordUtils). A batch's partition
// leader epoch is the Raft epoch. A snapshot (`<end offset, 20 digits>-<epoch, 10 digits>.checkpoint`) is
// a SnapshotHeaderRecord control batch, the image's records in batches, a SnapshotFooterRecord control
// batch; its offsets start at 0 and every batch carries the snapshot's epoch (RecordsSnapshotWriter).

import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { type MetadataRecord, readMetadataRecord, writeMetadataRecord } from '../../protocol/generated/metadata/index.ts';
import { decodeLeaderChangeMessage, encodeLeaderChangeMessage, type LeaderChangeMessage, makeLeaderChangeMessage } from '../../protocol/generated/leader-change-message.ts';
import { decodeSnapshotFooterRecord, encodeSnapshotFooterRecord, makeSnapshotFooterRecord } from '../../protocol/generated/snapshot-footer-record.ts';
import { decodeSnapshotHeaderRecord, encodeSnapshotHeaderRecord, makeSnapshotHeaderRecord, type SnapshotHeaderRecord } from '../../protocol/generated/snapshot-header-record.ts';
import { buildRecordBatch, controlRecordKey, parseControlRecordKey, RecordBatchView, records, scanRecordSet, validateBatch } from '../../protocol/records.ts';

export const METADATA_TOPIC = '__cluster_metadata';
export const METADATA_PARTITION_DIR = `${METADATA_TOPIC}-0`;

/** ControlRecordType ids used by KRaft. */
export const ControlRecordType = { LEADER_CHANGE: 2, SNAPSHOT_HEADER: 3, SNAPSHOT_FOOTER: 4, KRAFT_VERSION: 5, KRAFT_VOTERS: 6 } as const;

/** KafkaRaftClient's default cap on one batch (controller.quorum... MAX_BATCH_SIZE_BYTES). */
export const MAX_RECORDS_PER_BATCH = 10_000;

export class MetadataLogError extends Error {
  override name = 'MetadataLogError';
}

export function snapshotFileName(endOffset: bigint | number, epoch: number): string {
  return `${String(endOffset).padStart(20, '0')}-${String(epoch).padStart(10, '0')}.checkpoint`;
}

/** Parses a snapshot file name; null when it is not one. */
export function parseSnapshotFileName(name: string): { endOffset: bigint; epoch: number } | null {
  const m = /^(\d{20})-(\d{10})\.checkpoint$/.exec(name);
  return m ? { endOffset: BigInt(m[1]!), epoch: Number(m[2]!) } : null;
}

export interface BatchOptions {
  baseOffset: bigint | number;
  /** Raft epoch (the batch's partition leader epoch). */
  epoch: number;
  /** Append time in ms (default Date.now()). */
  timestamp?: number;
}

/** One data batch of metadata records. */
export function metadataBatch(recs: readonly MetadataRecord[], opts: BatchOptions): Buffer {
  if (recs.length === 0) throw new RangeError('a metadata batch needs at least one record');
  const timestamp = opts.timestamp ?? Date.now();
  return buildRecordBatch({
    baseOffset: opts.baseOffset,
    partitionLeaderEpoch: opts.epoch,
    now: timestamp,
    records: recs.map((r) => ({ key: null, value: writeMetadataRecord(r), timestamp })),
  });
}

function controlBatch(type: number, value: Buffer, opts: BatchOptions): Buffer {
  const timestamp = opts.timestamp ?? Date.now();
  return buildRecordBatch({
    baseOffset: opts.baseOffset,
    partitionLeaderEpoch: opts.epoch,
    isControl: true,
    now: timestamp,
    records: [{ key: controlRecordKey(type), value, timestamp }],
  });
}

function encoded(enc: (w: Writer) => void): Buffer {
  const w = new Writer(32);
  enc(w);
  return w.finishBuffer();
}

/** The control batch a new Raft leader appends (LeaderChangeMessage v0). */
export function leaderChangeBatch(msg: Partial<LeaderChangeMessage>, opts: BatchOptions): Buffer {
  return controlBatch(ControlRecordType.LEADER_CHANGE, encoded((w) => encodeLeaderChangeMessage(w, 0, makeLeaderChangeMessage(msg))), opts);
}

export type MetadataLogEntry =
  | { readonly kind: 'record'; readonly offset: bigint; readonly epoch: number; readonly timestamp: number; readonly record: MetadataRecord }
  | { readonly kind: 'leader-change'; readonly offset: bigint; readonly epoch: number; readonly message: LeaderChangeMessage }
  | { readonly kind: 'snapshot-header'; readonly offset: bigint; readonly epoch: number; readonly message: SnapshotHeaderRecord }
  | { readonly kind: 'snapshot-footer'; readonly offset: bigint; readonly epoch: number }
  | { readonly kind: 'control'; readonly offset: bigint; readonly epoch: number; readonly type: number; readonly value: Buffer | null };

/**
 * Decodes a sequence of metadata batches (a segment's bytes or a snapshot). Every batch must be complete
 * and pass its CRC; a torn or corrupt tail, or a record that does not decode, is a MetadataLogError.
 */
export function* readMetadataLog(buf: Buffer): Generator<MetadataLogEntry> {
  const scan = scanRecordSet(buf);
  if (scan.truncated || scan.corrupt) throw new MetadataLogError(`metadata log: ${scan.corrupt ? 'corrupt' : 'truncated'} batch at byte ${scan.end}`);
  for (const span of scan.batches) {
    const err = validateBatch(buf, span.offset);
    if (err) throw new MetadataLogError(`metadata log: batch at byte ${span.offset}: ${err}`);
    const view = new RecordBatchView(buf, span.offset);
    const epoch = view.partitionLeaderEpoch;
    for (const r of records(view)) {
      const offset = BigInt(r.offset);
      if (!view.isControl) {
        if (r.value === null) throw new MetadataLogError(`metadata log: offset ${offset}: null value`);
        let record: MetadataRecord;
        try {
          record = readMetadataRecord(r.value);
        } catch (e) {
          throw new MetadataLogError(`metadata log: offset ${offset}: ${(e as Error).message}`);
        }
        yield { kind: 'record', offset, epoch, timestamp: r.timestamp, record };
        continue;
      }
      const key = parseControlRecordKey(r.key);
      if (!key) throw new MetadataLogError(`metadata log: offset ${offset}: control record without a key`);
      const value = r.value ?? Buffer.alloc(0);
      if (key.type === ControlRecordType.LEADER_CHANGE) yield { kind: 'leader-change', offset, epoch, message: decodeLeaderChangeMessage(new Reader(value), 0) };
      else if (key.type === ControlRecordType.SNAPSHOT_HEADER) yield { kind: 'snapshot-header', offset, epoch, message: decodeSnapshotHeaderRecord(new Reader(value), 0) };
      else if (key.type === ControlRecordType.SNAPSHOT_FOOTER) {
        decodeSnapshotFooterRecord(new Reader(value), 0);
        yield { kind: 'snapshot-footer', offset, epoch };
      } else yield { kind: 'control', offset, epoch, type: key.type, value: r.value };
    }
  }
}

export interface SnapshotOptions {
  /** Raft epoch of the snapshot id (every batch carries it). */
  epoch: number;
  /** Timestamp of the last record the snapshot contains (SnapshotHeaderRecord.LastContainedLogTimestamp). */
  lastContainedLogTimestamp: number;
  /** Append time of the batches (default Date.now()). */
  timestamp?: number;
  maxRecordsPerBatch?: number;
}

/** A snapshot file's bytes: header control batch, the records, footer control batch. */
export function writeSnapshot(recs: readonly MetadataRecord[], opts: SnapshotOptions): Buffer {
  const timestamp = opts.timestamp ?? Date.now();
  const per = opts.maxRecordsPerBatch ?? MAX_RECORDS_PER_BATCH;
  const batches: Buffer[] = [];
  let offset = 0n;
  const header = makeSnapshotHeaderRecord({ version: 0, lastContainedLogTimestamp: BigInt(opts.lastContainedLogTimestamp) });
  batches.push(controlBatch(ControlRecordType.SNAPSHOT_HEADER, encoded((w) => encodeSnapshotHeaderRecord(w, 0, header)), { baseOffset: offset, epoch: opts.epoch, timestamp }));
  offset++;
  for (let i = 0; i < recs.length; i += per) {
    const chunk = recs.slice(i, i + per);
    batches.push(metadataBatch(chunk, { baseOffset: offset, epoch: opts.epoch, timestamp }));
    offset += BigInt(chunk.length);
  }
  const footer = makeSnapshotFooterRecord({ version: 0 });
  batches.push(controlBatch(ControlRecordType.SNAPSHOT_FOOTER, encoded((w) => encodeSnapshotFooterRecord(w, 0, footer)), { baseOffset: offset, epoch: opts.epoch, timestamp }));
  return Buffer.concat(batches);
}

/** Reads a snapshot: it must start with a SnapshotHeaderRecord and end with a SnapshotFooterRecord. */
export function readSnapshot(buf: Buffer): { header: SnapshotHeaderRecord; records: MetadataRecord[] } {
  const entries = [...readMetadataLog(buf)];
  const first = entries[0];
  const last = entries.at(-1);
  if (first?.kind !== 'snapshot-header') throw new MetadataLogError('snapshot does not start with a SnapshotHeaderRecord');
  if (last?.kind !== 'snapshot-footer' || entries.length < 2) throw new MetadataLogError('snapshot does not end with a SnapshotFooterRecord');
  const out: MetadataRecord[] = [];
  for (const e of entries.slice(1, -1)) {
    if (e.kind === 'record') out.push(e.record);
    else if (e.kind !== 'control') throw new MetadataLogError(`snapshot: unexpected ${e.kind} at offset ${e.offset}`);
  }
  return { header: first.message, records: out };
}
