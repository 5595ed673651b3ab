// gregor.http.listener: /healthz, /readyz, /metrics through real HTTP and Kafka requests to an in-process broker.
import net from 'node:net';
import t from 'tap';
import { buildBrokerConfig, configFromEnv } from '../config.ts';
import { memoryLogger } from '../log.ts';
import { type Broker, startBroker } from '../server.ts';
import { batchOf, FETCH, fetchRequest, produce } from '../testing/produce.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';
import { netTransport, type Transport } from '../transport.ts';

const HTTP = { 'gregor.http.listener': '127.0.0.1:0' };

interface PromSample { name: string; labels: Record<string, string>; value: number }

function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample with exactly these labels, or undefined. */
function value(samples: PromSample[], name: string, labels: Record<string, string | number> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => [k, String(v)]);
  return samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v))?.value;
}

async function get(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

async function scrape(broker: Broker): Promise<PromSample[]> {
  const r = await get(broker.http!.port, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return parseProm(r.text);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('off by default: no HTTP listener, no metrics kept', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  t.equal(tb.broker.http, null);
  t.equal(tb.broker.context.metrics, undefined);
});

t.test('configured as gregor.http.listener or GREGOR_HTTP_LISTENER; a malformed value is refused at start naming it', async (t) => {
  t.equal(buildBrokerConfig({ env: configFromEnv({ GREGOR_HTTP_LISTENER: ':9644' }) }).get('gregor.http.listener'), ':9644');
  t.equal(buildBrokerConfig().get('gregor.http.listener'), '');
  for (const bad of ['9644', 'host', 'host:99999', '[::1]']) {
    await t.rejects(startTestBroker({ 'gregor.http.listener': bad }), { name: 'ConfigError', message: /gregor\.http\.listener/ }, bad);
  }
});

t.test('produce and fetch move the topic, request, connection and log metrics', async (t) => {
  const tb = await startTestBroker(HTTP);
  t.teardown(() => tb.close());
  const b = tb.broker;
  t.ok(b.http && b.http.port > 0, 'bound port discoverable');
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await c.request(19, 5, { topics: [{ name: 'orders', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });

  const before = await scrape(b);
  t.equal(value(before, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'orders' }), undefined, 'nothing produced yet');
  t.equal(value(before, 'kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT', networkProcessor: '0' }), 1);

  const b1 = batchOf(5);
  const b2 = batchOf(3, { prefix: 'w' });
  t.equal((await produce(c, 'orders', 0, b1)).errorCode, 0);
  t.equal((await produce(c, 'orders', 1, b2)).errorCode, 0);
  const fetched = await c.request(FETCH, 12, fetchRequest([{ topic: 'orders', partition: 0, offset: 0 }]));
  const out = fetched.responses[0].partitions[0].records as Buffer;
  t.equal(out.length, b1.length, 'fetched the batch');

  const s = await scrape(b);
  t.equal(value(s, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'orders' }), 8, 'records produced');
  t.equal(value(s, 'kafka_server_brokertopicmetrics_messagesin_total'), 8, 'all topics');
  t.equal(value(s, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'orders' }), b1.length + b2.length, 'batch bytes in');
  t.equal(value(s, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'orders' }), out.length, 'record bytes out');
  t.equal(value(s, 'kafka_network_requestmetrics_requests_total', { request: 'Produce', version: 9 }), 2);
  t.equal(value(s, 'kafka_network_requestmetrics_requests_total', { request: 'Fetch', version: 12 }), 1);
  t.equal(value(s, 'kafka_network_requestmetrics_requests_total', { request: 'FetchConsumer', version: 12 }), 1);
  t.equal(value(s, 'kafka_network_requestmetrics_requests_total', { request: 'CreateTopics', version: 5 }), 1);
  t.equal(value(s, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Produce' }), 2);
  const p99 = value(s, 'kafka_network_requestmetrics_totaltimems', { request: 'Produce', quantile: '0.99' });
  t.ok(p99 !== undefined && p99 > 0, 'Produce p99 latency reported');
  t.ok(value(s, 'kafka_network_requestmetrics_totaltimems_sum', { request: 'Produce' })! > 0);
  t.equal(value(s, 'kafka_log_log_size', { topic: 'orders', partition: 0 }), b1.length);
  t.equal(value(s, 'kafka_log_log_size', { topic: 'orders', partition: 1 }), b2.length);
  t.equal(value(s, 'kafka_log_log_logendoffset', { topic: 'orders', partition: 0 }), 5);
  t.equal(value(s, 'kafka_topic_partition_current_offset', { topic: 'orders', partition: 1 }), 3);
  t.equal(value(s, 'kafka_topic_partitions', { topic: 'orders' }), 2);
  t.equal(value(s, 'kafka_server_replicamanager_underreplicatedpartitions'), 0);
  t.equal(value(s, 'kafka_server_replicamanager_partitioncount'), 2);
  t.equal(value(s, 'kafka_controller_kafkacontroller_globaltopiccount'), 1);
  t.ok(value(s, 'process_cpu_user_seconds_total') !== undefined, 'Node process metrics');
  t.ok(value(s, 'nodejs_heap_size_used_bytes') !== undefined, 'Node heap metrics');

  // Consumer lag (kafka_exporter's names): high watermark − committed offset.
  const commit = await c.request(8, 9, {
    groupId: 'billing', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: -1, committedMetadata: '' }, { partitionIndex: 1, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  t.same(commit.topics[0].partitions.map((p: any) => p.errorCode), [0, 0]);
  const g = await scrape(b);
  t.equal(value(g, 'kafka_consumergroup_lag', { consumergroup: 'billing', topic: 'orders', partition: 0 }), 3);
  t.equal(value(g, 'kafka_consumergroup_lag', { consumergroup: 'billing', topic: 'orders', partition: 1 }), 0);
  t.equal(value(g, 'kafka_consumergroup_current_offset', { consumergroup: 'billing', topic: 'orders', partition: 0 }), 2);
  t.equal(value(g, 'kafka_consumergroup_lag_sum', { consumergroup: 'billing', topic: 'orders' }), 3);

  // Connections: a second client, then both gone.
  const c2 = await RawClient.connect(tb.port);
  await until('2 connections', async () => (value(await scrape(b), 'kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT', networkProcessor: '0' }) === 2 ? true : undefined));
  c.close();
  c2.close();
  const closed = await until('connections closed', async () => {
    const x = await scrape(b);
    return value(x, 'kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT', networkProcessor: '0' }) === 0 ? x : undefined;
  });
  t.equal(value(closed, 'kafka_server_socket_server_metrics_connection_creation_total', { listener: 'PLAINTEXT', networkProcessor: '0' }), 2);
  t.equal(value(closed, 'kafka_server_socket_server_metrics_connection_close_total', { listener: 'PLAINTEXT', networkProcessor: '0' }), 2);

  // A deleted topic's metrics go, as Kafka's do.
  const c3 = await RawClient.connect(tb.port);
  t.teardown(() => c3.close());
  await c3.request(20, 4, { topicNames: ['orders'], timeoutMs: 5000 });
  const d = await scrape(b);
  t.equal(value(d, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'orders' }), undefined);
  t.equal(value(d, 'kafka_log_log_size', { topic: 'orders', partition: 0 }), undefined);
});

