// Compaction of transactional data (Kafka's Cleaner with CleanedTransactionMetadata): committed records are
// compacted, aborted data goes, markers stay while their data does, then until their delete horizon; the
// last stable offset bounds cleaning; expired producers lose their headers; a crash at every step is safe.
import t from 'tap';
import { openStorage, type Storage } from './storage.ts';
import { MemFs } from './memfs.ts';
import type { FsLike } from './fs.ts';
import { CrashingFs } from './testing/crashing-fs.ts';
import { ManualClock } from './clock.ts';
import type { PartitionLog } from './partition-log.ts';
import { kv } from './testing/records.ts';
import { marker, rawBatches, readCommitted, txnBatch } from './testing/txn-log.ts';

const T0 = 1_700_000_000_000;
const HOUR = 3600 * 1000;
const PID = 7n;

function reopen(fs: FsLike, clock: ManualClock): Promise<Storage> {
  return openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { backoffMs: 0 } });
}

async function setup(configs: Record<string, string>, opts: { fs?: FsLike; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const fs = opts.fs ?? new MemFs(() => clock.now());
  const s = await reopen(fs, clock);
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'cleanup.policy': 'compact', 'delete.retention.ms': String(HOUR), ...configs } });
  return { fs, s, clock, log: s.partition('t', 0)! };
}

/** The broker's side of the bounds: no open transaction, PID active with its last data batch. */
function bind(log: PartitionLog, lastData: { v: number }, opts: { lso?: () => number | undefined; active?: boolean } = {}): void {
  log.transactionBounds = {
    firstUnstableOffset: opts.lso ?? (() => undefined),
    activeProducers: () => new Map(opts.active === false ? [] : [[PID, { lastDataOffset: lastData.v, epoch: 0 }]]),
  };
}

/**
 * `n` transactions of one producer over `keys` keys (one batch of `keys` records each, then its marker);
 * every `abortEvery`-th is aborted (reported as the broker does). Returns the committed latest values.
 */
async function writeTxns(log: PartitionLog, n: number, keys: number, abortEvery: number, pad: string, lastData: { v: number }) {
  const committed = new Map<string, string | null>();
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const abort = abortEvery > 0 && i % abortEvery === abortEvery - 1;
    const recs = Array.from({ length: keys }, (_, k) => ({ key: `k${k}`, value: `${abort ? 'ABORTED' : 'v'}${i}-${k}${pad}` }));
    const r = await log.append(txnBatch(PID, seq, recs, T0 + i));
    seq += keys;
    lastData.v = r.lastOffset;
    const m = await log.append(marker(PID, abort ? 0 : 1, T0 + i));
    if (abort) log.addAbortedTxn({ producerId: PID, firstOffset: r.baseOffset, lastOffset: m.baseOffset, lastStableOffset: m.baseOffset + 1 });
    else for (const x of recs) committed.set(x.key, x.value);
  }
  return committed;
}

t.test('100 keys × 100 transactions, 1 MiB segments: ~100 records and the needed markers stay; read_committed unchanged', async (t) => {
  const { s, log, clock, fs } = await setup({ 'segment.bytes': String(1 << 20) });
  const lastData = { v: -1 };
  bind(log, lastData);
  const pad = '.'.repeat(150);
  const want = await writeTxns(log, 100, 100, 7, pad, lastData);
  // New dirty data before each cleaning (as a live topic has): a cleaning needs some.
  const expected = (i: number) => new Map([...want, ['other', `x${i}`], ['tail', `t${i}`]]);
  const dirty = async (l: PartitionLog, i: number) => {
    l.roll();
    await l.append(kv('other', `x${i}`));
    l.roll();
    await l.append(kv('tail', `t${i}`));
    await l.idle();
  };
  await dirty(log, 0);
  t.ok(log.segmentBaseOffsets.length >= 3, `${log.segmentBaseOffsets.length} segments`);
  t.same(await readCommitted(log), expected(0), 'read_committed before cleaning');
  const recordsBefore = (await rawBatches(log)).reduce((n, b) => n + b.records.length, 0);

  t.ok(await s.runCleaner({ force: true }) > 0, 'cleaned');
  const after = await rawBatches(log);
  const data = after.flatMap((b) => b.records);
  t.equal(data.length, 102, `records ${recordsBefore} → ${data.length}`);
  t.notOk(data.some((r) => r.value?.startsWith('ABORTED')), 'aborted data removed');
  t.same(await readCommitted(log), expected(0), 'read_committed after cleaning');
  const aborts = after.filter((b) => b.markerType === 0);
  t.equal(aborts.length, 14, 'abort markers stay while their data was there at this cleaning');
  t.equal(log.abortedTransactions(0, log.logEndOffset).length, 14, 'their .txnindex entries stay');
  const commits = after.filter((b) => b.markerType === 1);
  t.ok(commits.length === 86 && commits.every((b) => !b.horizon), 'commit markers stay: their data was there at this cleaning (as Kafka)');

  // The next cleaning finds those transactions empty: their markers get a delete horizon (in the batch).
  await s.close();
  clock.advance(HOUR / 2);
  let s2 = await reopen(fs, clock);
  let l2 = s2.partition('t', 0)!;
  bind(l2, lastData);
  await dirty(l2, 1);
  await s2.runCleaner({ force: true });
  const horizon = T0 + HOUR + HOUR / 2;
  const mid = await rawBatches(l2);
  const markers = mid.filter((b) => b.markerType >= 0);
  const lastCommit = markers.at(-1)!;
  t.ok(!lastCommit.horizon && lastCommit.markerType === 1, 'the marker of the transaction whose data is live stays without a horizon');
  t.ok(markers.slice(0, -1).every((b) => b.horizon && b.baseTimestamp === horizon), 'markers of emptied transactions get now + delete.retention.ms');
  t.equal(markers.length, 100, 'all markers still there');
  t.equal(l2.abortedTransactions(0, l2.logEndOffset).length, 0, '.txnindex entries go with their data');
  t.same(await readCommitted(l2), expected(1));

  // A restart keeps the horizons (they are in the batches): a clean before them keeps the markers.
  await s2.close();
  clock.advance(HOUR / 2);
  s2 = await reopen(fs, clock);
  l2 = s2.partition('t', 0)!;
  bind(l2, lastData);
  await dirty(l2, 2);
  await s2.runCleaner({ force: true });
  const kept = (await rawBatches(l2)).filter((b) => b.markerType >= 0);
  t.equal(kept.length, 100, 'markers kept until their horizon');
  t.ok(kept.slice(0, -1).every((b) => b.baseTimestamp === horizon), 'horizons unchanged across the restart');

  clock.advance(HOUR / 2 + 1);
  await dirty(l2, 3);
  await s2.runCleaner({ force: true });
  const end = await rawBatches(l2);
  t.same(end.filter((b) => b.markerType >= 0).map((b) => b.base), [lastCommit.base], 'every marker of an emptied transaction removed after its horizon');
  // 100 keys + 'other' + 'tail' twice (its latest sits in the active segment, outside the offset map).
  t.equal(end.filter((b) => !b.control).reduce((n, b) => n + b.count, 0), 103);
  t.ok(end.length <= 102 + 4, `${end.length} batches left`);
  t.same(await readCommitted(l2), expected(3), 'read_committed after markers went');
  await s2.close();
});

