// Faults through a broker's options, never globals: broker.intercept (intercept.ts), the injectable transport
// (transport.ts) and file system (BrokerOptions.fs).
import nodeFs from 'node:fs';
import { duplexPair, type Duplex } from 'node:stream';
import t from 'tap';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { ManualClock } from '../storage/clock.ts';
import { MemFs } from '../storage/index.ts';
import type { BrokerOptions } from './server.ts';
import { batchOf, PRODUCE } from './testing/produce.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker, type TestBroker } from './testing/start.ts';
import type { BoundServer, Transport, TransportSocket } from './transport.ts';

const API_VERSIONS = 18;
const AV_BODY = { clientSoftwareName: 'gregor-test', clientSoftwareVersion: '1.0' };

async function setup(t: any, options: Partial<BrokerOptions> = {}): Promise<{ tb: TestBroker; c: RawClient }> {
  const tb = await startTestBroker({}, options);
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

const produceBody = (topic: string, n = 2, acks = 1) => ({ acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batchOf(n) }] }] });
const send = (c: RawClient, apiKey: number, version: number, body: unknown) => c.sendRaw(c.encodeRequest(apiKey, version, body));
const partitionOf = (r: any) => r.responses[0].partitionResponses[0];
const logEnd = (tb: TestBroker, topic: string) => tb.broker.context.storage.partition(topic, 0)!.logEndOffset;

t.test('two brokers in one process: a fault on one does not reach the other; remove() ends it', async (t) => {
  const a = await setup(t);
  const b = await setup(t);
  const fault = a.tb.broker.intercept(API_VERSIONS, {}, { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
  t.equal((await a.c.request(API_VERSIONS, 3, AV_BODY)).errorCode, ErrorCode.UNKNOWN_SERVER_ERROR, 'broker a answers the injected error');
  t.equal((await b.c.request(API_VERSIONS, 3, AV_BODY)).errorCode, 0, 'broker b is untouched');
  fault.remove();
  t.equal(fault.remaining, 0);
  t.equal((await a.c.request(API_VERSIONS, 3, AV_BODY)).errorCode, 0, 'removed: broker a answers normally');
  t.equal(fault.hits, 1);
});

t.test('dropRequest: never handled, never answered; later requests are', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('dq', 1);
  tb.broker.intercept(PRODUCE, { times: 1 }, { dropRequest: true });
  send(c, PRODUCE, 9, produceBody('dq'));
  send(c, PRODUCE, 9, produceBody('dq'));
  const r = c.decodeResponse(PRODUCE, 9, await c.nextFrame());
  t.same([r.correlationId, partitionOf(r).errorCode, partitionOf(r).baseOffset], [2, 0, 0n], 'only the second is answered; the first was not appended');
  t.equal(logEnd(tb, 'dq'), 2);
});

t.test('dropResponse: handled (appended), the answer thrown away; later answers flow', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('dr', 1);
  tb.broker.intercept(PRODUCE, { times: 1 }, { dropResponse: true });
  send(c, PRODUCE, 9, produceBody('dr'));
  send(c, PRODUCE, 9, produceBody('dr'));
  const r = c.decodeResponse(PRODUCE, 9, await c.nextFrame());
  t.same([r.correlationId, partitionOf(r).baseOffset], [2, 2n], 'the first was appended at 0, only the second answered');
  t.equal(logEnd(tb, 'dr'), 4);
});

t.test('errorCode: answered as Kafka\'s getErrorResponse, not handled; acks=0 closes instead', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('ec', 1);
  const h = tb.broker.intercept(PRODUCE, {}, { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
  const r = await c.request(PRODUCE, 9, produceBody('ec'));
  t.same([r.responses[0].name, partitionOf(r).index, partitionOf(r).errorCode, partitionOf(r).baseOffset], ['ec', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1n]);
  t.equal(logEnd(tb, 'ec'), 0, 'nothing appended');
  send(c, PRODUCE, 9, produceBody('ec', 2, 0));
  await c.waitClosed();
  t.equal(logEnd(tb, 'ec'), 0);
  t.equal(h.hits, 2);
});

t.test('close before: the connection is reset on arrival, the request not handled', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('cb', 1);
  tb.broker.intercept(PRODUCE, { times: 1 }, { close: 'before' });
  send(c, PRODUCE, 9, produceBody('cb'));
  await c.waitClosed();
  t.equal(logEnd(tb, 'cb'), 0);
  t.match(tb.logLines.join('\n'), /connection closed before handling/);
  const c2 = await RawClient.connect(tb.port);
  t.teardown(() => c2.close());
  t.equal(partitionOf(await c2.request(PRODUCE, 9, produceBody('cb'))).baseOffset, 0n, 'used up: the next connection is served');
});

t.test('close after: handled, earlier answers written, then closed where its answer would be', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('ca', 1);
  let n = 0;
  tb.broker.intercept(PRODUCE, {}, () => (++n === 2 ? { close: 'after' } : undefined));
  send(c, PRODUCE, 9, produceBody('ca'));
  send(c, PRODUCE, 9, produceBody('ca'));
  const r = c.decodeResponse(PRODUCE, 9, await c.nextFrame());
  t.same([r.correlationId, partitionOf(r).baseOffset], [1, 0n], 'the earlier answer arrives');
  await c.waitClosed();
  await t.rejects(c.nextFrame(100), /closed/, 'no answer for the second');
  t.equal(logEnd(tb, 'ca'), 4, 'the second was appended');
});

