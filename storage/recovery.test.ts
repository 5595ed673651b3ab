// Recovery: torn tails, index rebuild, a corrupt segment in the middle, injected I/O faults.
import t from 'tap';
import { readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { FaultyFs } from './faulty-fs.ts';
import { buildBatch, kv, parseRecords } from './testing/records.ts';
import { readAll, tempDir } from './testing/helpers.ts';
import type { Logger } from './types.ts';

function memLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (l: string) => (m: string) => { lines.push(`${l} ${m}`); };
  return { lines, debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

t.test('torn writes: truncating the active segment anywhere in its last batch keeps exactly the complete batches', async (t) => {
  const dir = tempDir(t);
  const s = await openStorage({ dataDir: dir });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'index.interval.bytes': '50' } });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 5; i++) await log.append(kv(`k${i}`, `v${i}`));
  const last = buildBatch([{ key: Buffer.from('lk'), value: Buffer.from('last-1') }, { key: Buffer.from('lk'), value: Buffer.from('last-2') }]);
  await log.append(last);
  await s.close();
  const file = join(dir, 't-0', '00000000000000000000.log');
  const full = readFileSync(file);
  const lastStart = full.length - last.length;
  for (let cut = lastStart; cut <= full.length; cut++) {
    writeFileSync(file, full.subarray(0, cut));
    rmSync(join(dir, '.kafka_cleanshutdown'), { force: true });
    const s2 = await openStorage({ dataDir: dir });
    const l2 = s2.partition('t', 0)!;
    const complete = cut === full.length;
    if (l2.logEndOffset !== (complete ? 7 : 5)) t.fail(`cut ${cut}: LEO ${l2.logEndOffset}`);
    const recs = await readAll(l2);
    const want = complete ? ['v0', 'v1', 'v2', 'v3', 'v4', 'last-1', 'last-2'] : ['v0', 'v1', 'v2', 'v3', 'v4'];
    t.same(recs.map((r) => r.value), want, `cut at ${cut - lastStart} of ${last.length}`);
    if (!complete) t.equal(readFileSync(file).length, lastStart, 'tail truncated on disk');
    // The log keeps working after recovery.
    t.equal((await l2.append(kv('n', 'n'))).baseOffset, complete ? 7 : 5);
    await s2.close();
    writeFileSync(file, full);
  }
});

t.test('a corrupt (CRC) tail batch is truncated; garbage after it too', async (t) => {
  const fs = new MemFs();
  const s = await openStorage({ fs, dataDir: '/d' });
  await s.createTopic('t', { partitions: 1, topicId: 'x' });
  for (let i = 0; i < 3; i++) await s.partition('t', 0)!.append(kv('k', `v${i}`));
  // crash: no close; flip a byte inside the last batch's records
  const fd = await fs.open('/d/t-0/00000000000000000000.log', 'r+');
  const size = (await fs.fstat(fd)).size;
  await fs.write(fd, Buffer.from([0xff]), 0, 1, size - 3);
  await fs.write(fd, Buffer.alloc(100, 7), 0, 100, size);
  const log = memLog();
  const s2 = await openStorage({ fs, dataDir: '/d', log });
  t.equal(s2.partition('t', 0)!.logEndOffset, 2);
  t.match(log.lines.join('\n'), /WARN t-0: truncating .*CRC mismatch/);
  await s2.close();
});

async function buildMultiSegment(dir: string) {
  const s = await openStorage({ dataDir: dir });
  await s.createTopic('t', { partitions: 2, topicId: 'x', configs: { 'segment.bytes': '1000', 'index.interval.bytes': '150' } });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 60; i++) await log.append(kv(`k${i}`, `value-${i}`.padEnd(10 + (i % 7) * 5, '.'), 1_700_000_000_000 + ((i * 37) % 50) * 1000));
  await s.partition('t', 1)!.append(kv('other', 'partition'));
  return s;
}

async function answers(s: Awaited<ReturnType<typeof openStorage>>) {
  const log = s.partition('t', 0)!;
  const out: unknown[] = [];
  for (let o = 0; o < log.logEndOffset; o++) {
    const r = await log.read(o, 300);
    out.push(r.error ?? parseRecords(Buffer.concat(r.batches)).map((x) => x.offset));
  }
  for (let ts = 1_700_000_000_000 - 1000; ts <= 1_700_000_000_000 + 51_000; ts += 500) out.push(await log.offsetForTimestamp(ts));
  out.push(log.maxTimestamp());
  return out;
}

t.test('index rebuild: deleted, truncated or garbage .index/.timeindex give the same answers', async (t) => {
  const dir = tempDir(t);
  const s = await buildMultiSegment(dir);
  const before = await answers(s);
  const segments = s.partition('t', 0)!.segmentBaseOffsets;
  t.ok(segments.length >= 4, `${segments.length} segments`);
  await s.close();
  const pdir = join(dir, 't-0');
  const name = (i: number, ext: string) => join(pdir, String(segments[i]).padStart(20, '0') + ext);
  for (const clean of [true, false]) {
    unlinkSync(name(0, '.index'));
    unlinkSync(name(1, '.timeindex'));
    truncateSync(name(2, '.index'), 5);
    writeFileSync(name(3, '.timeindex'), Buffer.alloc(24, 0xab));
    const idx1 = readFileSync(name(1, '.index'));
    if (idx1.length >= 8) { idx1.writeInt32BE(999_999, idx1.length - 4); writeFileSync(name(1, '.index'), idx1); }
    if (!clean) rmSync(join(dir, '.kafka_cleanshutdown'));
    const log = memLog();
    const s2 = await openStorage({ dataDir: dir, log });
    t.same(await answers(s2), before, `same answers after rebuild (${clean ? 'clean' : 'unclean'} start)`);
    t.match(log.lines.join('\n'), /rebuilding indexes of 0{20}/);
    await s2.close();
    t.same(readdirSync(pdir).filter((f) => f.endsWith('.index')).length, segments.length, 'index files rewritten');
  }
});

