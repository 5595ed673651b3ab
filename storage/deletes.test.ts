// Deferred deletes (file.delete.delay.ms, Kafka's `.deleted` suffix and `-delete` directories): files leave
// the log by a rename at once and are removed after the delay; reads holding a segment keep working; a
// restart (or a crash between rename and delete) finishes what was pending. Also the cleaner's I/O throttle.
import t from 'tap';
import { openStorage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { ManualClock } from './clock.ts';
import { kv, parseRecords } from './testing/records.ts';

const T0 = 1_700_000_000_000;

async function setup(configs: Record<string, string>, defaults: Record<string, string> = {}) {
  const clock = new ManualClock(T0);
  const fs = new MemFs(() => clock.now());
  const open = () => openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { backoffMs: 0 }, defaults });
  const s = await open();
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'segment.bytes': '300', ...configs } });
  return { fs, clock, s, log: s.partition('t', 0)!, open };
}

const deleted = async (fs: MemFs, dir = '/d/t-0') => (await fs.readdir(dir)).filter((f) => f.endsWith('.deleted')).sort();

t.test('retention renames segment files to *.deleted at once and removes them after file.delete.delay.ms', async (t) => {
  const { fs, clock, s, log } = await setup({ 'retention.ms': '1000', 'file.delete.delay.ms': '5000' });
  for (let i = 0; i < 20; i++) await log.append(kv(`k${i}`, `v${i}`, T0));
  await log.idle();
  const bases = log.segmentBaseOffsets;
  t.ok(bases.length > 3);
  // A read of the first segment in progress while retention renames it.
  const reading = log.read(0, 1 << 20);
  clock.advance(2000);
  const removed = s.runRetention();
  t.ok(removed >= bases.length - 1, `${removed} segments removed`);
  const r = await reading;
  t.equal(r.error, null, 'a read holding the segment finishes');
  t.equal(parseRecords(r.batches[0])[0].value, 'v0');
  await log.idle();
  const pending = await deleted(fs);
  t.ok(pending.some((f) => f.endsWith('.log.deleted')) && pending.some((f) => f.endsWith('.index.deleted')), `renamed at once: ${pending.length} files`);
  t.notOk((await fs.readdir('/d/t-0')).some((f) => /^0{20}\.log$/.test(f)), 'the segment left the log dir');
  clock.advance(4999);
  await s.deletes.settle();
  t.same(await deleted(fs), pending, 'kept until the delay has passed');
  clock.advance(1);
  await s.deletes.settle();
  t.same(await deleted(fs), [], 'removed after file.delete.delay.ms');
  t.equal(s.deletes.pending, 0);
  await s.close();
});

t.test('DeleteRecords, cleaner swaps and topic deletion defer too; a restart finishes pending deletes (crash between rename and delete)', async (t) => {
  const { fs, clock, s, log, open } = await setup({ 'cleanup.policy': 'compact,delete', 'file.delete.delay.ms': '60000' }, { 'file.delete.delay.ms': '30000' });
  for (let i = 0; i < 30; i++) await log.append(kv(`k${i % 3}`, `v${i}`, T0));
  await log.idle();
  log.deleteRecordsBefore(log.segmentBaseOffsets[2]);
  await log.idle();
  const afterDeleteRecords = await deleted(fs);
  t.ok(afterDeleteRecords.length >= 2, `DeleteRecords: ${afterDeleteRecords.length} files renamed`);
  t.ok(await s.runCleaner({ force: true }) > 0);
  const afterClean = await deleted(fs);
  t.ok(afterClean.length > afterDeleteRecords.length, `cleaner swap: ${afterClean.length - afterDeleteRecords.length} replaced files renamed`);
  // Topic deletion: the directory is renamed now, removed after the broker default (file.delete.delay.ms 30 s).
  await s.createTopic('gone', { partitions: 1, topicId: 'y' });
  await s.partition('gone', 0)!.append(kv('a', 'b'));
  await s.deleteTopic('gone');
  const dirs = () => fs.readdir('/d').then((es) => es.filter((e) => e.startsWith('gone')));
  t.same((await dirs()).map((d) => d.endsWith('-delete')), [true], 'renamed to *-delete');
  clock.advance(30_000);
  await s.deletes.settle();
  t.same(await dirs(), [], 'removed after the delay');
  t.ok((await deleted(fs)).length > 0, 'the segment files wait for their own (topic) delay');
  // Crash now (no close): the renamed files are pending; the next start removes them.
  const s2 = await open();
  t.same(await deleted(fs), [], 'a restart finishes pending deletes');
  const l2 = s2.partition('t', 0)!;
  t.equal(l2.logStartOffset, log.logStartOffset);
  await s2.close();
});

t.test('file.delete.delay.ms 0 removes at once', async (t) => {
  const { fs, s, log } = await setup({ 'file.delete.delay.ms': '0' });
  for (let i = 0; i < 10; i++) await log.append(kv(`k${i}`, 'v', T0));
  log.deleteRecordsBefore(log.segmentBaseOffsets.at(-1)!);
  await log.idle();
  await s.deletes.settle();
  t.same(await deleted(fs), []);
  await s.close();
});

t.test('log.cleaner.io.max.bytes.per.second paces a clean by the clock; appends go on meanwhile', async (t) => {
  const clock = new ManualClock(T0);
  const fs = new MemFs(() => clock.now());
  const s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { backoffMs: 0, ioMaxBytesPerSecond: 1000 } });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'cleanup.policy': 'compact', 'segment.bytes': '600' } });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 60; i++) await log.append(kv(`k${i % 4}`, `v${i}`, T0));
  await log.idle();
  const bytes = log.size;
  let done = false;
  const cleaning = s.runCleaner({ force: true }).then((n) => { done = true; return n; });
  let appends = 0;
  for (let step = 0; step < 1000 && !done; step++) {
    await log.append(kv('z', `during${step}`, T0));
    appends++;
    await clock.advanceAsync(100);
  }
  t.ok(done, 'the clean finished');
  t.ok(await cleaning > 0);
  const elapsed = clock.now() - T0;
  // It reads every cleaned byte twice (offset map, then the rewrite) and writes the result: at 1000 B/s
  // that is at least the bytes read once, in seconds.
  t.ok(elapsed >= bytes * 0.5, `${bytes} bytes cleaned over ${elapsed} ms of clock`);
  t.ok(appends > 5, `${appends} appends completed while the cleaner was paused`);
  await s.close();
});
