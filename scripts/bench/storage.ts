// npm run bench:storage — append MB/s (16 KiB and 1 MiB batches) and sequential read MB/s of the
// storage engine, beside the raw fs.writeSync rate of the same bytes to the same disk in the same run.
// Usage: node scripts/bench/storage.ts [--dir DIR] [--mib N]
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { openStorage } from '../../storage/index.ts';

const args = process.argv.slice(2);
const arg = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const base = mkdtempSync(join(arg('--dir') ?? tmpdir(), 'gregor-bench-'));
const totalBytes = Number(arg('--mib') ?? 512) * 1024 * 1024;
const IN_FLIGHT = Number(arg('--in-flight') ?? 64);

/** A v2 batch of one record whose value fills it to `size` bytes (base offset 0; storage patches it). */
function batchOfSize(size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeInt32BE(size - 12, 8);
  b.writeInt32BE(-1, 12);
  b.writeInt8(2, 16);
  b.writeBigInt64BE(BigInt(Date.now()), 27);
  b.writeBigInt64BE(BigInt(Date.now()), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(1, 57);
  b.fill(0x61, 61); // record bytes are opaque to storage
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

const mbps = (bytes: number, ms: number) => (bytes / 1024 / 1024) / (ms / 1000);

function raw(size: number): number {
  const buf = batchOfSize(size);
  const file = join(base, `raw-${size}.bin`);
  const fd = openSync(file, 'w');
  const t0 = performance.now();
  for (let done = 0; done < totalBytes; done += size) writeSync(fd, buf, 0, size, done);
  const ms = performance.now() - t0;
  closeSync(fd);
  rmSync(file);
  return mbps(totalBytes, ms);
}

async function appendAndRead(size: number): Promise<{ append: number; read: number }> {
  const dir = join(base, `log-${size}`);
  const s = await openStorage({ dataDir: dir, retentionCheckIntervalMs: 0 });
  await s.createTopic('bench', { partitions: 1, topicId: 'bench-topic-id' });
  const log = s.partition('bench', 0)!;
  // Appends patch offsets in place, so every in-flight append needs its own buffer.
  const pool = Array.from({ length: IN_FLIGHT + 1 }, () => batchOfSize(size));
  const count = Math.floor(totalBytes / size);
  // A window of IN_FLIGHT unacknowledged appends, like pipelining producers.
  let pending = 0;
  let wake: (() => void) | null = null;
  const done = () => { pending--; if (wake) { const w = wake; wake = null; w(); } };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    pending++;
    log.append(pool[i % pool.length]).then(done);
    if (pending >= IN_FLIGHT) await new Promise<void>((r) => { wake = r; });
  }
  while (pending > 0) await new Promise<void>((r) => { wake = r; });
  const appendMs = performance.now() - t0;
  let bytes = 0;
  const t1 = performance.now();
  for (let next = 0; next < log.highWatermark;) {
    const r = await log.read(next, 1024 * 1024);
    if (r.error || r.batches.length === 0) throw new Error(`read ${next}: ${r.error}`);
    for (const b of r.batches) bytes += b.length;
    next += r.batches.reduce((n, b) => n + b.length, 0) / size; // one record per batch
  }
  const readMs = performance.now() - t1;
  await s.close();
  rmSync(dir, { recursive: true, force: true });
  return { append: mbps(count * size, appendMs), read: mbps(bytes, readMs) };
}

try {
  console.log(`storage bench: ${totalBytes / 1024 / 1024} MiB per run in ${base}, ${IN_FLIGHT} appends in flight`);
  for (const size of [16 * 1024, 1024 * 1024]) {
    const label = size >= 1024 * 1024 ? '1 MiB' : '16 KiB';
    const r1 = raw(size);
    const { append, read } = await appendAndRead(size);
    const r2 = raw(size);
    const rawRate = (r1 + r2) / 2;
    console.log(`${label.padEnd(6)} batches: raw writeSync ${rawRate.toFixed(0)} MB/s | append ${append.toFixed(0)} MB/s | ratio ${(append / rawRate * 100).toFixed(0)}% | sequential read ${read.toFixed(0)} MB/s`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
