// npm run soak -- --minutes N [--interval S] [--out DIR] [--rate R]
//
// Starts a gregor process of its own (file storage in a temp dir), drives a mixed kafkajs workload against it
// for N minutes, then checks what it was told:
//   - idempotent acks=all producers (soak-main, 3 partitions) read by a group whose second member leaves and
//     joins again: every acknowledged record delivered, duplicates only after a rebalance;
//   - a compacted topic written plainly (soak-compact) and one written by transactions (soak-txn-compact): read
//     from the start at the end, each key's last value is the last acknowledged / committed one, and no
//     aborted value appears;
//   - transactions committed and aborted (soak-txn, read by a read_committed group): no aborted record
//     delivered, every committed one delivered;
//   - create / produce / check / delete churn of short-lived topics;
//   - retention on 1 MiB segments (soak-retention): the log start moves and its disk stays within its
//     retention.bytes plus a few segments.
// Per interval it prints the broker's RSS, heap, file descriptors, disk use and ack latency percentiles, and at
// the end writes results.json and chart.png into --out. Exit code 0 = verdict PASS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import kafkajsPkg from 'kafkajs';
import { createRequire } from 'node:module';
import type { Consumer, Producer } from 'kafkajs';
import { diskBytes, heapBytes, openFds, rssBytes, startBroker, topicBytes } from './process.ts';
import { DeliveryLedger, LatencyWindow } from './track.ts';
import { lineChart } from './png.ts';

