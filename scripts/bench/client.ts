// Bench client process: spawned by scripts/bench/main.ts so that the clients' event loops never share a
// thread with the harness (or with each other). One mode per process:
//
//   node scripts/bench/client.ts <mode> '<json config>'
//
// Protocol with the harness: the child prints `ready` on stdout once connected and warmed up, waits for a
// `go` line on stdin, runs, and prints one line `result <json>` on stdout. Logs go to stderr.
//   produce      node-rdkafka Producer, fixed-size values (null keys), as fast as it can for `seconds`
//   consume      node-rdkafka KafkaConsumer, assign() every partition from offset 0 until `expected` records
//   lat-produce  node-rdkafka Producer at a fixed `rate`; the value starts with process.hrtime.bigint()
//                (CLOCK_MONOTONIC, comparable across processes on one machine)
//   lat-consume  node-rdkafka KafkaConsumer (flowing mode), latency = receive time − the value's timestamp
//   group        three kafkajs consumers in one group, subscribe from the beginning; time to the first
//                record, and until every one of the three has consumed a record (a stable 3-member group)
//   tcp-sink     counts bytes arriving on a TCP listener (the loopback limit); prints `port <n>` first
//   scale-topics raw-protocol client: CreateTopics for `topics` × `partitions` in requests of `batch` topics,
//                until Metadata shows every partition with a leader; then `rounds` × Metadata for all topics
//   scale-conns  `connections` raw-protocol connections, each producing acks=1 batches to `topic`; `ready` once
//                every connection has had one produce acknowledged (the harness reads the broker's RSS then)
import { createRequire } from 'node:module';
import net from 'node:net';
import readline from 'node:readline';
import { buildRecordBatch } from '../../protocol/records.ts';
import { makeCreatableTopic } from '../../protocol/generated/create-topics.ts';
import { makePartitionProduceData, makeTopicProduceData } from '../../protocol/generated/produce.ts';
import { RawClient } from '../../broker/testing/raw-client.ts';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Rdkafka: any = require('node-rdkafka');

const [mode, cfgJson] = process.argv.slice(2);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cfg: any = JSON.parse(cfgJson ?? '{}');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => performance.now();
/** Absolute ms on CLOCK_MONOTONIC, comparable between processes. */
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

const lines = readline.createInterface({ input: process.stdin });
const goWaiters: (() => void)[] = [];
let gotGo = false;
lines.on('line', (l) => { if (l.trim() === 'go') { gotGo = true; for (const w of goWaiters.splice(0)) w(); } });
function waitGo(): Promise<void> { return gotGo ? Promise.resolve() : new Promise((r) => goWaiters.push(r)); }
function send(line: string): void { process.stdout.write(line + '\n'); }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function connect(client: any): Promise<void> {
  return new Promise((resolve, reject) => client.connect({ timeout: 30000 }, (err: unknown) => (err ? reject(err) : resolve())));
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function disconnect(client: any): Promise<void> {
  return new Promise((resolve) => { const t = setTimeout(resolve, 10000); client.disconnect(() => { clearTimeout(t); resolve(); }); });
}

function producerConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'metadata.broker.list': cfg.bootstrap, dr_cb: true,
    'request.required.acks': cfg.acks === 'all' ? -1 : Number(cfg.acks ?? 1),
    'compression.codec': cfg.compression ?? 'none', 'linger.ms': cfg.lingerMs ?? 5,
    'queue.buffering.max.messages': 1000000, 'queue.buffering.max.kbytes': 262144, 'message.timeout.ms': 120000,
    ...extra,
  };
}

