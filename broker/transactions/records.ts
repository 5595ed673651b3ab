// The records the transaction coordinator keeps in `__transaction_state`, in Kafka's formats
// (transaction-coordinator's TransactionLogKey / TransactionLogValue) so Kafka's tooling can read them.
// The codecs are generated from Kafka's JSON (protocol/generated/coordinator/). Key: int16 record type 0
// + string transactional id. Value: int16 version + body; we write v0 (what Kafka writes for transaction
// version 1 clients) and read v0 and v1 (flexible, with tagged fields). A null value is a tombstone (the
// transactional id expired). broker/transactions/records-compat.test.ts holds the bytes the earlier
// hand-written codecs wrote.
import { createRequire } from 'node:module';
import { Reader } from '../../protocol/reader.ts';
import type * as LogCodecs from './record-codecs.ts';

const requireCodecs = createRequire(import.meta.url);
// require() specifiers are not rewritten by the package build (tsconfig.build.json): dist/ has .js files.
const EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
let loaded: typeof LogCodecs | undefined;
/** The generated codecs, loaded on first use: a fresh broker never touches `__transaction_state` before its first request. */
const codecs = (): typeof LogCodecs => (loaded ??= requireCodecs(`./record-codecs.${EXT}`) as typeof LogCodecs);

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
  /** 0/1: written as v0; 2 (KIP-890 part 2): v1, with previous/next producer id and the version. */
  clientTransactionVersion?: number;
}

export function encodeTransactionLogKey(transactionalId: string): Buffer {
  return codecs().writeTransactionLogKeyRecord({ transactionalId });
}

/** The transactional id of a key, or null for a key record type this coordinator does not own. */
export function decodeTransactionLogKey(buf: Buffer): string | null {
  if (new Reader(buf).int16() !== 0) return null;
  return codecs().readTransactionLogKeyRecord(buf).transactionalId;
}

export function encodeTransactionLogValue(v: TransactionLogValue): Buffer {
  // Kafka writes v1 (flexible; previous/next producer id and the client's version as tagged fields) for
  // transaction version 2 clients and v0 otherwise, where those fields stay at their defaults.
  const v2 = (v.clientTransactionVersion ?? 0) >= 2;
  return codecs().writeTransactionLogValueRecord(v2 ? 1 : 0, codecs().makeTransactionLogValue({
    ...(v2 ? { previousProducerId: v.previousProducerId, nextProducerId: v.nextProducerId, clientTransactionVersion: v.clientTransactionVersion } : {}),
    producerId: v.producerId, producerEpoch: v.producerEpoch, transactionTimeoutMs: v.transactionTimeoutMs,
    transactionStatus: TXN_STATES.indexOf(v.state),
    transactionPartitions: v.partitions.map((p) => ({ topic: p.topic, partitionIds: p.partitionIds })),
    transactionLastUpdateTimestampMs: BigInt(v.lastUpdateTimestamp), transactionStartTimestampMs: BigInt(v.startTimestamp),
  }));
}

export function decodeTransactionLogValue(buf: Buffer): TransactionLogValue {
  const m = codecs().readTransactionLogValueRecord(buf);
  const state = TXN_STATES[m.transactionStatus];
  if (state === undefined) throw new Error(`transaction state ${m.transactionStatus} unknown`);
  return {
    producerId: m.producerId, previousProducerId: m.previousProducerId, nextProducerId: m.nextProducerId, producerEpoch: m.producerEpoch,
    transactionTimeoutMs: m.transactionTimeoutMs, state,
    partitions: (m.transactionPartitions ?? []).map((p) => ({ topic: p.topic, partitionIds: p.partitionIds })),
    lastUpdateTimestamp: Number(m.transactionLastUpdateTimestampMs), startTimestamp: Number(m.transactionStartTimestampMs),
    clientTransactionVersion: m.clientTransactionVersion,
  };
}