t.test('delay: the answer waits on the broker clock and holds back later answers on the connection', async (t) => {
  const clock = new ManualClock();
  const { tb, c } = await setup(t, { clock });
  tb.broker.intercept(API_VERSIONS, { times: 1 }, { delay: 1000 });
  send(c, API_VERSIONS, 3, AV_BODY);
  send(c, API_VERSIONS, 3, AV_BODY);
  await t.rejects(c.nextFrame(200), /timed out/, 'no answer while the clock stands still, not even the undelayed second');
  let first: Buffer | undefined;
  for (let i = 0; i < 50 && !first; i++) {
    clock.advance(1000);
    first = await c.nextFrame(100).catch(() => undefined);
  }
  t.ok(first, 'answered once the clock passed the delay');
  const ids = [first!, await c.nextFrame()].map((f) => c.decodeResponse(API_VERSIONS, 3, f).correlationId);
  t.same(ids, [1, 2], 'in request order');
});

t.test('times, versions and match select the requests acted on; bad arguments are refused', async (t) => {
  const { tb, c } = await setup(t);
  const h = tb.broker.intercept(API_VERSIONS, { times: 2, versions: [3] }, { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
  t.equal((await c.request(API_VERSIONS, 2, {})).errorCode, 0, 'v2 is not selected');
  t.equal((await c.request(API_VERSIONS, 3, AV_BODY)).errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  t.equal(h.remaining, 1);
  t.equal((await c.request(API_VERSIONS, 3, AV_BODY)).errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  t.equal((await c.request(API_VERSIONS, 3, AV_BODY)).errorCode, 0, 'times used up');
  t.same([h.hits, h.remaining], [2, 0]);

  await tb.broker.context.createTopic('mx', 1);
  await tb.broker.context.createTopic('my', 1);
  let asked = 0;
  tb.broker.intercept(PRODUCE, { match: (req) => req.topicData[0].name === 'mx' }, () => (asked++, { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }));
  t.equal(partitionOf(await c.request(PRODUCE, 9, produceBody('my'))).errorCode, 0, 'not matched');
  t.equal(partitionOf(await c.request(PRODUCE, 9, produceBody('mx'))).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  t.equal(asked, 1, 'the decision is asked only for matching requests');

  t.throws(() => tb.broker.intercept(PRODUCE, { times: 0 }, { dropRequest: true }), RangeError);
  t.throws(() => tb.broker.intercept(PRODUCE, {}, { drop: true } as any), TypeError);
  t.throws(() => tb.broker.intercept(PRODUCE, {}, { close: 'later' } as any), TypeError);
});

/** An in-memory network: listen() registers a port, connect() hands the server one end of a duplex pair. */
class MemoryNetwork implements Transport {
  readonly #ports = new Map<number, (s: TransportSocket) => void>();
  #next = 1;
  async listen(spec: { port: number }, onConnection: (s: TransportSocket) => void): Promise<BoundServer> {
    const port = spec.port || this.#next++;
    this.#ports.set(port, onConnection);
    return { port, close: async () => { this.#ports.delete(port); } };
  }
  connect(port: number): Duplex {
    const accept = this.#ports.get(port);
    if (!accept) throw new Error(`ECONNREFUSED: nothing listens on ${port}`);
    const [client, server] = duplexPair();
    // A closed end resets the other, as a TCP peer would see (duplexPair alone does not propagate destroy).
    server.once('close', () => client.destroy());
    client.once('close', () => server.destroy());
    accept(server);
    return client;
  }
}

t.test('a custom transport carries real requests end to end (no TCP)', async (t) => {
  const net = new MemoryNetwork();
  const tb = await startTestBroker({}, { transport: net });
  t.teardown(() => tb.close());
  const c = RawClient.over(net.connect(tb.port));
  t.teardown(() => c.close());
  const av = await c.request(API_VERSIONS, 3, AV_BODY);
  t.equal(av.errorCode, 0);
  t.ok(av.apiKeys.some((k: any) => k.apiKey === PRODUCE), 'ApiVersions answered over the in-memory stream');
  await tb.broker.context.createTopic('mem', 1);
  t.equal(partitionOf(await c.request(PRODUCE, 9, produceBody('mem', 3))).baseOffset, 0n);
  t.equal(logEnd(tb, 'mem'), 3, 'produced through the in-memory transport');
  await tb.close();
  await c.waitClosed();
  t.throws(() => net.connect(tb.port), /ECONNREFUSED/, 'close() closed the listener');
});

t.test('fs: file storage on a MemFs keeps meta.properties and the logs there; a restart on it finds them', async (t) => {
  const mem = new MemFs();
  const dir = `/gregor-memfs-${process.pid}-${Date.now()}`;
  const first = await startTestBroker({ 'log.dirs': dir }, { storage: 'file', fs: mem });
  await first.broker.context.createTopic('kept', 1);
  const c = await RawClient.connect(first.port);
  t.equal(partitionOf(await c.request(PRODUCE, 9, produceBody('kept', 5))).baseOffset, 0n);
  c.close();
  await first.close();
  t.ok(await mem.stat(`${dir}/meta.properties`), 'meta.properties is on the MemFs');
  t.notOk(nodeFs.existsSync(dir), 'nothing on the real disk');
  const second = await startTestBroker({ 'log.dirs': dir }, { storage: 'file', fs: mem });
  t.teardown(() => second.close());
  t.equal(second.broker.clusterId, first.broker.clusterId, 'cluster.id read back from meta.properties');
  t.equal(logEnd(second, 'kept'), 5);
});
