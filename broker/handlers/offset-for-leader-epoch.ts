// OffsetForLeaderEpoch (key 23): the partition's leader-epoch cache answers (Kafka's
// Partition.lastOffsetForLeaderEpoch): the largest epoch ≤ the requested one and where it ends (the log
// end for the current epoch); -1/-1 when unknown. The current leader epoch is checked first.
import {
  OffsetForLeaderEpochApi,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  makeEpochEndOffset,
  makeOffsetForLeaderEpochResponse,
  makeOffsetForLeaderTopicResult,
} from '../../protocol/generated/offset-for-leader-epoch.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>({
  api: OffsetForLeaderEpochApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const topics = req.topics.map((t) => makeOffsetForLeaderTopicResult({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const out = makeEpochEndOffset({ partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: -1, endOffset: -1n });
        // KafkaApis.handleOffsetForLeaderEpochRequest: DESCRIBE on the topic.
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic)) { out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED; return out; }
        const topic = broker.topics.get(t.topic);
        const partition = topic && p.partition >= 0 && p.partition < topic.partitions
          ? broker.partitions.getOrError(t.topic, p.partition) : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        if (typeof partition === 'number') out.errorCode = partition;
        else if ((out.errorCode = partition.checkLeaderEpoch(p.currentLeaderEpoch)) === ErrorCode.NONE) {
          const end = partition.endOffsetForEpoch(p.leaderEpoch);
          out.leaderEpoch = end.epoch;
          out.endOffset = BigInt(end.endOffset);
        }
        return out;
      }),
    }));
    return makeOffsetForLeaderEpochResponse({ throttleTimeMs: 0, topics });
  },
});
