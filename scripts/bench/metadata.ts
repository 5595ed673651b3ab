// node scripts/bench/metadata.ts [--base <checkout>] [--kafka] [--latency N] [--start-runs N] [--no-write]
//
// Metadata through the controller (issues #15 item 6, #20 item 3), each workload on a fresh broker (the CLI,
// file storage in a temp dir; the client runs in this process over raw protocol, one request in flight per
// connection):
//   commit latency     N (default 200) CreateTopics of 1 topic × 1 partition, one after the other: p50 / p99
//   100 × 100          one CreateTopics with 100 topics of 100 partitions
//   10,000 × 1         10,000 single-partition topics from 100 connections × 100 requests, all at once
// Times run from the first request to the last response, and to the first Metadata (v12, all topics) that
// shows a leader for every partition (Kafka answers CreateTopics before its partitions exist).
// Then single-node cold start and idle RSS (scripts/bench/start-time.ts, memory storage), alternating with
// the other checkout. `--base` runs every workload against another checkout too (e.g. a worktree of a6d5ce4,
// before the metadata log); `--kafka` against Apache Kafka (scripts/kafka-ref.ts, a single KRaft node).
// Writes bench/results/<date>-metadata.json unless --no-write.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCreatableTopic } from '../../protocol/generated/create-topics.ts';
import { RawClient } from '../../broker/testing/raw-client.ts';
import { startOnce } from './start-time.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const opt = (n: string): string | undefined => { const i = argv.indexOf(n); return i < 0 ? undefined : argv[i + 1]; };
const base = opt('--base');
const latencyN = Number(opt('--latency') ?? 200);
const startRuns = Number(opt('--start-runs') ?? 8);
const withKafka = argv.includes('--kafka');
const now = () => performance.now();

interface Broker { name: string; port: number; stop(): Promise<void> }

