// Named fault rules (fault-rules.ts): selectors, every action, limits, disk faults, the HTTP API, and how
// kafkajs reacts to each as it reacts to Kafka.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { FaultRuleError } from './fault-rules.ts';
import { startTestBroker, type TestBroker } from './test-broker.ts';
import { batchOf, PRODUCE } from './testing/produce.ts';
import { RawClient } from './testing/raw-client.ts';

const FIND_COORDINATOR = 10;
const METADATA = 3;

async function setup(t: any, opts: Parameters<typeof startTestBroker>[0] = {}): Promise<{ tb: TestBroker; c: RawClient }> {
  const tb = await startTestBroker(opts);
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

const produceBody = (topic: string, partition = 0) => ({ acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: batchOf(1) }] }] });
const produceError = async (c: RawClient, topic: string, partition = 0) => (await c.request(PRODUCE, 9, produceBody(topic, partition))).responses[0].partitionResponses[0].errorCode;
const logEnd = (tb: TestBroker, topic: string) => Number(tb.broker.context.storage.partition(topic, 0)!.logEndOffset);
const kafkaOf = (tb: TestBroker, extra: Record<string, unknown> = {}) => new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 20, maxRetryTime: 200 }, ...extra });

t.test('rules are checked: one action, known API and error, unique names, disk only when enabled', async (t) => {
  const { tb } = await setup(t);
  const bad = (spec: any, re: RegExp) => t.throws(() => tb.faults.add(spec), { constructor: FaultRuleError, message: re });
  bad({ name: 'a' }, /exactly one action.*none/);
  bad({ name: 'a', delayMs: 5, dropRequest: true }, /exactly one action.*delayMs, dropRequest/);
  bad({ name: 'a', api: 'Produc', delayMs: 1 }, /no Kafka API "Produc"/);
  bad({ name: 'a', error: 'NOT_A_THING' }, /no Kafka error "NOT_A_THING"/);
  bad({ name: 'a', delayMs: -1 }, /delayMs/);
  bad({ name: 'a', partition: 0, delayMs: 1 }, /partition needs topic/);
  bad({ name: 'a b', delayMs: 1 }, /name/);
  bad({ name: 'a', delayMs: 1, colour: 'red' }, /unknown fault rule field "colour"/);
  bad({ name: 'a', disk: 'full', api: 'Produce' }, /disk rules select by topic/);
  tb.faults.add({ name: 'a', api: 'Metadata', delayMs: 1 });
  bad({ name: 'a', delayMs: 1 }, /exists/);
  t.same(tb.faults.list().map((r) => r.name), ['a']);
  t.equal(tb.faults.remove('a'), true);
  t.equal(tb.faults.remove('a'), false);

  const plain = await startTestBroker({ config: { 'gregor.fault.injection.enable': false } });
  t.teardown(() => plain.close());
  t.throws(() => plain.faults.add({ name: 'd', disk: 'full' }), /gregor.fault.injection.enable=true/);
});

