// Roll, retention, timestamp lookups, DeleteRecords, flush knobs; on the in-memory file system.
import t from 'tap';
import { openStorage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { kv, parseRecords } from './testing/records.ts';
import { ManualClock } from './clock.ts';
import { readAll } from './testing/helpers.ts';

const T0 = 1_700_000_000_000;

async function setup(configs: Record<string, string>, clock = new ManualClock(T0)) {
  const fs = new MemFs(() => clock.now());
  const s = await openStorage({ memory: true, fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs });
  return { fs, s, clock, log: s.partition('t', 0)! };
}

t.test('rolls by segment.bytes; reads cross segments', async (t) => {
  const { fs, s, log } = await setup({ 'segment.bytes': '400', 'index.interval.bytes': '100' });
  for (let i = 0; i < 40; i++) await log.append(kv(`k${i}`, `value-${i}`, T0 + i));
  t.ok(log.segmentBaseOffsets.length >= 8, `${log.segmentBaseOffsets.length} segments`);
  t.equal(log.segmentBaseOffsets[0], 0);
  const recs = await readAll(log, 0, 150);
  t.same(recs.map((r) => r.offset), Array.from({ length: 40 }, (_, i) => i));
  for (let o = 0; o < 40; o++) {
    const r = await log.read(o, 1);
    t.equal(parseRecords(r.batches[0])[0].offset, o, `minOneBatch returns the batch of ${o}`);
  }
  t.same((await log.read(5, 1, { minOneBatch: false })).batches, []);
  await s.close();
  const names = await fs.readdir('/d/t-0');
  t.equal(names.filter((n) => n.endsWith('.log')).length, log.segmentBaseOffsets.length);
  t.equal(names.filter((n) => n.endsWith('.index')).length, log.segmentBaseOffsets.length, 'every segment has its index file');
  t.ok(names.includes('00000000000000000000.timeindex'));
});

t.test('rolls by segment.ms', async (t) => {
  const { s, log, clock } = await setup({ 'segment.ms': '1000' });
  await log.append(kv('a', '1'));
  clock.advance(500);
  await log.append(kv('a', '2'));
  t.same(log.segmentBaseOffsets, [0]);
  clock.advance(600);
  await log.append(kv('a', '3'));
  t.same(log.segmentBaseOffsets, [0, 2]);
  await s.close();
});

t.test('retention.ms deletes old segments in the background; log start advances', async (t) => {
  const { fs, s, log, clock } = await setup({ 'segment.bytes': '300', 'retention.ms': '10000' });
  for (let i = 0; i < 10; i++) await log.append(kv(`k${i}`, `v${i}`, T0 + i * 1000));
  const bases = log.segmentBaseOffsets;
  t.ok(bases.length >= 3);
  clock.advance(13_500); // the first segment's max timestamp is T0+3000: expired; the second's (T0+7000) not
  t.equal(s.runRetention(), 1, 'only the first segment expired');
  t.equal(log.logStartOffset, bases[1]);
  t.equal((await log.read(0, 1000)).error, 'OFFSET_OUT_OF_RANGE');
  clock.advance(100_000);
  s.runRetention(); // all old segments; the active one is rolled so it can go next time
  s.runRetention();
  await log.idle();
  t.equal(log.logStartOffset, 10);
  t.equal(log.logEndOffset, 10);
  t.same((await log.append(kv('new', 'n'))).baseOffset, 10);
  await s.close();
  const logs = (await fs.readdir('/d/t-0')).filter((n) => n.endsWith('.log'));
  t.same(logs, ['00000000000000000010.log'], 'old segment files deleted');
  const s2 = await openStorage({ memory: true, fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
  t.equal(s2.partition('t', 0)!.logStartOffset, 10, 'log start offset survives restart');
  await s2.close();
});

t.test('retention.bytes keeps the newest segments within the budget', async (t) => {
  const { s, log } = await setup({ 'segment.bytes': '300', 'retention.bytes': '600', 'retention.ms': '-1' });
  for (let i = 0; i < 30; i++) await log.append(kv(`k${i}`, `v${i}`));
  s.runRetention();
  t.ok(log.size <= 600 + 300, `size ${log.size}`);
  t.ok(log.size > 300);
  t.equal(log.logStartOffset, log.segmentBaseOffsets[0]);
  const recs = await readAll(log);
  t.equal(recs[recs.length - 1].offset, 29);
  await s.close();
});

t.test('retention timer runs in the background', async (t) => {
  const clock = new ManualClock(T0);
  const fs = new MemFs(() => clock.now());
  const s = await openStorage({ memory: true, fs, clock, retentionCheckIntervalMs: 1000 });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'segment.bytes': '200', 'retention.ms': '5000' } });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 6; i++) await log.append(kv('k', 'v', T0));
  const before = log.segmentBaseOffsets.length;
  clock.advance(6000);
  t.ok(log.segmentBaseOffsets.length < before, 'segments deleted by the timer');
  await s.close();
});

