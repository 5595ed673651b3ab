// DeleteRecords (key 21), v0-2. Follows Kafka's KafkaApis.handleDeleteRecordsRequest and
// ReplicaManager/Partition.deleteRecordsOnLeader:
// - Unknown topic or partition → UNKNOWN_TOPIC_OR_PARTITION; internal topic → INVALID_TOPIC_EXCEPTION;
//   offline partition → KAFKA_STORAGE_ERROR; cleanup.policy without `delete` → POLICY_VIOLATION.
// - offset −1 means the high watermark; other negatives and offsets beyond the high watermark →
//   OFFSET_OUT_OF_RANGE. Otherwise the log start offset advances (never moves back) and whole segments
//   below it are removed; lowWatermark is the resulting log start offset (−1 on errors).
// - A partition named twice counts once, with the last offset given (Kafka keys them in a map).
// - timeoutMs: with this node the only replica, the low watermark reaches the offset at once, so the
//   response never waits (Kafka's DelayedDeleteRecords completes immediately too).
// Left out: authorizers.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DeleteRecordsApi,
  type DeleteRecordsPartitionResult,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
  makeDeleteRecordsPartitionResult,
  makeDeleteRecordsResponse,
  makeDeleteRecordsTopicResult,
} from '../../protocol/generated/delete-records.ts';
import type { BrokerContext } from '../context.ts';
import { kafkaErrorCode } from '../errors.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

const INVALID_LOW_WATERMARK = -1n;

function deleteOne(broker: BrokerContext, topic: string, partition: number, offset: bigint): DeleteRecordsPartitionResult {
  const fail = (errorCode: number) => makeDeleteRecordsPartitionResult({ partitionIndex: partition, lowWatermark: INVALID_LOW_WATERMARK, errorCode });
  const info = broker.topics.get(topic);
  if (!info || partition < 0 || partition >= info.partitions) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (info.internal) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION);
  const hosted = broker.partitions.getOrError(topic, partition);
  if (typeof hosted === 'number') return fail(hosted);
  const log = hosted.log;
  if (!log.config.deleteEnabled) return fail(ErrorCode.POLICY_VIOLATION);
  const target = offset === -1n ? BigInt(log.highWatermark) : offset;
  if (target < 0n || target > BigInt(log.highWatermark)) return fail(ErrorCode.OFFSET_OUT_OF_RANGE);
  try {
    const low = log.deleteRecordsBefore(Number(target));
    return makeDeleteRecordsPartitionResult({ partitionIndex: partition, lowWatermark: BigInt(low), errorCode: ErrorCode.NONE });
  } catch (e) {
    broker.log.warn(`DeleteRecords ${topic}-${partition} before ${target}: ${(e as Error).message}`);
    return fail(kafkaErrorCode(e) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  }
}

export const handler = defineHandler<DeleteRecordsRequest, DeleteRecordsResponse>({
  api: DeleteRecordsApi,
  handle(ctx, req) {
    // topic → partition → offset, first-seen order, last offset wins.
    const wanted = new Map<string, Map<number, bigint>>();
    for (const t of req.topics) {
      let parts = wanted.get(t.name);
      if (!parts) wanted.set(t.name, parts = new Map());
      for (const p of t.partitions) parts.set(p.partitionIndex, p.offset);
    }
    const topics = [];
    for (const [name, parts] of wanted) {
      // KafkaApis.handleDeleteRecordsRequest: DELETE on the topic.
      const denied = !authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name);
      const partitions = [...parts].map(([p, offset]) => denied
        ? makeDeleteRecordsPartitionResult({ partitionIndex: p, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
        : deleteOne(ctx.broker, name, p, offset));
      topics.push(makeDeleteRecordsTopicResult({ name, partitions }));
    }
    return makeDeleteRecordsResponse({ throttleTimeMs: 0, topics });
  },
});
