#!/usr/bin/env node
// Captures protocol fixtures from real clients (kafkajs, node-rdkafka) talking to the reference Apache Kafka.
//
//   npm run capture                       (= node scripts/capture-fixtures.ts)
//   node scripts/capture-fixtures.ts [--version 4.4.0] [--out protocol/fixtures] [--max-per-key 3]
//
// Kafka is started (scripts/kafka-ref.ts) with advertised.listeners pointing at a recording proxy of ours, so every
// client connection -- including the ones opened after Metadata -- goes through the proxy. The proxy splits both
// directions into frames and pairs requests/responses by correlation id. Frames are written as
// protocol/fixtures/<client>/NNN-<ApiName>-v<version>.{request,response}.bin (bytes after the size prefix) and listed in
// protocol/fixtures/index.json. Run by hand; its output is committed. Not run in CI.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { formatAndStart, freePort } from './kafka-ref.ts';
import type { KafkaRef } from './kafka-ref.ts';
import { Worker } from 'node:worker_threads';
import type { Exchange } from './capture/proxy.ts';
import type { ProxyWorkerData } from './capture/proxy-worker.ts';
import { apiName } from './capture/api-names.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const CLIENT_IDS: Record<string, string> = {
  'gregor-capture-kafkajs': 'kafkajs',
  'gregor-capture-rdkafka': 'node-rdkafka',
  'gregor-capture-raw': 'raw',
};
const MAX_FRAME = 256 * 1024;

