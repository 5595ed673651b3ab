// Confluent REST Proxy v3 driven by plain HTTP (fetch): clusters, brokers, topics, partitions, produce; records
// read back over the Kafka protocol.
import t, { type Test } from 'tap';
import { Partitioners } from 'kafkajs';
import { iterateBatches, records } from '../../protocol/records.ts';
import { startTestBroker } from '../testing/start.ts';
import { RawClient } from '../testing/raw-client.ts';
import { FETCH, fetchRequest } from '../testing/produce.ts';
import { partitionForKey } from './murmur2.ts';

async function start(t: Test, overrides: Record<string, string> = {}) {
  const tb = await startTestBroker({ 'gregor.rest.proxy.listener': '127.0.0.1:0', 'num.partitions': '3', ...overrides });
  t.teardown(() => tb.close());
  const base = `http://127.0.0.1:${tb.broker.restProxy!.port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return { tb, call, cluster: tb.broker.clusterId };
}

async function readPartition(port: number, topic: string, partition: number) {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(FETCH, 12, fetchRequest([{ topic, partition, offset: 0 }]));
    const buf = res.responses[0].partitions[0].records as Buffer | null;
    return buf ? [...iterateBatches(buf)].flatMap((b) => [...records(buf.subarray(b.offset, b.offset + b.size))]) : [];
  } finally {
    c.close();
  }
}

t.test('clusters, brokers, topics and partitions', async (t) => {
  const { call, cluster, tb } = await start(t);
  const clusters = await call('GET', '/v3/clusters');
  t.equal(clusters.status, 200);
  t.equal(clusters.json.kind, 'KafkaClusterList');
  t.same(clusters.json.data.map((c: any) => c.cluster_id), [cluster]);
  t.equal((await call('GET', `/v3/clusters/${cluster}`)).json.kind, 'KafkaCluster');
  t.same(await call('GET', '/v3/clusters/nope'), { status: 404, json: { error_code: 404, message: 'Cluster nope cannot be found.' } });
  const brokers = (await call('GET', `/v3/clusters/${cluster}/brokers`)).json;
  t.same(brokers.data.map((b: any) => [b.broker_id, b.port]), [[tb.broker.nodeId, tb.port]]);

  const created = await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'orders', partitions_count: 4, configs: [{ name: 'cleanup.policy', value: 'compact' }] });
  t.equal(created.status, 201);
  t.match(created.json, { kind: 'KafkaTopic', topic_name: 'orders', partitions_count: 4, replication_factor: 1, is_internal: false });
  t.equal(tb.broker.context.topics.get('orders')?.configs.get('cleanup.policy'), 'compact', 'configs applied');
  t.same(await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'orders' }), { status: 400, json: { error_code: 40002, message: "Topic 'orders' already exists." } });
  t.equal((await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'bad', partitions_count: 1, configs: [{ name: 'cleanup.policy', value: 'sometimes' }] })).json.error_code, 40002, 'a Kafka error (INVALID_CONFIG)');
  t.equal((await call('POST', `/v3/clusters/${cluster}/topics`, '{')).json.error_code, 400, 'invalid JSON');
  t.same((await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'events' })).json.partitions_count, 3, 'num.partitions by default');
  t.same((await call('GET', `/v3/clusters/${cluster}/topics`)).json.data.map((x: any) => x.topic_name), ['events', 'orders']);
  t.equal((await call('GET', `/v3/clusters/${cluster}/topics/orders`)).json.partitions_count, 4);
  t.same((await call('GET', `/v3/clusters/${cluster}/topics/orders/partitions`)).json.data.map((p: any) => p.partition_id), [0, 1, 2, 3]);
  t.equal((await call('GET', `/v3/clusters/${cluster}/topics/orders/partitions/2`)).json.partition_id, 2);
  t.equal((await call('GET', `/v3/clusters/${cluster}/topics/orders/partitions/9`)).status, 404);
  t.same(await call('GET', `/v3/clusters/${cluster}/topics/nope`), { status: 404, json: { error_code: 404, message: 'This server does not host this topic-partition.' } });
  const configs = (await call('GET', `/v3/clusters/${cluster}/topics/orders/configs`)).json;
  t.equal(configs.kind, 'KafkaTopicConfigList');
  t.match(configs.data.find((c: any) => c.name === 'cleanup.policy'), { kind: 'KafkaTopicConfig', topic_name: 'orders', value: 'compact', is_default: false, source: 'DYNAMIC_TOPIC_CONFIG' });
  t.match((await call('GET', `/v3/clusters/${cluster}/topics/orders/configs/retention.ms`)).json, { name: 'retention.ms', value: '604800000', is_default: true, source: 'DEFAULT_CONFIG' });
  t.equal((await call('GET', `/v3/clusters/${cluster}/topics/orders/configs/no.such.config`)).status, 404);
  t.equal((await call('GET', `/v3/clusters/${cluster}/topics/nope/configs`)).status, 404);
  t.equal((await call('DELETE', `/v3/clusters/${cluster}/topics/events`)).status, 204);
  t.equal((await call('DELETE', `/v3/clusters/${cluster}/topics/events`)).status, 404);
  t.same((await call('GET', `/v3/clusters/${cluster}/topics`)).json.data.map((x: any) => x.topic_name), ['orders']);
  t.equal((await call('GET', '/v3/nothing')).json.error_code, 404);
  t.equal((await call('PUT', '/v3/clusters')).json.error_code, 405);
});

t.test('produce records: JSON, STRING and BINARY data, headers, keys partitioned as the Java client does', async (t) => {
  const { call, cluster, tb } = await start(t);
  await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 't', partitions_count: 6 });
  const path = `/v3/clusters/${cluster}/topics/t/records`;
  const r1 = await call('POST', path, { partition_id: 1, key: { type: 'STRING', data: 'k1' }, value: { type: 'JSON', data: { a: [1, 2] } }, headers: [{ name: 'h', value: Buffer.from('hv').toString('base64') }], timestamp: '2024-01-02T03:04:05.000Z' });
  t.match(r1, { status: 200, json: { error_code: 200, cluster_id: cluster, topic_name: 't', partition_id: 1, offset: 0, timestamp: '2024-01-02T03:04:05.000Z', key: { type: 'STRING', size: 2 }, value: { type: 'JSON', size: 11 } } });
  const r2 = await call('POST', path, { partition_id: 1, value: { type: 'BINARY', data: Buffer.from([0, 1, 255]).toString('base64') } });
  t.equal(r2.json.offset, 1);
  const recs = await readPartition(tb.port, 't', 1);
  t.same(recs.map((r) => [r.key?.toString() ?? null, r.value?.toString('hex')]), [['k1', Buffer.from('{"a":[1,2]}').toString('hex')], [null, '0001ff']]);
  t.same(recs[0].headers.map((h) => [h.key, h.value?.toString()]), [['h', 'hv']]);
  t.equal(recs[0].timestamp, Date.parse('2024-01-02T03:04:05.000Z'));

  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
  for (const key of ['alpha', 'beta', 'gamma', 'delta', 'a-much-longer-key-0123456789']) {
    const r = await call('POST', path, { key: { type: 'STRING', data: key }, value: { type: 'STRING', data: 'v' } });
    t.equal(r.json.partition_id, partitionForKey(Buffer.from(key), 6), `${key}: murmur2`);
    t.equal(r.json.partition_id, partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }), `${key}: where kafkajs puts it`);
  }
  const spread = new Set<number>();
  for (let i = 0; i < 6; i++) spread.add((await call('POST', path, { value: { type: 'STRING', data: `${i}` } })).json.partition_id);
  t.equal(spread.size, 6, 'records without key or partition go round robin');

  const bad = async (body: unknown, status: number, what: string) => t.equal((await call('POST', path, body)).status, status, what);
  await bad({ value: { type: 'BINARY', data: '***' } }, 400, 'BINARY that is not base64');
  await bad({ value: { type: 'AVRO', data: {} } }, 400, 'a type not served');
  await bad({ value: { type: 'STRING', data: 5 } }, 400, 'STRING data not a string');
  await bad({ partition_id: 99, value: { type: 'STRING', data: 'x' } }, 404, 'unknown partition');
  await bad({ timestamp: 'yesterday' }, 400, 'invalid timestamp');
  await bad({ headers: 'x' }, 400, 'headers not a list');
  t.equal((await call('POST', `/v3/clusters/${cluster}/topics/missing/records`, { value: { type: 'STRING', data: 'x' } })).status, 404, 'unknown topic: not auto-created');
  t.notOk(tb.broker.context.topics.get('missing'));
});

t.test('a record over message.max.bytes is refused with the Kafka error', async (t) => {
  const { call, cluster } = await start(t, { 'message.max.bytes': '2000' });
  await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 't', partitions_count: 1 });
  const r = await call('POST', `/v3/clusters/${cluster}/topics/t/records`, { value: { type: 'STRING', data: 'x'.repeat(5000) } });
  t.equal(r.status, 400);
  t.equal(r.json.error_code, 40002);
});

t.test('consumer groups: list, describe, lags and lag summary', async (t) => {
  const { call, cluster, tb } = await start(t, { 'group.initial.rebalance.delay.ms': '0' });
  await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'lagging', partitions_count: 2 });
  for (let i = 0; i < 10; i++) await call('POST', `/v3/clusters/${cluster}/topics/lagging/records`, { partition_id: i % 2, value: { type: 'STRING', data: `${i}` } });
  // A kafkajs consumer group reads 3 records of partition 0 and 1 of partition 1, commits, and stays in the group.
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ clientId: 'lag-test', brokers: [`127.0.0.1:${tb.port}`], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'readers', maxWaitTimeInMs: 100 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topics: ['lagging'], fromBeginning: true });
  let seen = 0;
  await consumer.run({ autoCommit: false, eachMessage: async () => { seen++; } });
  const deadline = Date.now() + 20000;
  while (seen < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await consumer.commitOffsets([{ topic: 'lagging', partition: 0, offset: '3' }, { topic: 'lagging', partition: 1, offset: '1' }]);

  const groups = (await call('GET', `/v3/clusters/${cluster}/consumer-groups`)).json;
  t.same(groups.data.map((g: any) => [g.consumer_group_id, g.state]), [['readers', 'STABLE']]);
  t.match((await call('GET', `/v3/clusters/${cluster}/consumer-groups/readers`)).json, { kind: 'KafkaConsumerGroup', partition_assignor: /\w+/, is_simple: false });
  t.equal((await call('GET', `/v3/clusters/${cluster}/consumer-groups/nobody`)).status, 404);
  const lags = (await call('GET', `/v3/clusters/${cluster}/consumer-groups/readers/lags`)).json;
  t.same(lags.data.map((l: any) => [l.topic_name, l.partition_id, l.current_offset, l.log_end_offset, l.lag]), [['lagging', 0, 3, 5, 2], ['lagging', 1, 1, 5, 4]]);
  t.ok(lags.data.every((l: any) => l.consumer_id.startsWith('lag-test') && l.client_id === 'lag-test'), 'each partition names its consumer');
  const summary = (await call('GET', `/v3/clusters/${cluster}/consumer-groups/readers/lag-summary`)).json;
  t.match(summary, { kind: 'KafkaConsumerGroupLagSummary', max_lag: 4, total_lag: 6, max_lag_topic_name: 'lagging', max_lag_partition_id: 1, max_lag_client_id: 'lag-test' });
  t.equal((await call('GET', `/v3/clusters/${cluster}/consumer-groups/nobody/lag-summary`)).status, 404);
});

t.test('streamed produce: records one after another in the body, one result per line, errors inline', async (t) => {
  const { cluster, tb } = await start(t);
  const base = `http://127.0.0.1:${tb.broker.restProxy!.port}/v3/clusters/${cluster}`;
  await fetch(`${base}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic_name: 's', partitions_count: 1 }) });
  const rec = (v: string, extra: Record<string, unknown> = {}) => JSON.stringify({ value: { type: 'STRING', data: v }, ...extra });
  const res = await fetch(`${base}/topics/s/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `${rec('a')}\n${rec('b', { partition_id: 7 })} ${rec('c{"]')}` });
  t.equal(res.status, 200);
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((l) => [l.error_code, l.offset]), [[200, 0], [404, undefined], [200, 1]], 'in order; the bad record answered inline');
  const recs = await readPartition(tb.port, 's', 0);
  t.same(recs.map((r) => r.value?.toString()), ['a', 'c{"]']);
  const bad = await fetch(`${base}/topics/s/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `${rec('x')} nonsense` });
  t.equal(bad.status, 400, 'a body that is not a stream of objects');
  t.same((await readPartition(tb.port, 's', 0)).length, 2, 'nothing of it produced');
});
