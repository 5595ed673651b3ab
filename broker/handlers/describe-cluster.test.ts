import t from 'tap';
import { makeDescribeClusterRequest } from '../../protocol/generated/describe-cluster.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const DESCRIBE_CLUSTER = 60;
const OMITTED = -2147483648;

t.test('every version: this node, cluster id, controller, rack; operations only when asked', async (t) => {
  const tb = await startTestBroker({ 'broker.rack': 'rack-z', 'node.id': '7' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  for (let v = 0; v <= 2; v++) {
    const res = await c.request(DESCRIBE_CLUSTER, v, makeDescribeClusterRequest({}));
    t.equal(res.errorCode, ErrorCode.NONE, `v${v}`);
    t.equal(res.errorMessage, null);
    t.equal(res.clusterId, tb.broker.clusterId);
    t.equal(res.controllerId, 7, `v${v} controller is this node`);
    t.same(res.brokers.map((b: any) => [b.brokerId, b.host, b.port, b.rack, b.isFenced]), [[7, '127.0.0.1', tb.port, 'rack-z', false]]);
    t.equal(res.clusterAuthorizedOperations, OMITTED, `v${v} operations not asked`);
    if (v >= 1) t.equal(res.endpointType, 1, `v${v} endpoint type brokers`);
    const asked = await c.request(DESCRIBE_CLUSTER, v, makeDescribeClusterRequest({ includeClusterAuthorizedOperations: true }));
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE
    t.equal(asked.clusterAuthorizedOperations, (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12), `v${v} no authorizer: everything`);
  }
  const fenced = await c.request(DESCRIBE_CLUSTER, 2, makeDescribeClusterRequest({ includeFencedBrokers: true }));
  t.same(fenced.brokers.map((b: any) => [b.brokerId, b.isFenced]), [[7, false]], 'v2 includeFencedBrokers: this node, unfenced');
});

t.test('endpoint types: controllers → MISMATCHED_ENDPOINT_TYPE, unknown → UNSUPPORTED_ENDPOINT_TYPE', async (t) => {
  const tb = await startTestBroker();
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  for (const v of [1, 2]) {
    const ctl = await c.request(DESCRIBE_CLUSTER, v, makeDescribeClusterRequest({ endpointType: 2 }));
    t.equal(ctl.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE, `v${v}`);
    t.equal(ctl.errorMessage, 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER');
    t.same(ctl.brokers, []);
    const unknown = await c.request(DESCRIBE_CLUSTER, v, makeDescribeClusterRequest({ endpointType: 9 }));
    t.equal(unknown.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `v${v}`);
    t.equal(unknown.errorMessage, 'Unsupported endpoint type 9');
    const zero = await c.request(DESCRIBE_CLUSTER, v, makeDescribeClusterRequest({ endpointType: 0 }));
    t.equal(zero.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `v${v} type 0 is Kafka's UNKNOWN`);
  }
});

t.test('the address of the listener the request came in on', async (t) => {
  const tb = await startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
    'advertised.listeners': 'PLAINTEXT://kafka.example:9092,INTERNAL://127.0.0.1:0',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
  });
  const [ext, int] = tb.broker.listeners;
  const c1 = await RawClient.connect(ext.port);
  const c2 = await RawClient.connect(int.port);
  t.teardown(async () => { c1.close(); c2.close(); await tb.close(); });
  const r1 = await c1.request(DESCRIBE_CLUSTER, 1, makeDescribeClusterRequest({}));
  const r2 = await c2.request(DESCRIBE_CLUSTER, 1, makeDescribeClusterRequest({}));
  t.same([r1.brokers[0].host, r1.brokers[0].port], ['kafka.example', 9092]);
  t.same([r2.brokers[0].host, r2.brokers[0].port], ['127.0.0.1', int.port]);
});