const { Kafka, logLevel } = kafkajsPkg;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    interval: { type: 'string' },
    out: { type: 'string' },
    rate: { type: 'string', default: '1500' },
    'keep-data': { type: 'boolean', default: false },
  },
});
const minutes = Number(args.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be positive: ${args.minutes}`);
const durationMs = minutes * 60_000;
const intervalMs = (args.interval ? Number(args.interval) : Math.max(5, Math.min(60, (minutes * 60) / 20))) * 1000;
const outDir = args.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-soak-out-'));
fs.mkdirSync(outDir, { recursive: true });
const ratePerSecond = Number(args.rate);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
let stopping = false;
const clientErrors: string[] = [];
const clientError = (what: string, e: unknown): void => {
  clientErrors.push(`${what}: ${(e as Error)?.message ?? e}`);
};

const SEGMENT = 1024 * 1024;
const RETENTION_BYTES = 2 * SEGMENT;
// soak-main keeps enough for the group to catch up after a rebalance, so its disk use is bounded too.
const MAIN_RETENTION_BYTES = 16 * SEGMENT;
// soak-txn gets ~60 KB/min per partition: 4 MiB is over an hour of it, far more than its reader lags.
const TXN_RETENTION_BYTES = 4 * SEGMENT;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-soak-data-'));
const broker = await startBroker(dataDir, {
  'group.initial.rebalance.delay.ms': '0',
  // Clients refresh metadata of topics they once used; with auto-creation on, that re-creates deleted churn
  // topics (as Kafka would). The soak creates its topics itself.
  'auto.create.topics.enable': 'false',
  'log.retention.check.interval.ms': '2000',
  'log.initial.task.delay.ms': '2000',
  'log.segment.delete.delay.ms': '1000',
  'log.cleaner.backoff.ms': '1000',
  'offsets.topic.num.partitions': '5',
  'transaction.state.log.num.partitions': '5',
});
console.log(`soak: gregor pid ${broker.pid} on ${broker.bootstrap}, data ${dataDir}, ${minutes} min, interval ${intervalMs / 1000} s, out ${outDir}`);

const kafka = new Kafka({ clientId: 'soak', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
const admin = kafka.admin();
await admin.connect();
const compactCfg = [
  { name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: String(SEGMENT) },
  { name: 'min.cleanable.dirty.ratio', value: '0.01' }, { name: 'segment.ms', value: '5000' },
  { name: 'delete.retention.ms', value: '5000' },
];
await admin.createTopics({
  waitForLeaders: true,
  topics: [
    {
      topic: 'soak-main', numPartitions: 3, configEntries: [
        { name: 'segment.bytes', value: String(SEGMENT) }, { name: 'retention.bytes', value: String(MAIN_RETENTION_BYTES) },
      ],
    },
    { topic: 'soak-compact', numPartitions: 1, configEntries: compactCfg },
    { topic: 'soak-txn-compact', numPartitions: 1, configEntries: compactCfg },
    // Bounded as soak-main is: an unbounded topic grows its disk and, with it, its aborted-transaction index (kept
    // in memory, one entry per abort: ~40 KB/min here), which a 2-hour RSS figure would mistake for a leak.
    {
      topic: 'soak-txn', numPartitions: 2, configEntries: [
        { name: 'segment.bytes', value: String(SEGMENT) }, { name: 'retention.bytes', value: String(TXN_RETENTION_BYTES) },
      ],
    },
    {
      topic: 'soak-retention', numPartitions: 2, configEntries: [
        { name: 'segment.bytes', value: String(SEGMENT) }, { name: 'retention.bytes', value: String(RETENTION_BYTES) },
        { name: 'file.delete.delay.ms', value: '1000' },
      ],
    },
  ],
});

// ---- idempotent producers and the group with a member leaving and joining ---------------------------------

const PRODUCERS = 2;
const BATCH = 25;
const ledgers = Array.from({ length: PRODUCERS }, () => new DeliveryLedger());
const acks = new LatencyWindow();
let lastRebalanceAt = -Infinity;
const rebalance = (): void => { lastRebalanceAt = now(); };
const pad = 'x'.repeat(150);

async function idempotentProducer(i: number): Promise<void> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const sendsPerSecond = ratePerSecond / BATCH / PRODUCERS;
  const ledger = ledgers[i];
  let next = now();
  while (!stopping) {
    const first = ledger.reserve(BATCH);
    const messages = Array.from({ length: BATCH }, (_, k) => ({ key: String((first + k) % 97), value: `${i}:${first + k}:${pad}` }));
    const t0 = now();
    try {
      await p.send({ topic: 'soak-main', acks: -1, messages });
      acks.add(now() - t0);
      ledger.settle(first, BATCH, true);
    } catch (e) {
      ledger.settle(first, BATCH, false);
      clientError(`producer ${i}`, e);
    }
    next += 1000 / sendsPerSecond;
    const wait = next - now();
    if (wait > 0) await sleep(wait);
    else next = now();
  }
  await p.disconnect();
}

function groupMember(name: string): Consumer {
  const c = kafka.consumer({ groupId: 'soak-group', sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250, retry: { retries: 8 } });
  c.on(c.events.GROUP_JOIN, rebalance);
  c.on(c.events.CRASH, (e) => { rebalance(); clientError(`consumer ${name} crashed`, e.payload.error); });
  return c;
}

async function startMember(c: Consumer): Promise<void> {
  await c.connect();
  await c.subscribe({ topics: ['soak-main'], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      const v = message.value!.toString();
      const a = v.indexOf(':');
      const b = v.indexOf(':', a + 1);
      const ledger = ledgers[Number(v.slice(0, a))];
      if (!ledger) return;
      ledger.deliver(Number(v.slice(a + 1, b)), now(), lastRebalanceAt);
    },
  });
}

let memberChanges = 0;
async function churnMembers(): Promise<Consumer[]> {
  const stable = groupMember('stable');
  await startMember(stable);
  let mover: Consumer | null = null;
  while (!stopping) {
    await sleep(Math.min(15_000, durationMs / 6));
    if (stopping) break;
    if (mover) {
      rebalance();
      await mover.disconnect();
      mover = null;
    } else {
      rebalance();
      mover = groupMember('mover');
      await startMember(mover);
    }
    memberChanges++;
  }
  return mover ? [stable, mover] : [stable];
}

// ---- compacted topic written plainly ------------------------------------------------------------------------

const compactExpected = new Map<string, string>();
let compactWrites = 0;
async function compactWriter(): Promise<void> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  let version = 0;
  while (!stopping) {
    const messages = Array.from({ length: 20 }, () => {
      version++;
      return { key: `k${Math.floor(Math.random() * 200)}`, value: `v${version}:${pad}` };
    });
    try {
      await p.send({ topic: 'soak-compact', acks: -1, messages });
      for (const m of messages) compactExpected.set(m.key, m.value);
      compactWrites += messages.length;
    } catch (e) {
      clientError('compact writer', e);
      // Unknown outcome: the key's last value may be either; forget it (checked only when written again).
      for (const m of messages) compactExpected.delete(m.key);
    }
    await sleep(20);
  }
  await p.disconnect();
}

// ---- transactions: a compacted topic and a read_committed group ---------------------------------------------

const txnCompactExpected = new Map<string, string>();
const committedTxns = new Set<number>();
const abortedTxns = new Set<number>();
const TXN_PLAIN = 10;
async function transactionalWriter(): Promise<void> {
  const p = kafka.producer({ transactionalId: 'soak-txn', idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  let n = 0;
  while (!stopping) {
    n++;
    const commit = Math.random() < 0.75;
    const updates = Array.from({ length: 20 }, (_, k) => ({ key: `t${Math.floor(Math.random() * 100)}`, value: `x${n}:${k}:${pad}` }));
    try {
      const txn = await p.transaction();
      await txn.send({ topic: 'soak-txn-compact', messages: updates });
      await txn.send({ topic: 'soak-txn', messages: Array.from({ length: TXN_PLAIN }, (_, k) => ({ key: String(k), value: `${n}:${k}` })) });
      if (commit) {
        await txn.commit();
        committedTxns.add(n);
        for (const u of updates) txnCompactExpected.set(u.key, u.value);
      } else {
        await txn.abort();
        abortedTxns.add(n);
      }
    } catch (e) {
      clientError('transactional writer', e);
      break;
    }
    await sleep(50);
  }
  await p.disconnect();
}

const rcSeen = new Map<number, number>();
let rcDeliveries = 0;
async function readCommittedGroup(): Promise<Consumer> {
  const c = kafka.consumer({ groupId: 'soak-rc', readUncommitted: false, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  c.on(c.events.CRASH, (e) => clientError('read_committed consumer crashed', e.payload.error));
  await c.connect();
  await c.subscribe({ topics: ['soak-txn'], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      const n = Number(message.value!.toString().split(':')[0]);
      rcSeen.set(n, (rcSeen.get(n) ?? 0) + 1);
      rcDeliveries++;
    },
  });
  return c;
}

// ---- create / delete churn -------------------------------------------------------------------------------------

let churnCycles = 0;
const churnFailures: string[] = [];
async function topicChurn(): Promise<void> {
  let i = 0;
  while (!stopping) {
    const topic = `soak-churn-${i++}`;
    // A producer per cycle: connection churn too, and no client keeps refreshing deleted topics.
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await p.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
      for (let k = 0; k < 5; k++) await p.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ key: String(j), value: pad })) });
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
      if (total !== 50) churnFailures.push(`${topic}: ${total} records, expected 50`);
      await admin.deleteTopics({ topics: [topic] });
      churnCycles++;
    } catch (e) {
      churnFailures.push(`${topic}: ${(e as Error).message}`);
    }
    await p.disconnect().catch(() => {});
    await sleep(2000);
  }
}

// ---- retention on small segments ---------------------------------------------------------------------------------

let retentionBytesWritten = 0;
async function retentionWriter(): Promise<void> {
  const p = kafka.producer(); // acks=1: not idempotent (kafkajs requires acks=all for that)
  await p.connect();
  const value = 'r'.repeat(1000);
  while (!stopping) {
    try {
      await p.send({ topic: 'soak-retention', acks: 1, messages: Array.from({ length: 20 }, (_, k) => ({ key: String(k), value })) });
      retentionBytesWritten += 20 * 1000;
    } catch (e) {
      clientError('retention writer', e);
    }
    await sleep(40);
  }
  await p.disconnect();
}

// ---- run, sample ---------------------------------------------------------------------------------------------------

interface Sample {
  t: number; rssMiB: number; heapMiB: number; externalMiB: number; fds: number; diskMiB: number; retentionMiB: number; compactMiB: number; txnCompactMiB: number;
  acks: number; p50: number; p99: number; p999: number; max: number;
}
const samples: Sample[] = [];
const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;
const started = now();
const workers: Promise<unknown>[] = [];
for (let i = 0; i < PRODUCERS; i++) workers.push(idempotentProducer(i).catch((e) => clientError(`producer ${i}`, e)));
const members = churnMembers().catch((e) => { clientError('group', e); return [] as Consumer[]; });
workers.push(compactWriter().catch((e) => clientError('compact writer', e)));
workers.push(transactionalWriter().catch((e) => clientError('transactional writer', e)));
workers.push(topicChurn().catch((e) => clientError('churn', e)));
workers.push(retentionWriter().catch((e) => clientError('retention writer', e)));
const rc = await readCommittedGroup();

console.log('   t(s)  rss(MiB) heap(MiB) ext(MiB)  fds  disk(MiB) retention(MiB) compact(MiB) txn-compact(MiB)   acks  p50(ms)  p99(ms) p99.9(ms)');
while (now() - started < durationMs) {
  await sleep(Math.max(0, Math.min(intervalMs, durationMs - (now() - started))));
  const lat = acks.take();
  const mem = await heapBytes(broker.metricsPort);
  const s: Sample = {
    t: Math.round((now() - started) / 1000), rssMiB: mib(rssBytes(broker.pid)), heapMiB: mib(mem.heap), externalMiB: mib(mem.external),
    fds: openFds(broker.pid), diskMiB: mib(diskBytes(dataDir)), retentionMiB: mib(topicBytes(dataDir, 'soak-retention-')),
    compactMiB: mib(topicBytes(dataDir, 'soak-compact-')), txnCompactMiB: mib(topicBytes(dataDir, 'soak-txn-compact-')),
    acks: lat.n * BATCH, p50: Math.round(lat.p50 * 10) / 10, p99: Math.round(lat.p99 * 10) / 10, p999: Math.round(lat.p999 * 10) / 10, max: Math.round(lat.max),
  };
  samples.push(s);
  const f = (v: number, w: number): string => String(v).padStart(w);
  console.log(`${f(s.t, 7)} ${f(s.rssMiB, 9)} ${f(s.heapMiB, 9)} ${f(s.externalMiB, 8)} ${f(s.fds, 4)} ${f(s.diskMiB, 10)} ${f(s.retentionMiB, 14)} ${f(s.compactMiB, 12)} ${f(s.txnCompactMiB, 16)} ${f(s.acks, 6)} ${f(s.p50, 8)} ${f(s.p99, 8)} ${f(s.p999, 9)}`);
}

// ---- stop the writers, let the readers catch up, check ---------------------------------------------------------------

stopping = true;
await Promise.all(workers);
const consumers = await members;
const waitUntil = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const deadline = now() + ms;
  while (!cond()) {
    if (now() > deadline) return false;
    await sleep(200);
  }
  return true;
};
const rcComplete = (): boolean => [...committedTxns].every((n) => (rcSeen.get(n) ?? 0) >= TXN_PLAIN);
const groupCaughtUp = await waitUntil(() => ledgers.every((l) => l.caughtUp()), 120_000);
await waitUntil(rcComplete, 60_000);
for (const c of [...consumers, rc]) await c.disconnect().catch((e) => clientError('consumer disconnect', e));

/** Reads a compacted topic from the start with a fresh group; the last value seen per key. */
async function readCompacted(topic: string, expected: Map<string, string>, readCommitted: boolean): Promise<Map<string, string>> {
  const last = new Map<string, string>();
  const c = kafka.consumer({ groupId: `soak-verify-${topic}`, readUncommitted: !readCommitted, maxWaitTimeInMs: 250 });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({ eachMessage: async ({ message }) => { last.set(message.key!.toString(), message.value?.toString() ?? ''); } });
  await waitUntil(() => [...expected].every(([k, v]) => last.get(k) === v), 60_000);
  await c.disconnect();
  return last;
}
/**
 * The transactional compacted topic is read back with librdkafka (node-rdkafka), read_committed: the cleaner keeps
 * a cleaned segment's last batch as an empty header (to keep the segment's end offset), and kafkajs cannot advance
 * past a batch without records — it stops there for good (see storage/README.md, "Known gaps"). librdkafka, like
 * the Java client, advances by the batch's last offset.
 */
async function readCompactedRd(topic: string, expected: Map<string, string>): Promise<Map<string, string>> {
  const Rd = createRequire(import.meta.url)('node-rdkafka');
  const last = new Map<string, string>();
  const c = new Rd.KafkaConsumer({ 'metadata.broker.list': broker.bootstrap, 'group.id': `soak-verify-rd-${topic}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed', 'fetch.wait.max.ms': 100 }, { 'auto.offset.reset': 'earliest' });
  c.on('event.error', () => {});
  await new Promise<void>((resolve, reject) => c.connect({}, (err: unknown) => (err ? reject(err) : resolve())));
  c.on('data', (m: { key: Buffer | null; value: Buffer | null }) => { if (m.key) last.set(m.key.toString(), m.value?.toString() ?? ''); });
  c.assign([{ topic, partition: 0, offset: 0 }]);
  c.consume();
  await waitUntil(() => [...expected].every(([k, v]) => last.get(k) === v), 60_000);
  await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  return last;
}
const compactSeen = await readCompacted('soak-compact', compactExpected, false);
const txnCompactSeen = await readCompactedRd('soak-txn-compact', txnCompactExpected);
const mismatches = (expected: Map<string, string>, seen: Map<string, string>): number => [...expected].filter(([k, v]) => seen.get(k) !== v).length;
const abortedInCompacted = [...txnCompactSeen.values()].filter((v) => abortedTxns.has(Number(v.slice(1, v.indexOf(':'))))).length;
const retentionOffsets = await admin.fetchTopicOffsets('soak-retention');
const churnLeft = (await admin.listTopics()).filter((n) => n.startsWith('soak-churn-')).length;
await admin.disconnect();
const exitCode = await broker.stop();

