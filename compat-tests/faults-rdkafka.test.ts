// node-rdkafka (librdkafka) against gregor's named fault rules (`gregor/testing`: startTestBroker().faults),
// reacting as it reacts to Kafka: retriable produce errors are retried and the record lands once, a produce
// answer lost after the append is retried by the idempotent producer without a duplicate, a full disk
// (KAFKA_STORAGE_ERROR) is retried until space is back, and a group coordinator that is still loading
// (COORDINATOR_LOAD_IN_PROGRESS) is waited for.
import t from 'tap';
import { startTestBroker, type TestBroker } from '../broker/test-broker.ts';
import { Rdkafka, RdProducer, rdConnect, rdDisconnect, waitFor } from './support/clients.ts';

async function broker(t: any, topics: string[]): Promise<TestBroker> {
  const tb = await startTestBroker({ topics });
  t.teardown(() => tb.close());
  return tb;
}

async function producer(t: any, tb: TestBroker, extra: Record<string, unknown> = {}): Promise<RdProducer> {
  const p = await new RdProducer(tb.bootstrap, { 'enable.idempotence': true, 'retry.backoff.ms': 20, 'linger.ms': 0, ...extra }).connect();
  t.teardown(() => p.disconnect());
  return p;
}

const logEnd = (tb: TestBroker, topic: string) => Number(tb.broker.context.storage.partition(topic, 0)!.logEndOffset);

t.test('NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT on produce: retried, delivered once', async (t) => {
  const tb = await broker(t, ['rd-nl']);
  const p = await producer(t, tb);
  tb.faults.add({ name: 'nl', api: 'Produce', topic: 'rd-nl', error: 'NOT_LEADER_OR_FOLLOWER', times: 2 });
  tb.faults.add({ name: 'to', api: 'Produce', topic: 'rd-nl', error: 'REQUEST_TIMED_OUT', times: 1 });
  const dr = await p.produce('rd-nl', 0, Buffer.from('v'), 'k');
  t.equal(dr.err, null, 'delivered');
  t.equal(logEnd(tb, 'rd-nl'), 1, 'one record');
  t.same(tb.faults.list(), [], 'both rules acted');
});

t.test('the produce answer lost after the append: the idempotent retry is acknowledged, no duplicate', async (t) => {
  const tb = await broker(t, ['rd-lost']);
  const p = await producer(t, tb, { 'request.timeout.ms': 1000, 'socket.timeout.ms': 1000 });
  await p.produce('rd-lost', 0, Buffer.from('warm-up'), 'k'); // the producer id is acquired before the fault
  tb.faults.add({ name: 'lost', api: 'Produce', topic: 'rd-lost', dropResponse: true, times: 1 });
  const dr = await p.produce('rd-lost', 0, Buffer.from('once'), 'k');
  t.equal(dr.err, null, 'delivered');
  t.equal(dr.offset, 1, 'at the offset of the first append');
  t.equal(logEnd(tb, 'rd-lost'), 2, 'appended once');
});

t.test('a full disk: KAFKA_STORAGE_ERROR is retried until the rule is cleared', async (t) => {
  const tb = await broker(t, ['rd-disk']);
  const p = await producer(t, tb);
  await p.produce('rd-disk', 0, Buffer.from('before'), 'k');
  tb.faults.add({ name: 'full', disk: 'full', topic: 'rd-disk', forMs: 1500 });
  const dr = await p.produce('rd-disk', 0, Buffer.from('during'), 'k');
  t.equal(dr.err, null, 'delivered once the disk had space again');
  t.equal(tb.faults.list().length, 0, 'the rule expired');
  t.equal(logEnd(tb, 'rd-disk'), 2);
});

t.test('COORDINATOR_LOAD_IN_PROGRESS on FindCoordinator: the consumer waits, then joins and consumes', async (t) => {
  const tb = await broker(t, ['rd-group']);
  const p = await producer(t, tb);
  await p.produce('rd-group', 0, Buffer.from('hello'), 'k');
  tb.faults.add({ name: 'loading', api: 'FindCoordinator', group: 'rd-g', error: 'COORDINATOR_LOAD_IN_PROGRESS', times: 3 });
  const c = new Rdkafka.KafkaConsumer({ 'metadata.broker.list': tb.bootstrap, 'group.id': 'rd-g', 'retry.backoff.ms': 20 }, { 'auto.offset.reset': 'earliest' });
  const got: string[] = [];
  c.on('data', (m: any) => got.push(String(m.value)));
  c.on('event.error', () => {});
  await rdConnect(c);
  t.teardown(() => rdDisconnect(c));
  c.subscribe(['rd-group']);
  c.consume();
  await waitFor('the record consumed', () => got.length > 0, 30_000);
  t.same(got, ['hello']);
  t.ok(tb.faults.list().every((r) => r.name !== 'loading'), 'the rule acted 3 times');
});