async function produce(): Promise<unknown> {
  const p = new Rdkafka.Producer(producerConfig());
  let delivered = 0, failed = 0, lastReport = 0, firstError = '';
  p.on('delivery-report', (err: { message?: string } | null) => {
    if (err) { failed++; firstError ||= String(err.message ?? err); } else delivered++;
    lastReport = now();
  });
  await connect(p);
  p.setPollInterval(2);
  // Warm-up: metadata + one delivered record, so the timed part starts with leaders known.
  p.produce(cfg.topic, null, Buffer.from('warm-up'));
  const deadline = Date.now() + 30000;
  while (delivered + failed < 1) { if (Date.now() > deadline) throw new Error('warm-up record not delivered'); await sleep(5); }
  if (failed) throw new Error(`warm-up failed: ${firstError}`);
  delivered = 0;
  send('ready');
  await waitGo();
  const value = Buffer.alloc(cfg.recordBytes, 0x61);
  for (let i = 0; i < value.length; i++) value[i] = 97 + (i % 26); // compressible but not a single byte
  let sent = 0;
  const t0 = now();
  const t0Mono = monoMs();
  const end = t0 + cfg.seconds * 1000;
  while (now() < end) {
    for (let i = 0; i < 2000; i++) {
      try { p.produce(cfg.topic, null, value); } catch (e: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
        if (e?.code !== Rdkafka.CODES.ERRORS.ERR__QUEUE_FULL) throw e;
        break; // queue full: let librdkafka drain
      }
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const drain = Date.now() + 180000;
  while (delivered + failed < sent) { if (Date.now() > drain) throw new Error(`only ${delivered + failed} of ${sent} reports`); await sleep(2); }
  await disconnect(p);
  if (failed) throw new Error(`${failed} delivery failures: ${firstError}`);
  const ms = lastReport - t0;
  return { records: delivered, bytes: delivered * cfg.recordBytes, ms, startMono: t0Mono, endMono: t0Mono + ms, warmup: 1 };
}

async function consume(): Promise<unknown> {
  const c = new Rdkafka.KafkaConsumer({
    'metadata.broker.list': cfg.bootstrap, 'group.id': `bench-assign-${process.pid}`, 'enable.auto.commit': false,
    'fetch.wait.max.ms': 100,
  }, { 'auto.offset.reset': 'earliest' });
  await connect(c);
  // Reads its share of partitions (cfg.partitionList) up to the high watermarks as they are now.
  const parts: number[] = cfg.partitionList;
  const want = new Map<number, number>();
  for (const p of parts) {
    const w: { highOffset: number } = await new Promise((resolve, reject) =>
      c.queryWatermarkOffsets(cfg.topic, p, 10000, (err: unknown, o: { highOffset: number }) => (err ? reject(err) : resolve(o))));
    want.set(p, w.highOffset);
  }
  const expected = [...want.values()].reduce((a, b) => a + b, 0);
  send('ready');
  await waitGo();
  let records = 0, bytes = 0, last = 0;
  const t0 = now();
  c.assign(parts.map((partition) => ({ topic: cfg.topic, partition, offset: 0 })));
  const deadline = Date.now() + 300000;
  while (records < expected) {
    if (Date.now() > deadline) throw new Error(`consumed ${records} of ${expected}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const msgs: any[] = await new Promise((resolve, reject) => c.consume(10000, (err: unknown, m: any[]) => (err ? reject(err) : resolve(m))));
    for (const m of msgs) { records++; bytes += m.value?.length ?? 0; }
    if (msgs.length) last = now();
  }
  await disconnect(c);
  const lastMono = monoMs() - (now() - last);
  return { records, bytes, ms: last - t0, startMono: lastMono - (last - t0), endMono: lastMono };
}

async function latProduce(): Promise<unknown> {
  const p = new Rdkafka.Producer(producerConfig({ 'linger.ms': cfg.lingerMs ?? 1 }));
  let delivered = 0, failed = 0;
  p.on('delivery-report', (err: unknown) => { if (err) failed++; else delivered++; });
  await connect(p);
  p.setPollInterval(5);
  p.produce(cfg.topic, null, Buffer.alloc(cfg.recordBytes)); // warm-up (timestamp 0: the consumer skips it)
  const deadline = Date.now() + 30000;
  while (delivered + failed < 1) { if (Date.now() > deadline) throw new Error('warm-up record not delivered'); await sleep(5); }
  send('ready');
  await waitGo();
  const total = Math.round(cfg.rate * cfg.seconds);
  let sent = 0;
  const t0 = now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * cfg.rate));
    while (sent < due) {
      const v = Buffer.alloc(cfg.recordBytes);
      v.writeBigUInt64BE(process.hrtime.bigint(), 0);
      p.produce(cfg.topic, null, v);
      sent++;
    }
    await sleep(1);
  }
  const drain = Date.now() + 60000;
  while (delivered + failed < sent + 1) { if (Date.now() > drain) break; await sleep(5); }
  await disconnect(p);
  return { sent, delivered: delivered - 1, failed, ms: now() - t0 };
}

async function latConsume(): Promise<unknown> {
  const c = new Rdkafka.KafkaConsumer({
    'metadata.broker.list': cfg.bootstrap, 'group.id': `bench-lat-${process.pid}`, 'enable.auto.commit': false,
    'fetch.wait.max.ms': 500, 'fetch.min.bytes': 1,
  }, { 'auto.offset.reset': 'earliest' });
  await connect(c);
  const lat: number[] = [];
  let seen = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  c.on('data', (m: { value: Buffer }) => {
    const t = process.hrtime.bigint();
    const ts = m.value.readBigUInt64BE(0);
    if (ts === 0n) return; // warm-up record
    seen++;
    if (seen > cfg.skip) lat.push(Number(t - ts) / 1e6);
    if (seen >= cfg.expected) resolveDone();
  });
  c.assign(Array.from({ length: cfg.partitions }, (_, partition) => ({ topic: cfg.topic, partition, offset: 0 })));
  c.consume();
  await sleep(1000); // first fetches under way before the producer starts
  send('ready');
  await waitGo();
  await Promise.race([done, sleep(cfg.seconds * 1000 + 30000)]);
  c.unsubscribe();
  await disconnect(c);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : NaN;
  return { received: seen, measured: lat.length, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: lat.at(-1) ?? NaN, mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1) };
}

async function group(): Promise<unknown> {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const kafka = new Kafka({ clientId: 'bench-group', brokers: [cfg.bootstrap], logLevel: logLevel.NOTHING });
  send('ready');
  await waitGo();
  const t0 = now();
  const first: number[] = [];
  let firstAny = NaN;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => { resolveAll = r; });
  const consumers = Array.from({ length: 3 }, () => kafka.consumer({ groupId: cfg.groupId, rebalanceTimeout: 10000, sessionTimeout: 10000 }));
  const joins: number[] = [];
  await Promise.all(consumers.map(async (c, i) => {
    c.on(c.events.GROUP_JOIN, () => joins.push(now() - t0));
    await c.connect();
    await c.subscribe({ topic: cfg.topic, fromBeginning: true });
    await c.run({
      eachMessage: async () => {
        if (first[i] === undefined) {
          first[i] = now() - t0;
          if (Number.isNaN(firstAny)) firstAny = first[i]!;
          if (first.filter((x) => x !== undefined).length === 3) resolveAll();
        }
      },
    });
  }));
  await Promise.race([all, sleep(60000)]);
  const allThree = first.filter((x) => x !== undefined).length === 3 ? Math.max(...first) : NaN;
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
  return { firstRecordMs: firstAny, allThreeMs: allThree, joins: joins.length, lastJoinMs: joins.length ? Math.max(...joins) : NaN };
}

/** One request on a RawClient, waiting up to `timeoutMs` for the response; ms = send → whole frame received. */
async function rawRequest(c: RawClient, apiKey: number, version: number, body: unknown, timeoutMs = 120000): Promise<{ res: any; ms: number; bytes: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t0 = now();
  c.sendRaw(c.encodeRequest(apiKey, version, body));
  const frame = await c.nextFrame(timeoutMs);
  const ms = now() - t0;
  return { res: c.decodeResponse(apiKey, version, frame), ms, bytes: frame.length };
}

function rawConnect(): Promise<RawClient> {
  const i = cfg.bootstrap.lastIndexOf(':');
  return RawClient.connect(Number(cfg.bootstrap.slice(i + 1)), cfg.bootstrap.slice(0, i));
}

const quantile = (xs: number[], p: number) => xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]! : NaN;

async function scaleTopics(): Promise<unknown> {
  const c = await rawConnect();
  send('ready');
  await waitGo();
  const t0 = now();
  let requestsMs = 0;
  for (let i = 0; i < cfg.topics; i += cfg.batch) {
    const topics = [];
    for (let k = i; k < Math.min(i + cfg.batch, cfg.topics); k++) {
      topics.push(makeCreatableTopic({ name: `${cfg.prefix}-${k}`, numPartitions: cfg.partitions, replicationFactor: 1 }));
    }
    const { res, ms } = await rawRequest(c, 19, 7, { topics, timeoutMs: 120000, validateOnly: false });
    requestsMs += ms;
    const bad = res.topics.filter((t: { errorCode: number }) => t.errorCode !== 0);
    if (bad.length) throw new Error(`CreateTopics: ${bad.length} errors, first ${bad[0].name}: ${bad[0].errorCode} ${bad[0].errorMessage}`);
  }
  // Created = every partition of every topic has a leader in Metadata.
  const want = cfg.topics * cfg.partitions;
  let ready = 0;
  const deadline = Date.now() + 300000;
  for (;;) {
    const { res } = await rawRequest(c, 3, 12, { topics: null });
    ready = 0;
    for (const t of res.topics) if (String(t.name).startsWith(`${cfg.prefix}-`)) for (const p of t.partitions) if (p.leaderId >= 0) ready++;
    if (ready >= want) break;
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${want} partitions have a leader`);
    await sleep(200);
  }
  const createdMs = now() - t0;
  const lat: number[] = [];
  let bytes = 0, topicsSeen = 0;
  for (let r = 0; r < cfg.rounds; r++) {
    const m = await rawRequest(c, 3, 12, { topics: null });
    lat.push(m.ms);
    bytes = m.bytes;
    topicsSeen = m.res.topics.length;
  }
  c.close();
  lat.sort((a, b) => a - b);
  return { topics: cfg.topics, partitions: want, createRequestsMs: requestsMs, createdMs, metadataRounds: lat.length, metadataTopics: topicsSeen,
    metadataBytes: bytes, metadataP50Ms: quantile(lat, 0.5), metadataMaxMs: lat.at(-1) ?? NaN, metadataMeanMs: lat.reduce((a, b) => a + b, 0) / (lat.length || 1) };
}

async function scaleConns(): Promise<unknown> {
  const n: number = cfg.connections;
  const value = Buffer.alloc(cfg.recordBytes, 0x61);
  const t0 = now();
  const clients = await Promise.all(Array.from({ length: n }, () => rawConnect()));
  const connectMs = now() - t0;
  const produceOnce = async (c: RawClient, i: number): Promise<number> => {
    const records = buildRecordBatch({ records: Array.from({ length: cfg.recordsPerBatch }, () => ({ value })) });
    const body = { acks: 1, timeoutMs: 30000, topicData: [makeTopicProduceData({ name: cfg.topic, partitionData: [makePartitionProduceData({ index: i % cfg.partitions, records })] })] };
    const { res, ms } = await rawRequest(c, 0, 9, body, 60000);
    const err = res.responses[0]?.partitionResponses[0]?.errorCode;
    if (err !== 0) throw new Error(`produce on connection ${i}: error ${err}`);
    return ms;
  };
  // The first produce may meet a leader not yet known to the broker's metadata cache (Kafka): retry those.
  const RETRIABLE = new Set([3, 5, 6]);
  await Promise.all(clients.map(async (c, i) => {
    for (let attempt = 0; ; attempt++) {
      try { return await produceOnce(c, i); } catch (e) {
        const code = Number(/error (\d+)$/.exec((e as Error).message)?.[1]);
        if (!RETRIABLE.has(code) || attempt >= 50) throw e;
        await sleep(100);
      }
    }
  }));
  const firstProduceAllMs = now() - t0;
  send('ready');
  await waitGo();
  const lat: number[] = [];
  const t1 = now();
  for (let r = 0; r < cfg.rounds; r++) lat.push(...await Promise.all(clients.map(produceOnce)));
  const ms = now() - t1;
  for (const c of clients) c.close();
  lat.sort((a, b) => a - b);
  const records = lat.length * cfg.recordsPerBatch;
  return { connections: n, connectMs, firstProduceAllMs, rounds: cfg.rounds, requests: lat.length, records, ms, recordsPerSec: records / (ms / 1000),
    produceP50Ms: quantile(lat, 0.5), produceP99Ms: quantile(lat, 0.99), produceMaxMs: lat.at(-1) ?? NaN };
}

async function tcpSink(): Promise<unknown> {
  let bytes = 0;
  let first = 0, last = 0;
  let closeResolve!: () => void;
  const closed = new Promise<void>((r) => { closeResolve = r; });
  const srv = net.createServer((s) => {
    s.on('data', (d: Buffer) => { if (!first) first = now(); bytes += d.length; last = now(); });
    s.on('close', () => closeResolve());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  send(`port ${(srv.address() as net.AddressInfo).port}`);
  await closed;
  srv.close();
  return { bytes, ms: last - first };
}

const modes: Record<string, () => Promise<unknown>> = { produce, consume, 'lat-produce': latProduce, 'lat-consume': latConsume, group, 'tcp-sink': tcpSink, 'scale-topics': scaleTopics, 'scale-conns': scaleConns };
const fn = modes[mode ?? ''];
if (!fn) { process.stderr.write(`unknown mode ${mode}\n`); process.exit(2); }
try {
  const r = await fn();
  send(`result ${JSON.stringify(r)}`);
  lines.close();
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench client ${mode}: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
