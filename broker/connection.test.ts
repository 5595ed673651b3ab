import net from 'node:net';
import t from 'tap';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { makeCreatableTopic, makeCreateTopicsRequest } from '../protocol/generated/create-topics.ts';
import { DescribeClusterApi, makeDescribeClusterResponse } from '../protocol/generated/describe-cluster.ts';
import { makeFetchPartition, makeFetchTopic } from '../protocol/generated/fetch.ts';
import { makeMetadataRequest } from '../protocol/generated/metadata.ts';
import { Reader } from '../protocol/reader.ts';
import { defineHandler } from './handler.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker } from './testing/start.ts';

const PRODUCE = 0;
const API_VERSIONS = 18;
const METADATA = 3;
const CREATE_TOPICS = 19;
const FETCH = 1;

t.test('pipelined requests are answered in request order', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const frames: Buffer[] = [];
  const ids: number[] = [];
  for (let i = 0; i < 50; i++) {
    const id = 1000 + i;
    ids.push(id);
    frames.push(i % 2 === 0
      ? c.encodeRequest(API_VERSIONS, i % 5, {}, id)
      : c.encodeRequest(METADATA, i % 14, makeMetadataRequest({ topics: [] }), id));
  }
  // One write with all 50 requests packed together.
  c.sendRaw(Buffer.concat(frames));
  const got: number[] = [];
  for (let i = 0; i < 50; i++) got.push((await c.nextFrame()).readInt32BE(0));
  t.same(got, ids);
});

t.test('ApiVersions: every version, advertised from handlers, min 0 for what clients need', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  for (let v = 0; v <= 5; v++) {
    const res = await c.request(API_VERSIONS, v, { clientSoftwareName: 'gregor-test', clientSoftwareVersion: '1.0', clusterId: null, nodeId: -1 });
    t.equal(res.errorCode, ErrorCode.NONE, `v${v} no error`);
    const keys = res.apiKeys.map((k: any) => k.apiKey).sort((a: number, b: number) => a - b);
    const expected = tb.broker.handlers.flatMap((h, key) => (h && !h.unadvertised && !h.controllerOnly ? [key] : []));
    t.same(keys, expected, `v${v} advertises exactly the handlers that exist, minus the unadvertised (telemetry) and controller-only ones`);
    for (const k of res.apiKeys) {
      const h = tb.broker.handlers[k.apiKey]!;
      t.equal(k.maxVersion, h.maxVersion, `v${v} ${h.name} max`);
      t.equal(k.minVersion, h.advertisedMinVersion ?? h.minVersion, `v${v} ${h.name} min`);
    }
    const produce = res.apiKeys.find((k: any) => k.apiKey === 0);
    if (produce) t.equal(produce.minVersion, 0, 'Produce advertised from v0, as Kafka 4.x does (librdkafka ≤ 2.11 compression)');
    const av = res.apiKeys.find((k: any) => k.apiKey === API_VERSIONS);
    t.same([av.minVersion, av.maxVersion], [0, 5]);
  }
});

t.test('ApiVersions v3+: invalid client software name answers INVALID_REQUEST', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const res = await c.request(API_VERSIONS, 3, { clientSoftwareName: 'bad name!', clientSoftwareVersion: '1', clusterId: null, nodeId: -1 });
  t.equal(res.errorCode, ErrorCode.INVALID_REQUEST);
  // The connection stays usable.
  const ok = await c.request(API_VERSIONS, 3, { clientSoftwareName: 'good', clientSoftwareVersion: '1', clusterId: null, nodeId: -1 });
  t.equal(ok.errorCode, ErrorCode.NONE);
});

t.test('ApiVersions v5: a mismatched cluster or node id answers REBOOTSTRAP_REQUIRED', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const base = { clientSoftwareName: 'x', clientSoftwareVersion: '1' };
  t.equal((await c.request(API_VERSIONS, 5, { ...base, clusterId: 'AAAAAAAAAAAAAAAAAAAAAQ', nodeId: 1 })).errorCode, 129);
  t.equal((await c.request(API_VERSIONS, 5, { ...base, clusterId: tb.broker.clusterId, nodeId: 99 })).errorCode, 129);
  t.equal((await c.request(API_VERSIONS, 5, { ...base, clusterId: tb.broker.clusterId, nodeId: tb.broker.nodeId })).errorCode, 0);
});

