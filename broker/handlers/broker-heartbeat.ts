// BrokerHeartbeat (63), a controller-listener API (never advertised to clients). Answered by this node's
// controller (controller/membership.ts): unknown broker or another epoch → STALE_BROKER_EPOCH; the reply says
// whether the broker has caught up to its registration, is fenced, and may finish its controlled shutdown.
import { BrokerHeartbeatApi, makeBrokerHeartbeatResponse } from '../../protocol/generated/broker-heartbeat.ts';
import { defineHandler } from '../handler.ts';
import { answerBrokerHeartbeat } from '../controller-channel.ts';

export const handler = defineHandler({
  api: BrokerHeartbeatApi,
  handle: (ctx, req) => answerBrokerHeartbeat(ctx.broker.controller, req),
  errorResponse: (_req, _v, errorCode) => makeBrokerHeartbeatResponse({ errorCode, isFenced: true }),
});
