// npm run bench — end-to-end throughput of a gregor process (the real CLI, file storage in a temp dir)
// driven by node-rdkafka, beside the storage engine's own append and read ceilings measured in the same
// run on the same disk. Prints a markdown table and writes bench/results/<date>-<short-sha>.{md,json}.
//
//   produce: node-rdkafka Producer with delivery reports, acks=1, 1 KiB values, no compression, for
//            --seconds (default 6) of load; the rate is delivered bytes / (first produce → last report).
//   consume: node-rdkafka KafkaConsumer, assign() every partition from offset 0, until every produced
//            record has arrived.
//   ceilings: in-process openStorage() appends of batches the size gregor actually stored in the
//            produce phase (64 in flight), then a sequential read of that log.
// Usage: node scripts/bench/main.ts [--seconds N] [--partitions N] [--no-write]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRecordBatch } from '../../protocol/records.ts';
import { openStorage } from '../../storage/index.ts';
import { startGregor } from '../../compat-tests/support/gregor-process.ts';
import { Rdkafka, rdConnect, rdDisconnect, sleep } from '../../compat-tests/support/clients.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : dflt; };
const SECONDS = Number(arg('--seconds', '6'));
const PARTITIONS = Number(arg('--partitions', '4'));
const VALUE_BYTES = 1024;
const TOPIC = 'bench';
const MiB = 1024 * 1024;
const mibps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);

interface Phase { records: number; bytes: number; ms: number; mibPerSec: number; recordsPerSec: number }
const phase = (records: number, bytes: number, ms: number): Phase => ({ records, bytes, ms: Math.round(ms), mibPerSec: mibps(bytes, ms), recordsPerSec: records / (ms / 1000) });

async function produce(bootstrap: string): Promise<Phase> {
  const p = new Rdkafka.Producer({
    'metadata.broker.list': bootstrap, dr_cb: true, 'request.required.acks': 1, 'compression.codec': 'none',
    'linger.ms': 5, 'queue.buffering.max.messages': 500000, 'queue.buffering.max.kbytes': 1048576, 'message.timeout.ms': 60000,
  });
  let delivered = 0;
  let failed = 0;
  let lastReport = 0;
  p.on('delivery-report', (err: unknown) => { if (err) failed++; else delivered++; lastReport = performance.now(); });
  await rdConnect(p);
  p.setPollInterval(2);
  // Create the topic (auto-creation) and wait for its leaders before timing anything.
  p.produce(TOPIC, null, Buffer.from('warm-up'), 'warm-up');
  const deadline = Date.now() + 20000;
  while (delivered + failed < 1) { if (Date.now() > deadline) throw new Error('warm-up record not delivered'); await sleep(10); }
  delivered = 0;

  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  const keys = Array.from({ length: 1024 }, (_, i) => Buffer.from(`key-${i}`));
  let sent = 0;
  let keyBytes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    for (let i = 0; i < 1000; i++) {
      const key = keys[sent % keys.length]!;
      try {
        p.produce(TOPIC, null, value, key);
      } catch (e: any) {
        if (e?.code !== Rdkafka.CODES.ERRORS.ERR__QUEUE_FULL) throw e;
        break; // queue full: let librdkafka drain
      }
      sent++;
      keyBytes += key.length;
    }
    await sleep(0);
  }
  const drainDeadline = Date.now() + 120000;
  while (delivered + failed < sent) { if (Date.now() > drainDeadline) throw new Error(`only ${delivered + failed} of ${sent} reports`); await sleep(5); }
  await rdDisconnect(p);
  if (failed > 0) throw new Error(`${failed} delivery failures`);
  return phase(sent, sent * VALUE_BYTES + keyBytes, lastReport - t0);
}

async function consume(bootstrap: string, expected: number): Promise<Phase> {
  const c = new Rdkafka.KafkaConsumer({
    'metadata.broker.list': bootstrap, 'group.id': 'bench-assign', 'enable.auto.commit': false, 'fetch.wait.max.ms': 100,
  }, { 'auto.offset.reset': 'earliest' });
  await rdConnect(c);
  let records = 0;
  let bytes = 0;
  c.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition, offset: 0 })));
  const t0 = performance.now();
  const deadline = Date.now() + 180000;
  while (records < expected) {
    if (Date.now() > deadline) throw new Error(`consumed ${records} of ${expected}`);
    const msgs: any[] = await new Promise((resolve, reject) => c.consume(10000, (err: unknown, m: any[]) => (err ? reject(err) : resolve(m))));
    for (const m of msgs) { records++; bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0); }
  }
  const ms = performance.now() - t0;
  await rdDisconnect(c);
  return phase(records, bytes, ms);
}