t.test('two brokers in one process keep separate metrics', async (t) => {
  const a = await startTestBroker(HTTP);
  t.teardown(() => a.close());
  const b = await startTestBroker(HTTP);
  t.teardown(() => b.close());
  t.not(a.broker.http!.port, b.broker.http!.port);
  const c = await RawClient.connect(a.port);
  t.teardown(() => c.close());
  t.equal((await produce(c, 'only-a', 0, batchOf(4))).errorCode, 0);
  const sa = await scrape(a.broker);
  const sb = await scrape(b.broker);
  t.equal(value(sa, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'only-a' }), 4);
  t.equal(value(sb, 'kafka_server_brokertopicmetrics_messagesin_total'), 0, 'the other broker counted nothing');
  t.equal(value(sb, 'kafka_network_requestmetrics_requests_total', { request: 'Produce', version: 9 }), undefined);
  t.ok(value(sb, 'process_cpu_user_seconds_total') !== undefined, 'both have process metrics');
});

/** A transport whose listen() and close() wait for a release, so start-up and shutdown can be observed. */
function gatedTransport() {
  let releaseListen!: () => void;
  let releaseClose!: () => void;
  const listenGate = new Promise<void>((r) => { releaseListen = r; });
  const closeGate = new Promise<void>((r) => { releaseClose = r; });
  const transport: Transport = {
    async listen(spec, onConnection) {
      await listenGate;
      const s = await netTransport.listen(spec, onConnection);
      return { port: s.port, close: async () => { await closeGate; await s.close(); } };
    },
  };
  return { transport, releaseListen, releaseClose };
}

