// AddPartitionsToTxn (key 24), v0-5, as Kafka's KafkaApis.handleAddPartitionsToTxnRequest and
// TransactionCoordinator.handleAddPartitionsToTransaction (transaction version 1):
// - v0-3 (clients): one transaction. Unknown topics / partitions → UNKNOWN_TOPIC_OR_PARTITION for those
//   and OPERATION_NOT_ATTEMPTED for the rest, without reaching the coordinator; otherwise one coordinator
//   error for every partition: INVALID_PRODUCER_ID_MAPPING (unknown id, other producer id),
//   PRODUCER_FENCED (another epoch; INVALID_PRODUCER_EPOCH below v2), CONCURRENT_TRANSACTIONS (the
//   previous transaction's markers are still being written), INVALID_REQUEST for an empty id.
// - v4-5 (KIP-890, brokers): a batch of transactions; `verifyOnly` asks whether each partition is in the
//   ongoing transaction (TRANSACTION_ABORTABLE when not — INVALID_TXN_STATE in v4 —, INVALID_PRODUCER_EPOCH
//   for an older epoch), else the
//   partitions are added as in v3. Top-level errorCode NONE.
// No authorizer (TRANSACTIONAL_ID_AUTHORIZATION_FAILED / TOPIC_AUTHORIZATION_FAILED never answered).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  AddPartitionsToTxnApi,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  type AddPartitionsToTxnTopic,
  type AddPartitionsToTxnTopicResult,
  makeAddPartitionsToTxnPartitionResult,
  makeAddPartitionsToTxnResponse,
  makeAddPartitionsToTxnResult,
  makeAddPartitionsToTxnTopicResult,
} from '../../protocol/generated/add-partitions-to-txn.ts';
import type { RequestContext } from '../handler.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import type { TopicPartition } from '../transactions/index.ts';
import { fencedFor } from '../transactions/errors.ts';

const results = (topics: AddPartitionsToTxnTopic[], codeOf: (topic: string, partition: number) => number): AddPartitionsToTxnTopicResult[] =>
  topics.map((t) => makeAddPartitionsToTxnTopicResult({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => makeAddPartitionsToTxnPartitionResult({ partitionIndex: p, partitionErrorCode: codeOf(t.name, p) })),
  }));

/** Adds one transaction's partitions; resolves with the per-partition results. */
function add(ctx: RequestContext, version: number, txnId: string, producerId: bigint, producerEpoch: number, topics: AddPartitionsToTxnTopic[]): Promise<AddPartitionsToTxnTopicResult[]> {
  const broker = ctx.broker;
  if (txnId === '') return Promise.resolve(results(topics, () => ErrorCode.INVALID_REQUEST));
  // KafkaApis.handleAddPartitionsToTxnRequest: WRITE on the transactional id (every partition fails), WRITE on
  // each topic (its partitions TOPIC_AUTHORIZATION_FAILED, the others OPERATION_NOT_ATTEMPTED).
  if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txnId)) return Promise.resolve(results(topics, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
  if (broker.authorizer !== null) {
    const denied = new Set(topics.filter((t) => !authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, t.name)).map((t) => t.name));
    if (denied.size > 0) return Promise.resolve(results(topics, (t) => denied.has(t) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED));
  }
  const unknown = (topic: string, p: number) => {
    const t = broker.topics.get(topic);
    return !t || p < 0 || p >= t.partitions;
  };
  if (topics.some((t) => t.partitions.some((p) => unknown(t.name, p)))) {
    return Promise.resolve(results(topics, (t, p) => unknown(t, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
  }
  const parts: TopicPartition[] = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  return broker.transactions.addPartitions(txnId, producerId, producerEpoch, parts)
    .then((code) => results(topics, () => fencedFor(code, version, 2)));
}

export const handler = defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>({
  api: AddPartitionsToTxnApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    if (v <= 3) {
      return add(ctx, v, req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics)
        .then((r) => makeAddPartitionsToTxnResponse({ resultsByTopicV3AndBelow: r }));
    }
    const all = req.transactions.map((txn) => {
      const topicResults = txn.verifyOnly
        ? Promise.resolve(results(txn.topics, (t, p) => {
          const code = broker.transactions.verify(txn.producerId, txn.producerEpoch, t, p, txn.transactionalId);
          // TRANSACTION_ABORTABLE exists from v5; v4 brokers expect INVALID_TXN_STATE.
          return code === ErrorCode.TRANSACTION_ABORTABLE && v < 5 ? ErrorCode.INVALID_TXN_STATE : code;
        }))
        : add(ctx, v, txn.transactionalId, txn.producerId, txn.producerEpoch, txn.topics);
      return topicResults.then((r) => makeAddPartitionsToTxnResult({ transactionalId: txn.transactionalId, topicResults: r }));
    });
    return Promise.all(all).then((r) => makeAddPartitionsToTxnResponse({ errorCode: ErrorCode.NONE, resultsByTransaction: r }));
  },
});
