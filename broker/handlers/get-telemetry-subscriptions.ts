// GetTelemetrySubscriptions (key 71), v0 (KIP-714): an empty subscription, as Kafka without a metrics receiver
// answers (../client-telemetry.ts); served but not advertised in ApiVersions, as Kafka then does.
import {
  GetTelemetrySubscriptionsApi,
  type GetTelemetrySubscriptionsRequest,
  type GetTelemetrySubscriptionsResponse,
  makeGetTelemetrySubscriptionsResponse,
} from '../../protocol/generated/get-telemetry-subscriptions.ts';
import { clientTelemetry } from '../client-telemetry.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse>({
  api: GetTelemetrySubscriptionsApi,
  handle(ctx, req) {
    return makeGetTelemetrySubscriptionsResponse(clientTelemetry(ctx.broker).getSubscription(req.clientInstanceId, ctx.broker.clock.now()));
  },
});