function log(msg: string): void {
  process.stderr.write(`[capture] ${msg}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Promisifies a node-style callback API call, with a deadline. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function cb<T = unknown>(what: string, ms: number, fn: (done: (err: any, res?: any) => void) => void): Promise<T> {
  return withTimeout(
    new Promise<T>((resolve, reject) => fn((err, res) => (err ? reject(err instanceof Error ? err : new Error(String((err as { message?: string }).message ?? err))) : resolve(res as T)))),
    ms,
    what,
  );
}

function pkgVersion(name: string): string {
  try {
    return String(JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version).replace(/^v/, '');
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- recording proxy (on a worker thread)

const TAGS = [
  'setup', 'done',
  'kafkajs-admin', 'kafkajs-produce-none', 'kafkajs-produce-gzip', 'kafkajs-produce-acks1', 'kafkajs-consume',
  'kafkajs-commit', 'kafkajs-leave',
  'rdkafka-admin',
  ...['none', 'lz4', 'zstd', 'snappy', 'gzip'].map((c) => `rdkafka-produce-${c}`),
  ...['classic', 'consumer'].flatMap((p) => [`rdkafka-consume-${p}`, `rdkafka-commit-${p}`, `rdkafka-leave-${p}`]),
  'raw-apiversions-v99',
];

interface Tagger {
  tag: string;
}

/** The recording proxy runs on a worker thread so that blocking node-rdkafka calls cannot stall it. */
class ProxyHandle implements Tagger {
  port = 0;
  private worker: Worker;
  private tagIndex = new SharedArrayBuffer(4);
  private view = new Int32Array(this.tagIndex);
  private dumped?: Promise<{ exchanges: Exchange[]; unmatched: number }>;

  constructor(upstreamHost: string, upstreamPort: number) {
    const data: ProxyWorkerData = { upstreamHost, upstreamPort, tagIndex: this.tagIndex, tags: TAGS };
    this.worker = new Worker(new URL('./capture/proxy-worker.ts', import.meta.url), { workerData: data });
  }

  get tag(): string {
    return TAGS[Atomics.load(this.view, 0)]!;
  }

  set tag(t: string) {
    const i = TAGS.indexOf(t);
    if (i < 0) throw new Error(`unknown capture tag ${t}`);
    Atomics.store(this.view, 0, i);
  }

  listening(): Promise<number> {
    return withTimeout(
      new Promise<number>((resolve, reject) => {
        this.worker.once('error', reject);
        this.worker.once('message', (m: { type: string; port?: number; message?: string }) => {
          if (m.type === 'listening') resolve((this.port = m.port!));
          else reject(new Error(`proxy worker: ${m.message}`));
        });
      }),
      10000,
      'proxy worker start',
    );
  }

  /** Closes the proxy and returns everything it recorded. */
  dump(): Promise<{ exchanges: Exchange[]; unmatched: number }> {
    this.dumped ??= withTimeout(
      new Promise<{ exchanges: Exchange[]; unmatched: number }>((resolve, reject) => {
        this.worker.once('error', reject);
        this.worker.on('message', (m: { type: string; exchanges?: Exchange[]; unmatched?: number }) => {
          if (m.type !== 'dump') return;
          const toBuf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
          resolve({
            exchanges: m.exchanges!.map((e) => ({ ...e, request: toBuf(e.request), response: toBuf(e.response) })),
            unmatched: m.unmatched!,
          });
        });
        this.worker.postMessage({ type: 'dump' });
      }),
      15000,
      'proxy dump',
    );
    return this.dumped;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

// ---------------------------------------------------------------- kafkajs

async function driveKafkajs(bootstrap: string, proxy: Tagger): Promise<void> {
  const { Kafka, CompressionTypes, logLevel } = (await import('kafkajs')).default;
  const kafka = new Kafka({
    clientId: 'gregor-capture-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 10000,
    retry: { retries: 5, initialRetryTime: 200 },
  });
  const topic = 'capture-kafkajs';
  const groupId = 'capture-kafkajs-group';
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 300 });
  try {
    proxy.tag = 'kafkajs-admin';
    await withTimeout(admin.connect(), 15000, 'kafkajs admin.connect');
    await withTimeout(admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }), 20000, 'createTopics');
    await withTimeout(admin.listTopics(), 10000, 'listTopics');
    await withTimeout(admin.fetchTopicMetadata({ topics: [topic] }), 10000, 'fetchTopicMetadata');
    await withTimeout(admin.describeCluster(), 10000, 'describeCluster');

    await withTimeout(producer.connect(), 15000, 'producer.connect');
    const messages = (codec: string) =>
      Array.from({ length: 4 }, (_, i) => ({
        key: `key-${i}`,
        value: `value-${codec}-${i} `.repeat(8),
        headers: { 'trace-id': `t-${codec}-${i}`, source: Buffer.from('gregor-capture') },
      }));
    proxy.tag = 'kafkajs-produce-none';
    await withTimeout(producer.send({ topic, messages: messages('none'), acks: -1 }), 15000, 'send none');
    proxy.tag = 'kafkajs-produce-gzip';
    await withTimeout(producer.send({ topic, messages: messages('gzip'), compression: CompressionTypes.GZIP, acks: -1 }), 15000, 'send gzip');
    proxy.tag = 'kafkajs-produce-acks1';
    await withTimeout(producer.send({ topic, messages: [{ key: null, value: 'no key, no headers' }], acks: 1 }), 15000, 'send acks=1');
    const expected = 9;

    proxy.tag = 'kafkajs-consume';
    await withTimeout(consumer.connect(), 15000, 'consumer.connect');
    await withTimeout(consumer.subscribe({ topics: [topic], fromBeginning: true }), 10000, 'subscribe');
    const last = new Map<number, string>();
    let got = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        last.set(partition, message.offset);
        if (++got >= expected) resolveAll();
      },
    });
    await withTimeout(all, 30000, `kafkajs consume ${expected} messages`);
    await sleep(1500); // let at least one Heartbeat go out
    proxy.tag = 'kafkajs-commit';
    await withTimeout(
      consumer.commitOffsets([...last].map(([partition, offset]) => ({ topic, partition, offset: String(BigInt(offset) + 1n) }))),
      10000,
      'commitOffsets',
    );
    proxy.tag = 'kafkajs-admin';
    await withTimeout(admin.fetchOffsets({ groupId, topics: [topic] }), 10000, 'fetchOffsets');
    await withTimeout(admin.describeGroups([groupId]), 10000, 'describeGroups');
    await withTimeout(admin.listGroups(), 10000, 'listGroups');
    proxy.tag = 'kafkajs-leave';
    await withTimeout(consumer.disconnect(), 15000, 'consumer.disconnect');
    await withTimeout(producer.disconnect(), 10000, 'producer.disconnect');
    proxy.tag = 'kafkajs-admin';
    await withTimeout(admin.deleteGroups([groupId]), 10000, 'deleteGroups');
    await withTimeout(admin.deleteTopics({ topics: [topic], timeout: 10000 }), 15000, 'deleteTopics');
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  }
}

// ---------------------------------------------------------------- node-rdkafka

async function driveRdkafka(bootstrap: string, proxy: Tagger): Promise<void> {
  const Rd = (await import('node-rdkafka')).default;
  const common = {
    'metadata.broker.list': bootstrap,
    'client.id': 'gregor-capture-rdkafka',
    'socket.nagle.disable': true,
    'broker.address.family': 'v4',
  } as const;
  const topic = 'capture-rdkafka';
  const codecs = ['none', 'lz4', 'zstd', 'snappy', 'gzip'] as const;
  const perCodec = 4;

  proxy.tag = 'rdkafka-admin';
  const admin = Rd.AdminClient.create({ ...common });
  try {
    await cb('rdkafka createTopic', 20000, (d) => admin.createTopic({ topic, num_partitions: 2, replication_factor: 1 }, 10000, d));
    await sleep(500);

    for (const codec of codecs) {
      proxy.tag = `rdkafka-produce-${codec}`;
      log(`  node-rdkafka producer compression.codec=${codec}`);
      const producer = new Rd.Producer({ ...common, 'compression.codec': codec, 'linger.ms': 20 }, { acks: -1 });
      try {
        await cb('producer.connect', 15000, (d) => producer.connect({ timeout: 10000 }, d));
        if (codec === 'none') {
          await cb('getMetadata(all)', 10000, (d) => producer.getMetadata({ timeout: 8000 }, d));
        }
        await cb('getMetadata(topic)', 10000, (d) => producer.getMetadata({ topic, timeout: 8000 }, d));
        for (let i = 0; i < perCodec; i++) {
          producer.produce(
            topic,
            null,
            Buffer.from(`value-${codec}-${i} `.repeat(8)),
            `key-${i}`,
            Date.now(),
            undefined,
            [{ 'trace-id': `t-${codec}-${i}` }, { source: Buffer.from('gregor-capture') }],
          );
        }
        await cb('flush', 15000, (d) => producer.flush(10000, d));
      } finally {
        await cb('producer.disconnect', 10000, (d) => producer.disconnect(d)).catch(() => {});
      }
    }
    const expected = codecs.length * perCodec;

    for (const protocol of ['classic', 'consumer'] as const) {
      proxy.tag = `rdkafka-consume-${protocol}`;
      log(`  node-rdkafka KafkaConsumer group.protocol=${protocol}`);
      const groupConf: Record<string, string | number | boolean> =
        protocol === 'classic'
          ? { 'session.timeout.ms': 10000, 'heartbeat.interval.ms': 1000 }
          : { 'group.protocol': 'consumer' };
      const consumer = new Rd.KafkaConsumer(
        { ...common, 'group.id': `capture-rdkafka-${protocol}`, 'enable.auto.commit': false, ...groupConf },
        { 'auto.offset.reset': 'earliest' },
      );
      try {
        await cb('consumer.connect', 15000, (d) => consumer.connect({ timeout: 10000 }, d));
        consumer.subscribe([topic]);
        let got = 0;
        const deadline = Date.now() + 40000;
        while (got < expected) {
          if (Date.now() > deadline) throw new Error(`rdkafka ${protocol} consumer got ${got}/${expected} messages`);
          const msgs = await cb<unknown[]>('consume', 15000, (d) => consumer.consume(10, d));
          got += msgs.length;
        }
        proxy.tag = `rdkafka-commit-${protocol}`;
        consumer.commitSync(null);
        await sleep(500);
        await cb('committed', 10000, (d) => consumer.committed(8000, d));
      } finally {
        proxy.tag = `rdkafka-leave-${protocol}`;
        await cb('consumer.disconnect', 15000, (d) => consumer.disconnect(d as () => void)).catch(() => {});
      }
    }

    proxy.tag = 'rdkafka-admin';
    await cb('rdkafka deleteTopic', 15000, (d) => admin.deleteTopic(topic, 10000, d));
  } finally {
    admin.disconnect();
  }
}

// ---------------------------------------------------------------- raw: ApiVersions with an unsupported version

async function rawApiVersionsUnsupported(host: string, port: number, proxy: Tagger): Promise<void> {
  proxy.tag = 'raw-apiversions-v99';
  const clientId = Buffer.from('gregor-capture-raw');
  const sw = Buffer.from('gregor-capture');
  const swv = Buffer.from('0.1.0');
  // Request header v2 (ApiVersions v3+ is flexible): apiKey, apiVersion, correlationId, clientId (int16 string),
  // empty tagged fields; then a v3-shaped body (compact strings + tagged fields), as real clients send.
  const body = Buffer.concat([
    Buffer.from([18 >> 8, 18 & 0xff, 0, 99, 0, 0, 0x7a, 0x69]),
    Buffer.from([clientId.length >> 8, clientId.length & 0xff]),
    clientId,
    Buffer.from([0]),
    Buffer.from([sw.length + 1]),
    sw,
    Buffer.from([swv.length + 1]),
    swv,
    Buffer.from([0]),
  ]);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const s = net.connect({ host, port }, () => s.write(frame));
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          s.end();
          resolve();
        }
      });
      s.on('error', reject);
      s.on('close', () => resolve());
    }),
    10000,
    'raw ApiVersions v99',
  );
  await sleep(200);
}

// ---------------------------------------------------------------- selection + output

interface Selected extends Exchange {
  client: string;
}

function select(exchanges: Exchange[], maxPerKey: number): { selected: Selected[]; skipped: Record<string, number> } {
  const skipped: Record<string, number> = { otherClient: 0, tooLarge: 0, duplicate: 0, overCap: 0 };
  const groups = new Map<string, Selected[]>();
  for (const ex of exchanges) {
    const client = ex.clientId === null ? undefined : CLIENT_IDS[ex.clientId];
    if (!client) {
      skipped.otherClient!++;
      continue;
    }
    if (ex.request.length > MAX_FRAME || ex.response.length > MAX_FRAME) {
      skipped.tooLarge!++;
      continue;
    }
    // Produce: keep examples per phase (= per compression codec); everything else per (client, api, version).
    const key = `${client}|${ex.apiKey}|${ex.apiVersion}${ex.apiKey === 0 ? `|${ex.tag}` : ''}`;
    const list = groups.get(key) ?? [];
    list.push({ ...ex, client });
    groups.set(key, list);
  }
  const selected: Selected[] = [];
  for (const list of groups.values()) {
    const seen = new Set<string>();
    const unique = list.filter((ex) => {
      // Ignore the correlation id when comparing (request bytes 4..8, response bytes 0..4).
      const sig = ex.request.subarray(8).toString('base64') + '|' + ex.response.subarray(4).toString('base64');
      if (seen.has(sig)) {
        skipped.duplicate!++;
        return false;
      }
      seen.add(sig);
      return true;
    });
    // Fetch: prefer the exchanges that carried records (largest responses) over empty long polls.
    const ranked = unique[0]?.apiKey === 1 ? [...unique].sort((a, b) => b.response.length - a.response.length) : unique;
    skipped.overCap! += Math.max(0, ranked.length - maxPerKey);
    selected.push(...ranked.slice(0, maxPerKey));
  }
  selected.sort((a, b) => a.seq - b.seq);
  return { selected, skipped };
}

interface IndexEntry {
  client: string;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  requestFile: string;
  responseFile: string;
  correlationId: number;
  phase: string;
  /** Only on the raw ApiVersions v99 exchange: Kafka answers such requests with an ApiVersions v0 response. */
  unsupportedVersion?: true;
  responseApiVersion?: number;
}

function writeFixtures(outDir: string, selected: Selected[], meta: Record<string, unknown>): IndexEntry[] {
  fs.mkdirSync(outDir, { recursive: true });
  const clients = [...new Set(selected.map((s) => s.client))].sort();
  for (const c of clients) fs.rmSync(path.join(outDir, c), { recursive: true, force: true });
  const counters = new Map<string, number>();
  const entries: IndexEntry[] = [];
  for (const ex of selected) {
    const n = (counters.get(ex.client) ?? 0) + 1;
    counters.set(ex.client, n);
    const base = `${ex.client}/${String(n).padStart(3, '0')}-${apiName(ex.apiKey)}-v${ex.apiVersion}`;
    fs.mkdirSync(path.join(outDir, ex.client), { recursive: true });
    fs.writeFileSync(path.join(outDir, `${base}.request.bin`), ex.request);
    fs.writeFileSync(path.join(outDir, `${base}.response.bin`), ex.response);
    const entry: IndexEntry = {
      client: ex.client,
      apiKey: ex.apiKey,
      apiName: apiName(ex.apiKey),
      apiVersion: ex.apiVersion,
      requestFile: `${base}.request.bin`,
      responseFile: `${base}.response.bin`,
      correlationId: ex.correlationId,
      phase: ex.tag,
    };
    if (ex.apiKey === 18 && ex.apiVersion > 4) {
      entry.unsupportedVersion = true;
      entry.responseApiVersion = 0;
    }
    entries.push(entry);
  }
  const index = { ...meta, fixtureCount: entries.length, fixtures: entries };
  fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  return entries;
}

function summarize(exchanges: Exchange[]): string {
  const m = new Map<string, Map<string, Set<number>>>();
  for (const ex of exchanges) {
    const client = ex.clientId === null ? '(null)' : (CLIENT_IDS[ex.clientId] ?? `other:${ex.clientId}`);
    const perClient = m.get(client) ?? new Map<string, Set<number>>();
    const name = apiName(ex.apiKey);
    perClient.set(name, (perClient.get(name) ?? new Set()).add(ex.apiVersion));
    m.set(client, perClient);
  }
  const lines: string[] = [];
  for (const [client, apis] of [...m].sort()) {
    lines.push(`${client}: ` + [...apis].map(([n, v]) => `${n} v${[...v].sort((a, b) => a - b).join('/')}`).join(', '));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const outDir = path.resolve(flag('out') ?? path.join(REPO_ROOT, 'protocol', 'fixtures'));
  const maxPerKey = Number(flag('max-per-key') ?? 3);
  const only = flag('only'); // kafkajs | rdkafka | raw

  const host = '127.0.0.1';
  const kafkaPort = await freePort();
  const proxy = new ProxyHandle(host, kafkaPort);
  const proxyPort = await proxy.listening();
  const bootstrap = `${host}:${proxyPort}`;
  let kafka: KafkaRef | undefined;
  let cleaning: Promise<void> | undefined;
  let recorded: { exchanges: Exchange[]; unmatched: number } | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      recorded = await proxy.dump().catch((err: Error) => {
        log(`could not collect recorded exchanges: ${err.message}`);
        return undefined;
      });
      await proxy.terminate().catch(() => 0);
      await kafka?.stop().catch(() => {});
    })());
  const onSignal = (sig: string) => {
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let failed: unknown;
  try {
    log(`starting reference Kafka on ${host}:${kafkaPort}, advertised via recording proxy ${bootstrap}`);
    kafka = await formatAndStart({
      port: kafkaPort,
      version: flag('version'),
      advertisedListeners: `PLAINTEXT://${bootstrap}`,
      extraConfig: { 'group.initial.rebalance.delay.ms': 0 },
    });
    log(`Kafka ${kafka.version} ready (format ${Math.round(kafka.formatMs)} ms, start-to-ready ${Math.round(kafka.startToReadyMs)} ms)`);

    if (!only || only === 'kafkajs') {
      log('driving kafkajs ...');
      await withTimeout(driveKafkajs(bootstrap, proxy), 180000, 'kafkajs phase');
    }
    if (!only || only === 'rdkafka') {
      log('driving node-rdkafka ...');
      await withTimeout(driveRdkafka(bootstrap, proxy), 240000, 'node-rdkafka phase');
    }
    if (!only || only === 'raw') {
      log('sending ApiVersions v99 ...');
      await rawApiVersionsUnsupported(host, proxyPort, proxy);
    }
    proxy.tag = 'done';
    await sleep(300);
  } catch (err) {
    failed = err;
  } finally {
    await cleanup();
  }
  if (failed) throw failed;
  if (!recorded) throw new Error('nothing recorded');

  log(`negotiated versions seen on the wire:\n${summarize(recorded.exchanges)}`);
  const { selected, skipped } = select(recorded.exchanges, maxPerKey);
  const meta = {
    kafkaVersion: kafka!.version,
    capturedAt: new Date().toISOString(),
    clients: {
      kafkajs: pkgVersion('kafkajs'),
      'node-rdkafka': pkgVersion('node-rdkafka'),
      librdkafka: (await import('node-rdkafka')).default.librdkafkaVersion,
    },
    note:
      'Frames are the bytes after the 4-byte size prefix (header + body). Captured by scripts/capture-fixtures.ts ' +
      'through a recording proxy in front of the reference Kafka; do not edit by hand.',
  };
  const entries = writeFixtures(outDir, selected, meta);
  const bytes = entries.reduce(
    (n, e) => n + fs.statSync(path.join(outDir, e.requestFile)).size + fs.statSync(path.join(outDir, e.responseFile)).size,
    0,
  );
  log(
    `${recorded.exchanges.length} exchanges captured (${recorded.unmatched} requests without response), ` +
      `${entries.length} fixtures written to ${path.relative(REPO_ROOT, outDir)} (${(bytes / 1024).toFixed(1)} KiB); skipped ${JSON.stringify(skipped)}`,
  );
  process.exit(0);
}

main().catch((err) => {
  log(String(err instanceof Error ? (err.stack ?? err.message) : err));
  process.exit(1);
});
