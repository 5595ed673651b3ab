// PushTelemetry (key 72), v0 (KIP-714): checked as Kafka's ClientMetricsManager checks a push (reserved id →
// INVALID_REQUEST, after a terminating push → INVALID_REQUEST, too early → THROTTLING_QUOTA_EXCEEDED, stale
// subscription → UNKNOWN_SUBSCRIPTION_ID, unknown compression → UNSUPPORTED_COMPRESSION_TYPE, over 1 MiB →
// TELEMETRY_TOO_LARGE); the metrics are dropped (no receiver). Served but not advertised, as Kafka without one.
import {
  makePushTelemetryResponse,
  PushTelemetryApi,
  type PushTelemetryRequest,
  type PushTelemetryResponse,
} from '../../protocol/generated/push-telemetry.ts';
import { clientTelemetry } from '../client-telemetry.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<PushTelemetryRequest, PushTelemetryResponse>({
  api: PushTelemetryApi,
  handle(ctx, req) {
    return makePushTelemetryResponse({ errorCode: clientTelemetry(ctx.broker).push(req, ctx.broker.clock.now()) });
  },
});
