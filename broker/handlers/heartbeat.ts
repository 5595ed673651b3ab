// Heartbeat (key 12), v0-4: keeps a classic group member's session; REBALANCE_IN_PROGRESS tells it to
// rejoin. Checks in Kafka's order: group, member (static: FENCED_INSTANCE_ID), generation, state.
import {
  HeartbeatApi,
  type HeartbeatRequest,
  type HeartbeatResponse,
  makeHeartbeatResponse,
} from '../../protocol/generated/heartbeat.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<HeartbeatRequest, HeartbeatResponse>({
  api: HeartbeatApi,
  handle(ctx, req) {
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId)) return makeHeartbeatResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    return makeHeartbeatResponse({ errorCode: ctx.broker.groups.heartbeat(req.groupId, req.memberId, req.groupInstanceId, req.generationId) });
  },
});