t.test('a corrupt segment in the middle: partition offline with a clear log line, others keep serving', async (t) => {
  const dir = tempDir(t);
  const s = await buildMultiSegment(dir);
  const segments = s.partition('t', 0)!.segmentBaseOffsets;
  await s.close();
  const mid = join(dir, 't-0', String(segments[1]).padStart(20, '0') + '.log');
  const b = readFileSync(mid);
  b[b.length - 150] ^= 0x55;
  writeFileSync(mid, b);
  // Force a full scan from the start (as after a crash with an old recovery point).
  writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), '0\n0\n');
  rmSync(join(dir, '.kafka_cleanshutdown'));
  const log = memLog();
  const s2 = await openStorage({ dataDir: dir, log });
  const p0 = s2.partition('t', 0)!;
  t.ok(p0.offline);
  t.equal(p0.offline!.code, 56);
  t.match(log.lines.join('\n'), /ERROR t-0: corrupt segment .*\d{20}\.log in the middle of the log \(CRC mismatch at position \d+\); partition marked offline/);
  await t.rejects(p0.append(kv('a', 'b')), { kind: 'KAFKA_STORAGE_ERROR' } as object as Error);
  t.same(s2.offlinePartitions().map((l) => l.name), ['t-0']);
  const p1 = s2.partition('t', 1)!;
  t.equal(p1.offline, null);
  t.same((await readAll(p1)).map((r) => r.value), ['partition']);
  t.equal((await p1.append(kv('x', 'y'))).baseOffset, 1);
  await s2.close();
  t.notOk(readdirSync(dir).includes('.kafka_cleanshutdown'), 'no clean marker while a partition is offline');
});

t.test('I/O errors on append: KAFKA_STORAGE_ERROR, nothing acknowledged lost, reads keep working', async (t) => {
  const mem = new MemFs();
  const fs = new FaultyFs(mem);
  const s = await openStorage({ fs, dataDir: '/d' });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'segment.bytes': '500' } });
  const log = s.partition('t', 0)!;
  const acked: string[] = [];
  for (let i = 0; i < 5; i++) { await log.append(kv('k', `ok${i}`)); acked.push(`ok${i}`); }

  fs.failNext('write', { code: 'ENOSPC', partialBytes: 30 });
  const failing = [log.append(kv('k', 'lost-a')), log.append(kv('k', 'lost-b'))];
  for (const p of failing) await t.rejects(p, { kind: 'KAFKA_STORAGE_ERROR', code: 56 } as object as Error);
  t.equal(log.logEndOffset, 5);
  t.same((await readAll(log)).map((r) => r.value), acked, 'reads unaffected');

  // Disk has space again: appends continue at the same offset.
  for (let i = 5; i < 15; i++) { const r = await log.append(kv('k', `ok${i}`)); t.equal(r.baseOffset, i); acked.push(`ok${i}`); }
  t.ok(log.segmentBaseOffsets.length > 1);

  // A failure to create the next segment's file.
  fs.failNext('open', { code: 'EIO', pathIncludes: '.log' });
  let rejected = 0;
  for (let i = 0; i < 10; i++) await log.append(kv('k', `maybe${i}`)).then((r) => { acked.push(`maybe${i}`); t.equal(r.baseOffset, acked.length - 1); }, () => { rejected++; });
  t.equal(rejected, 1, 'only the append that needed the new file failed');

  // A failing read answers KAFKA_STORAGE_ERROR without crashing.
  fs.failNext('read');
  t.equal((await log.read(0, 1000)).error, 'KAFKA_STORAGE_ERROR');

  // Crash and restart: every acknowledged record is there, nothing else.
  const s2 = await openStorage({ fs: mem, dataDir: '/d' });
  t.same((await readAll(s2.partition('t', 0)!)).map((r) => r.value), acked);
  await s2.close();
});

t.test('fdatasync failure: appends waiting for it fail, the partition goes offline for appends, reads work', async (t) => {
  const mem = new MemFs();
  const fs = new FaultyFs(mem);
  const log = memLog();
  const s = await openStorage({ fs, dataDir: '/d', log });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'flush.messages': '1' } });
  const p = s.partition('t', 0)!;
  await p.append(kv('k', 'a'));
  await s.settle(); // the checkpoint writer syncs too; let it finish so the fault hits the log
  fs.failNext('fdatasync');
  await t.rejects(p.append(kv('k', 'b')), { kind: 'KAFKA_STORAGE_ERROR' } as object as Error);
  t.ok(p.offline);
  await t.rejects(p.append(kv('k', 'c')), { kind: 'KAFKA_STORAGE_ERROR' } as object as Error);
  t.equal((await p.read(0, 1000)).error, null);
  t.match(log.lines.join('\n'), /fdatasync failed.*offline/);
  await s.close();
});
