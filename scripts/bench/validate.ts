// node scripts/bench/validate.ts — the cost of Produce's record walk (Kafka's LogValidator checks, protocol/records.ts
// walkRecords) on the produce path: header validation + append to in-memory storage, without and with the walk,
// for uncompressed 16 KiB and 1 MiB batches of 100-byte records, in MB per CPU-second, and the walk alone (ns per record). Runs alternate (base, walk, base, walk, ...) in
// one process and the ratio is against the baseline of the same run. Usage: node scripts/bench/validate.ts [--mib N] [--rounds N]
import { openStorage } from '../../storage/index.ts';
import { buildRecordBatch, CREATE_TIME, RECORDS_OFFSET, setMaxTimestamp, startRecordWalk, validateProduceRecords, walkRecords } from '../../protocol/records.ts';

const args = process.argv.slice(2);
const arg = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const totalBytes = Number(arg('--mib') ?? 256) * 1024 * 1024;
const rounds = Number(arg('--rounds') ?? 3);
const IN_FLIGHT = 64;

/** An uncompressed batch of ~`size` bytes of 100-byte records (key 8 bytes, value 80, headers none). */
function batchOfSize(size: number): Buffer {
  const now = Date.now();
  const records = Array.from({ length: Math.floor((size - RECORDS_OFFSET) / 100) }, (_, i) => ({
    key: `key${String(i).padStart(5, '0')}`, value: Buffer.alloc(80, 0x61 + (i % 26)), timestamp: now + i,
  }));
  return buildRecordBatch({ records });
}

const checks = { compacted: false, createTime: true, lowerTimestamp: -Infinity, upperTimestamp: Date.now() + 3600_000 };

/**
 * Returns MB per CPU-second of validate (+ walk) + append (in-memory storage: all of it is this process's CPU).
 * CPU time rather than wall time, so other processes on a shared machine disturb the ratio less.
 */
async function run(size: number, walk: boolean): Promise<number> {
  const s = await openStorage({ memory: true, retentionCheckIntervalMs: 0 });
  await s.createTopic('bench', { partitions: 1, topicId: 'bench-topic-id' });
  const log = s.partition('bench', 0)!;
  const template = batchOfSize(size);
  const pool = Array.from({ length: IN_FLIGHT + 1 }, () => Buffer.from(template));
  const count = Math.floor(totalBytes / template.length);
  let pending = 0;
  let wake: (() => void) | null = null;
  const done = () => { pending--; if (wake) { const w = wake; wake = null; w(); } };
  const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const b = pool[i % pool.length]!;
    if (validateProduceRecords(b, 9) !== null) throw new Error('invalid bench batch');
    if (walk) {
      const w = startRecordWalk(b, 0, b, RECORDS_OFFSET, b.length, checks);
      walkRecords(w);
      if (w.error || w.recordErrors) throw new Error('walk rejected the bench batch');
      setMaxTimestamp(b, 0, CREATE_TIME, w.maxTimestamp);
    }
    pending++;
    log.append(b, { leaderEpoch: 0 }).then(done, (e) => { throw e; });
    while (pending >= IN_FLIGHT) await new Promise<void>((r) => { wake = r; });
  }
  while (pending > 0) await new Promise<void>((r) => { wake = r; });
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  await s.close();
  return (count * template.length) / 1024 / 1024 / (ms / 1000);
}

/** The walk alone (no append): MB per CPU-second and CPU ns per record. */
function walkOnly(size: number): [number, number] {
  const b = batchOfSize(size);
  const n = Math.max(1, Math.floor(totalBytes / b.length));
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) walkRecords(startRecordWalk(b, 0, b, RECORDS_OFFSET, b.length, checks));
  const c = process.cpuUsage(c0);
  const us = c.user + c.system;
  return [(n * b.length) / 1024 / 1024 / (us / 1e6), (us * 1000) / (n * b.readInt32BE(57))];
}

console.log(`| batch | records | base MB/cpu-s | with walk MB/cpu-s | ratio (walk/base) | walk alone MB/cpu-s | walk ns/record |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const size of [16 * 1024, 1024 * 1024]) {
  await run(size, false); // warm-up
  await run(size, true);
  const base: number[] = [];
  const withWalk: number[] = [];
  for (let r = 0; r < rounds; r++) {
    base.push(await run(size, false));
    withWalk.push(await run(size, true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const b = median(base);
  const w = median(withWalk);
  const records = Math.floor((size - RECORDS_OFFSET) / 100);
  console.log(`| ${size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`} | ${records} | ${b.toFixed(0)} | ${w.toFixed(0)} | ${(w / b).toFixed(3)} | ${walkOnly(size).map((x, i) => x.toFixed(i)).join(' | ')} |`);
}
