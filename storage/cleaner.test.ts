// Log compaction: latest value per key, offsets kept, tombstones and their delete horizon, lag and ratio
// configs, producer headers, transactional data, compressed batches, and recovery from a crash at every step of a clean.
import t from 'tap';
import { gunzipSync, gzipSync } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import { openStorage, type Storage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { FaultyFs } from './faulty-fs.ts';
import type { FsLike } from './fs.ts';
import { CrashingFs } from './testing/crashing-fs.ts';
import { buildBatch, kv, type ParsedRecord, parseRecords } from './testing/records.ts';
import { ManualClock } from './clock.ts';
import type { PartitionLog } from './partition-log.ts';
import type { RecordCodecs } from './cleaner.ts';
import { type Logger, silentLogger } from './types.ts';

const T0 = 1_700_000_000_000;
const DAY = 24 * 3600 * 1000;
const codecs: RecordCodecs = { compress: (_c, d) => gzipSync(d), decompress: (_c, d) => gunzipSync(d) };

const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': '400', 'index.interval.bytes': '100' };

async function setup(configs: Record<string, string>, opts: { fs?: FsLike; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const fs = opts.fs ?? new MemFs(() => clock.now());
  const s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { backoffMs: 0, codecs } });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs });
  return { fs, s, clock, log: s.partition('t', 0)! };
}

function reopen(fs: FsLike, clock: ManualClock, log?: Logger): Promise<Storage> {
  return openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { backoffMs: 0, codecs }, log });
}

/** Every record (decompressing gzip batches), with the batch it came from. */
async function records(log: PartitionLog): Promise<Array<ParsedRecord & { batchBase: number; horizon: boolean; emptyBatch: boolean }>> {
  const out: Array<ParsedRecord & { batchBase: number; horizon: boolean; emptyBatch: boolean }> = [];
  let next = log.logStartOffset;
  while (next < log.highWatermark) {
    const r = await log.read(next, 1 << 20);
    if (r.error) throw new Error(r.message);
    if (r.batches.length === 0) break;
    let last = next;
    for (const buf of r.batches) {
      for (let p = 0; p < buf.length;) {
        const size = 12 + buf.readInt32BE(p + 8);
        let b = buf.subarray(p, p + size);
        const attrs = b.readInt16BE(21);
        const base = Number(b.readBigInt64BE(0));
        last = Math.max(last, base + b.readInt32BE(23) + 1);
        if (b.readInt32BE(57) === 0) out.push({ offset: base + b.readInt32BE(23), timestamp: -1, key: null, value: null, batchBase: base, horizon: false, emptyBatch: true });
        else {
          if (attrs & 7) {
            const recs = gunzipSync(b.subarray(61));
            const plain = Buffer.concat([b.subarray(0, 61), recs]);
            plain.writeInt32BE(plain.length - 12, 8);
            plain.writeInt16BE(attrs & ~7, 21);
            plain.writeUInt32BE(crc32c(plain.subarray(21)), 17);
            b = plain;
          }
          for (const rec of parseRecords(b)) out.push({ ...rec, batchBase: base, horizon: (attrs & 0x40) !== 0, emptyBatch: false });
        }
        p += size;
      }
    }
    next = last;
  }
  return out.filter((r) => r.offset >= log.logStartOffset);
}

const live = (rs: Awaited<ReturnType<typeof records>>) => rs.filter((r) => !r.emptyBatch);

/** The latest value of every key in `recs` (a model of what compaction must keep). */
function latest(recs: Array<{ key: string | null; value: string | null; offset: number }>): Map<string, { value: string | null; offset: number }> {
  const m = new Map<string, { value: string | null; offset: number }>();
  for (const r of recs) if (r.key !== null) m.set(r.key, { value: r.value, offset: r.offset });
  return m;
}

