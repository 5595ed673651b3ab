// DeleteGroups (key 42), v0-3: deletes Empty groups and their committed offsets (tombstones in
// __consumer_offsets). GROUP_ID_NOT_FOUND for a missing group, NON_EMPTY_GROUP for an active one,
// INVALID_GROUP_ID for "".
import {
  DeleteGroupsApi,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
  makeDeletableGroupResult,
  makeDeleteGroupsResponse,
} from '../../protocol/generated/delete-groups.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
  api: DeleteGroupsApi,
  handle(ctx, req) {
    // Groups are deleted one after another (a group named twice is deleted once, then not found).
    // KafkaApis.handleDeleteGroupsRequest: DELETE on each group.
    const results = req.groupsNames.map((groupId) => !authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, groupId)
      ? makeDeletableGroupResult({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED })
      : ctx.broker.groups.deleteGroup(groupId).then((errorCode) => makeDeletableGroupResult({ groupId, errorCode })));
    return Promise.all(results).then((r) => makeDeleteGroupsResponse({ results: r }));
  },
});
