// DescribeGroups (key 15), v0-6. As Kafka: protocol data, member metadata and assignments only when the
// group is Stable; an unknown group is described as Dead with no error up to v5 and GROUP_ID_NOT_FOUND
// from v6 (KIP-1043). v3+: authorized operations when asked — without an authorizer every group operation
// (READ, DELETE, DESCRIBE). The client host is reported empty (connections do not expose it yet).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DescribeGroupsApi,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  makeDescribeGroupsResponse,
  makeDescribedGroup,
  makeDescribedGroupMember,
} from '../../protocol/generated/describe-groups.ts';
import { AclOperation, authorize, authorizedOperations, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OMITTED_OPERATIONS = -2147483648;

export const handler = defineHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
  api: DescribeGroupsApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    return makeDescribeGroupsResponse({
      groups: req.groups.map((groupId) => {
        // KafkaApis.handleDescribeGroupsRequest: DESCRIBE on the group.
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
          return makeDescribedGroup({ groupId, groupState: '', errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, authorizedOperations: OMITTED_OPERATIONS });
        }
        if (ctx.broker.groups.consumer?.has(groupId)) {
          // A KIP-848 group is not a classic group: Kafka answers as for an unknown id, with this message.
          return makeDescribedGroup({
            groupId, groupState: 'Dead',
            errorCode: v >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE,
            errorMessage: v >= 6 ? `Group ${groupId} is not a classic group.` : null,
          });
        }
        const d = ctx.broker.groups.describeGroup(groupId);
        if (!d.found) {
          return makeDescribedGroup({
            groupId, groupState: 'Dead',
            errorCode: v >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE,
            errorMessage: v >= 6 ? `Group ${groupId} not found.` : null,
          });
        }
        return makeDescribedGroup({
          groupId, groupState: d.state, protocolType: d.protocolType, protocolData: d.protocolData,
          authorizedOperations: !(v >= 3 && req.includeAuthorizedOperations) ? OMITTED_OPERATIONS
            : ctx.broker.authorizer === null ? GROUP_OPERATIONS : authorizedOperations(ctx, ResourceType.GROUP, groupId),
          members: d.members.map((m) => makeDescribedGroupMember({
            memberId: m.memberId, groupInstanceId: v >= 4 ? m.groupInstanceId : null, clientId: m.clientId,
            clientHost: m.clientHost, memberMetadata: m.metadata, memberAssignment: m.assignment,
          })),
        });
      }),
    });
  },
});