t.test('ApiVersions with an unknown version gets a v0 body with error 35 and the ApiVersions range', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  // Hand-built v99 request: header v2 (flexible), body of garbage that must not be parsed.
  const hdr = Buffer.alloc(4 + 2 + 2 + 4 + 2 + 1 + 3);
  hdr.writeInt32BE(hdr.length - 4, 0);
  hdr.writeInt16BE(API_VERSIONS, 4);
  hdr.writeInt16BE(99, 6);
  hdr.writeInt32BE(4242, 8);
  hdr.writeInt16BE(-1, 12); // null client id
  hdr[14] = 0; // no header tags
  hdr.fill(0xff, 15); // garbage body
  c.sendRaw(hdr);
  const frame = await c.nextFrame();
  // Header v0 (correlation id only), then the v0 body: error code, ApiKeys array of one entry.
  const expected = Buffer.alloc(4 + 2 + 4 + 6);
  expected.writeInt32BE(4242, 0);
  expected.writeInt16BE(ErrorCode.UNSUPPORTED_VERSION, 4);
  expected.writeInt32BE(1, 6);
  expected.writeInt16BE(API_VERSIONS, 10);
  expected.writeInt16BE(0, 12);
  expected.writeInt16BE(5, 14);
  t.same(frame, expected);
  const again = await c.request(API_VERSIONS, 0, {});
  t.equal(again.errorCode, 0, 'connection still serves requests');
});

t.test('bad input closes that connection only, with a log line', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const healthy = await RawClient.connect(tb.port);
  t.teardown(() => healthy.close());

  const cases: Array<[string, (c: RawClient) => Buffer, RegExp]> = [
    ['unknown api key', (c) => c.encodeRequest(API_VERSIONS, 0, {}).fill(0x7f, 4, 6), /unsupported API key/],
    ['unsupported Metadata version', (c) => { const b = c.encodeRequest(METADATA, 1, makeMetadataRequest({ topics: [] })); b.writeInt16BE(40, 6); return b; }, /unsupported version 40 of Metadata/],
    ['truncated body', (c) => { const b = c.encodeRequest(METADATA, 1, makeMetadataRequest({ topics: [{ name: 'abc', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }] })); const cut = b.subarray(0, b.length - 2); cut.writeInt32BE(cut.length - 4, 0); return cut; }, /malformed Metadata v1 request/],
    ['frame shorter than a header', () => Buffer.from([0, 0, 0, 3, 0, 18, 0]), /too short/],
    ['negative frame size', () => Buffer.from([0xff, 0xff, 0xff, 0xf0]), /malformed frame/],
    ['frame over socket.request.max.bytes', () => { const b = Buffer.alloc(4); b.writeInt32BE(104857601, 0); return b; }, /malformed frame/],
    ['absurd array count', (c) => { const b = c.encodeRequest(METADATA, 1, makeMetadataRequest({ topics: [] })); b.writeInt32BE(0x7fffffff, b.length - 4); return b; }, /malformed Metadata/],
  ];
  for (const [name, make, logPattern] of cases) {
    const c = await RawClient.connect(tb.port);
    const before = tb.logLines.length;
    c.sendRaw(make(c));
    await c.waitClosed();
    t.ok(c.closed, `${name}: connection closed`);
    t.match(tb.logLines.slice(before).join('\n'), logPattern, `${name}: logged`);
    const res = await healthy.request(API_VERSIONS, 2, {});
    t.equal(res.errorCode, 0, `${name}: other connection still served`);
  }
});

