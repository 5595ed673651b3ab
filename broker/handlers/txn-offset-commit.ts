// TxnOffsetCommit (key 28), v0-5. Unknown topics / partitions → UNKNOWN_TOPIC_OR_PARTITION.
// v0-4 (transaction version 0/1): the transaction must be ongoing with the group's __consumer_offsets
// partition added by AddOffsetsToTxn (KIP-890 verification: TRANSACTION_ABORTABLE otherwise from v4,
// INVALID_TXN_STATE below, INVALID_PRODUCER_EPOCH for an older epoch, as the coordinator's verify answers).
// v5 (transaction version 2, KIP-890 part 2): the offsets partition is added to the transaction here, as
// Kafka's group coordinator does through AddPartitionsToTxnManager (implicit AddOffsetsToTxn). v3+ member checks (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) only when a
// member id or generation is given. The offsets are written as a transactional batch and committed by
// the transaction's marker (broker/groups/coordinator.ts commitTxnOffsets).
// v6 (topic ids) is not served.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
  makeTxnOffsetCommitResponse,
  makeTxnOffsetCommitResponsePartition,
  makeTxnOffsetCommitResponseTopic,
} from '../../protocol/generated/txn-offset-commit.ts';
import type { TxnCommitRequest } from '../groups/coordinator.ts';
import { exactInt64 } from '../groups/records.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { offsetsPartitionFor } from '../transactions/offsets-partition.ts';

export const handler = defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
  api: TxnOffsetCommitApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const partitions: TxnCommitRequest['partitions'] = [];
    // KafkaApis.handleTxnOffsetCommitRequest: WRITE on the transactional id, READ on the group (every partition
    // fails), READ on each topic.
    const wholeDenied = !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId) ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : null;
    for (const t of req.topics) {
      const topic = broker.topics.get(t.name);
      const topicDenied = broker.authorizer !== null && !authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
      for (const p of t.partitions) {
        const errorCode = wholeDenied !== null ? wholeDenied : topicDenied ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : !topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.NONE;
        partitions.push({ topic: t.name, partition: p.partitionIndex, offset: exactInt64(p.committedOffset), leaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata, errorCode });
      }
    }
    const respond = (codes: number[]): TxnOffsetCommitResponse => {
      let i = 0;
      return makeTxnOffsetCommitResponse({
        topics: req.topics.map((t) => makeTxnOffsetCommitResponseTopic({
          name: t.name,
          partitions: t.partitions.map((p) => makeTxnOffsetCommitResponsePartition({ partitionIndex: p.partitionIndex, errorCode: codes[i++]! })),
        })),
      });
    };
    const all = (code: number) => partitions.map((p) => (p.errorCode !== ErrorCode.NONE ? p.errorCode : code));
    if (req.transactionalId === '') return respond(all(ErrorCode.INVALID_REQUEST));
    if (req.groupId === '') return respond(all(ErrorCode.INVALID_GROUP_ID));
    if (partitions.every((p) => p.errorCode !== ErrorCode.NONE)) return respond(all(ErrorCode.NONE));
    const op = offsetsPartitionFor(broker, req.groupId);
    const verified = broker.transactions.verify(req.producerId, req.producerEpoch, op.topic, op.partition, req.transactionalId);
    const commit = () => broker.groups.commitTxnOffsets({
      groupId: req.groupId, producerId: req.producerId, producerEpoch: req.producerEpoch,
      memberId: v >= 3 ? req.memberId : '', groupInstanceId: v >= 3 ? req.groupInstanceId : null, generationId: v >= 3 ? req.generationIdOrMemberEpoch : -1,
      partitions,
    }).then(respond);
    if (verified === ErrorCode.NONE) return commit();
    if (v < 5) return respond(all(verified === ErrorCode.TRANSACTION_ABORTABLE && v < 4 ? ErrorCode.INVALID_TXN_STATE : verified));
    return broker.groups.ready().then((err) => err !== ErrorCode.NONE ? respond(all(err))
      : broker.transactions.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [op], 2).then((code) => {
        if (code === ErrorCode.NONE) return commit();
        // As Kafka's AddPartitionsToTxnManager: a fenced producer sees INVALID_PRODUCER_EPOCH; a transient
        // coordinator state is retried by the client (CONCURRENT_TRANSACTIONS is retriable for it).
        return respond(all(code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code));
      }));
  },
});
