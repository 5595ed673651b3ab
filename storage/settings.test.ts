// Log settings that change when storage acts: the first retention pass (log.initial.task.delay.ms) and its
// interval, segment.jitter.ms, segment.index.bytes, index.interval.bytes; on the in-memory file system with
// an injected clock (no real sleeping).
import t from 'tap';
import { openStorage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { kv } from './testing/records.ts';
import { ManualClock } from './clock.ts';

const T0 = 1_700_000_000_000;

t.test('log.initial.task.delay.ms: the first retention pass after the delay, then every log.retention.check.interval.ms', async (t) => {
  const clock = new ManualClock(T0);
  const fs = new MemFs(() => clock.now());
  const s = await openStorage({ memory: true, fs, clock, retentionCheckIntervalMs: 10_000, initialTaskDelayMs: 3000 });
  t.teardown(() => s.close());
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'segment.bytes': '200', 'retention.ms': '1000' } });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 4; i++) await log.append(kv('k', `v${i}`, T0 - 60_000)); // expired at once
  const segments = log.segmentBaseOffsets.length;
  t.ok(segments >= 2);
  clock.advance(2999);
  t.equal(log.logStartOffset, 0, 'nothing before the initial delay');
  clock.advance(1);
  t.ok(log.logStartOffset > 0, `first pass at the initial delay (log start ${log.logStartOffset})`);
  for (let i = 0; i < 4; i++) await log.append(kv('k', `w${i}`, T0 - 60_000));
  const start = log.logStartOffset;
  clock.advance(9999);
  t.equal(log.logStartOffset, start, 'no pass before the interval has passed');
  clock.advance(1);
  t.ok(log.logStartOffset > start, 'the next pass one interval later');
});

t.test('without log.initial.task.delay.ms the first pass waits one interval (storage default)', async (t) => {
  const clock = new ManualClock(T0);
  const s = await openStorage({ memory: true, fs: new MemFs(() => clock.now()), clock, retentionCheckIntervalMs: 5000 });
  t.teardown(() => s.close());
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'segment.bytes': '200', 'retention.ms': '1000' } });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 4; i++) await log.append(kv('k', `v${i}`, T0 - 60_000));
  clock.advance(4999);
  t.equal(log.logStartOffset, 0);
  clock.advance(1);
  t.ok(log.logStartOffset > 0);
});

t.test('segment.jitter.ms: a segment rolls segment.ms less its random jitter after it started', async (t) => {
  const clock = new ManualClock(T0);
  const s = await openStorage({ memory: true, fs: new MemFs(() => clock.now()), clock, retentionCheckIntervalMs: 0, random: () => 0.5 });
  t.teardown(() => s.close());
  await s.createTopic('j', { partitions: 1, topicId: 'x', configs: { 'segment.ms': '1000', 'segment.jitter.ms': '600' } });
  await s.createTopic('n', { partitions: 1, topicId: 'y', configs: { 'segment.ms': '1000' } });
  await s.createTopic('big', { partitions: 1, topicId: 'z', configs: { 'segment.ms': '1000', 'segment.jitter.ms': '100000' } });
  const [j, n, big] = ['j', 'n', 'big'].map((name) => s.partition(name, 0)!);
  for (const l of [j, n, big]) await l.append(kv('a', '1'));
  clock.advance(699);
  for (const l of [j, n, big]) await l.append(kv('a', '2'));
  t.same(j.segmentBaseOffsets, [0], 'jitter 300 ms: not yet at 699 ms');
  t.same(big.segmentBaseOffsets, [0, 1], 'jitter is drawn below min(segment.jitter.ms, segment.ms): 500 ms');
  clock.advance(1);
  for (const l of [j, n, big]) await l.append(kv('a', '3'));
  t.same(j.segmentBaseOffsets, [0, 2], 'rolled at 700 ms (1000 − 0.5 × 600)');
  t.same(n.segmentBaseOffsets, [0], 'no jitter: not before 1000 ms');
  clock.advance(300);
  await n.append(kv('a', '4'));
  t.same(n.segmentBaseOffsets, [0, 3]);
});

