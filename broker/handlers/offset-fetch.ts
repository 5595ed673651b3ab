// OffsetFetch (key 9), v1-10. v1-7: one group (topics null = every committed offset, v2+); v8+: a batch
// of groups; v10: topics by id. A partition without a committed offset answers −1 / leader epoch −1 /
// metadata "" with no error; an unknown group is a group without offsets (Kafka's behaviour).
// require_stable (v7+): a partition with an offset a transaction committed but whose marker is not
// written yet answers UNSTABLE_OFFSET_COMMIT (retriable) with offset -1, as Kafka; without it the last
// committed offset is returned.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  OffsetFetchApi,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  makeOffsetFetchResponse,
  makeOffsetFetchResponseGroup,
  makeOffsetFetchResponsePartition,
  makeOffsetFetchResponsePartitions,
  makeOffsetFetchResponseTopic,
  makeOffsetFetchResponseTopics,
} from '../../protocol/generated/offset-fetch.ts';
import type { BrokerContext } from '../context.ts';
import type { RequestContext } from '../handler.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { ZERO_UUID } from '../topics.ts';

interface PartitionOut { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string; errorCode: number }
interface TopicOut { name: string; topicId: string; partitions: PartitionOut[] }

/**
 * KafkaApis.handleOffsetFetchRequest: DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED), DESCRIBE on each topic
 * (a named one answers TOPIC_AUTHORIZATION_FAILED per partition; all-topics requests leave it out).
 */
function authorizedFetch(ctx: RequestContext, version: number, groupId: string, topics: Array<{ name: string; topicId?: string; partitionIndexes: number[] }> | null, requireStable: boolean, member?: { memberId: string | null; memberEpoch: number }): { errorCode: number; topics: TopicOut[] } {
  if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  const r = fetchGroup(ctx.broker, version, groupId, topics, requireStable, member);
  if (ctx.broker.authorizer === null) return r;
  const nameOf = (t: TopicOut): string | undefined => (version >= 10 ? ctx.broker.topics.getById(t.topicId)?.name : t.name);
  const denied = (t: TopicOut): boolean => { const n = nameOf(t); return n !== undefined && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, n); };
  if (topics === null) return { errorCode: r.errorCode, topics: r.topics.filter((t) => !denied(t)) };
  return {
    errorCode: r.errorCode,
    topics: r.topics.map((t) => !denied(t) ? t : {
      ...t, partitions: t.partitions.map((p) => ({ ...p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    }),
  };
}

function fetchGroup(broker: BrokerContext, version: number, groupId: string, topics: Array<{ name: string; topicId?: string; partitionIndexes: number[] }> | null, requireStable: boolean, member?: { memberId: string | null; memberEpoch: number }): { errorCode: number; topics: TopicOut[] } {
  if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
  if (member && broker.groups.consumer?.has(groupId)) {
    // v9+ against a KIP-848 group: the member and its epoch are checked (Kafka's ConsumerGroup.validateOffsetFetch).
    const err = broker.groups.consumer.validateOffsetFetch(groupId, member.memberId, member.memberEpoch);
    if (err !== ErrorCode.NONE) return { errorCode: err, topics: [] };
  }
  const groups = broker.groups;
  const entry = (partitionIndex: number, o: { offset: number | bigint; leaderEpoch: number; metadata: string } | undefined, errorCode: number = ErrorCode.NONE): PartitionOut => ({
    partitionIndex, committedOffset: BigInt(o?.offset ?? -1), committedLeaderEpoch: o?.leaderEpoch ?? -1, metadata: o?.metadata ?? '', errorCode,
  });
  const committed = (topic: string, p: number): PartitionOut => requireStable && groups.hasPendingTxnOffset(groupId, topic, p)
    ? entry(p, undefined, ErrorCode.UNSTABLE_OFFSET_COMMIT) : entry(p, groups.committedOffset(groupId, topic, p));
  const idOf = (name: string) => (version >= 10 ? broker.topics.get(name)?.topicId ?? ZERO_UUID : ZERO_UUID);
  if (topics === null) {
    const out: TopicOut[] = [];
    for (const [name, parts] of groups.allOffsets(groupId)) {
      out.push({ name, topicId: idOf(name), partitions: [...parts.keys()].map((p) => committed(name, p)) });
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }
  return {
    errorCode: ErrorCode.NONE,
    topics: topics.map((t) => {
      if (version >= 10) {
        const id = t.topicId ?? ZERO_UUID;
        const topic = broker.topics.getById(id);
        return {
          name: '', topicId: id,
          partitions: t.partitionIndexes.map((p) => (topic ? committed(topic.name, p) : entry(p, undefined, ErrorCode.UNKNOWN_TOPIC_ID))),
        };
      }
      return { name: t.name, topicId: ZERO_UUID, partitions: t.partitionIndexes.map((p) => committed(t.name, p)) };
    }),
  };
}

export const handler = defineHandler<OffsetFetchRequest, OffsetFetchResponse>({
  api: OffsetFetchApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    if (v >= 8) {
      return makeOffsetFetchResponse({
        groups: req.groups.map((g) => {
          const r = authorizedFetch(ctx, v, g.groupId, g.topics, req.requireStable, v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined);
          return makeOffsetFetchResponseGroup({
            groupId: g.groupId, errorCode: r.errorCode,
            topics: r.topics.map((t) => makeOffsetFetchResponseTopics({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => makeOffsetFetchResponsePartitions(p)) })),
          });
        }),
      });
    }
    const r = authorizedFetch(ctx, v, req.groupId, v >= 2 ? req.topics : req.topics ?? [], v >= 7 && req.requireStable);
    if (r.errorCode !== ErrorCode.NONE && v < 2) {
      // v1 has no top-level error: every requested partition carries it.
      return makeOffsetFetchResponse({
        topics: (req.topics ?? []).map((t) => makeOffsetFetchResponseTopic({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => makeOffsetFetchResponsePartition({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode })),
        })),
      });
    }
    return makeOffsetFetchResponse({
      errorCode: r.errorCode,
      topics: r.topics.map((t) => makeOffsetFetchResponseTopic({
        name: t.name,
        partitions: t.partitions.map((p) => makeOffsetFetchResponsePartition({ ...p, committedLeaderEpoch: v >= 5 ? p.committedLeaderEpoch : -1 })),
      })),
    });
  },
});
