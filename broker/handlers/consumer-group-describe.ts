// ConsumerGroupDescribe (key 69), v0-1: KIP-848 groups with their epochs, assignor, and every member's
// subscription, current assignment and target assignment (topic id + name). Unknown id →
// GROUP_ID_NOT_FOUND "Group X not found."; a classic group → GROUP_ID_NOT_FOUND "Group X is not a
// consumer group." (Kafka's messages). v1 adds memberType: 0 for a classic-protocol member (after an
// online upgrade, or a JoinGroup into the consumer group), 1 for a consumer-protocol member. Authorized operations as DescribeGroups (no authorizer).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  ConsumerGroupDescribeApi,
  type ConsumerGroupDescribeRequest,
  type ConsumerGroupDescribeResponse,
  makeAssignment,
  makeConsumerGroupDescribeResponse,
  makeDescribedGroup,
  makeMember,
  makeTopicPartitions,
} from '../../protocol/generated/consumer-group-describe.ts';
import { AclOperation, authorize, authorizedOperations, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { consumerGroupsOf } from './consumer-group-heartbeat.ts';

const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OMITTED_OPERATIONS = -2147483648;

export const handler = defineHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse>({
  api: ConsumerGroupDescribeApi,
  handle(ctx, req) {
    const mgr = consumerGroupsOf(ctx.broker);
    const assignment = (a: Map<string, number[]>) => makeAssignment({
      topicPartitions: [...a].filter(([, ps]) => ps.length > 0).map(([topicId, ps]) => makeTopicPartitions({
        topicId, topicName: mgr.topicName(topicId) ?? '', partitions: [...ps].sort((x, y) => x - y),
      })),
    });
    return makeConsumerGroupDescribeResponse({
      groups: req.groupIds.map((groupId) => {
        // KafkaApis.handleConsumerGroupDescribe: DESCRIBE on the group.
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
          return makeDescribedGroup({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, authorizedOperations: OMITTED_OPERATIONS });
        }
        const g = mgr.groups.get(groupId);
        if (!g || g.dead) {
          const classic = ctx.broker.groups.groups.get(groupId);
          const isClassic = classic !== undefined && classic.state !== 'Dead';
          return makeDescribedGroup({
            groupId, groupState: 'Dead', errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: isClassic ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`,
            authorizedOperations: OMITTED_OPERATIONS,
          });
        }
        return makeDescribedGroup({
          groupId,
          groupState: g.state,
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignorName: g.preferredAssignor(mgr.config.assignors[0]!),
          authorizedOperations: !req.includeAuthorizedOperations ? OMITTED_OPERATIONS
            : ctx.broker.authorizer === null ? GROUP_OPERATIONS : authorizedOperations(ctx, ResourceType.GROUP, groupId),
          members: [...g.members.values()].map((m) => makeMember({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: assignment(m.assigned),
            targetAssignment: assignment(g.target.get(m.memberId) ?? new Map()),
            memberType: ctx.apiVersion >= 1 ? (m.classic ? 0 : 1) : -1,
          })),
        });
      }),
    });
  },
});