t.test('segment.index.bytes: a segment rolls once its offset or time index is full', async (t) => {
  const clock = new ManualClock(T0);
  const s = await openStorage({ memory: true, fs: new MemFs(() => clock.now()), clock, retentionCheckIntervalMs: 0 });
  t.teardown(() => s.close());
  // index.interval.bytes 0: every batch after the first gets an entry. 24 bytes: 3 offset entries, 2 time entries.
  await s.createTopic('i', { partitions: 1, topicId: 'x', configs: { 'segment.index.bytes': '24', 'index.interval.bytes': '0' } });
  await s.createTopic('d', { partitions: 1, topicId: 'y', configs: { 'index.interval.bytes': '0' } });
  const [i, d] = [s.partition('i', 0)!, s.partition('d', 0)!];
  for (let k = 0; k < 10; k++) {
    await i.append(kv('k', `v${k}`, T0 + k));
    await d.append(kv('k', `v${k}`, T0 + k));
  }
  t.ok(i.segmentBaseOffsets.length >= 3, `${i.segmentBaseOffsets.length} segments with a 24-byte index`);
  t.same(d.segmentBaseOffsets, [0], 'the default (10 MiB) never fills here');
  t.same(i.segmentBaseOffsets.slice(0, 2), [0, 3], 'the time index (12-byte entries) fills first: 2 entries after the first batch');
});

t.test('index.interval.bytes: how many index entries a segment gets', async (t) => {
  const clock = new ManualClock(T0);
  const fs = new MemFs(() => clock.now());
  const s = await openStorage({ memory: true, fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
  await s.createTopic('dense', { partitions: 1, topicId: 'x', configs: { 'index.interval.bytes': '0' } });
  await s.createTopic('sparse', { partitions: 1, topicId: 'y', configs: { 'index.interval.bytes': '4096' } });
  for (let k = 0; k < 20; k++) {
    await s.partition('dense', 0)!.append(kv('k', `v${k}`, T0 + k));
    await s.partition('sparse', 0)!.append(kv('k', `v${k}`, T0 + k));
  }
  await s.partition('dense', 0)!.roll();
  await s.close();
  const size = async (p: string) => (await fs.stat(p))!.size;
  t.equal(await size('/d/dense-0/00000000000000000000.index'), 19 * 8, 'an entry per batch after the first');
  t.equal(await size('/d/sparse-0/00000000000000000000.index'), 0, 'no entry below 4096 bytes');
});

const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': '400', 'index.interval.bytes': '100' };

async function compacted(cleaner: { enabled?: boolean; backoffMs?: number; maxMapEntries?: number }, keys = 4) {
  const clock = new ManualClock(T0);
  const s = await openStorage({ memory: true, fs: new MemFs(() => clock.now()), clock, retentionCheckIntervalMs: 0, cleaner });
  await s.createTopic('c', { partitions: 1, topicId: 'x', configs: COMPACT });
  const log = s.partition('c', 0)!;
  for (let i = 0; i < 60; i++) await log.append(kv(`k${i % keys}`, `v${i}`, T0));
  return { s, log, clock };
}

t.test('log.cleaner.backoff.ms: the cleaner pass runs on the clock after the backoff', async (t) => {
  const { s, log, clock } = await compacted({ backoffMs: 5000 });
  t.teardown(() => s.close());
  const size = log.size;
  await clock.advanceAsync(4999);
  t.equal(log.size, size, 'nothing cleaned before the backoff');
  await clock.advanceAsync(1);
  for (let i = 0; i < 50 && log.size === size; i++) await clock.advanceAsync(0);
  t.ok(log.size < size, `cleaned at 5000 ms: ${size} → ${log.size} bytes`);
});

t.test('log.cleaner.enable=false: compacted topics are never cleaned', async (t) => {
  const { s, log, clock } = await compacted({ enabled: false, backoffMs: 1000 });
  t.teardown(() => s.close());
  const size = log.size;
  for (let i = 0; i < 20; i++) await clock.advanceAsync(1000);
  t.equal(log.size, size);
});

t.test('log.cleaner.dedupe.buffer.size (maxMapEntries) bounds the keys one pass maps; the rest waits for the next pass', async (t) => {
  const bounded = await compacted({ backoffMs: 0, maxMapEntries: 5 }, 60);
  const free = await compacted({ backoffMs: 0 }, 60);
  t.teardown(() => bounded.s.close());
  t.teardown(() => free.s.close());
  await bounded.s.runCleaner();
  await free.s.runCleaner();
  const end = free.log.cleanerCheckpoint;
  t.ok(end > 0, `an unbounded pass cleans up to ${end}`);
  t.ok(bounded.log.cleanerCheckpoint < end, `a pass mapping at most 5 keys stops at ${bounded.log.cleanerCheckpoint}`);
  // Forced: what is left may be below min.cleanable.dirty.ratio after the first pass.
  for (let i = 0; i < 30 && bounded.log.cleanerCheckpoint < end; i++) await bounded.s.runCleaner({ force: true });
  t.equal(bounded.log.cleanerCheckpoint, end, 'later passes get there');
});
