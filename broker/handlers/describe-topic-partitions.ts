// DescribeTopicPartitions (key 75), v0 (KIP-966; what `kafka-topics.sh --describe` uses since Kafka 3.8). Follows
// Kafka 4.4's DescribeTopicPartitionsRequestHandler and KRaftMetadataCache, checked against a 4.4 broker:
// - no topics = every topic; else the named ones (duplicates once). Topics before the cursor's topic are skipped;
//   answered in name order, the cursor's topic from its partition index, every other topic from partition 0.
// - at most min(responsePartitionLimit, max.request.partition.size.limit) partitions (at least 1, as Kafka answers
//   a limit ≤ 0); where they run out, nextCursor names the first partition left out (a topic that would get
//   none: its partition 0). Unknown topics cost nothing: UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for
//   an invalid name), zero topic id.
// - a cursor whose topic is not among the named topics, or with a negative partition index → INVALID_REQUEST
//   for every requested topic (Kafka's error response: zero ids, operations omitted).
// - An empty topic name is INVALID_TOPIC_EXCEPTION for that topic (Kafka 4.4 fails the whole request with
//   UNKNOWN_SERVER_ERROR there: a NullPointerException when there is no cursor).
// - No authorizer: topicAuthorizedOperations = every topic operation. One node: leader, replicas and ISR are
//   this node; ELR and last known ELR are empty (one replica), no offline replicas (as Metadata).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DescribeTopicPartitionsApi,
  type DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponsePartition,
  type DescribeTopicPartitionsResponseTopic,
  makeDescribeTopicPartitionsResponse,
} from '../../protocol/generated/describe-topic-partitions.ts';
import type { BrokerContext } from '../context.ts';
import { AclOperation, authorize, authorizedOperations, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { invalidTopicNameReason, isInternalTopic, ZERO_UUID } from '../topics.ts';

// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (no authorizer).
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((a, op) => a | (1 << op), 0);
const OMITTED_OPERATIONS = -2147483648;

function errorTopic(name: string, errorCode: number, ops: number): DescribeTopicPartitionsResponseTopic {
  return { errorCode, name, topicId: ZERO_UUID, isInternal: isInternalTopic(name), partitions: [], topicAuthorizedOperations: ops };
}

function requestError(req: DescribeTopicPartitionsRequest, errorCode: number): DescribeTopicPartitionsResponse {
  return makeDescribeTopicPartitionsResponse({
    topics: req.topics.map((t) => ({ ...errorTopic(t.name, errorCode, OMITTED_OPERATIONS), isInternal: false })),
    nextCursor: null,
  });
}

function partition(broker: BrokerContext, topic: string, p: number): DescribeTopicPartitionsResponsePartition {
  const n = broker.nodeId;
  return {
    errorCode: ErrorCode.NONE, partitionIndex: p, leaderId: n, leaderEpoch: broker.partitions.get(topic, p)?.leaderEpoch ?? 0,
    replicaNodes: [n], isrNodes: [n], eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: [],
  };
}

export const handler = defineHandler<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>({
  api: DescribeTopicPartitionsApi,
  errorResponse: (req, _version, errorCode) => requestError(req, errorCode),
  handle(ctx, req) {
    const broker = ctx.broker;
    const cursor = req.cursor;
    const from = cursor?.topicName ?? '';
    if (cursor && cursor.partitionIndex < 0) return requestError(req, ErrorCode.INVALID_REQUEST);
    const names = new Set<string>();
    if (req.topics.length === 0) {
      // KafkaApis: all-topics requests leave out topics the principal may not DESCRIBE.
      for (const t of broker.topics.all()) if (t.name >= from && authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) names.add(t.name);
    } else {
      for (const t of req.topics) if (t.name >= from) names.add(t.name);
      if (cursor && !names.has(cursor.topicName)) return requestError(req, ErrorCode.INVALID_REQUEST);
    }
    let remaining = Math.max(1, Math.min(broker.config.int('max.request.partition.size.limit'), req.responsePartitionLimit));
    const topics: DescribeTopicPartitionsResponseTopic[] = [];
    let nextCursor: DescribeTopicPartitionsResponse['nextCursor'] = null;
    for (const name of [...names].sort()) {
      if (remaining === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const t = broker.topics.get(name);
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
        topics.push(errorTopic(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, OMITTED_OPERATIONS));
        continue;
      }
      if (!t) {
        topics.push(errorTopic(name, invalidTopicNameReason(name) === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION, TOPIC_OPERATIONS));
        continue;
      }
      const start = cursor && name === cursor.topicName ? cursor.partitionIndex : 0;
      const end = Math.min(t.partitions, start + remaining);
      const partitions = [];
      for (let p = start; p < end; p++) partitions.push(partition(broker, name, p));
      topics.push({ errorCode: ErrorCode.NONE, name, topicId: t.topicId, isInternal: t.internal, partitions,
        topicAuthorizedOperations: broker.authorizer === null ? TOPIC_OPERATIONS : authorizedOperations(ctx, ResourceType.TOPIC, name) });
      if (end < t.partitions) {
        nextCursor = { topicName: name, partitionIndex: end };
        break;
      }
      remaining -= partitions.length;
    }
    return makeDescribeTopicPartitionsResponse({ throttleTimeMs: 0, topics, nextCursor });
  },
});
