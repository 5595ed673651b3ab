import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';
import { ZERO_UUID } from '../topics.ts';

const METADATA = 3;

function req(version: number, names: string[] | null, allowAuto = true) {
  return makeMetadataRequest({
    topics: names === null ? null : names.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation: allowAuto,
  });
}

t.test('every version: broker list, cluster id, controller, auto-creation then partitions', async (t) => {
  const tb = await startTestBroker({ 'num.partitions': '3', 'broker.rack': 'rack-a' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const ids = new Set<string>();
  for (let v = 0; v <= 13; v++) {
    const topic = `auto-v${v}`;
    const first = await c.request(METADATA, v, req(v, [topic]));
    t.same(first.brokers.map((b: any) => [b.nodeId, b.host, b.port]), [[1, '127.0.0.1', tb.port]], `v${v} brokers`);
    if (v >= 1) t.equal(first.brokers[0].rack, 'rack-a', `v${v} rack`);
    if (v >= 1) t.equal(first.controllerId, 1, `v${v} controller is this node`);
    if (v >= 2) t.equal(first.clusterId, tb.broker.clusterId, `v${v} cluster id`);
    t.equal(first.topics[0].errorCode, ErrorCode.LEADER_NOT_AVAILABLE, `v${v} auto-create answers LEADER_NOT_AVAILABLE`);

    // Creation completes in the background; clients retry until the topic is there.
    let second = await c.request(METADATA, v, req(v, [topic]));
    for (const deadline = Date.now() + 5000; second.topics[0].errorCode === ErrorCode.LEADER_NOT_AVAILABLE && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 10));
      second = await c.request(METADATA, v, req(v, [topic]));
    }
    const tp = second.topics[0];
    t.equal(tp.errorCode, 0, `v${v} topic available on the next request`);
    t.equal(tp.name, topic);
    t.same(tp.partitions.map((p: any) => [p.partitionIndex, p.errorCode, p.leaderId, p.replicaNodes, p.isrNodes]),
      [0, 1, 2].map((i) => [i, 0, 1, [1], [1]]), `v${v} partitions led by this node`);
    if (v >= 7) t.equal(tp.partitions[0].leaderEpoch, 0);
    if (v >= 10) {
      t.not(tp.topicId, ZERO_UUID, `v${v} non-zero topic id`);
      ids.add(tp.topicId);
      const again = await c.request(METADATA, v, req(v, [topic]));
      t.equal(again.topics[0].topicId, tp.topicId, `v${v} topic id is stable`);
    }
  }
  t.equal(ids.size, 4, 'distinct ids for distinct topics');
});

t.test('null = all topics, empty = none (v1+), empty = all (v0)', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('a', 1);
  await tb.broker.context.createTopic('b', 1);
  const all = await c.request(METADATA, 12, req(12, null));
  t.same(all.topics.map((x: any) => x.name).sort(), ['a', 'b']);
  const none = await c.request(METADATA, 12, req(12, []));
  t.same(none.topics, []);
  const v0 = await c.request(METADATA, 0, req(0, []));
  t.same(v0.topics.map((x: any) => x.name).sort(), ['a', 'b']);
});

t.test('unknown topics, invalid names, auto-creation switched off', async (t) => {
  const tb = await startTestBroker({ 'auto.create.topics.enable': 'false' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const res = await c.request(METADATA, 9, req(9, ['missing', 'bad name', 'x'.repeat(250), '..', '__consumer_offsets']));
  t.same(res.topics.map((x: any) => [x.name, x.errorCode]), [
    ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION],
    ['x'.repeat(250), ErrorCode.INVALID_TOPIC_EXCEPTION],
    ['..', ErrorCode.INVALID_TOPIC_EXCEPTION],
    ['__consumer_offsets', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  ]);
  t.equal(tb.broker.context.topics.size, 0, 'nothing was created');
});

t.test('allowAutoTopicCreation=false is honoured; colliding names are not created', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const res = await c.request(METADATA, 8, req(8, ['no-auto'], false));
  t.equal(res.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await tb.broker.context.createTopic('a.b', 1);
  const col = await c.request(METADATA, 8, req(8, ['a_b']));
  t.equal(col.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'a_b collides with a.b');
});

t.test('lookup by topic id (v12+), unknown id answers UNKNOWN_TOPIC_ID', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const created = await tb.broker.context.createTopic('by-id', 2);
  const res = await c.request(METADATA, 12, makeMetadataRequest({
    topics: [{ name: null, topicId: created.topicId }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }],
  }));
  t.same(res.topics.map((x: any) => [x.name, x.errorCode, x.partitions.length]), [
    ['by-id', 0, 2],
    [null, ErrorCode.UNKNOWN_TOPIC_ID, 0],
  ]);
});