/** Average size of the batches gregor stored (its partition .log files). */
function storedBatchStats(dataDir: string): { batches: number; avgBytes: number; avgRecords: number } {
  let batches = 0, bytes = 0, records = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const dir = path.join(dataDir, `${TOPIC}-${p}`);
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.log'))) {
      const b = fs.readFileSync(path.join(dir, f));
      for (let pos = 0; pos + 61 <= b.length;) {
        const len = 12 + b.readInt32BE(pos + 8);
        if (len <= 12 || pos + len > b.length) break;
        batches++; bytes += len; records += b.readInt32BE(pos + 57);
        pos += len;
      }
    }
  }
  return { batches, avgBytes: bytes / batches, avgRecords: records / batches };
}

/** In-process storage append and sequential-read ceilings with batches of `recordsPerBatch` 1 KiB records. */
async function storageCeiling(dir: string, recordsPerBatch: number, totalBytes: number): Promise<{ append: Phase; read: Phase; batchBytes: number }> {
  const s = await openStorage({ dataDir: dir, retentionCheckIntervalMs: 0 });
  await s.createTopic('ceiling', { partitions: 1, topicId: 'bench-ceiling-topic' });
  const log = s.partition('ceiling', 0)!;
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  const IN_FLIGHT = 64;
  // Appends patch offsets in place, so every in-flight append gets its own buffer.
  const pool = Array.from({ length: IN_FLIGHT + 1 }, () => buildRecordBatch({ baseOffset: 0, records: Array.from({ length: recordsPerBatch }, (_, i) => ({ key: Buffer.from(`key-${i}`), value })) }));
  const batchBytes = pool[0]!.length;
  const count = Math.max(1, Math.floor(totalBytes / batchBytes));
  let pending = 0;
  let wake: (() => void) | null = null;
  const done = () => { pending--; if (wake) { const w = wake; wake = null; w(); } };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    pending++;
    log.append(pool[i % pool.length]!).then(done);
    if (pending >= IN_FLIGHT) await new Promise<void>((r) => { wake = r; });
  }
  while (pending > 0) await new Promise<void>((r) => { wake = r; });
  const appendMs = performance.now() - t0;
  let readBytes = 0;
  const t1 = performance.now();
  for (let next = 0; next < log.highWatermark;) {
    const r = await log.read(next, MiB);
    if (r.error || r.batches.length === 0) throw new Error(`read ${next}: ${r.error}`);
    // Each buffer may hold several whole batches: walk them.
    for (const b of r.batches) {
      readBytes += b.length;
      for (let pos = 0; pos + 61 <= b.length; pos += 12 + b.readInt32BE(pos + 8)) next = Number(b.readBigInt64BE(pos)) + b.readInt32BE(pos + 23) + 1;
    }
  }
  const readMs = performance.now() - t1;
  await s.close();
  const records = count * recordsPerBatch;
  return { append: phase(records, count * batchBytes, appendMs), read: phase(records, readBytes, readMs), batchBytes };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch { return NaN; }
}

