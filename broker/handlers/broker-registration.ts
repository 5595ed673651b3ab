// BrokerRegistration (62), a controller-listener API (Kafka: `"listeners": ["controller"]`): never advertised in a
// client listener's ApiVersions. Answered by this node's controller (controller/membership.ts): cluster id
// mismatch → INCONSISTENT_CLUSTER_ID, a live broker with that id under another incarnation →
// DUPLICATE_BROKER_REGISTRATION, a finalized feature level outside the broker's range → UNSUPPORTED_VERSION,
// not the active controller → NOT_CONTROLLER; else the new broker epoch (the registration record's offset).
import { BrokerRegistrationApi, makeBrokerRegistrationResponse } from '../../protocol/generated/broker-registration.ts';
import { defineHandler } from '../handler.ts';
import { answerBrokerRegistration } from '../controller-channel.ts';

export const handler = defineHandler({
  api: BrokerRegistrationApi,
  handle: (ctx, req) => answerBrokerRegistration(ctx.broker.controller, req),
  errorResponse: (_req, _v, errorCode) => makeBrokerRegistrationResponse({ errorCode, brokerEpoch: -1n }),
});