t.test('cleaning stops at the segment holding the last stable offset', async (t) => {
  const { s, log } = await setup({ 'segment.bytes': '2000' });
  const lastData = { v: -1 };
  await writeTxns(log, 30, 3, 0, '', lastData);
  await log.idle();
  const bases = log.segmentBaseOffsets;
  const lso = bases[Math.floor(bases.length / 2)] + 1;
  bind(log, lastData, { lso: () => lso });
  const before = (await rawBatches(log)).filter((b) => b.last >= bases[Math.floor(bases.length / 2)]);
  t.ok(await s.runCleaner({ force: true }) > 0);
  const after = (await rawBatches(log)).filter((b) => b.last >= bases[Math.floor(bases.length / 2)]);
  t.same(after, before, 'the segment with the first unstable offset and later ones are untouched');
  t.ok(log.cleanerCheckpoint <= lso, `cleaner checkpoint ${log.cleanerCheckpoint} ≤ LSO ${lso}`);
  await s.close();
});

t.test('an expired producer loses its last batch header; an active one keeps it', async (t) => {
  for (const active of [true, false]) {
    const { s, log } = await setup({ 'segment.bytes': '600' });
    const lastData = { v: -1 };
    await writeTxns(log, 1, 1, 0, '', lastData);
    for (let i = 0; i < 20; i++) await log.append(kv('k0', `later${i}`));
    bind(log, lastData, { active });
    await s.runCleaner({ force: true });
    const mine = (await rawBatches(log)).filter((b) => b.pid === PID && !b.control);
    t.same(mine.map((b) => [b.base, b.count]), active ? [[0, 0]] : [], active ? 'header kept' : 'gone with the producer');
    await s.close();
  }
});

t.test('a crash at any step of a transactional clean recovers a consistent log and .txnindex', async (t) => {
  const build = async (limit: number) => {
    const clock = new ManualClock(T0);
    const mem = new MemFs(() => clock.now());
    const cfs = new CrashingFs(mem, Infinity);
    const { s, log } = await setup({ 'segment.bytes': '700', 'index.interval.bytes': '100' }, { fs: cfs, clock });
    const lastData = { v: -1 };
    bind(log, lastData);
    const want = await writeTxns(log, 14, 3, 3, '', lastData);
    await log.append(kv('k1', 'plain'));
    want.set('k1', 'plain');
    log.roll();
    await log.append(kv('z', 'z'));
    want.set('z', 'z');
    await log.idle();
    await s.settle();
    const start = cfs.count;
    cfs.limit = start + limit;
    await s.runCleaner({ force: true }).catch(() => 0);
    return { mem, clock, want, lastData, calls: cfs.count - start, leo: log.logEndOffset };
  };
  const full = await build(Infinity);
  t.ok(full.calls > 10, `${full.calls} mutating calls in a clean`);
  for (let k = 0; k <= full.calls; k++) {
    const { mem, clock, want, lastData, leo } = await build(k);
    const s2 = await reopen(mem, clock); // no close: a crash
    const l2 = s2.partition('t', 0)!;
    bind(l2, lastData);
    const files = await mem.readdir('/d/t-0');
    if (files.some((f) => /\.(cleaned|swap|deleted)$/.test(f))) t.fail(`crash after ${k}: leftovers ${files}`);
    if (l2.offline) t.fail(`crash after ${k}: offline ${l2.offline.message}`);
    if (l2.logEndOffset !== leo) t.fail(`crash after ${k}: log end ${l2.logEndOffset}, want ${leo}`);
    t.same(await readCommitted(l2), want, `crash after ${k}: read_committed view`);
    await s2.runCleaner({ force: true });
    t.same(await readCommitted(l2), want, `crash after ${k}: read_committed view after cleaning again`);
    const data = (await rawBatches(l2)).flatMap((b) => b.records);
    if (data.some((r) => r.value?.startsWith('ABORTED'))) t.fail(`crash after ${k}: aborted data left after a full clean`);
    await s2.close();
  }
});