function withProducer(b: Buffer, producerId: bigint, seq: number): Buffer {
  b.writeBigInt64BE(producerId, 43);
  b.writeInt16BE(0, 51);
  b.writeInt32BE(seq, 53);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

function gzipped(b: Buffer): Buffer {
  const recs = gzipSync(b.subarray(61));
  const out = Buffer.concat([b.subarray(0, 61), recs]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(out.readInt16BE(21) | 1, 21);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

t.test('keeps the latest record per key in cleaned segments, offsets unchanged, active segment untouched', async (t) => {
  const { s, log } = await setup(COMPACT);
  const written: Array<{ key: string; value: string; offset: number }> = [];
  for (let i = 0; i < 60; i++) {
    const key = `k${i % 5}`;
    const value = `v${i}`;
    const r = await log.append(kv(key, value, T0 + i));
    written.push({ key, value, offset: r.baseOffset });
  }
  const activeBase = log.segmentBaseOffsets.at(-1)!;
  const sizeBefore = log.size;
  const segsBefore = log.segmentBaseOffsets.length;
  t.ok(segsBefore > 5, `${segsBefore} segments`);
  const n = await s.runCleaner();
  t.ok(n > 0, `${n} segments cleaned`);
  t.ok(log.size < sizeBefore, `size ${sizeBefore} → ${log.size}`);
  t.equal(log.segmentBaseOffsets.at(-1), activeBase, 'the active segment is not cleaned');
  t.equal(log.logEndOffset, 60);
  const got = live(await records(log));
  const byOffset = new Map(written.map((w) => [w.offset, w]));
  for (const r of got) t.same({ key: r.key, value: r.value }, { key: byOffset.get(r.offset)!.key, value: byOffset.get(r.offset)!.value }, `offset ${r.offset} still holds its own record`);
  const cleaned = got.filter((r) => r.offset < activeBase);
  const keys = cleaned.map((r) => r.key);
  t.equal(new Set(keys).size, keys.length, 'at most one record per key below the active segment');
  t.same(latest(got), latest(written), 'every key keeps its latest value');
  // The log keeps working: appends, reads from any offset, a second pass finds nothing new to do.
  t.equal((await log.append(kv('k0', 'new'))).baseOffset, 60);
  for (let o = 0; o < 60; o++) t.equal((await log.read(o, 1)).error, null);
  t.equal(await s.runCleaner(), 0, 'nothing dirty: no pass');
  // The next pass groups the now small segments into one (they fit in segment.bytes together).
  log.roll();
  await log.append(kv('k1', 'after'));
  t.ok(await s.runCleaner({ force: true }) > 0);
  t.ok(log.segmentBaseOffsets.length < segsBefore - 3, `cleaned segments merged: ${log.segmentBaseOffsets.length} of ${segsBefore}`);
  t.same(latest(live(await records(log))), latest([...written, { key: 'k0', value: 'new', offset: 60 }, { key: 'k1', value: 'after', offset: 61 }]));
  await s.close();
});

t.test('restart after cleaning: same records, cleaner checkpoint kept', async (t) => {
  const { fs, s, log, clock } = await setup(COMPACT);
  for (let i = 0; i < 40; i++) await log.append(kv(`k${i % 3}`, `v${i}`, T0 + i));
  await s.runCleaner();
  const before = await records(log);
  const cp = log.cleanerCheckpoint;
  t.ok(cp > 0);
  await s.close();
  t.ok((await fs.readdir('/d')).includes('cleaner-offset-checkpoint'));
  const s2 = await reopen(fs, clock);
  const l2 = s2.partition('t', 0)!;
  t.equal(l2.cleanerCheckpoint, cp);
  t.same(await records(l2), before);
  t.equal(await s2.runCleaner(), 0, 'nothing dirty after restart');
  await s2.close();
});

t.test('tombstones: kept with a delete horizon, removed by a clean after delete.retention.ms', async (t) => {
  const { s, log, clock } = await setup({ ...COMPACT, 'delete.retention.ms': '60000' });
  for (let i = 0; i < 10; i++) await log.append(kv(`k${i % 2}`, `v${i}`, T0 + i));
  await log.append(buildBatch([{ key: Buffer.from('k0'), value: null }], T0 + 20));
  for (let i = 0; i < 12; i++) await log.append(kv('other', `o${i}`, T0 + 30 + i));
  const tomb = (rs: Awaited<ReturnType<typeof records>>) => rs.filter((r) => r.key === 'k0');
  await s.runCleaner();
  let got = await records(log);
  t.same(tomb(got).map((r) => [r.offset, r.value, r.horizon, r.timestamp]), [[10, null, true, T0 + 20]], 'the tombstone stays, stamped with a horizon, its timestamp intact');
  t.same(got.filter((r) => r.key === 'k1').map((r) => r.value), ['v9']);
  // Before the horizon, a forced clean keeps it.
  clock.advance(30_000);
  for (let i = 0; i < 12; i++) await log.append(kv('other', `p${i}`, T0 + 50 + i));
  await s.runCleaner({ force: true });
  t.equal(tomb(await records(log)).length, 1, 'kept before delete.retention.ms');
  clock.advance(31_000);
  const n = await s.runCleaner();
  t.ok(n > 0, 'a passed horizon makes the log due');
  got = await records(log);
  t.same(tomb(got), [], 'tombstone removed after delete.retention.ms');
  t.same(got.filter((r) => r.key === 'k1').map((r) => r.value), ['v9']);
  await s.close();
});

t.test('min.cleanable.dirty.ratio and min.compaction.lag.ms decide what is cleanable', async (t) => {
  {
    const { s, log } = await setup({ ...COMPACT, 'min.cleanable.dirty.ratio': '0.9' });
    for (let i = 0; i < 40; i++) await log.append(kv(`k${i % 4}`, `v${i}`));
    t.ok(await s.runCleaner() > 0, 'all dirty at first');
    for (let i = 0; i < 2; i++) await log.append(kv('k1', `w${i}`));
    log.roll();
    await log.append(kv('k2', 'x'));
    t.equal(await s.runCleaner(), 0, 'a little dirty data is below the ratio');
    await s.close();
  }
  {
    const clock = new ManualClock(T0);
    const { s, log } = await setup({ ...COMPACT, 'min.compaction.lag.ms': '10000' }, { clock });
    for (let i = 0; i < 30; i++) await log.append(kv(`k${i % 3}`, `v${i}`, clock.now()));
    t.equal(await s.runCleaner(), 0, 'every segment is younger than the lag');
    clock.advance(20_000);
    await log.append(kv('k0', 'late', clock.now()));
    t.ok(await s.runCleaner() > 0, 'cleanable once older than the lag');
    await s.close();
  }
});

t.test('max.compaction.lag.ms forces a clean below the ratio and rolls the active segment', async (t) => {
  const clock = new ManualClock(T0);
  const { s, log } = await setup({ ...COMPACT, 'segment.bytes': '100000', 'min.cleanable.dirty.ratio': '0.99', 'max.compaction.lag.ms': '5000' }, { clock });
  for (let i = 0; i < 10; i++) await log.append(kv(`k${i % 2}`, `v${i}`, clock.now()));
  t.equal(log.segmentBaseOffsets.length, 1);
  clock.advance(6000);
  await log.append(kv('k0', 'x', clock.now()));
  t.equal(log.segmentBaseOffsets.length, 2, 'segment.ms is capped by max.compaction.lag.ms for compacted topics');
  await log.append(kv('k0', 'y', clock.now()));
  t.ok(await s.runCleaner() > 0);
  t.same(live(await records(log)).map((r) => r.value), ['v8', 'v9', 'x', 'y']);
  await s.close();
});

t.test('producer batches: an emptied batch stays as a header only if it is its producer\'s last; compressed batches are cleaned', async (t) => {
  const { s, log } = await setup({ ...COMPACT, 'segment.bytes': '600' });
  await log.append(withProducer(kv('a', 'p1-0'), 7n, 0));
  await log.append(withProducer(kv('a', 'p1-1'), 7n, 1));
  await log.append(withProducer(kv('b', 'p2-0'), 8n, 0)); // producer 8's last batch
  await log.append(gzipped(buildBatch([{ key: Buffer.from('c'), value: Buffer.from('c0') }, { key: Buffer.from('d'), value: Buffer.from('d0') }])));
  for (let i = 0; i < 20; i++) await log.append(kv(i % 2 ? 'b' : 'a', `x${i}`));
  await log.append(gzipped(buildBatch([{ key: Buffer.from('c'), value: Buffer.from('c1') }])));
  log.roll();
  await log.append(kv('z', 'z'));
  await s.runCleaner();
  const got = await records(log);
  const empties = got.filter((r) => r.emptyBatch).map((r) => r.offset);
  t.ok(empties.includes(1), 'producer 7\'s last batch kept as an empty header');
  t.ok(empties.includes(2), 'producer 8\'s last batch kept as an empty header');
  t.ok(got.every((r) => r.offset !== 0), 'producer 7\'s earlier batch dropped');
  const lv = live(got);
  t.same(lv.filter((r) => r.key === 'c').map((r) => r.value), ['c1'], 'compressed batch cleaned');
  t.same(lv.filter((r) => r.key === 'd').map((r) => r.value), ['d0'], 'its other record kept (recompressed)');
  t.same(latest(lv).get('a')?.value, 'x18');
  // Producer 7 writes again: its old header is no longer its last batch and goes at the next clean.
  await log.append(withProducer(kv('a', 'p1-2'), 7n, 2));
  log.roll();
  await log.append(kv('z', 'z2'));
  await s.runCleaner({ force: true });
  const again = (await records(log)).filter((r) => r.emptyBatch).map((r) => r.offset);
  t.notOk(again.includes(1), 'producer 7\'s old header dropped');
  t.ok(again.includes(2), 'producer 8\'s header stays');
  await s.close();
});

t.test('committed transactional records are compacted like any other (cleaner-txn.test.ts has the rest)', async (t) => {
  const { s, log } = await setup(COMPACT);
  const txn = withProducer(kv('a', 'txn-old'), 9n, 0);
  txn.writeInt16BE(0x10, 21);
  txn.writeUInt32BE(crc32c(txn.subarray(21)), 17);
  await log.append(txn);
  for (let i = 0; i < 30; i++) await log.append(kv('a', `v${i}`));
  await s.runCleaner();
  const got = live(await records(log));
  t.same(got.filter((r) => r.value === 'txn-old').map((r) => r.offset), [], 'superseded transactional record removed');
  t.equal(latest(got).get('a')?.value, 'v29');
  await s.close();
});

t.test('I/O failure while writing the cleaned segment leaves the log as it was', async (t) => {
  const clock = new ManualClock(T0);
  const ffs = new FaultyFs(new MemFs(() => clock.now()));
  const { s, log } = await setup(COMPACT, { fs: ffs, clock });
  for (let i = 0; i < 40; i++) await log.append(kv(`k${i % 3}`, `v${i}`));
  const before = await records(log);
  ffs.failNext('fdatasync', { code: 'ENOSPC' });
  // The fdatasync of the cleaned file is the first sync of the pass (rolls already synced).
  await log.idle();
  t.equal(await s.runCleaner(), 0);
  t.same(await records(log), before);
  t.notOk((await ffs.readdir('/d/t-0')).some((f) => f.endsWith('.cleaned') || f.endsWith('.swap')), 'no leftovers');
  t.equal(log.offline, null);
  t.ok(await s.runCleaner() > 0, 'the next pass succeeds');
  await s.close();
});

t.test('a crash at any step of a clean recovers to a consistent log: latest values kept, offsets unchanged', async (t) => {
  // Run once to count the mutating calls of a full clean, then crash after each of them in turn.
  const build = async (limit: number) => {
    const clock = new ManualClock(T0);
    const mem = new MemFs(() => clock.now());
    const cfs = new CrashingFs(mem, Infinity);
    const { s, log } = await setup({ ...COMPACT, 'delete.retention.ms': '0' }, { fs: cfs, clock });
    const written: Array<{ key: string; value: string | null; offset: number }> = [];
    for (let i = 0; i < 45; i++) {
      const key = `k${i % 4}`;
      const value = i === 30 ? null : `v${i}`;
      const r = await log.append(buildBatch([{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value) }], T0 + i));
      written.push({ key, value, offset: r.baseOffset });
    }
    await log.idle();
    await s.settle();
    const start = cfs.count;
    cfs.limit = start + limit;
    await s.runCleaner().catch(() => 0);
    return { mem, cfs, clock, written, calls: cfs.count - start, leo: log.logEndOffset };
  };
  const full = await build(Infinity);
  t.ok(full.calls > 5, `${full.calls} mutating calls in a clean`);
  const recovered = new Set<string>();
  const logger: Logger = { ...silentLogger, warn: (m) => { const w = /completed an interrupted|removing \S+ left by/.exec(m); if (w) recovered.add(w[0]); } };
  for (let k = 0; k <= full.calls; k++) {
    const { mem, clock, written, leo } = await build(k);
    const s2 = await reopen(mem, clock, logger); // no close: a crash
    const l2 = s2.partition('t', 0)!;
    const files = await mem.readdir('/d/t-0');
    if (files.some((f) => f.endsWith('.cleaned') || f.endsWith('.swap'))) t.fail(`crash after ${k}: leftovers ${files}`);
    if (l2.offline) t.fail(`crash after ${k}: offline ${l2.offline.message}`);
    t.equal(l2.logEndOffset, leo, `crash after ${k}: log end kept`);
    const got = live(await records(l2));
    const byOffset = new Map(written.map((w) => [w.offset, w]));
    const wrong = got.filter((r) => byOffset.get(r.offset)?.key !== r.key || byOffset.get(r.offset)?.value !== r.value);
    t.same(wrong, [], `crash after ${k}: every record sits at its own offset`);
    const want = latest(written);
    const have = latest(got);
    for (const [key, v] of want) {
      if (v.value === null) continue; // a tombstone may go (delete.retention.ms 0); older values must not come back
      t.same(have.get(key), v, `crash after ${k}: latest value of ${key}`);
    }
    t.notOk(got.some((r) => r.key === 'k2' && r.offset < want.get('k2')!.offset && have.get('k2')?.offset !== want.get('k2')!.offset), `crash after ${k}: no stale value wins`);
    // And the recovered log cleans fine.
    await s2.runCleaner({ force: true });
    t.same(latest(live(await records(l2))).get('k1'), want.get('k1'));
    await s2.close();
  }
  t.ok([...recovered].some((m) => m.startsWith('completed')), 'a committed swap was completed at start');
  t.ok([...recovered].some((m) => m.startsWith('removing')), 'an uncommitted .cleaned file was removed at start');
});

t.test('reads during a clean and retention (compact,delete) together', async (t) => {
  const clock = new ManualClock(T0);
  const { s, log } = await setup({ ...COMPACT, 'cleanup.policy': 'compact,delete', 'retention.ms': '100000' }, { clock });
  for (let i = 0; i < 50; i++) await log.append(kv(`k${i % 5}`, `v${i}`, T0 + i));
  const cleaning = s.runCleaner();
  const reads = Promise.all(Array.from({ length: 50 }, (_, o) => log.read(o, 1)));
  s.runRetention();
  await cleaning;
  for (const r of await reads) t.equal(r.error, null);
  t.equal(latest(live(await records(log))).get('k4')?.value, 'v49');
  clock.advance(200_000);
  s.runRetention();
  s.runRetention();
  await log.idle();
  t.equal(log.logStartOffset, 50, 'retention still deletes cleaned segments');
  await s.close();
});
