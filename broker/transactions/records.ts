// The records the transaction coordinator keeps in `__transaction_state`, in Kafka's formats
// (transaction-coordinator's TransactionLogKey / TransactionLogValue) so Kafka's tooling can read them.
// Key: int16 version 0 + string transactional id. Value: int16 version + body; we write v0 (what Kafka
// writes for transaction version 1 clients) and read v0 and v1 (flexible, with tagged fields). A null
// value is a tombstone (the transactional id expired).
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export type TxnState = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort' | 'Dead' | 'PrepareEpochFence';

/** Kafka's TransactionState ids (the int8 in the log) in id order. */
export const TXN_STATES: readonly TxnState[] = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'];

export interface TransactionLogValue {
  producerId: bigint;
  previousProducerId: bigint;
  nextProducerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  state: TxnState;
  /** topic → partitions. */
  partitions: Array<{ topic: string; partitionIds: number[] }>;
  lastUpdateTimestamp: number;
  startTimestamp: number;
}

export function encodeTransactionLogKey(transactionalId: string): Buffer {
  const w = new Writer(32);
  w.int16(0);
  w.string(transactionalId);
  return w.finishBuffer();
}

/** The transactional id of a key, or null for a key version this coordinator does not own. */
export function decodeTransactionLogKey(buf: Buffer): string | null {
  const r = new Reader(buf);
  if (r.int16() !== 0) return null;
  return r.string();
}

export function encodeTransactionLogValue(v: TransactionLogValue): Buffer {
  const w = new Writer(64);
  w.int16(0);
  w.int64(v.producerId);
  w.int16(v.producerEpoch);
  w.int32(v.transactionTimeoutMs);
  w.int8(TXN_STATES.indexOf(v.state));
  w.arrayLength(v.partitions.length);
  for (const p of v.partitions) {
    w.string(p.topic);
    w.arrayLength(p.partitionIds.length);
    for (const id of p.partitionIds) w.int32(id);
  }
  w.int64(BigInt(v.lastUpdateTimestamp));
  w.int64(BigInt(v.startTimestamp));
  return w.finishBuffer();
}

export function decodeTransactionLogValue(buf: Buffer): TransactionLogValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 1) throw new Error(`TransactionLogValue version ${version} unknown`);
  const flex = version >= 1;
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const transactionTimeoutMs = r.int32();
  const stateId = r.int8();
  const state = TXN_STATES[stateId];
  if (state === undefined) throw new Error(`transaction state ${stateId} unknown`);
  const n = flex ? r.compactArrayLength() : r.arrayLength();
  const partitions: TransactionLogValue['partitions'] = [];
  for (let i = 0; i < Math.max(0, n); i++) {
    const topic = (flex ? r.compactString() : r.string()) ?? '';
    const m = flex ? r.compactArrayLength() : r.arrayLength();
    const partitionIds: number[] = [];
    for (let j = 0; j < Math.max(0, m); j++) partitionIds.push(r.int32());
    if (flex) skipTags(r);
    partitions.push({ topic, partitionIds });
  }
  const lastUpdateTimestamp = Number(r.int64());
  const startTimestamp = Number(r.int64());
  let previousProducerId = -1n;
  let nextProducerId = -1n;
  if (flex) {
    const tags = r.uvarint();
    for (let i = 0; i < tags; i++) {
      const tag = r.uvarint();
      const size = r.uvarint();
      if (tag === 0) previousProducerId = r.int64();
      else if (tag === 1) nextProducerId = r.int64();
      else r.skip(size);
    }
  }
  return { producerId, previousProducerId, nextProducerId, producerEpoch, transactionTimeoutMs, state, partitions, lastUpdateTimestamp, startTimestamp };
}

function skipTags(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}
