// JoinGroup (key 11), v0-9: the classic group protocol's join phase (broker/groups/coordinator.ts).
// v0: rebalance timeout = session timeout. v4+: a first join without member id answers
// MEMBER_ID_REQUIRED with the assigned id (KIP-394). v5+: static membership (group.instance.id).
// v9: a rejoining static leader of a Stable group gets skipAssignment. The response waits for the
// rebalance to complete (up to the rebalance timeout, or group.initial.rebalance.delay.ms for a new group).
import {
  JoinGroupApi,
  type JoinGroupRequest,
  type JoinGroupResponse,
  makeJoinGroupResponse,
  makeJoinGroupResponseMember,
} from '../../protocol/generated/join-group.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';
import { ownedCopy } from '../../protocol/owned-copy.ts';

export const handler = defineHandler<JoinGroupRequest, JoinGroupResponse>({
  api: JoinGroupApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
      return makeJoinGroupResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, memberId: req.memberId, protocolName: v >= 7 ? null : '' });
    }
    return ctx.broker.groups.join({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: ownedCopy(p.metadata) })),
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: v === 0 ? -1 : req.rebalanceTimeoutMs,
      clientId: ctx.clientId,
      clientHost: ctx.clientHost,
      requireKnownMemberId: v >= 4,
      supportsSkipAssignment: v >= 9,
    }).then((r) => makeJoinGroupResponse({
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: v >= 7 ? r.protocolType : null,
      protocolName: v >= 7 ? r.protocolName : r.protocolName ?? '',
      leader: r.leader,
      skipAssignment: v >= 9 ? r.skipAssignment : false,
      memberId: r.memberId,
      members: r.members.map((m) => makeJoinGroupResponseMember({ memberId: m.memberId, groupInstanceId: v >= 5 ? m.groupInstanceId : null, metadata: m.metadata })),
    }));
  },
});