t.test('/healthz while the process runs; /readyz 503 until listeners are bound and storage open, 503 again on shutdown', async (t) => {
  const log = memoryLogger();
  const gate = gatedTransport();
  const config = buildBrokerConfig({ overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', ...HTTP })) });
  const starting = startBroker({ config, storage: 'memory', logger: log, transport: gate.transport });
  let broker: Broker | undefined;
  t.teardown(async () => { gate.releaseListen(); gate.releaseClose(); await (broker ?? await starting.catch(() => undefined))?.close(); });
  const port = await until('the HTTP listener log line', async () => {
    const line = log.lines.find((l) => l.includes('gregor.http.listener listening on'));
    return line ? Number(/:(\d+)$/.exec(line)![1]) : undefined;
  });
  t.equal((await get(port, '/healthz')).status, 200, 'live while starting');
  const r = await get(port, '/readyz');
  t.equal(r.status, 503, 'not ready while starting');
  t.match(r.text, /starting/);
  t.equal((await get(port, '/metrics')).status, 503, 'no metrics before the broker is up');
  gate.releaseListen();
  broker = await starting;
  t.equal(broker.http!.port, port);
  t.equal((await get(port, '/readyz')).status, 200, 'ready');
  const closing = broker.close();
  t.equal((await get(port, '/readyz')).status, 503, 'not ready while shutting down');
  t.equal((await get(port, '/healthz')).status, 200, 'still live while shutting down');
  gate.releaseClose();
  await closing;
  await t.rejects(get(port, '/healthz'), 'the HTTP listener is closed with the broker');
});

t.test('a broker that fails to start closes its HTTP listener', async (t) => {
  const log = memoryLogger();
  const config = buildBrokerConfig({ overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', ...HTTP })) });
  const failing: Transport = { listen: async () => { throw new Error('bind failed'); } };
  await t.rejects(startBroker({ config, storage: 'memory', logger: log, transport: failing }), { message: 'bind failed' });
  const line = log.lines.find((l) => l.includes('gregor.http.listener listening on'))!;
  const port = Number(/:(\d+)$/.exec(line)![1]);
  await t.rejects(get(port, '/healthz'));
});

/** Sends raw bytes, returns everything the server wrote until it closed (or the deadline). */
function rawHttp(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no close within 5 s')); }, 5000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); });
    s.write(bytes);
  });
}

t.test('bad HTTP requests get 4xx answers and never disturb the broker', async (t) => {
  const tb = await startTestBroker(HTTP);
  t.teardown(() => tb.close());
  const port = tb.broker.http!.port;
  t.equal((await get(port, '/nope')).status, 404);
  const wrong = await get(port, '/metrics', { method: 'POST', body: 'x' });
  t.equal(wrong.status, 405);
  t.equal(wrong.headers.get('allow'), 'GET, HEAD');
  t.equal((await get(port, '/metrics', { method: 'HEAD' })).status, 200, 'HEAD served by the GET route');
  t.equal((await get(port, '/healthz?verbose=1')).status, 200, 'query strings ignored by routing');
  t.match(await rawHttp(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`), /^HTTP\/1\.1 431/, 'huge header: 431');
  t.match(await rawHttp(port, 'NOT-HTTP\r\n\r\n'), /^HTTP\/1\.1 400/, 'garbage: 400');
  t.match(await rawHttp(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`), /^HTTP\/1\.1 413/, 'declared body too large: 413');
  t.match(await rawHttp(port, Buffer.concat([Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'), Buffer.from(`200000\r\n${'b'.repeat(0x200000)}\r\n0\r\n\r\n`)])), /^HTTP\/1\.1 413/, 'streamed body too large: 413');
  const many = await Promise.all(Array.from({ length: 20 }, () => get(port, '/healthz')));
  t.same(many.map((r) => r.status), many.map(() => 200), 'still serving');
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  t.equal((await produce(c, 'after-bad-http', 0, batchOf(1))).errorCode, 0, 'Kafka listener unaffected');
});
