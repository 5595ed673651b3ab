// OffsetCommit (key 8), v2-10. As Kafka's KafkaApis + OffsetMetadataManager: unknown topics/partitions
// answer UNKNOWN_TOPIC_OR_PARTITION (v10, by topic id: UNKNOWN_TOPIC_ID) without reaching the group;
// generation −1 with no member commits for an Empty or missing group (standalone consumers, admin
// tools); otherwise member, generation and state checks (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS; GROUP_ID_NOT_FOUND from v9 for a missing group).
// Metadata longer than offset.metadata.max.bytes → OFFSET_METADATA_TOO_LARGE. v2-4 retentionTimeMs sets
// an expire timestamp (OffsetCommitValue v1). Answered only after the records are in __consumer_offsets.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  OffsetCommitApi,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  makeOffsetCommitResponse,
  makeOffsetCommitResponsePartition,
  makeOffsetCommitResponseTopic,
} from '../../protocol/generated/offset-commit.ts';
import type { CommitRequest } from '../groups/coordinator.ts';
import { exactInt64 } from '../groups/records.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { ZERO_UUID } from '../topics.ts';

export const handler = defineHandler<OffsetCommitRequest, OffsetCommitResponse>({
  api: OffsetCommitApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const broker = ctx.broker;
    const partitions: CommitRequest['partitions'] = [];
    const shape: Array<{ name: string; topicId: string; count: number }> = [];
    // KafkaApis.handleOffsetCommitRequest: READ on the group (else every partition fails), READ on each topic.
    const groupDenied = !authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId);
    for (const t of req.topics) {
      const topic = v >= 10 ? broker.topics.getById(t.topicId) : broker.topics.get(t.name);
      const name = topic?.name ?? t.name;
      const missing = v >= 10 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      for (const p of t.partitions) {
        let errorCode: number = ErrorCode.NONE;
        if (groupDenied) errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        else if (broker.authorizer !== null && !authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name)) errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else if (!topic) errorCode = missing;
        else if (p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        partitions.push({
          topic: name, partition: p.partitionIndex, offset: exactInt64(p.committedOffset),
          leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata, errorCode,
        });
      }
      shape.push({ name: v >= 10 ? '' : t.name, topicId: v >= 10 ? t.topicId : ZERO_UUID, count: t.partitions.length });
    }
    const respond = (codes: number[]): OffsetCommitResponse => {
      let i = 0;
      return makeOffsetCommitResponse({
        topics: shape.map((s) => makeOffsetCommitResponseTopic({
          name: s.name, topicId: s.topicId,
          partitions: Array.from({ length: s.count }, () => {
            const p = partitions[i];
            return makeOffsetCommitResponsePartition({ partitionIndex: p!.partition, errorCode: codes[i++]! });
          }),
        })),
      });
    };
    if (partitions.every((p) => p.errorCode !== ErrorCode.NONE)) return respond(partitions.map((p) => p.errorCode));
    return broker.groups.commitOffsets({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: v >= 7 ? req.groupInstanceId : null,
      generationId: req.generationIdOrMemberEpoch,
      retentionTimeMs: v <= 4 ? Number(req.retentionTimeMs) : -1,
      apiVersion: v,
      partitions,
    }).then(respond);
  },
});