t.test('a request split into single bytes is reassembled', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const req = c.encodeRequest(API_VERSIONS, 3, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' }, 77);
  for (const byte of req) {
    c.sendRaw(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
  const frame = await c.nextFrame();
  t.equal(new Reader(frame).int32(), 77);
});

t.test('a malformed frame pipelined behind valid requests closes only after their answers are written', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  // Kafka reads one request at a time, so the requests before a malformed frame are always answered.
  const trailers: Array<[string, Buffer]> = [
    ['negative frame size', Buffer.from([0xff, 0xff, 0xff, 0xf0])],
    ['frame shorter than a header', Buffer.from([0, 0, 0, 3, 0, 18, 0])],
    ['unknown api key', Buffer.from([0, 0, 0, 8, 0x7f, 0x7f, 0, 0, 0, 0, 0, 9])],
  ];
  let n = 0;
  for (const [name, trailer] of trailers) {
    const c = await RawClient.connect(tb.port);
    t.teardown(() => c.close());
    // CreateTopics answers asynchronously (storage), so the malformed frame is read before the answer is ready.
    const create = c.encodeRequest(CREATE_TOPICS, 5, makeCreateTopicsRequest({
      topics: [makeCreatableTopic({ name: `pipelined-${n++}`, numPartitions: 1, replicationFactor: 1 })], timeoutMs: 5000,
    }), 101);
    const versions = c.encodeRequest(API_VERSIONS, 3, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' }, 102);
    c.sendRaw(Buffer.concat([create, versions, trailer]));
    const first = c.decodeResponse(CREATE_TOPICS, 5, await c.nextFrame());
    t.equal(first.correlationId, 101, `${name}: the CreateTopics answer arrives`);
    t.equal(first.topics[0].errorCode, 0, `${name}: topic created`);
    t.equal(new Reader(await c.nextFrame()).int32(), 102, `${name}: then the ApiVersions answer`);
    await c.waitClosed();
    t.ok(c.closed, `${name}: then the connection closes`);
  }
});

t.test('a closing connection waits for owed answers at most connections.max.idle.ms', async (t) => {
  const tb = await startTestBroker({ 'connections.max.idle.ms': '200' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const created = await c.request(CREATE_TOPICS, 5, makeCreateTopicsRequest({ topics: [makeCreatableTopic({ name: 'slow', numPartitions: 1, replicationFactor: 1 })] }));
  t.equal(created.topics[0].errorCode, 0);
  // A long poll on an empty partition (answered after 60 s), then a malformed frame.
  const fetch = c.encodeRequest(FETCH, 4, {
    replicaId: -1, maxWaitMs: 60000, minBytes: 1, maxBytes: 1 << 20,
    topics: [makeFetchTopic({ topic: 'slow', partitions: [makeFetchPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })] })],
  });
  c.sendRaw(Buffer.concat([fetch, Buffer.from([0xff, 0xff, 0xff, 0xf0])]));
  await c.waitClosed(10000);
  t.ok(c.closed, 'closed by the idle bound, without waiting for the long poll');
  await t.rejects(c.nextFrame(10), /closed before a response/, 'the long poll was not answered');
});

t.test('broker.close() ends connections that are closing or that a client keeps open', async (t) => {
  const tb = await startTestBroker();
  let closed = false;
  t.teardown(() => closed || tb.close());
  // A failed acks=0 Produce makes the broker end its side (after earlier answers); this client keeps its
  // own side open (half-open, never reads).
  const lingering = net.connect({ port: tb.port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => lingering.destroy());
  await new Promise((r) => lingering.once('connect', r));
  const before = tb.logLines.length;
  const encoder = await RawClient.connect(tb.port);
  encoder.close();
  lingering.write(encoder.encodeRequest(PRODUCE, 9, { acks: 0, timeoutMs: 1000, topicData: [{ name: 'no such topic!', partitionData: [{ index: 0, records: null }] }] }));
  const deadline = Date.now() + 5000;
  while (!tb.logLines.slice(before).some((l) => /acks=0 produce request failed/.test(l))) {
    t.ok(Date.now() < deadline, 'the broker closes on the failed acks=0 Produce');
    if (Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  const idle = await RawClient.connect(tb.port);
  t.teardown(() => idle.close());
  await idle.request(API_VERSIONS, 3, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' });
  const done = tb.close().then(() => { closed = true; });
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  t.ok(closed, 'broker.close() settled within 5 s');
  await idle.waitClosed();
});

t.test('a handler that throws or rejects: UNKNOWN_SERVER_ERROR (Kafka\'s handleError), connection kept, bug logged', async (t) => {
  let calls = 0;
  const failing = defineHandler({
    api: DescribeClusterApi, minVersion: 0, maxVersion: 2,
    handle: () => {
      calls++;
      if (calls === 1) throw new Error('boom (sync)');
      if (calls === 2) return Promise.reject(new Error('boom (async)'));
      return makeDescribeClusterResponse({ clusterId: 'c' });
    },
  });
  const tb = await startTestBroker({}, { handlers: [failing] });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  for (const what of ['sync', 'async']) {
    const res = await c.request(60, 0, {});
    t.equal(res.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR, `${what}: UNKNOWN_SERVER_ERROR`);
    t.ok(tb.logLines.some((l) => new RegExp(`internal error handling DescribeCluster v0.*boom \\(${what}\\)`).test(l)), `${what}: logged`);
  }
  t.equal((await c.request(60, 0, {})).clusterId, 'c', 'the connection still serves');
});
