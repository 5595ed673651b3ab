// GetTelemetrySubscriptions / PushTelemetry as a Kafka 4.4 broker without a telemetry receiver answers them.
import t from 'tap';
import { makeApiVersionsRequest } from '../../protocol/generated/api-versions.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { ClientTelemetry, PUSH_INTERVAL_MS, subscriptionId } from '../client-telemetry.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';

t.test('subscription id: Kafka\'s CRC32C of the empty subscription XOR Uuid.hashCode (values from a 4.4 broker)', async (t) => {
  t.equal(subscriptionId('Fdc5SYPtQiqTMfTy3XfyKg'), 213591653);
  t.equal(subscriptionId('nGBcNNpCTailGjo1wSAbfg'), -153130231);
});

t.test('served, not advertised; an empty subscription', async (t) => {
  const tb = await startTestBroker();
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  const av = await c.request(18, 3, makeApiVersionsRequest({ clientSoftwareName: 'x', clientSoftwareVersion: '1' }));
  t.notOk(av.apiKeys.some((k: any) => k.apiKey === 71 || k.apiKey === 72), 'left out of ApiVersions');
  const sub = await c.request(71, 0, { clientInstanceId: ZERO });
  t.equal(sub.errorCode, ErrorCode.NONE);
  t.not(sub.clientInstanceId, ZERO, 'a new instance id');
  t.same([sub.subscriptionId, sub.acceptedCompressionTypes, sub.pushIntervalMs, sub.telemetryMaxBytes, sub.deltaTemporality, sub.requestedMetrics],
    [subscriptionId(sub.clientInstanceId), [4, 3, 1, 2], 300000, 1048576, true, []]);
  const again = await c.request(71, 0, { clientInstanceId: sub.clientInstanceId });
  t.same([again.errorCode, again.clientInstanceId, again.pushIntervalMs], [ErrorCode.THROTTLING_QUOTA_EXCEEDED, ZERO, 0], 'asked again too soon');
  const push = (over: any) => c.request(72, 0, { clientInstanceId: sub.clientInstanceId, subscriptionId: sub.subscriptionId, terminating: false, compressionType: 0, metrics: Buffer.alloc(0), ...over });
  t.equal((await push({ clientInstanceId: ZERO })).errorCode, ErrorCode.INVALID_REQUEST, 'zero id');
  t.equal((await push({})).errorCode, ErrorCode.NONE, 'first push after the get');
  t.equal((await push({})).errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED, 'second push too soon');
  t.equal((await push({ terminating: true })).errorCode, ErrorCode.NONE, 'terminating push always accepted');
  t.equal((await push({ terminating: true })).errorCode, ErrorCode.INVALID_REQUEST, 'nothing after terminating');
});

t.test('push checks in Kafka\'s order; idle instances expire', async (t) => {
  let now = 1_000_000;
  const tel = new ClientTelemetry((n) => Buffer.alloc(n, 7));
  const id = 'Fdc5SYPtQiqTMfTy3XfyKg';
  const push = (over: any) => tel.push({ clientInstanceId: id, subscriptionId: subscriptionId(id), terminating: false, compressionType: 0, metrics: Buffer.alloc(0), ...over }, now);
  t.equal(push({ subscriptionId: 1 }), ErrorCode.UNKNOWN_SUBSCRIPTION_ID);
  now += PUSH_INTERVAL_MS;
  t.equal(push({ compressionType: 9 }), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  now += PUSH_INTERVAL_MS;
  t.equal(push({ metrics: Buffer.alloc(1_048_577) }), ErrorCode.TELEMETRY_TOO_LARGE);
  now += PUSH_INTERVAL_MS;
  t.equal(push({ compressionType: 4, metrics: Buffer.alloc(10) }), ErrorCode.NONE);
  t.equal(tel.size, 1);
  now += 3 * PUSH_INTERVAL_MS;
  tel.getSubscription(ZERO, now);
  t.equal(tel.size, 1, 'the idle instance was dropped');
});