const sum = (f: (l: DeliveryLedger) => number): number => ledgers.reduce((s, l) => s + f(l), 0);
const retentionMax = Math.max(0, ...samples.map((s) => s.retentionMiB));
const retentionBound = mib(2 * (RETENTION_BYTES + 3 * SEGMENT));
const checks = {
  acknowledged: sum((l) => l.acked),
  lost: sum((l) => l.missing()),
  duplicates: sum((l) => l.duplicates),
  unexplainedDuplicates: sum((l) => l.unexplained),
  unknownDeliveries: sum((l) => l.unknown),
  groupCaughtUp,
  memberChanges,
  transactionsCommitted: committedTxns.size,
  transactionsAborted: abortedTxns.size,
  abortedDelivered: [...rcSeen.keys()].filter((n) => abortedTxns.has(n)).length,
  committedMissing: [...committedTxns].filter((n) => (rcSeen.get(n) ?? 0) < TXN_PLAIN).length,
  compactKeys: compactExpected.size,
  compactMismatches: mismatches(compactExpected, compactSeen),
  txnCompactKeys: txnCompactExpected.size,
  txnCompactMismatches: mismatches(txnCompactExpected, txnCompactSeen),
  abortedInCompacted,
  churnCycles,
  churnFailures: churnFailures.length,
  churnTopicsLeft: churnLeft,
  retentionLogStartMoved: retentionOffsets.some((o) => Number(o.low) > 0),
  retentionMaxMiB: retentionMax,
  retentionBoundMiB: retentionBound,
  clientErrors: clientErrors.length,
  brokerWarnings: broker.warnings.count,
  brokerExitCode: exitCode,
};
const failures: string[] = [];
if (checks.lost > 0) failures.push(`${checks.lost} acknowledged records never delivered`);
if (!checks.groupCaughtUp) failures.push('the group did not catch up within 120 s');
if (checks.unexplainedDuplicates > 0) failures.push(`${checks.unexplainedDuplicates} duplicates without a rebalance`);
if (checks.unknownDeliveries > 0) failures.push(`${checks.unknownDeliveries} deliveries of records never sent`);
if (checks.abortedDelivered > 0) failures.push(`${checks.abortedDelivered} aborted transactions delivered to read_committed`);
if (checks.committedMissing > 0) failures.push(`${checks.committedMissing} committed transactions not (fully) delivered`);
if (checks.compactMismatches > 0) failures.push(`${checks.compactMismatches} keys of soak-compact without their last value`);
if (checks.txnCompactMismatches > 0) failures.push(`${checks.txnCompactMismatches} keys of soak-txn-compact without their last committed value`);
if (checks.abortedInCompacted > 0) failures.push(`${checks.abortedInCompacted} aborted values in soak-txn-compact`);
if (checks.churnTopicsLeft > 0) failures.push(`${checks.churnTopicsLeft} deleted churn topics still listed`);
if (checks.churnFailures > 0) failures.push(`churn: ${churnFailures.slice(0, 3).join('; ')}`);
if (retentionBytesWritten > 2 * (RETENTION_BYTES + 2 * SEGMENT) && !checks.retentionLogStartMoved) failures.push('retention never moved the log start of soak-retention');
if (retentionMax > retentionBound) failures.push(`soak-retention reached ${retentionMax} MiB (bound ${retentionBound})`);
if (checks.clientErrors > 0) failures.push(`client errors: ${clientErrors.slice(0, 3).join('; ')}`);
if (exitCode !== 0) failures.push(`gregor exited with ${exitCode}`);
if (memberChanges === 0) failures.push('no member left or joined the group');