function gitSha(): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim(); } catch { return 'unknown'; }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-bench-'));
const dataDir = path.join(tmp, 'broker');
try {
  const g = await startGregor({ dataDir, overrides: { 'num.partitions': String(PARTITIONS) } });
  let produced: Phase, consumed: Phase;
  // gregor's CPU use per phase, as a share of one core: near 100% means the broker is the bottleneck.
  const brokerCpu = { produce: NaN, consume: NaN };
  try {
    console.error(`producing for ${SECONDS} s to ${PARTITIONS} partitions...`);
    let cpu0 = cpuSeconds(g.child.pid!);
    produced = await produce(g.bootstrap);
    brokerCpu.produce = (cpuSeconds(g.child.pid!) - cpu0) / (produced.ms / 1000);
    console.error(`consuming ${produced.records} records...`);
    cpu0 = cpuSeconds(g.child.pid!);
    consumed = await consume(g.bootstrap, produced.records + 1); // + the warm-up record
    brokerCpu.consume = (cpuSeconds(g.child.pid!) - cpu0) / (consumed.ms / 1000);
  } finally {
    await g.stop();
  }
  const stored = storedBatchStats(dataDir);
  console.error(`storage ceiling with ${Math.round(stored.avgRecords)}-record batches...`);
  const ceiling = await storageCeiling(path.join(tmp, 'ceiling'), Math.max(1, Math.round(stored.avgRecords)), Math.min(produced.bytes, 1024 * MiB));

  const sha = gitSha();
  const date = new Date().toISOString().slice(0, 10);
  const env = { date: new Date().toISOString(), sha, node: process.version, librdkafka: Rdkafka.librdkafkaVersion, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', platform: `${os.platform()} ${os.release()}` };
  const config = { seconds: SECONDS, partitions: PARTITIONS, valueBytes: VALUE_BYTES, acks: 1, compression: 'none', lingerMs: 5, storedBatches: stored };
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const pct = (a: number, b: number) => `${f((a / b) * 100)}%`;
  const md = [
    `# gregor bench ${date} (${sha})`,
    '',
    `${env.node}, librdkafka ${env.librdkafka}, ${env.cpus} × ${env.cpuModel}, ${env.platform}. File storage in a temp dir.`,
    `Produce: node-rdkafka Producer, acks=1, ${VALUE_BYTES} B values, no compression, linger.ms=5, ${PARTITIONS} partitions, ${SECONDS} s of load.`,
    `Consume: node-rdkafka KafkaConsumer, assign() from offset 0. Ceilings: in-process storage appends of ${f(ceiling.batchBytes / 1024)} KiB batches`,
    `(${Math.round(stored.avgRecords)} records — the average batch gregor stored while producing), 64 in flight, then a sequential read.`,
    'MiB/s counts key + value bytes for clients, batch bytes for storage.',
    '',
    '| Path | MiB/s | records/s | records | time | vs storage ceiling | gregor CPU |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| produce (gregor, node-rdkafka) | ${f(produced.mibPerSec, 1)} | ${f(produced.recordsPerSec)} | ${f(produced.records)} | ${f(produced.ms / 1000, 1)} s | ${pct(produced.mibPerSec, ceiling.append.mibPerSec)} of append | ${pct(brokerCpu.produce, 1)} of a core |`,
    `| consume (gregor, node-rdkafka) | ${f(consumed.mibPerSec, 1)} | ${f(consumed.recordsPerSec)} | ${f(consumed.records)} | ${f(consumed.ms / 1000, 1)} s | ${pct(consumed.mibPerSec, ceiling.read.mibPerSec)} of read | ${pct(brokerCpu.consume, 1)} of a core |`,
    `| storage append ceiling (in-process) | ${f(ceiling.append.mibPerSec, 1)} | ${f(ceiling.append.recordsPerSec)} | ${f(ceiling.append.records)} | ${f(ceiling.append.ms / 1000, 1)} s | 100% | |`,
    `| storage sequential read ceiling (in-process) | ${f(ceiling.read.mibPerSec, 1)} | ${f(ceiling.read.recordsPerSec)} | ${f(ceiling.read.records)} | ${f(ceiling.read.ms / 1000, 1)} s | 100% | |`,
    '',
  ].join('\n');
  console.log(md);
  if (!args.includes('--no-write')) {
    const out = path.join(root, 'bench/results');
    fs.mkdirSync(out, { recursive: true });
    const base = path.join(out, `${date}-${sha}`);
    fs.writeFileSync(`${base}.md`, md);
    fs.writeFileSync(`${base}.json`, JSON.stringify({ env, config, produce: produced, consume: consumed, brokerCpuShareOfOneCore: brokerCpu, storageAppend: ceiling.append, storageRead: ceiling.read, ceilingBatchBytes: ceiling.batchBytes }, null, 2) + '\n');
    console.error(`wrote ${path.relative(root, base)}.{md,json}`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
