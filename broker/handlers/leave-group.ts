// LeaveGroup (key 13), v0-5. v0-2: one member id, its error is the response's. v3+: a batch of members
// (static ones by group.instance.id; member id "" removes whoever holds the instance id), one result each.
import {
  LeaveGroupApi,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  makeLeaveGroupResponse,
  makeMemberResponse,
} from '../../protocol/generated/leave-group.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<LeaveGroupRequest, LeaveGroupResponse>({
  api: LeaveGroupApi,
  handle(ctx, req) {
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId)) return makeLeaveGroupResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const batched = ctx.apiVersion >= 3;
    const leaving = batched
      ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: req.memberId, groupInstanceId: null }];
    const r = ctx.broker.groups.leave(req.groupId, leaving);
    if (!batched) {
      return makeLeaveGroupResponse({ errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : r.members[0]?.errorCode ?? ErrorCode.NONE });
    }
    return makeLeaveGroupResponse({
      errorCode: r.errorCode,
      members: r.members.map((m) => makeMemberResponse(m)),
    });
  },
});