t.test('a read in flight keeps its segment until done', async (t) => {
  const { s, log, clock } = await setup({ 'segment.bytes': '200', 'retention.ms': '1' });
  for (let i = 0; i < 6; i++) await log.append(kv('k', `v${i}`, T0));
  const pending = log.read(0, 1000);
  clock.advance(10);
  s.runRetention();
  const r = await pending;
  t.equal(r.error, null);
  t.equal(parseRecords(r.batches[0])[0].value, 'v0');
  await s.close();
});

t.test('DeleteRecords advances the log start offset', async (t) => {
  const { s, log } = await setup({ 'segment.bytes': '200' });
  for (let i = 0; i < 10; i++) await log.append(kv('k', `v${i}`));
  t.equal(log.deleteRecordsBefore(5), 5);
  t.equal(log.logStartOffset, 5);
  t.equal((await log.read(4, 1000)).error, 'OFFSET_OUT_OF_RANGE');
  t.equal((await readAll(log))[0].offset, 5);
  t.ok(log.segmentBaseOffsets[0] <= 5 && log.segmentBaseOffsets[0] > 0, 'whole segments below were deleted');
  t.throws(() => log.deleteRecordsBefore(11), { kind: 'OFFSET_OUT_OF_RANGE' } as object as Error);
  t.equal(log.deleteRecordsBefore(3), 5, 'never moves back');
  t.equal(log.deleteRecordsBefore(-1), 10, '-1 = high watermark');
  await log.idle();
  t.same((await log.append(kv('k', 'x'))).baseOffset, 10);
  t.same((await readAll(log)).map((r) => r.value), ['x']);
  await s.close();
});

t.test('offset for timestamp, earliest, latest, max timestamp', async (t) => {
  const { s, log } = await setup({ 'segment.bytes': '250', 'index.interval.bytes': '1' });
  const ts = [10, 20, 20, 15, 30, 40, 35, 50, 60, 60];
  for (let i = 0; i < ts.length; i++) await log.append(kv('k', `v${i}`, T0 + ts[i]));
  const expect = (q: number) => {
    const i = ts.findIndex((x) => T0 + x >= q);
    return i < 0 ? null : { offset: i, timestamp: T0 + ts[i] };
  };
  for (let q = T0 - 5; q <= T0 + 65; q++) t.same(await log.offsetForTimestamp(q), expect(q), `ts ${q - T0}`);
  t.same(await log.offsetForTimestamp(-1), { offset: 10, timestamp: -1 });
  t.same(await log.offsetForTimestamp(-2), { offset: 0, timestamp: -1 });
  t.same(await log.offsetForTimestamp(-3), { offset: 8, timestamp: T0 + 60 });
  log.deleteRecordsBefore(2);
  t.same(await log.offsetForTimestamp(T0), { offset: 2, timestamp: T0 + 20 });
  await s.close();
});

t.test('flush.messages acknowledges after a (group) fdatasync; flush.ms syncs in the background', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs();
  const { FaultyFs } = await import('./faulty-fs.ts');
  const fs = new FaultyFs(mem);
  const s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
  await s.createTopic('a', { partitions: 1, topicId: 'x', configs: { 'flush.messages': '1' } });
  await s.createTopic('b', { partitions: 1, topicId: 'y', configs: { 'flush.ms': '1000' } });
  const syncs = () => fs.calls.get('fdatasync') ?? 0;
  const base = syncs();
  await Promise.all(Array.from({ length: 20 }, (_, i) => s.partition('a', 0)!.append(kv('k', `v${i}`))));
  const used = syncs() - base;
  t.ok(used >= 1 && used < 20, `20 acks shared ${used} fdatasync calls`);
  const b = s.partition('b', 0)!;
  await b.append(kv('k', 'v'));
  const before = syncs();
  clock.advance(999);
  t.equal(syncs(), before);
  clock.advance(1);
  await b.idle();
  t.equal(syncs(), before + 1, 'flush.ms timer synced');
  t.equal(b.recoveryPoint, 1);
  await s.close();
});
