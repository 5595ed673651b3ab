// OffsetForLeaderEpoch (key 23): this node has led every partition since creation with epoch 0, so
// epoch 0 ends at the log end offset and any other epoch is unknown (-1/-1), as Kafka's epoch cache answers.
import {
  OffsetForLeaderEpochApi,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  makeEpochEndOffset,
  makeOffsetForLeaderEpochResponse,
  makeOffsetForLeaderTopicResult,
} from '../../protocol/generated/offset-for-leader-epoch.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';

const LEADER_EPOCH = 0;

export const handler = defineHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>({
  api: OffsetForLeaderEpochApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const topics = req.topics.map((t) => makeOffsetForLeaderTopicResult({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const out = makeEpochEndOffset({ partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: -1, endOffset: -1n });
        const topic = broker.topics.get(t.topic);
        const log = topic && p.partition >= 0 && p.partition < topic.partitions ? broker.storage.partition(t.topic, p.partition) : undefined;
        if (!log) out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (log.offline) out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        else if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== LEADER_EPOCH) {
          out.errorCode = p.currentLeaderEpoch > LEADER_EPOCH ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH;
        } else if (p.leaderEpoch === LEADER_EPOCH) {
          out.leaderEpoch = LEADER_EPOCH;
          out.endOffset = BigInt(log.logEndOffset);
        }
        return out;
      }),
    }));
    return makeOffsetForLeaderEpochResponse({ throttleTimeMs: 0, topics });
  },
});
