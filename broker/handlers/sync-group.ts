// SyncGroup (key 14), v0-5: the leader's assignment is written to __consumer_offsets (GroupMetadata
// record) before any member gets its assignment; followers wait for it. v5+: protocol type/name checked
// (INCONSISTENT_GROUP_PROTOCOL) and returned.
import {
  SyncGroupApi,
  type SyncGroupRequest,
  type SyncGroupResponse,
  makeSyncGroupResponse,
} from '../../protocol/generated/sync-group.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';
import { ownedCopy } from '../../protocol/owned-copy.ts';

export const handler = defineHandler<SyncGroupRequest, SyncGroupResponse>({
  api: SyncGroupApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId)) return makeSyncGroupResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    return ctx.broker.groups.sync({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      generationId: req.generationId,
      protocolType: v >= 5 ? req.protocolType : null,
      protocolName: v >= 5 ? req.protocolName : null,
      assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: ownedCopy(a.assignment) })),
    }).then((r) => makeSyncGroupResponse({
      errorCode: r.errorCode,
      protocolType: v >= 5 ? r.protocolType : null,
      protocolName: v >= 5 ? r.protocolName : null,
      assignment: r.assignment,
    }));
  },
});