t.test('authorized operations are reported only when asked', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('ops', 1);
  const asked = await c.request(METADATA, 10, makeMetadataRequest({
    topics: [{ name: 'ops', topicId: ZERO_UUID }], includeTopicAuthorizedOperations: true, includeClusterAuthorizedOperations: true,
  }));
  t.not(asked.topics[0].topicAuthorizedOperations, -2147483648);
  t.not(asked.clusterAuthorizedOperations, -2147483648);
  const notAsked = await c.request(METADATA, 10, makeMetadataRequest({ topics: [{ name: 'ops', topicId: ZERO_UUID }] }));
  t.equal(notAsked.topics[0].topicAuthorizedOperations, -2147483648);
  t.equal(notAsked.clusterAuthorizedOperations, -2147483648);
});

t.test('advertised listeners: the address of the listener the request came in on', async (t) => {
  const tb = await startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
    'advertised.listeners': 'PLAINTEXT://kafka.example:9092,INTERNAL://127.0.0.1:0',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
  });
  t.teardown(() => tb.close());
  const [ext, int] = tb.broker.listeners;
  const c1 = await RawClient.connect(ext.port);
  const c2 = await RawClient.connect(int.port);
  t.teardown(() => { c1.close(); c2.close(); });
  const r1 = await c1.request(METADATA, 12, req(12, []));
  const r2 = await c2.request(METADATA, 12, req(12, []));
  t.same([r1.brokers[0].host, r1.brokers[0].port], ['kafka.example', 9092]);
  t.same([r2.brokers[0].host, r2.brokers[0].port], ['127.0.0.1', int.port]);
});

t.test('an empty topic name answers INVALID_TOPIC_EXCEPTION in every version (Kafka), the connection stays', async (t) => {
  const tb = await startTestBroker({ 'auto.create.topics.enable': 'false' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  for (let v = 0; v <= 13; v++) {
    const res = await c.request(METADATA, v, req(v, ['', 'ok-name']));
    t.same(res.topics.map((x: any) => [x.name, x.errorCode]), [['', ErrorCode.INVALID_TOPIC_EXCEPTION], ['ok-name', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]], `v${v}`);
  }
  t.notOk(c.closed);
});

t.test('v10-11: a null name or a topic id answers INVALID_REQUEST for every topic (Kafka\'s getErrorResponse)', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  await tb.broker.context.createTopic('there', 1);
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const id = tb.broker.context.topics.get('there')!.topicId;
  for (const v of [10, 11]) {
    const byNull = await c.request(METADATA, v, makeMetadataRequest({ topics: [{ name: null, topicId: id }, { name: 'there', topicId: ZERO_UUID }] }));
    t.same(byNull.topics.map((x: any) => [x.name, x.topicId, x.errorCode]), [['', id, ErrorCode.INVALID_REQUEST], ['there', ZERO_UUID, ErrorCode.INVALID_REQUEST]], `v${v} null name`);
    t.same(byNull.brokers, []);
    const byId = await c.request(METADATA, v, makeMetadataRequest({ topics: [{ name: 'there', topicId: id }] }));
    t.same(byId.topics.map((x: any) => x.errorCode), [ErrorCode.INVALID_REQUEST], `v${v} topic id`);
  }
  const v12 = await c.request(METADATA, 12, makeMetadataRequest({ topics: [{ name: null, topicId: id }] }));
  t.same(v12.topics.map((x: any) => [x.name, x.errorCode]), [['there', ErrorCode.NONE]], 'v12 looks the id up');
  t.notOk(c.closed);
});

t.test('auto-creation of more than 10,000 partitions in one request creates nothing', async (t) => {
  const tb = await startTestBroker({ 'num.partitions': '2' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const names = Array.from({ length: 5001 }, (_, i) => `big-${i}`);
  const res = await c.request(METADATA, 12, req(12, names));
  t.ok(res.topics.every((x: any) => x.errorCode === ErrorCode.LEADER_NOT_AVAILABLE), 'what Kafka answers before the controller refuses');
  t.notOk(tb.broker.context.isCreating('big-0'), 'no creation started');
  t.equal(tb.broker.context.storage.topics().length, 0);
  t.ok(tb.logLines.some((l) => /not auto-creating 5001 topic\(s\) of 2 partition\(s\)/.test(l)));
  // A request within the cap creates.
  await c.request(METADATA, 12, req(12, names.slice(0, 2)));
  for (const deadline = Date.now() + 5000; !tb.broker.context.topics.get('big-1') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
  t.ok(tb.broker.context.topics.get('big-0') && tb.broker.context.topics.get('big-1'), 'created');
});
