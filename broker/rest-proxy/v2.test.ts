// Confluent REST Proxy v2 driven by plain HTTP (fetch): produce with the binary and json embedded formats, consumer
// instances (create, subscribe, poll, commit, offsets, seek, delete, idle expiry), Confluent's error codes; records
// read back over the Kafka protocol and committed offsets checked through OffsetFetch.
import http from 'node:http';
import t, { type Test } from 'tap';
import { iterateBatches, records } from '../../protocol/records.ts';
import { makeOffsetFetchRequest } from '../../protocol/generated/offset-fetch.ts';
import { startTestBroker } from '../testing/start.ts';
import { RawClient } from '../testing/raw-client.ts';
import { FETCH, fetchRequest } from '../testing/produce.ts';
import { partitionForKey } from './murmur2.ts';

const V2 = 'application/vnd.kafka.v2+json';
const BINARY = 'application/vnd.kafka.binary.v2+json';
const JSON_T = 'application/vnd.kafka.json.v2+json';

async function start(t: Test, overrides: Record<string, string> = {}) {
  const tb = await startTestBroker({ 'gregor.rest.proxy.listener': '127.0.0.1:0', 'num.partitions': '3', ...overrides });
  t.teardown(() => tb.close());
  const port = tb.broker.restProxy!.port;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method, headers: { 'content-type': V2, ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), json: text ? JSON.parse(text) : undefined };
  };
  /** Confluent's GET with a body (fetch cannot send one). */
  const getWithBody = (path: string, body: unknown) => new Promise<{ status: number; json: any }>((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers: { 'content-type': V2, 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
  return { tb, call, getWithBody };
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

t.test('produce: binary and json formats, partitions by key / given / round robin, errors', async (t) => {
  const { tb, call } = await start(t);
  await tb.broker.context.createTopic('b', 3);
  const key = Buffer.from('user-1');
  const r = await call('POST', '/topics/b', { records: [{ key: key.toString('base64'), value: Buffer.from('one').toString('base64') }, { value: Buffer.from('two').toString('base64'), partition: 2 }, { key: key.toString('base64'), value: null }] }, { 'content-type': BINARY });
  t.equal(r.status, 200);
  t.equal(r.type, V2);
  const kp = partitionForKey(key, 3);
  const expected = kp === 2 ? [[2, 0], [2, 1], [2, 2]] : [[kp, 0], [2, 0], [kp, 1]];
  t.same(r.json, { key_schema_id: null, value_schema_id: null, offsets: expected.map(([partition, offset]) => ({ partition, offset, error_code: null, error: null })) });
  const stored = await readPartition(tb.port, 'b', kp);
  t.equal(stored[0].key!.toString(), 'user-1');
  t.equal(stored[0].value!.toString(), 'one');
  t.equal(stored.at(-1)!.value, null, 'a null value is a tombstone');

  const j = await call('POST', '/topics/b/partitions/1', { records: [{ key: { id: 7 }, value: { name: 'x', n: [1, 2] } }, { value: 'text' }] }, { 'content-type': JSON_T });
  t.same(j.json.offsets.map((o: any) => [o.partition, o.offset]), [[1, 0], [1, 1]]);
  const p1 = await readPartition(tb.port, 'b', 1);
  t.same(p1.map((x) => [x.key && x.key.toString(), x.value!.toString()]), [['{"id":7}', '{"name":"x","n":[1,2]}'], [null, '"text"']]);

  t.same((await call('POST', '/topics/nope', { records: [{ value: 'eA==' }] }, { 'content-type': BINARY })).json, { error_code: 40401, message: 'Topic not found.' });
  t.same((await call('POST', '/topics/b/partitions/7', { records: [{ value: 'eA==' }] }, { 'content-type': BINARY })), { status: 404, type: V2, json: { error_code: 40402, message: 'Partition not found.' } });
  t.equal((await call('POST', '/topics/b', { records: [{ value: 'not base64!' }] }, { 'content-type': BINARY })).json.error_code, 42201);
  t.equal((await call('POST', '/topics/b', { records: [{ value: 'eA==' }] }, { 'content-type': 'application/vnd.kafka.protobuf.v2+json' })).status, 415, 'protobuf is not served');
  t.match((await call('POST', '/topics/b', { value_schema: '"string"', records: [{ value: 'x' }] }, { 'content-type': 'application/vnd.kafka.avro.v2+json' })).json, { error_code: 422, message: /needs the Schema Registry/ }, 'avro without the registry');
  t.equal((await call('POST', '/topics/b', '{', { 'content-type': BINARY })).status, 400, 'invalid JSON');
  t.equal((await readPartition(tb.port, 'b', 0)).length + (await readPartition(tb.port, 'b', 1)).length + (await readPartition(tb.port, 'b', 2)).length, 5, 'nothing else produced');

  t.same((await call('GET', '/topics')).json, ['b']);
  t.match((await call('GET', '/topics/b')).json, { name: 'b', partitions: [{ partition: 0, leader: tb.broker.nodeId, replicas: [{ broker: tb.broker.nodeId, leader: true, in_sync: true }] }, {}, {}] });
  t.same((await call('GET', '/brokers')).json, { brokers: [tb.broker.nodeId] });
});

t.test('consumer instance: create, subscribe, poll, commit, offsets, seek, delete', async (t) => {
  const { tb, call, getWithBody } = await start(t);
  await tb.broker.context.createTopic('c', 2);
  await call('POST', '/topics/c/partitions/0', { records: [{ value: Buffer.from('a').toString('base64') }, { value: Buffer.from('b').toString('base64') }] }, { 'content-type': BINARY });
  await call('POST', '/topics/c/partitions/1', { records: [{ key: Buffer.from('k').toString('base64'), value: Buffer.from('c').toString('base64') }] }, { 'content-type': BINARY });

  const created = await call('POST', '/consumers/g1', { name: 'me', format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
  t.equal(created.status, 200);
  t.match(created.json, { instance_id: 'me', base_uri: /\/consumers\/g1\/instances\/me$/ });
  t.same((await call('POST', '/consumers/g1', { name: 'me' })).json.error_code, 40902, 'same name twice');
  t.equal((await call('POST', '/consumers/g1', { name: 'x', format: 'protobuf' })).json.error_code, 42204, 'format not served');
  t.equal((await call('POST', '/consumers/g1', { name: 'y', 'auto.offset.reset': 'sometimes' })).json.error_code, 42204);
  const base = '/consumers/g1/instances/me';
  t.equal((await call('POST', `${base}/subscription`, { topics: ['c'] })).status, 204);
  t.same((await call('GET', `${base}/subscription`)).json, { topics: ['c'] });
  t.equal((await call('POST', `${base}/subscription`, { topics: ['other'] })).json.error_code, 40901, 'already subscribed to other topics');

  // Poll until the three records arrive (the group assigns both partitions to the only member).
  const got: any[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < 3 && Date.now() < deadline) {
    const r = await call('GET', `${base}/records?timeout=200`, undefined, { accept: BINARY });
    t.equal(r.status, 200);
    got.push(...r.json);
  }
  t.same(got.map((r) => [r.topic, r.partition, r.offset, r.key && Buffer.from(r.key, 'base64').toString(), Buffer.from(r.value, 'base64').toString()])
    .sort((a, b) => a[1] - b[1] || a[2] - b[2]), [['c', 0, 0, null, 'a'], ['c', 0, 1, null, 'b'], ['c', 1, 0, 'k', 'c']]);
  t.same((await call('GET', `${base}/assignments`)).json.partitions.sort((a: any, b: any) => a.partition - b.partition), [{ topic: 'c', partition: 0 }, { topic: 'c', partition: 1 }]);
  t.equal((await call('GET', `${base}/records`, undefined, { accept: JSON_T })).json.error_code, 40601, 'format mismatch');

  // Commit what was consumed; OffsetFetch over the Kafka protocol sees it.
  t.equal((await call('POST', `${base}/offsets`)).status, 204);
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const of = await c.request(9, 7, makeOffsetFetchRequest({ groupId: 'g1', topics: [{ name: 'c', partitionIndexes: [0, 1] }], requireStable: false }));
  t.same(of.topics[0].partitions.map((p: any) => Number(p.committedOffset)), [2, 1], 'committed: the next offsets');
  t.equal((await call('POST', `${base}/offsets`, { offsets: [{ topic: 'c', partition: 0, offset: 1 }] })).status, 204, 'explicit offsets');
  t.same((await getWithBody(`${base}/offsets`, { partitions: [{ topic: 'c', partition: 0 }] })).json, { offsets: [{ topic: 'c', partition: 0, offset: 1, metadata: '' }] });

  // Seek to the beginning of partition 0: its records again.
  t.equal((await call('POST', `${base}/positions/beginning`, { partitions: [{ topic: 'c', partition: 0 }] })).status, 204);
  const again: any[] = [];
  const d2 = Date.now() + 10_000;
  while (again.length < 2 && Date.now() < d2) again.push(...(await call('GET', `${base}/records?timeout=200`)).json);
  t.same(again.map((r) => [r.partition, r.offset]), [[0, 0], [0, 1]]);

  t.equal((await call('DELETE', base)).status, 204);
  t.same((await call('GET', `${base}/records`)).json, { error_code: 40403, message: 'Consumer instance not found.' });
  t.equal((await call('DELETE', base)).json.error_code, 40403);
});

t.test('json format consumer, and a second instance of the group shares the partitions', async (t) => {
  const { tb, call } = await start(t);
  await tb.broker.context.createTopic('j', 2);
  await call('POST', '/topics/j', { records: [{ value: { a: 1 }, partition: 0 }, { value: [1, 2], partition: 1 }] }, { 'content-type': JSON_T });
  await call('POST', '/consumers/gj', { name: 'one', format: 'json', 'auto.offset.reset': 'earliest' });
  await call('POST', '/consumers/gj/instances/one/subscription', { topics: ['j'] });
  const got: any[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < 2 && Date.now() < deadline) {
    const r = await call('GET', '/consumers/gj/instances/one/records?timeout=200', undefined, { accept: JSON_T });
    t.equal(r.type, JSON_T);
    got.push(...r.json);
  }
  t.same(got.map((r) => r.value).sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1), [[1, 2], { a: 1 }], 'values as JSON');
  // A second member: the broker splits the two partitions between them.
  await call('POST', '/consumers/gj', { name: 'two', format: 'json' });
  await call('POST', '/consumers/gj/instances/two/subscription', { topics: ['j'] });
  const split = Date.now() + 30_000; // revocation, its acknowledgement, then the other member's next heartbeat
  let a: any[] = [], b: any[] = [];
  while (Date.now() < split) {
    await call('GET', '/consumers/gj/instances/one/records?timeout=50');
    await call('GET', '/consumers/gj/instances/two/records?timeout=50');
    a = (await call('GET', '/consumers/gj/instances/one/assignments')).json.partitions;
    b = (await call('GET', '/consumers/gj/instances/two/assignments')).json.partitions;
    if (a.length === 1 && b.length === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same([a.length, b.length], [1, 1], 'one partition each');
  t.not(a[0]?.partition, b[0]?.partition);
});

t.test('avro through the in-process Schema Registry: produce registers and encodes, consumers decode', async (t) => {
  const { tb, call } = await start(t, { 'gregor.schema.registry.listener': '127.0.0.1:0' });
  await tb.broker.context.createTopic('a', 1);
  const AVRO = 'application/vnd.kafka.avro.v2+json';
  const schema = JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'name', type: 'string' }, { name: 'age', type: ['null', 'int'], default: null }] });
  const r = await call('POST', '/topics/a', { value_schema: schema, records: [{ value: { name: 'ann', age: { int: 7 } } }, { value: { name: 'bob', age: null } }] }, { 'content-type': AVRO });
  t.equal(r.status, 200);
  const id = r.json.value_schema_id;
  t.ok(Number.isInteger(id) && id > 0, 'registered under a-value');
  t.same(r.json.offsets.map((o: any) => o.offset), [0, 1]);
  const sr = await fetch(`http://127.0.0.1:${tb.broker.schemaRegistry!.port}/subjects/a-value/versions/latest`);
  t.equal(((await sr.json()) as any).id, id, 'the registry has it');
  const stored = await readPartition(tb.port, 'a', 0);
  t.same([...stored[0].value!.subarray(0, 5)], [0, 0, 0, 0, id], "Confluent's wire format");
  t.same(stored[0].value!.subarray(5), Buffer.from([6, 0x61, 0x6e, 0x6e, 2, 14]), 'Avro binary: "ann", union branch 1, 7');
  t.same((await call('POST', '/topics/a', { value_schema_id: id, records: [{ value: { name: 'cy', age: null } }] }, { 'content-type': AVRO })).json.value_schema_id, id, 'by id');
  t.equal((await call('POST', '/topics/a', { value_schema_id: id, records: [{ value: { name: 3 } }] }, { 'content-type': AVRO })).json.error_code, 42203, 'not the schema');
  t.equal((await call('POST', '/topics/a', { records: [{ value: { name: 'x' } }] }, { 'content-type': AVRO })).json.error_code, 42202, 'no value schema');
  t.equal((await call('POST', '/topics/a', { value_schema_id: id, records: [{ key: 'k', value: { name: 'x', age: null } }] }, { 'content-type': AVRO })).json.error_code, 42201, 'no key schema');
  t.equal((await call('POST', '/topics/a', { value_schema_id: 999, records: [{ value: {} }] }, { 'content-type': AVRO })).json.error_code, 40403, 'unknown id');
  t.equal((await call('POST', '/topics/a', { value_schema: '{"type": "nope"}', records: [{ value: {} }] }, { 'content-type': AVRO })).json.error_code, 42205, 'invalid schema');

  await call('POST', '/consumers/ga', { name: 'r', format: 'avro', 'auto.offset.reset': 'earliest' });
  await call('POST', '/consumers/ga/instances/r/subscription', { topics: ['a'] });
  const got: any[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < 3 && Date.now() < deadline) got.push(...(await call('GET', '/consumers/ga/instances/r/records?timeout=200', undefined, { accept: AVRO })).json);
  t.same(got.map((x) => x.value), [{ name: 'ann', age: { int: 7 } }, { name: 'bob', age: null }, { name: 'cy', age: null }], 'JSON-encoded Avro back');
});

t.test('idle instances expire after gregor.rest.proxy.consumer.instance.timeout.ms', async (t) => {
  const { call } = await start(t, { 'gregor.rest.proxy.consumer.instance.timeout.ms': '1000' });
  await call('POST', '/consumers/ge', { name: 'idle' });
  await call('POST', '/consumers/ge', { name: 'busy' });
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    t.equal((await call('GET', '/consumers/ge/instances/busy/subscription')).status, 200, 'used: kept');
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same((await call('GET', '/consumers/ge/instances/idle/subscription')).json, { error_code: 40403, message: 'Consumer instance not found.' }, 'unused for 1 s: gone');
  t.equal((await call('POST', '/consumers/ge', { name: 'idle' })).status, 200, 'its name is free again');
});
