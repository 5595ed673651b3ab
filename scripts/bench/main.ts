// npm run bench — gregor side by side with the reference Apache Kafka (scripts/kafka-ref.ts: newest 4.x, KRaft,
// single node, default configs except ports, data dir and group.initial.rebalance.delay.ms=0), one broker after
// the other, the same clients and workloads, plus this machine's limits measured in the same run.
// Writes bench/results/<date>-<sha>-<quick|full>.{md,json}. How to read it: scripts/bench/README.md.
//
// Usage: node scripts/bench/main.ts [--quick] [--seconds N] [--producers N] [--consumers N] [--partitions N] [--no-write]
//                                   [--only gregor|kafka] [--no-java-tools] [--java-tools (in --quick)]
//                                   [--scale-topics N] [--scale-partitions N] [--connections N] [--no-scale]
//        node scripts/bench/main.ts --cpu-prof [--seconds N]   gregor only, under the 1 KiB acks=1 produce load,
//                                   with `node --cpu-prof`; prints the top self-time functions
import { type ChildProcess, execFileSync, execSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import kafkajsPkg from 'kafkajs';
import { ensureKafkaTools, formatAndStart, resolveVersion, rssBytes } from '../kafka-ref.ts';

const { Kafka: KafkaJs, logLevel } = kafkajsPkg;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const clientScript = path.join(root, 'scripts/bench/client.ts');
const gregorCli = path.join(root, 'broker/bin/gregor.js');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const arg = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : dflt; };

const QUICK = flag('--quick');
const PROFILE = flag('--cpu-prof');
const SECONDS = Number(arg('--seconds', QUICK ? '3' : '10'));
const PRODUCERS = Number(arg('--producers', '2'));
const CONSUMERS = Number(arg('--consumers', '2'));
const PARTITIONS = Number(arg('--partitions', '4'));
const IDLE_S = QUICK ? 5 : 10;
const LAT_RATE = 5000;
const LAT_SECONDS = QUICK ? 5 : 10;
const JAVA_TOOLS = (!QUICK || flag('--java-tools')) && !flag('--no-java-tools');
const ONLY = arg('--only', '');
// Scale checks (issue 7): topics × partitions created and listed, concurrent producer connections.
const SCALE = !flag('--no-scale');
// Quick mode: 200 topics (Kafka needs ~40 s until 10,000 partitions have leaders on this machine).
const SCALE_TOPICS = Number(arg('--scale-topics', QUICK ? '200' : '1000'));
const SCALE_PARTITIONS = Number(arg('--scale-partitions', '10'));
const SCALE_CONNECTIONS = Number(arg('--connections', '500'));
const SCALE_METADATA_ROUNDS = 20;
const SCALE_PRODUCE_ROUNDS = 10;
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

interface ProduceCase { id: string; recordBytes: number; acks: '1' | 'all'; compression: 'none' | 'lz4' }
const ALL_CASES: ProduceCase[] = [];
for (const recordBytes of [1024, 100]) for (const acks of ['1', 'all'] as const) for (const compression of ['none', 'lz4'] as const) {
  ALL_CASES.push({ id: `${recordBytes === 1024 ? '1KiB' : '100B'}-acks${acks}-${compression}`, recordBytes, acks, compression });
}
const CASES = QUICK ? ALL_CASES.filter((c) => c.id === '1KiB-acks1-none' || c.id === '100B-acksall-lz4') : ALL_CASES;
const CONSUME_FROM = QUICK ? ['1KiB-acks1-none'] : ['1KiB-acks1-none', '100B-acks1-none'];

// ------------------------------------------------------------------------------------------- processes

/** CPU seconds (user + system) a process has used so far (Linux /proc); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime; USER_HZ = 100
  } catch { return NaN; }
}

/** Samples a pid's VmRSS every 200 ms while `fn` runs; returns fn's result and the peak. */
async function withRssPeak<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssBytes(pid) ?? 0;
  const t = setInterval(() => { peak = Math.max(peak, rssBytes(pid) ?? 0); }, 200);
  try { return { result: await fn(), peak: Math.max(peak, rssBytes(pid) ?? 0) }; } finally { clearInterval(t); }
}