async function startGregor(repo: string): Promise<Broker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-mdbench-'));
  const p: ChildProcess = spawn(process.execPath, [path.join(repo, 'broker/bin/gregor.js'), '--override', `log.dirs=${dir}`,
    '--override', 'listeners=PLAINTEXT://127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const on = (d: Buffer) => { buf += d; const m = /listening on [^\n]*?:(\d+)/.exec(buf); if (m && / started, cluster/.test(buf)) resolve(Number(m[1])); };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.on('exit', (c) => reject(new Error(`gregor exited ${c}: ${buf}`)));
    setTimeout(() => reject(new Error(`gregor did not start within 30 s: ${buf}`)), 30_000).unref();
  });
  p.stdout!.resume();
  p.stderr!.resume();
  return {
    name: repo === ROOT ? 'gregor' : `gregor@${path.basename(repo)}`, port,
    async stop() {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (p.exitCode === null) { p.kill('SIGKILL'); await exited; }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startKafka(): Promise<Broker> {
  const { formatAndStart } = await import('../kafka-ref.ts');
  const k = await formatAndStart({});
  return { name: `kafka ${k.version}`, port: k.port, stop: () => k.stop() };
}

async function call(c: RawClient, apiKey: number, version: number, body: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  c.sendRaw(c.encodeRequest(apiKey, version, body));
  return c.decodeResponse(apiKey, version, await c.nextFrame(300_000));
}

async function createTopics(c: RawClient, topics: Array<{ name: string; partitions: number }>): Promise<void> {
  const res = await call(c, 19, 7, {
    topics: topics.map((t) => makeCreatableTopic({ name: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
    timeoutMs: 300_000, validateOnly: false,
  });
  const bad = res.topics.filter((t: { errorCode: number }) => t.errorCode !== 0);
  if (bad.length) throw new Error(`CreateTopics: ${bad.length} errors, first ${bad[0].name}: ${bad[0].errorCode} ${bad[0].errorMessage}`);
}

/** Polls Metadata until every partition of the topics starting with `prefix` has a leader. */
async function untilLeaders(c: RawClient, prefix: string, want: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const res = await call(c, 3, 12, { topics: null });
    let ready = 0;
    for (const t of res.topics) if (String(t.name).startsWith(prefix)) for (const p of t.partitions) if (p.leaderId >= 0) ready++;
    if (ready >= want) return;
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${want} partitions have a leader`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
const r1 = (x: number) => Math.round(x * 10) / 10;

async function latency(b: Broker): Promise<{ p50Ms: number; p99Ms: number; n: number }> {
  const c = await RawClient.connect(b.port);
  const lat: number[] = [];
  for (let i = 0; i < latencyN + 10; i++) {
    const t0 = now();
    await createTopics(c, [{ name: `lat-${i}`, partitions: 1 }]);
    if (i >= 10) lat.push(now() - t0); // the first ten warm up
  }
  c.close();
  return { p50Ms: r1(q(lat, 0.5)), p99Ms: r1(q(lat, 0.99)), n: lat.length };
}

async function bulk(b: Broker): Promise<{ responseMs: number; leadersMs: number }> {
  const c = await RawClient.connect(b.port);
  const t0 = now();
  await createTopics(c, Array.from({ length: 100 }, (_, i) => ({ name: `bulk-${i}`, partitions: 100 })));
  const responseMs = now() - t0;
  await untilLeaders(c, 'bulk-', 10_000);
  const leadersMs = now() - t0;
  c.close();
  return { responseMs: Math.round(responseMs), leadersMs: Math.round(leadersMs) };
}

async function concurrent(b: Broker, conns = 100, each = 100): Promise<{ responseMs: number; leadersMs: number }> {
  const cs = await Promise.all(Array.from({ length: conns }, () => RawClient.connect(b.port)));
  const t0 = now();
  await Promise.all(cs.map(async (c, k) => { for (let i = 0; i < each; i++) await createTopics(c, [{ name: `conc-${k}-${i}`, partitions: 1 }]); }));
  const responseMs = now() - t0;
  await untilLeaders(cs[0]!, 'conc-', conns * each);
  const leadersMs = now() - t0;
  for (const c of cs) c.close();
  return { responseMs: Math.round(responseMs), leadersMs: Math.round(leadersMs) };
}

async function onFresh<T>(start: () => Promise<Broker>, fn: (b: Broker) => Promise<T>): Promise<T> {
  const b = await start();
  try { return await fn(b); } finally { await b.stop(); }
}

const targets: Array<[string, () => Promise<Broker>]> = [['gregor', () => startGregor(ROOT)]];
if (base) targets.push([`gregor@${path.basename(base)}`, () => startGregor(path.resolve(base))]);
if (withKafka) targets.push(['kafka', startKafka]);

const results: Record<string, unknown> = {};
for (const [name, start] of targets) {
  const r = {
    latency: await onFresh(start, latency),
    bulk100x100: await onFresh(start, bulk),
    concurrent10000x1: await onFresh(start, (b) => concurrent(b)),
  };
  results[name] = r;
  console.log(`${name.padEnd(20)} CreateTopics(1×1) p50 ${r.latency.p50Ms} ms p99 ${r.latency.p99Ms} ms | 100×100: answered ${r.bulk100x100.responseMs} ms, leaders ${r.bulk100x100.leadersMs} ms | 10,000×1 from 100 connections: answered ${r.concurrent10000x1.responseMs} ms, leaders ${r.concurrent10000x1.leadersMs} ms`);
}

// Cold start and idle RSS, alternating between the checkouts (the machine's load drifts).
const repos = [ROOT, ...(base ? [path.resolve(base)] : [])];
const starts = new Map<string, Array<{ ready: number; rss: number }>>(repos.map((r) => [r, []]));
for (const r of repos) await startOnce(r, 'memory'); // fill the compile cache
for (let i = 0; i < startRuns; i++) for (const r of repos) starts.get(r)!.push(await startOnce(r, 'memory'));
for (const r of repos) {
  const xs = starts.get(r)!;
  const s = { readyMs: r1(q(xs.map((x) => x.ready), 0.5)), rssMiB: r1(q(xs.map((x) => x.rss), 0.5)), runs: xs.length };
  const name = r === ROOT ? 'gregor' : `gregor@${path.basename(r)}`;
  (results[name] as Record<string, unknown> ?? (results[name] = {}) as Record<string, unknown>).start = s;
  console.log(`${name.padEnd(20)} cold start (spawn → started, memory storage) median ${s.readyMs} ms, idle RSS ${s.rssMiB} MiB (${s.runs} runs)`);
}

if (!argv.includes('--no-write')) {
  const out = path.join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}-metadata.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), base: base ?? null, latencyN, startRuns, cpus: os.cpus().length, results }, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
