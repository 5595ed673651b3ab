// KRaft control records as Kafka writes them (ControlRecordUtils / MemoryRecords.withLeaderChangeMessage,
// RecordsSnapshotWriter): a control batch whose record key is (int16 version 0, int16 type) and whose value is
// the generated message (its first field is its own int16 version).

import { buildRecordBatch, controlRecordKey, parseControlRecordKey, records as batchRecords } from '../../protocol/records.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { decodeLeaderChangeMessage, encodeLeaderChangeMessage, makeLeaderChangeMessage, makeVoter, type LeaderChangeMessage } from '../../protocol/generated/leader-change-message.ts';
import { encodeSnapshotHeaderRecord, makeSnapshotHeaderRecord } from '../../protocol/generated/snapshot-header-record.ts';
import { encodeSnapshotFooterRecord, makeSnapshotFooterRecord } from '../../protocol/generated/snapshot-footer-record.ts';

/** Kafka's ControlRecordType ids. */
export const CONTROL_LEADER_CHANGE = 2;
export const CONTROL_SNAPSHOT_HEADER = 3;
export const CONTROL_SNAPSHOT_FOOTER = 4;
export const CONTROL_KRAFT_VERSION = 5;
export const CONTROL_KRAFT_VOTERS = 6;

function encode(fn: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  fn(w);
  return w.finishBuffer();
}

/** The LeaderChange control batch a new leader writes at the start of its epoch. */
export function leaderChangeBatch(opts: { leaderId: number; epoch: number; voters: number[]; grantingVoters: number[]; now: number; baseOffset: number }): Buffer {
  const msg = makeLeaderChangeMessage({
    version: 0,
    leaderId: opts.leaderId,
    voters: opts.voters.map((voterId) => makeVoter({ voterId })),
    grantingVoters: opts.grantingVoters.map((voterId) => makeVoter({ voterId })),
  });
  return buildRecordBatch({
    baseOffset: opts.baseOffset,
    partitionLeaderEpoch: opts.epoch,
    isControl: true,
    now: opts.now,
    records: [{ key: controlRecordKey(CONTROL_LEADER_CHANGE), value: encode((w) => encodeLeaderChangeMessage(w, 0, msg)) }],
  });
}

export function snapshotHeaderBatch(now: number, lastContainedLogTimestamp: number): Buffer {
  const m = makeSnapshotHeaderRecord({ version: 0, lastContainedLogTimestamp: BigInt(lastContainedLogTimestamp) });
  return buildRecordBatch({ isControl: true, now, records: [{ key: controlRecordKey(CONTROL_SNAPSHOT_HEADER), value: encode((w) => encodeSnapshotHeaderRecord(w, 0, m)) }] });
}

export function snapshotFooterBatch(now: number, baseOffset: number): Buffer {
  const m = makeSnapshotFooterRecord({ version: 0 });
  return buildRecordBatch({ baseOffset, isControl: true, now, records: [{ key: controlRecordKey(CONTROL_SNAPSHOT_FOOTER), value: encode((w) => encodeSnapshotFooterRecord(w, 0, m)) }] });
}

/** Decodes a LeaderChange control batch (null if the batch is another control type). */
export function readLeaderChange(batch: Buffer): LeaderChangeMessage | null {
  for (const r of batchRecords(batch)) {
    const k = parseControlRecordKey(r.key);
    if (k?.type !== CONTROL_LEADER_CHANGE || r.value === null) return null;
    return decodeLeaderChangeMessage(new Reader(r.value), 0);
  }
  return null;
}