interface ClientSpec { mode: string; cfg: Record<string, unknown> }
/** Spawns one client process per spec, waits until all are `ready`, sends `go`, collects the results. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function runClients(specs: ClientSpec[], timeoutMs = 600000, onReady?: () => Promise<void>): Promise<any[]> {
  const kids = specs.map((s) => {
    const child = spawn(process.execPath, [clientScript, s.mode, JSON.stringify(s.cfg)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    let onReady!: () => void;
    const ready = new Promise<void>((r) => { onReady = r; });
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (/^ready$/m.test(out)) onReady(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { s, child, ready, exited, out: () => out, err: () => err };
  });
  const killAll = () => { for (const k of kids) if (k.child.exitCode === null) k.child.kill('SIGKILL'); };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`clients timed out after ${timeoutMs} ms`)), timeoutMs); });
  try {
    const failedEarly = Promise.race(kids.map((k) => k.exited.then((code) => { throw new Error(`client ${k.s.mode} exited ${code} before ready:\n${k.err()}`); })));
    await Promise.race([Promise.all(kids.map((k) => k.ready)), failedEarly, timeout]);
    failedEarly.catch(() => {});
    if (onReady) await onReady();
    for (const k of kids) k.child.stdin!.write('go\n');
    return await Promise.race([Promise.all(kids.map(async (k) => {
      const code = await k.exited;
      const m = /^result (.*)$/m.exec(k.out());
      if (code !== 0 || !m) throw new Error(`client ${k.s.mode} exited ${code}:\n${k.err().slice(-3000)}`);
      return JSON.parse(m[1]!);
    })), timeout]);
  } finally {
    clearTimeout(timer);
    killAll();
  }
}

// -------------------------------------------------------------------------------------------- brokers

interface Broker {
  name: 'gregor' | 'kafka';
  version: string;
  bootstrap: string;
  pid: number;
  formatMs: number;
  spawnToReadyMs: number;
  stop(): Promise<void>;
}

/** `compileCache`: the NODE_COMPILE_CACHE directory gregor.js uses (the bench keeps its own, see benchBroker). */
async function startGregorBroker(dataDir: string, nodeFlags: string[] = [], compileCache?: string): Promise<Broker> {
  const cliArgs = [...nodeFlags, gregorCli, '--override', 'listeners=PLAINTEXT://127.0.0.1:0',
    '--override', 'group.initial.rebalance.delay.ms=0', '--data-dir', dataDir];
  const t0 = performance.now();
  const env = compileCache ? { ...process.env, NODE_COMPILE_CACHE: compileCache } : process.env;
  const child: ChildProcess = spawn(process.execPath, cliArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gregor did not start:\n${out}`)); }, 30000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on PLAINTEXT:\/\/[^ ]*:(\d+)/.exec(out);
      if (m) { clearTimeout(deadline); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(deadline); reject(new Error(`gregor exited with ${code}:\n${out}`)); });
  });
  const spawnToReadyMs = performance.now() - t0;
  process.on('exit', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  return {
    name: 'gregor', version: gitSha(), bootstrap: `127.0.0.1:${port}`, pid: child.pid!, formatMs: 0, spawnToReadyMs,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function startKafkaBroker(dataDir: string, version: string): Promise<Broker> {
  const k = await formatAndStart({ version, dataDir, removeDataDirOnStop: true, extraConfig: { 'group.initial.rebalance.delay.ms': 0 } });
  return { name: 'kafka', version: k.version, bootstrap: `${k.host}:${k.port}`, pid: k.pid, formatMs: k.formatMs, spawnToReadyMs: k.startToReadyMs, stop: k.stop };
}

function kjs(bootstrap: string) {
  return new KafkaJs({ clientId: 'bench-harness', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 } });
}

/** ms from now to the first acknowledged (acks=1) produce by a fresh kafkajs producer (topic auto-created). */
async function firstProduceMs(bootstrap: string): Promise<number> {
  const t0 = performance.now();
  const p = kjs(bootstrap).producer({ allowAutoTopicCreation: true });
  await p.connect();
  await p.send({ topic: 'cold-start', acks: 1, messages: [{ value: 'first' }] });
  const ms = performance.now() - t0;
  await p.disconnect();
  return ms;
}

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = kjs(bootstrap).admin();
  await admin.connect();
  try { await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true }); } finally { await admin.disconnect(); }
}

// ------------------------------------------------------------------------------------------ workloads

interface Rate { records: number; bytes: number; ms: number; mibPerSec: number; recordsPerSec: number; brokerCpu: number }
const rate = (records: number, bytes: number, ms: number, cpu: number): Rate =>
  ({ records, bytes, ms: Math.round(ms), mibPerSec: bytes / MiB / (ms / 1000), recordsPerSec: records / (ms / 1000), brokerCpu: cpu / (ms / 1000) });

async function produceCase(b: Broker, c: ProduceCase): Promise<Rate & { producers: number; totalRecordsInTopic: number }> {
  const topic = `p-${c.id}`;
  await createTopic(b.bootstrap, topic, PARTITIONS);
  const cfg = { bootstrap: b.bootstrap, topic, recordBytes: c.recordBytes, acks: c.acks, compression: c.compression, seconds: SECONDS, lingerMs: 5 };
  const cpu0 = cpuSeconds(b.pid);
  const rs = await runClients(Array.from({ length: PRODUCERS }, () => ({ mode: 'produce', cfg })));
  const cpu = cpuSeconds(b.pid) - cpu0;
  // The aggregate window: first producer's start to the last producer's last delivery report.
  const ms = Math.max(...rs.map((r) => r.endMono)) - Math.min(...rs.map((r) => r.startMono));
  const records = rs.reduce((a, r) => a + r.records, 0);
  const bytes = rs.reduce((a, r) => a + r.bytes, 0);
  // CPU over the whole client run includes warm-up/drain: a slight overestimate of the share.
  return { ...rate(records, bytes, ms, cpu), producers: PRODUCERS, totalRecordsInTopic: records + rs.reduce((a, r) => a + r.warmup, 0) };
}

async function consumeCase(b: Broker, topic: string, expected: number): Promise<Rate & { consumers: number }> {
  const cpu0 = cpuSeconds(b.pid);
  const n = Math.min(CONSUMERS, PARTITIONS);
  const specs = Array.from({ length: n }, (_, i) => ({ mode: 'consume', cfg: { bootstrap: b.bootstrap, topic,
    partitionList: Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % n === i) } }));
  const rs = await runClients(specs);
  const cpu = cpuSeconds(b.pid) - cpu0;
  const records = rs.reduce((a, r) => a + r.records, 0);
  if (records !== expected) throw new Error(`consumed ${records} records, ${expected} produced`);
  const ms = Math.max(...rs.map((r) => r.endMono)) - Math.min(...rs.map((r) => r.startMono));
  return { ...rate(records, rs.reduce((a, r) => a + r.bytes, 0), ms, cpu), consumers: n };
}

function dropCaches(): boolean {
  try {
    execSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch { return false; }
}

async function latency(b: Broker): Promise<Record<string, number>> {
  const topic = 'latency';
  await createTopic(b.bootstrap, topic, PARTITIONS);
  const total = LAT_RATE * LAT_SECONDS;
  const [cons, prod] = await runClients([
    { mode: 'lat-consume', cfg: { bootstrap: b.bootstrap, topic, partitions: PARTITIONS, expected: total, skip: LAT_RATE, seconds: LAT_SECONDS } },
    { mode: 'lat-produce', cfg: { bootstrap: b.bootstrap, topic, recordBytes: 100, rate: LAT_RATE, seconds: LAT_SECONDS, acks: '1', lingerMs: 1 } },
  ]);
  return { ...cons, sent: prod.sent, producerMs: prod.ms };
}

async function consumerGroup(b: Broker): Promise<Record<string, number>> {
  const topic = 'group';
  await createTopic(b.bootstrap, topic, 3);
  const p = kjs(b.bootstrap).producer();
  await p.connect();
  for (let partition = 0; partition < 3; partition++) {
    await p.send({ topic, acks: 1, messages: Array.from({ length: 200 }, (_, i) => ({ partition, value: `g-${i}` })) });
  }
  await p.disconnect();
  const [r] = await runClients([{ mode: 'group', cfg: { bootstrap: b.bootstrap, topic, groupId: 'bench-group' } }], 120000);
  return r;
}

interface JavaPerf { produce: Record<string, Record<string, number>>; consume?: Record<string, number>; toolsVersion: string }
function javaBin(): string { return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java'; }

/** kafka-producer-perf-test / kafka-consumer-perf-test (org.apache.kafka.tools.*) from the kafka-tools jars. */
async function javaTools(b: Broker): Promise<JavaPerf> {
  const tools = await ensureKafkaTools(b.name === 'kafka' ? b.version : undefined);
  const cp = `${tools.libs}/*`;
  const java = (main: string, a: string[]) => {
    const r = spawnSync(javaBin(), ['-Xmx512m', '-Dlog4j2.level=warn', '-cp', cp, main, ...a], { encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) throw new Error(`${main} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };
  const produce: JavaPerf['produce'] = {};
  const jcases = [{ id: '1KiB-acks1-none', size: 1024, n: 1_000_000 }, { id: '100B-acks1-none', size: 100, n: 5_000_000 }];
  for (const jc of jcases) {
    const topic = `jperf-${jc.id}`;
    await createTopic(b.bootstrap, topic, PARTITIONS);
    log(`${b.name}: ProducerPerformance ${jc.id} (${jc.n} records)`);
    const cpu0 = cpuSeconds(b.pid);
    const t0 = performance.now();
    const out = java('org.apache.kafka.tools.ProducerPerformance', ['--topic', topic, '--num-records', String(jc.n), '--record-size', String(jc.size),
      '--throughput', '-1', '--producer-props', `bootstrap.servers=${b.bootstrap}`, 'acks=1', 'compression.type=none']);
    const wallS = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(b.pid) - cpu0;
    const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th/.exec(out);
    if (!m) throw new Error(`ProducerPerformance: no summary in\n${out.slice(-1000)}`);
    const records = Number(m[1]), recordsPerSec = Number(m[2]);
    produce[jc.id] = { records, recordsPerSec, mibPerSec: Number(m[3]), avgLatencyMs: Number(m[4]), p99LatencyMs: Number(m[8]), brokerCpu: cpu / wallS };
  }
  let consume: Record<string, number> | undefined;
  {
    const topic = `jperf-${jcases[0]!.id}`;
    log(`${b.name}: ConsumerPerformance ${topic}`);
    const out = java('org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', b.bootstrap, '--topic', topic,
      '--messages', String(jcases[0]!.n), '--timeout', '60000', '--group', 'jperf-consumer', '--hide-header']);
    // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    const line = out.trim().split('\n').filter((l) => l.split(',').length >= 10).at(-1);
    if (!line) throw new Error(`ConsumerPerformance: no result in\n${out.slice(-1000)}`);
    const f = line.split(',').map((x) => x.trim());
    consume = { records: Number(f[4]), mibPerSec: Number(f[8]), recordsPerSec: Number(f[9]), rebalanceMs: Number(f[6]), fetchMs: Number(f[7]) };
  }
  return { produce, consume, toolsVersion: tools.toolsVersion };
}

// ------------------------------------------------------------------------------------------ the run

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type BrokerResult = Record<string, any>;

/** Right after `b` is ready: a fresh kafkajs producer's first acknowledged produce, then RSS IDLE_S after ready. */
async function coldStartAndIdle(b: Broker): Promise<{ coldStart: Record<string, number>; idleRssBytes: number | undefined }> {
  const readyAt = performance.now();
  const first = await firstProduceMs(b.bootstrap);
  const coldStart = { formatMs: b.formatMs, spawnToReadyMs: b.spawnToReadyMs, readyToFirstProduceMs: first, spawnToFirstProduceMs: b.spawnToReadyMs + first };
  log(`${b.name}: spawn→ready ${b.spawnToReadyMs.toFixed(0)} ms, first produce +${first.toFixed(0)} ms; idle ${IDLE_S} s`);
  await sleep(Math.max(0, IDLE_S * 1000 - (performance.now() - readyAt)));
  const idleRssBytes = rssBytes(b.pid);
  log(`${b.name}:   idle RSS ${((idleRssBytes ?? NaN) / MiB).toFixed(1)} MiB`);
  return { coldStart, idleRssBytes };
}

/**
 * Scale checks on a fresh broker: SCALE_TOPICS × SCALE_PARTITIONS created (CreateTopics, 50 topics per
 * request, done when Metadata shows a leader for every partition) and listed (Metadata for all topics,
 * send → whole response received), then SCALE_CONNECTIONS raw producer connections. RSS deltas give the
 * memory per (empty) partition and per connection (open, one produce acknowledged on each).
 */
async function scaleChecks(b: Broker): Promise<Record<string, number>> {
  const settle = QUICK ? 1500 : 3000; // before reading RSS
  // CreateTopics, Metadata and Produce served once before the baselines: gregor loads a handler module on its
  // first request, a fixed cost that is not per partition or per connection.
  const topic = 'scale-connections';
  await createTopic(b.bootstrap, topic, SCALE_PARTITIONS);
  const p = kjs(b.bootstrap).producer();
  await p.connect();
  await p.send({ topic, acks: 1, messages: [{ value: 'warm-up' }] });
  await p.disconnect();
  await sleep(settle);
  const rss0 = rssBytes(b.pid) ?? NaN;
  log(`${b.name}: scale: ${SCALE_TOPICS} topics × ${SCALE_PARTITIONS} partitions`);
  const cpu0 = cpuSeconds(b.pid);
  const [t] = await runClients([{ mode: 'scale-topics', cfg: { bootstrap: b.bootstrap, topics: SCALE_TOPICS, partitions: SCALE_PARTITIONS,
    batch: 50, rounds: SCALE_METADATA_ROUNDS, prefix: 'scale' } }], 900000);
  const topicsCpuSeconds = cpuSeconds(b.pid) - cpu0;
  log(`${b.name}:   created in ${t.createdMs.toFixed(0)} ms, Metadata (all topics) p50 ${t.metadataP50Ms.toFixed(1)} ms`);
  await sleep(settle);
  const rss1 = rssBytes(b.pid) ?? NaN;
  let rss3 = NaN;
  log(`${b.name}: scale: ${SCALE_CONNECTIONS} producer connections`);
  const [c] = await runClients([{ mode: 'scale-conns', cfg: { bootstrap: b.bootstrap, topic, partitions: SCALE_PARTITIONS, connections: SCALE_CONNECTIONS,
    rounds: SCALE_PRODUCE_ROUNDS, recordsPerBatch: 10, recordBytes: 100 } }], 600000, async () => { await sleep(settle / 2); rss3 = rssBytes(b.pid) ?? NaN; });
  log(`${b.name}:   all connected and acknowledged in ${c.firstProduceAllMs.toFixed(0)} ms, produce p99 ${c.produceP99Ms.toFixed(1)} ms`);
  return { ...t, ...c, topicsCpuSeconds, rssBeforeTopicsBytes: rss0, rssAfterTopicsBytes: rss1, rssPerPartitionBytes: (rss1 - rss0) / t.partitions,
    rssWithConnectionsBytes: rss3, rssPerConnectionBytes: (rss3 - rss1) / c.connections };
}

async function benchBroker(name: 'gregor' | 'kafka', kafkaVersion: string, tmp: string): Promise<BrokerResult> {
  const dataDir = path.join(tmp, name);
  // gregor.js keeps Node's compile cache here: empty at the first start, filled by it for the later ones.
  const compileCache = path.join(tmp, 'node-compile-cache');
  const start = (dir: string) => name === 'gregor' ? startGregorBroker(dir, [], compileCache) : startKafkaBroker(dir, kafkaVersion);
  const res: BrokerResult = {};
  if (name === 'gregor') {
    log(`gregor: first start (empty compile cache)`);
    const dir0 = path.join(tmp, 'gregor-first');
    const b0 = await start(dir0);
    try { res.firstStart = await coldStartAndIdle(b0); } finally { await b0.stop(); fs.rmSync(dir0, { recursive: true, force: true }); }
    // Then every module in the cache, as in the Docker image (or on a machine where each API has been served
    // once): handler modules load on first use, and one missing from the cache would load the TypeScript
    // stripper mid-run.
    execFileSync(process.execPath, [gregorCli, '--fill-compile-cache'], { cwd: root, env: { ...process.env, NODE_COMPILE_CACHE: compileCache } });
  }
  log(`${name}: starting`);
  const b = await start(dataDir);
  res.version = b.version;
  res.loadavgAtStart = os.loadavg()[0];
  try {
    Object.assign(res, await coldStartAndIdle(b));

    res.produce = {};
    let peak = res.idleRssBytes ?? 0;
    for (const c of CASES) {
      log(`${name}: produce ${c.id}, ${PRODUCERS} × node-rdkafka, ${SECONDS} s`);
      const { result, peak: p } = await withRssPeak(b.pid, () => produceCase(b, c));
      peak = Math.max(peak, p);
      res.produce[c.id] = result;
      log(`${name}:   ${result.mibPerSec.toFixed(1)} MiB/s, ${result.recordsPerSec.toFixed(0)} rec/s, broker CPU ${(result.brokerCpu * 100).toFixed(0)}%`);
    }
    res.loadRssPeakBytes = peak;

    res.consume = {};
    for (const id of CONSUME_FROM) {
      const expected = res.produce[id].totalRecordsInTopic;
      log(`${name}: consume ${id} warm (${expected} records)`);
      res.consume[`${id}-warm`] = await consumeCase(b, `p-${id}`, expected);
      log(`${name}:   ${res.consume[`${id}-warm`].mibPerSec.toFixed(1)} MiB/s`);
      if (dropCaches()) {
        log(`${name}: consume ${id} cold (page cache dropped)`);
        res.consume[`${id}-cold`] = await consumeCase(b, `p-${id}`, expected);
        log(`${name}:   ${res.consume[`${id}-cold`].mibPerSec.toFixed(1)} MiB/s`);
      }
    }

    log(`${name}: latency, ${LAT_RATE} records/s for ${LAT_SECONDS} s`);
    res.latency = await latency(b);
    log(`${name}:   p50 ${res.latency.p50.toFixed(2)} ms, p99 ${res.latency.p99.toFixed(2)} ms`);

    log(`${name}: consumer group of three (kafkajs)`);
    res.group = await consumerGroup(b);
    log(`${name}:   all three consuming after ${res.group.allThreeMs?.toFixed(0)} ms`);

    if (JAVA_TOOLS) {
      try { res.javaTools = await javaTools(b); } catch (e) { res.javaToolsError = (e as Error).message; log(`${name}: java tools failed: ${(e as Error).message}`); }
    }
  } finally {
    await b.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (SCALE) {
    const dir = path.join(tmp, `${name}-scale`);
    log(`${name}: fresh start for the scale checks`);
    const bs = await start(dir);
    try { res.scale = await scaleChecks(bs); } catch (e) { res.scaleError = (e as Error).message; log(`${name}: scale checks failed: ${(e as Error).message}`); } finally {
      await bs.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return res;
}

function diskLimit(dir: string, bytes: number): Record<string, number> {
  const file = path.join(dir, 'disk-limit.bin');
  const block = Buffer.alloc(MiB, 0x61);
  const fd = fs.openSync(file, 'w');
  const t0 = performance.now();
  for (let w = 0; w < bytes; w += block.length) fs.writeSync(fd, block);
  const t1 = performance.now();
  fs.fdatasyncSync(fd);
  const t2 = performance.now();
  fs.closeSync(fd);
  fs.rmSync(file);
  return { bytes, writeMiBPerSec: bytes / MiB / ((t1 - t0) / 1000), withFdatasyncMiBPerSec: bytes / MiB / ((t2 - t0) / 1000), fdatasyncMs: t2 - t1 };
}

async function tcpLimit(seconds: number): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [clientScript, 'tcp-sink', '{}'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /^port (\d+)$/m.exec(out); if (m) resolve(Number(m[1])); });
    child.once('exit', (c) => reject(new Error(`tcp-sink exited ${c}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const s = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => s.once('connect', () => r()));
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let sent = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 64; i++) {
      sent += chunk.length;
      if (!s.write(chunk)) { await new Promise<void>((r) => s.once('drain', () => r())); break; }
    }
  }
  await new Promise<void>((r) => s.end(() => r()));
  await exited;
  const m = /^result (.*)$/m.exec(out);
  const sink = m ? JSON.parse(m[1]!) : { bytes: sent, ms: performance.now() - t0 };
  return { bytes: sink.bytes, mibPerSec: sink.bytes / MiB / (sink.ms / 1000) };
}

function gitSha(): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim(); } catch { return 'unknown'; }
}

function machine(tmp: string, kafkaVersion: string): Record<string, unknown> {
  const sh = (cmd: string) => { try { return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(); } catch { return '?'; } };
  const javaV = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '?';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rd: any = createRequire(import.meta.url)('node-rdkafka');
  return {
    date: new Date().toISOString(), sha: gitSha(), node: process.version, java: javaV.trim(), kafka: kafkaVersion,
    librdkafka: rd.librdkafkaVersion, kafkajs: '2.2.4', cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?',
    memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: `${os.platform()} ${os.release()}`,
    disk: sh(`df -T ${tmp} | tail -1 | awk '{print $1" "$2}'`), loadavgAtStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

// ------------------------------------------------------------------------------------------ report

const f = (n: number | undefined, d = 0) => n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pc = (x: number | undefined) => x === undefined || Number.isNaN(x) ? '–' : `${f(x * 100)}%`;
const mib = (b: number | undefined) => b === undefined ? '–' : `${f(b / MiB)} MiB`;
function ratio(g: number | undefined, k: number | undefined): number { return g === undefined || k === undefined || !k ? NaN : g / k; }
function verdict(r: number, target: string): string {
  if (Number.isNaN(r)) return '–';
  const [op, v] = [target.slice(0, 1), Number(target.slice(1))];
  const ok = op === '≥' ? r >= v : r <= v;
  return `${target} ${ok ? 'yes' : '**MISS**'}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function report(env: any, config: any, g: BrokerResult, k: BrokerResult, limits: any): string {
  const L: string[] = [];
  L.push(`# gregor vs Apache Kafka ${env.kafka} — ${config.mode} bench ${env.date.slice(0, 10)} (${env.sha})`, '');
  L.push(`Machine: ${env.cpus} × ${env.cpuModel}, ${env.memGiB} GiB, ${env.kernel}, disk ${env.disk}; ${env.node}, ${env.java}; `
    + `librdkafka ${env.librdkafka}, kafkajs ${env.kafkajs}. Load average at start: ${env.loadavgAtStart} (shared machine). Total run ${f(config.runSeconds)} s.`, '');
  L.push(`Each broker runs alone (gregor first, then Kafka), data dir on the same disk, group.initial.rebalance.delay.ms=0 on both, `
    + `topics created with ${PARTITIONS} partitions. Produce: ${PRODUCERS} node-rdkafka producer processes, null keys, linger.ms=5, `
    + `${config.seconds} s per case. MiB/s = value bytes. Ratio = gregor / Kafka; target column from issue 7.`, '');
  L.push('## Limits of this machine (same run)', '', '| limit | value |', '|---|---:|');
  L.push(`| sequential file write, 1 MiB writeSync, ${mib(limits.disk.bytes)} (page cache) | ${f(limits.disk.writeMiBPerSec)} MiB/s |`);
  L.push(`| same + fdatasync at the end | ${f(limits.disk.withFdatasyncMiBPerSec)} MiB/s |`);
  L.push(`| loopback TCP, one Node socket → another process, 64 KiB writes | ${f(limits.tcp.mibPerSec)} MiB/s |`, '');

  L.push('## Produce throughput (node-rdkafka)', '', '| case | gregor MiB/s | Kafka MiB/s | gregor rec/s | Kafka rec/s | gregor/Kafka | target | gregor CPU | Kafka CPU |', '|---|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const c of CASES) {
    const a = g.produce?.[c.id], b = k.produce?.[c.id];
    const r = ratio(a?.recordsPerSec, b?.recordsPerSec);
    L.push(`| ${c.id} | ${f(a?.mibPerSec, 1)} | ${f(b?.mibPerSec, 1)} | ${f(a?.recordsPerSec)} | ${f(b?.recordsPerSec)} | ${f(r, 2)}× | ${verdict(r, '≥1')} | ${pc(a?.brokerCpu)} | ${pc(b?.brokerCpu)} |`);
  }
  L.push('', `## Consume throughput (${CONSUMERS} node-rdkafka consumer processes, each assign()s its share of the partitions from offset 0)`, '', '| topic, page cache | gregor MiB/s | Kafka MiB/s | gregor rec/s | Kafka rec/s | gregor/Kafka | target | gregor CPU | Kafka CPU |', '|---|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const id of Object.keys({ ...g.consume, ...k.consume })) {
    const a = g.consume?.[id], b = k.consume?.[id];
    const r = ratio(a?.recordsPerSec, b?.recordsPerSec);
    L.push(`| ${id} | ${f(a?.mibPerSec, 1)} | ${f(b?.mibPerSec, 1)} | ${f(a?.recordsPerSec)} | ${f(b?.recordsPerSec)} | ${f(r, 2)}× | ${verdict(r, '≥1')} | ${pc(a?.brokerCpu)} | ${pc(b?.brokerCpu)} |`);
  }
  if (g.javaTools || k.javaTools || g.javaToolsError || k.javaToolsError) {
    const tv = g.javaTools?.toolsVersion ?? k.javaTools?.toolsVersion ?? '?';
    L.push('', `## Kafka's own perf tools (kafka-tools ${tv}, Java client defaults + acks=1, no compression)`, '', '| tool, case | gregor | Kafka | gregor/Kafka | target |', '|---|---:|---:|---:|---|');
    for (const id of Object.keys({ ...g.javaTools?.produce, ...k.javaTools?.produce })) {
      const a = g.javaTools?.produce?.[id], b = k.javaTools?.produce?.[id];
      const r = ratio(a?.recordsPerSec, b?.recordsPerSec);
      L.push(`| producer-perf-test ${id}, MiB/s (rec/s) | ${f(a?.mibPerSec, 1)} (${f(a?.recordsPerSec)}) | ${f(b?.mibPerSec, 1)} (${f(b?.recordsPerSec)}) | ${f(r, 2)}× | ${verdict(r, '≥1')} |`);
      L.push(`| producer-perf-test ${id}, p99 send latency | ${f(a?.p99LatencyMs)} ms | ${f(b?.p99LatencyMs)} ms | ${f(ratio(a?.p99LatencyMs, b?.p99LatencyMs), 2)}× | |`);
    }
    const a = g.javaTools?.consume, b = k.javaTools?.consume;
    const r = ratio(a?.recordsPerSec, b?.recordsPerSec);
    L.push(`| consumer-perf-test 1KiB (fetch MiB/s, rec/s), warm | ${f(a?.mibPerSec, 1)} (${f(a?.recordsPerSec)}) | ${f(b?.mibPerSec, 1)} (${f(b?.recordsPerSec)}) | ${f(r, 2)}× | ${verdict(r, '≥1')} |`);
    if (g.javaToolsError) L.push('', `gregor: ${g.javaToolsError.split('\n')[0]}`);
    if (k.javaToolsError) L.push('', `Kafka: ${k.javaToolsError.split('\n')[0]}`);
  }
  L.push('', `## Latency, start-up, memory, groups`, '', '| metric | gregor | Kafka | gregor/Kafka | target |', '|---|---:|---:|---:|---|');
  for (const q of ['p50', 'p99', 'p999', 'max'] as const) {
    const r = ratio(g.latency?.[q], k.latency?.[q]);
    L.push(`| end-to-end latency ${q}, ${LAT_RATE} rec/s × ${LAT_SECONDS} s, 100 B, acks=1 | ${f(g.latency?.[q], 2)} ms | ${f(k.latency?.[q], 2)} ms | ${f(r, 2)}× | ${q === 'p99' ? verdict(r, '≤1') : ''} |`);
  }
  const cs = (x: BrokerResult) => x.coldStart ?? {};
  L.push(`| cold start: spawn → first acknowledged produce | ${f(cs(g).spawnToFirstProduceMs)} ms | ${f(cs(k).spawnToFirstProduceMs)} ms | ${f(ratio(cs(g).spawnToFirstProduceMs, cs(k).spawnToFirstProduceMs), 3)}× | ${verdict(ratio(cs(g).spawnToFirstProduceMs, cs(k).spawnToFirstProduceMs), '≤0.1')} |`);
  L.push(`| … of which spawn → ready | ${f(cs(g).spawnToReadyMs)} ms | ${f(cs(k).spawnToReadyMs)} ms | | |`);
  L.push(`| … of which ready → first produce acked (kafkajs, topic auto-created) | ${f(cs(g).readyToFirstProduceMs)} ms | ${f(cs(k).readyToFirstProduceMs)} ms | | |`);
  L.push(`| storage format (before spawn; not in the cold start) | – | ${f(cs(k).formatMs)} ms | | |`);
  const g1 = g.firstStart?.coldStart ?? {};
  const r1 = ratio(g1.spawnToFirstProduceMs, cs(k).spawnToFirstProduceMs);
  L.push(`| gregor's first start on the machine (empty compile cache): spawn → first produce | ${f(g1.spawnToFirstProduceMs)} ms | ${f(cs(k).spawnToFirstProduceMs)} ms | ${f(r1, 3)}× | |`);
  L.push(`| … of which spawn → ready | ${f(g1.spawnToReadyMs)} ms | | | |`);
  const ir = ratio(g.idleRssBytes, k.idleRssBytes);
  L.push(`| RSS idle, ${IDLE_S} s after ready | ${mib(g.idleRssBytes)} | ${mib(k.idleRssBytes)} | ${f(ir, 3)}× | ${verdict(ir, '≤0.15')} |`);
  const ir1 = ratio(g.firstStart?.idleRssBytes, k.idleRssBytes);
  L.push(`| RSS idle, gregor's first start (empty compile cache) | ${mib(g.firstStart?.idleRssBytes)} | ${mib(k.idleRssBytes)} | ${f(ir1, 3)}× | |`);
  L.push(`| RSS peak during the produce cases | ${mib(g.loadRssPeakBytes)} | ${mib(k.loadRssPeakBytes)} | ${f(ratio(g.loadRssPeakBytes, k.loadRssPeakBytes), 2)}× | |`);
  L.push(`| group of 3 kafkajs consumers: first record | ${f(g.group?.firstRecordMs)} ms | ${f(k.group?.firstRecordMs)} ms | ${f(ratio(g.group?.firstRecordMs, k.group?.firstRecordMs), 2)}× | |`);
  L.push(`| group of 3: every member consumed a record (stable group) | ${f(g.group?.allThreeMs)} ms | ${f(k.group?.allThreeMs)} ms | ${f(ratio(g.group?.allThreeMs, k.group?.allThreeMs), 2)}× | |`);
  L.push(`| 1-minute load average when the broker started (shared machine) | ${f(g.loadavgAtStart, 2)} | ${f(k.loadavgAtStart, 2)} | | |`);
  L.push('');
  if (g.scale || k.scale || g.scaleError || k.scaleError) {
    const a = g.scale ?? {}, b = k.scale ?? {};
    const row = (what: string, x: number | undefined, y: number | undefined, fmt: (n: number | undefined) => string, d = 2) =>
      L.push(`| ${what} | ${fmt(x)} | ${fmt(y)} | ${f(ratio(x, y), d)}× |`);
    const ms = (d = 0) => (n: number | undefined) => `${f(n, d)} ms`;
    const kib = (n: number | undefined) => n === undefined || Number.isNaN(n) ? '–' : `${f(n / 1024, 1)} KiB`;
    L.push(`## Scale (a fresh broker each; ${f(a.topics ?? b.topics ?? SCALE_TOPICS)} topics × ${SCALE_PARTITIONS} partitions, ${f(a.connections ?? b.connections ?? SCALE_CONNECTIONS)} connections)`, '',
      '| metric | gregor | Kafka | gregor/Kafka |', '|---|---:|---:|---:|');
    row(`create ${f(a.partitions ?? b.partitions)} partitions (CreateTopics, 50 topics/request) until Metadata shows every leader`, a.createdMs, b.createdMs, ms());
    row(`Metadata, all topics (v12, ${f(a.metadataBytes ?? b.metadataBytes)} B response): p50 of ${SCALE_METADATA_ROUNDS}`, a.metadataP50Ms, b.metadataP50Ms, ms(1));
    row(`Metadata, all topics: max of ${SCALE_METADATA_ROUNDS}`, a.metadataMaxMs, b.metadataMaxMs, ms(1));
    const st = `${QUICK ? 1.5 : 3} s`;
    row(`RSS before creating the topics (fresh broker after one CreateTopics and one produce, ${st} later)`, a.rssBeforeTopicsBytes, b.rssBeforeTopicsBytes, mib);
    row(`RSS with the topics, ${st} after the last Metadata`, a.rssAfterTopicsBytes, b.rssAfterTopicsBytes, mib);
    row('RSS per (empty) partition', a.rssPerPartitionBytes, b.rssPerPartitionBytes, kib);
    row(`${f(a.connections ?? b.connections)} raw producer connections: connected, one acks=1 produce each acknowledged`, a.firstProduceAllMs, b.firstProduceAllMs, ms());
    row(`RSS with the connections open (each after its first produce)`, a.rssWithConnectionsBytes, b.rssWithConnectionsBytes, mib);
    row('RSS per open connection (JVM: heap sizing dominates, the delta can be negative)', a.rssPerConnectionBytes, b.rssPerConnectionBytes, kib);
    row(`${SCALE_PRODUCE_ROUNDS} rounds × every connection producing 10 × 100 B (acks=1) at once: p50 request`, a.produceP50Ms, b.produceP50Ms, ms(1));
    row('… p99 request', a.produceP99Ms, b.produceP99Ms, ms(1));
    row('… records/s over the rounds', a.recordsPerSec, b.recordsPerSec, (n) => f(n));
    if (g.scaleError) L.push('', `gregor: ${g.scaleError.split('\n')[0]}`);
    if (k.scaleError) L.push('', `Kafka: ${k.scaleError.split('\n')[0]}`);
    L.push('');
  }
  return L.join('\n');
}

// ------------------------------------------------------------------------------------------ profile

function summariseCpuProfile(file: string, top = 20): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const us = self.get(n.id) ?? 0;
    total += us;
    const cf = n.callFrame;
    const url: string = cf.url ?? '';
    const file = url.startsWith('file:') ? path.relative(root, fileURLToPath(url)) : url.startsWith('/') ? path.relative(root, url) : url;
    const where = file ? `${file}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const rows = [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const busy = total - (byFn.get('(idle)') ?? 0);
  return ['| self time | share of profile | share of busy (non-idle) time | function |', '|---:|---:|---:|---|',
    ...rows.map(([k, us]) => `| ${f(us / 1000)} ms | ${f((us / total) * 100, 1)}% | ${k === '(idle)' ? '' : `${f((us / busy) * 100, 1)}%`} | \`${k.replace(/\|/g, '\\|')}\` |`)].join('\n');
}

async function profileRun(tmp: string): Promise<void> {
  const profDir = path.join(tmp, 'prof');
  const b = await startGregorBroker(path.join(tmp, 'gregor'), ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const c = ALL_CASES.find((x) => x.id === '1KiB-acks1-none')!;
  let r;
  try {
    log(`gregor --cpu-prof: produce ${c.id}, ${PRODUCERS} producers, ${SECONDS} s`);
    r = await produceCase(b, c);
  } finally { await b.stop(); }
  const file = fs.readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const md = `# gregor --cpu-prof under produce ${c.id} (${gitSha()}, ${new Date().toISOString().slice(0, 10)})\n\n`
    + `${f(r.mibPerSec, 1)} MiB/s, ${f(r.recordsPerSec)} rec/s, gregor CPU ${f(r.brokerCpu * 100)}% of a core (profiler on).\n\n${summariseCpuProfile(path.join(profDir, file))}\n`;
  console.log(md);
  if (!flag('--no-write')) {
    const out = path.join(root, 'bench/results', `${new Date().toISOString().slice(0, 10)}-${gitSha()}-cpu-profile.md`);
    fs.writeFileSync(out, md);
    log(`wrote ${path.relative(root, out)}`);
  }
}

// ------------------------------------------------------------------------------------------ main

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-bench-'));
const tStart = performance.now();
try {
  if (PROFILE) {
    await profileRun(tmp);
  } else {
    const kafkaVersion = await resolveVersion();
    const env = machine(tmp, kafkaVersion);
    log(`limits: disk and loopback`);
    const limits = { disk: diskLimit(tmp, QUICK ? 256 * MiB : 1024 * MiB), tcp: await tcpLimit(QUICK ? 2 : 5) };
    log(`  disk ${limits.disk.writeMiBPerSec.toFixed(0)} MiB/s (${limits.disk.withFdatasyncMiBPerSec.toFixed(0)} with fdatasync), tcp ${limits.tcp.mibPerSec.toFixed(0)} MiB/s`);
    const g = ONLY === 'kafka' ? {} : await benchBroker('gregor', kafkaVersion, tmp);
    const k = ONLY === 'gregor' ? {} : await benchBroker('kafka', kafkaVersion, tmp);
    const mode = QUICK ? 'quick' : 'full';
    const config = { mode, seconds: SECONDS, producers: PRODUCERS, partitions: PARTITIONS, idleSeconds: IDLE_S, latencyRate: LAT_RATE, latencySeconds: LAT_SECONDS,
      cases: CASES, consumeFrom: CONSUME_FROM, javaTools: JAVA_TOOLS, runSeconds: (performance.now() - tStart) / 1000 };
    const md = report(env, config, g, k, limits);
    console.log(md);
    if (!flag('--no-write')) {
      const out = path.join(root, 'bench/results');
      fs.mkdirSync(out, { recursive: true });
      const base = path.join(out, `${(env.date as string).slice(0, 10)}-${env.sha}-${mode}`);
      fs.writeFileSync(`${base}.md`, md);
      fs.writeFileSync(`${base}.json`, JSON.stringify({ env, config, limits, gregor: g, kafka: k }, null, 2) + '\n');
      log(`wrote ${path.relative(root, base)}.{md,json}`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`done in ${((performance.now() - tStart) / 1000).toFixed(0)} s`);
}
// Client libraries (kafkajs retry timers, sockets of the readiness probes) can keep the loop alive for ~30 s.
process.exit(process.exitCode ?? 0);