const chart = lineChart([
  [{ values: samples.map((s) => s.rssMiB), color: [200, 30, 30] }, { values: samples.map((s) => s.heapMiB), color: [30, 30, 200] }],
  [{ values: samples.map((s) => s.fds), color: [30, 140, 30] }],
  [{ values: samples.map((s) => s.diskMiB), color: [120, 60, 160] }, { values: samples.map((s) => s.retentionMiB), color: [220, 140, 0] }],
  [{ values: samples.map((s) => s.p99), color: [200, 30, 30] }, { values: samples.map((s) => s.p50), color: [30, 30, 200] }],
]);
fs.writeFileSync(path.join(outDir, 'chart.png'), chart);
const verdict = failures.length === 0 ? 'PASS' : 'FAIL';
fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ minutes, intervalMs, verdict, failures, checks, samples, brokerWarnings: broker.warnings.first }, null, 2));
if (!args['keep-data']) fs.rmSync(dataDir, { recursive: true, force: true });
console.log(`chart: ${path.join(outDir, 'chart.png')} (panels: RSS red / heap blue; fds; disk purple / soak-retention orange; ack p99 red / p50 blue)`);
console.log(`checks: ${JSON.stringify(checks)}`);
for (const f of failures) console.log(`FAIL: ${f}`);
console.log(`soak verdict: ${verdict}`);
process.exit(verdict === 'PASS' ? 0 : 1);