t.test('error for one topic and partition, a given number of times; other topics untouched', async (t) => {
  const { tb, c } = await setup(t, { topics: [{ name: 'hit', partitions: 2 }, 'other'] });
  tb.faults.add({ name: 'nl', api: 'Produce', topic: 'hit', partition: 1, error: 'NOT_LEADER_OR_FOLLOWER', times: 2 });
  t.equal(await produceError(c, 'hit', 0), 0, 'partition 0 of the topic: not selected');
  t.equal(await produceError(c, 'other'), 0, 'another topic: not selected');
  t.equal(await produceError(c, 'hit', 1), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  t.equal(tb.faults.get('nl')?.hits, 1);
  t.equal(await produceError(c, 'hit', 1), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  t.equal(tb.faults.list().length, 0, 'used up: gone from the list');
  t.equal(await produceError(c, 'hit', 1), 0);
});

t.test('kafkajs retries NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT as against Kafka, and the record lands once', async (t) => {
  const { tb } = await setup(t, { topics: ['orders'] });
  tb.faults.add({ name: 'nl', api: 'Produce', topic: 'orders', error: 'NOT_LEADER_OR_FOLLOWER', times: 2 });
  tb.faults.add({ name: 'to', api: 'Produce', topic: 'orders', error: ErrorCode.REQUEST_TIMED_OUT, times: 1 });
  const producer = kafkaOf(tb).producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const [meta] = await producer.send({ topic: 'orders', messages: [{ value: 'once' }] });
  t.equal(meta?.errorCode, 0);
  t.equal(logEnd(tb, 'orders'), 1, 'one record');
  t.equal(tb.faults.list().length, 0, 'both rules used up');
});

t.test('dropResponse after the append: the idempotent producer retries and the log has no duplicate', async (t) => {
  const { tb } = await setup(t, { topics: ['payments'] });
  const producer = kafkaOf(tb, { requestTimeout: 500 }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  tb.faults.add({ name: 'lost-ack', api: 'Produce', topic: 'payments', dropResponse: true, times: 1 });
  const [meta] = await producer.send({ topic: 'payments', acks: -1, messages: [{ value: 'pay 10' }] });
  t.equal(meta?.errorCode, 0);
  t.equal(tb.faults.get('lost-ack'), undefined, 'the rule acted once');
  t.equal(logEnd(tb, 'payments'), 1, 'appended once, acknowledged on the retry');
});

t.test('pause holds matching requests until cleared; others on the connection are answered in order', async (t) => {
  const { tb, c } = await setup(t, { topics: ['slow', 'fast'] });
  tb.faults.add({ name: 'p', api: 'Produce', topic: 'slow', pause: true });
  let done = false;
  const held = c.request(PRODUCE, 9, produceBody('slow')).then((r) => { done = true; return r; });
  const other = await RawClient.connect(tb.port);
  t.teardown(() => other.close());
  t.equal(await produceError(other, 'fast'), 0, 'another topic goes through');
  t.equal(done, false, 'the paused produce is not answered');
  t.equal(logEnd(tb, 'slow'), 0, 'nor appended');
  t.equal(tb.faults.remove('p'), true);
  const r = await held;
  t.equal(r.responses[0].partitionResponses[0].errorCode, 0, 'handled once cleared');
  t.equal(logEnd(tb, 'slow'), 1);
});

t.test('a paused group coordinator: FindCoordinator for that group waits; other groups do not', async (t) => {
  const { tb, c } = await setup(t);
  tb.faults.add({ name: 'g', group: 'stuck', pause: true, forMs: 60_000 });
  let done = false;
  const held = c.request(FIND_COORDINATOR, 3, { key: 'stuck', keyType: 0 }).then((r) => { done = true; return r; });
  const other = await RawClient.connect(tb.port);
  t.teardown(() => other.close());
  t.equal((await other.request(FIND_COORDINATOR, 3, { key: 'free', keyType: 0 })).errorCode, 0);
  t.equal((await other.request(FIND_COORDINATOR, 4, { keyType: 0, coordinatorKeys: ['free'] })).coordinators[0].errorCode, 0);
  t.equal(done, false);
  t.ok(tb.faults.get('g')!.expiresAt! > Date.now(), 'expires at a time on the broker clock');
  tb.faults.clear();
  t.equal((await held).errorCode, 0);
});

t.test('throttle: throttle_time_ms in the answer, and the connection reads nothing meanwhile', async (t) => {
  const { tb, c } = await setup(t, { topics: ['th'] });
  tb.faults.add({ name: 'th', api: 'Produce', throttleMs: 300, times: 1 });
  const first = await c.request(PRODUCE, 9, produceBody('th'));
  t.equal(first.throttleTimeMs, 300);
  const t0 = Date.now();
  const second = await c.request(METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  t.equal(second.throttleTimeMs, 0);
  t.ok(Date.now() - t0 >= 250, 'the next request on the muted connection waited for the throttle');
});

t.test('clientId selector and delay', async (t) => {
  const { tb, c } = await setup(t);
  tb.faults.add({ name: 'only-other', api: 'Metadata', clientId: 'someone-else', error: 'UNKNOWN_SERVER_ERROR' });
  const r = await c.request(METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  t.equal(r.brokers.length, 1, 'raw-client is not selected');
  tb.faults.add({ name: 'mine', api: 'Metadata', clientId: 'raw-client', delayMs: 200, times: 1 });
  const t0 = Date.now();
  await c.request(METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  t.ok(Date.now() - t0 >= 150, 'delayed');
  t.equal(tb.faults.get('mine'), undefined);
});

t.test('close before / after: the connection resets, other connections go on', async (t) => {
  const { tb, c } = await setup(t, { topics: ['cl'] });
  tb.faults.add({ name: 'cut', api: 'Produce', close: 'after', times: 1 });
  const pending = c.request(PRODUCE, 9, produceBody('cl')).catch((e) => e);
  await c.waitClosed();
  t.ok((await pending) instanceof Error || c.closed, 'no answer: the connection closed');
  t.equal(logEnd(tb, 'cl'), 1, "'after': the request was handled");
  const c2 = await RawClient.connect(tb.port);
  t.teardown(() => c2.close());
  t.equal(await produceError(c2, 'cl'), 0);
});

t.test('disk full for one partition: KAFKA_STORAGE_ERROR there, until the rule is cleared', async (t) => {
  const { tb, c } = await setup(t, { topics: [{ name: 'disk', partitions: 2 }] });
  t.equal(await produceError(c, 'disk', 0), 0);
  tb.faults.add({ name: 'full', disk: 'full', topic: 'disk', partition: 0 });
  t.equal(await produceError(c, 'disk', 0), ErrorCode.KAFKA_STORAGE_ERROR);
  t.equal(await produceError(c, 'disk', 1), 0, 'the other partition writes');
  tb.faults.remove('full');
  let code = -1;
  for (let i = 0; i < 50 && code !== 0; i++) code = await produceError(c, 'disk', 0);
  t.equal(code, 0, 'writes again once space is back');
});

t.test('over HTTP: only with gregor.fault.injection.enable; add, list, clear', async (t) => {
  const off = await startTestBroker({ config: { 'gregor.http.listener': '127.0.0.1:0', 'gregor.fault.injection.enable': false } });
  t.teardown(() => off.close());
  t.equal((await fetch(`http://127.0.0.1:${off.broker.http!.port}/faults`)).status, 404, 'no /faults unless enabled');

  const { tb, c } = await setup(t, { topics: ['web'], config: { 'gregor.http.listener': '127.0.0.1:0' } });
  const base = `http://127.0.0.1:${tb.broker.http!.port}/faults`;
  const post = (body: unknown) => fetch(base, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const added = await post({ name: 'web-err', api: 'Produce', topic: 'web', error: 'NOT_LEADER_OR_FOLLOWER' });
  t.equal(added.status, 201);
  t.match(await added.json(), { name: 'web-err', hits: 0 });
  const refused = await post({ name: 'x', api: 'Nope', delayMs: 1 });
  t.equal(refused.status, 400);
  t.match(await refused.json(), { error: /no Kafka API/ });
  t.equal((await fetch(base, { method: 'POST', body: '{' })).status, 400, 'not JSON');
  t.equal(await produceError(c, 'web'), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  t.match(await (await fetch(base)).json(), { rules: [{ name: 'web-err', hits: 1 }] });
  t.equal((await fetch(`${base}?name=nope`)).status, 404);
  t.same(await (await fetch(`${base}?name=web-err`, { method: 'DELETE' })).json(), { cleared: 1 });
  t.equal(await produceError(c, 'web'), 0);
  await post({ name: 'a', api: 'Produce', delayMs: 1 });
  await post({ name: 'b', api: 'Fetch', delayMs: 1 });
  t.same(await (await fetch(base, { method: 'DELETE' })).json(), { cleared: 2 });
});
