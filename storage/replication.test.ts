// Storage for followers: the leader-epoch cache (Kafka's LeaderEpochFileCache semantics and file), the high
// watermark and its checkpoint, appendAsFollower, truncateTo / truncateFullyAndStartAt, injected faults and
// a crash after every file-system step of a truncation.
import t from 'tap';
import { openStorage, type Storage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { FaultyFs } from './faulty-fs.ts';
import type { FsLike } from './fs.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import type { PartitionLog } from './partition-log.ts';
import { buildBatch, kv, parseRecords } from './testing/records.ts';
import { ManualClock } from './clock.ts';
import { readAll } from './testing/helpers.ts';
import { CrashingFs } from './testing/crashing-fs.ts';

const T0 = 1_700_000_000_000;

/** A batch as a leader would send it: base offset and partition leader epoch set (both outside the CRC). */
function fetched(base: number, epoch: number, values: string[]): Buffer {
  const b = buildBatch(values.map((v) => ({ key: Buffer.from('k'), value: Buffer.from(v) })));
  b.writeBigInt64BE(BigInt(base), 0);
  b.writeInt32BE(epoch, 12);
  return b;
}

async function open(fs: FsLike, clock: ManualClock, opts: { follows?: boolean; configs?: Record<string, string>; create?: boolean } = {}): Promise<{ s: Storage; log: PartitionLog }> {
  const s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { enabled: false }, highWatermarkFollowsLogEnd: opts.follows ?? true });
  if (opts.create) await s.createTopic('t', { partitions: 1, topicId: 'x', configs: opts.configs ?? {} });
  return { s, log: s.partition('t', 0)! };
}

const entries = (c: { entries: readonly { epoch: number; startOffset: number }[] } | PartitionLog) =>
  ('leaderEpochs' in c ? c.leaderEpochs : c.entries).map((e) => [e.epoch, e.startOffset]);

t.test('LeaderEpochCache: Kafka semantics of assign, endOffsetFor, truncateFromEnd/Start, file format', async (t) => {
  const c = new LeaderEpochCache();
  t.same(c.endOffsetFor(0, 10), { epoch: -1, endOffset: -1 }, 'empty cache: undefined');
  t.ok(c.assign(1, 0));
  t.notOk(c.assign(1, 5), 'same epoch at a later offset: no change');
  t.ok(c.assign(3, 10));
  t.ok(c.assign(5, 20));
  t.same(entries(c), [[1, 0], [3, 10], [5, 20]]);
  t.same(c.endOffsetFor(-1, 30), { epoch: -1, endOffset: -1 }, 'UNDEFINED_EPOCH requested');
  t.same(c.endOffsetFor(5, 30), { epoch: 5, endOffset: 30 }, 'latest epoch ends at the log end');
  t.same(c.endOffsetFor(3, 30), { epoch: 3, endOffset: 20 });
  t.same(c.endOffsetFor(4, 30), { epoch: 3, endOffset: 20 }, 'unknown epoch between: the one below, ending where the next starts');
  t.same(c.endOffsetFor(2, 30), { epoch: 1, endOffset: 10 });
  t.same(c.endOffsetFor(0, 30), { epoch: 0, endOffset: 0 }, 'below the first: the requested epoch, ending at the first start');
  t.same(c.endOffsetFor(6, 30), { epoch: -1, endOffset: -1 }, 'above the latest: undefined');
  t.equal(c.epochForOffset(15), 3);
  t.equal(c.epochForOffset(20), 5);

  const n = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }]);
  t.ok(n.assign(2, 5), 'a lower epoch removes the entries it contradicts');
  t.same(entries(n), [[1, 0], [2, 5]]);
  t.ok(n.assign(3, 4));
  t.same(entries(n), [[1, 0], [3, 4]], 'an earlier start removes the entries starting at or after it');
  t.throws(() => n.assign(-1, 3));

  const e = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 5, startOffset: 20 }]);
  t.notOk(e.truncateFromEnd(21));
  t.ok(e.truncateFromEnd(10));
  t.same(entries(e), [[1, 0]], 'entries starting at or after the end go');
  const s = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 5, startOffset: 20 }]);
  t.ok(s.truncateFromStart(12));
  t.same(entries(s), [[3, 12], [5, 20]], 'the epoch holding the new start now starts there');
  t.ok(s.truncateFromStart(20));
  t.same(entries(s), [[5, 20]]);
  t.notOk(s.truncateFromStart(20));

  t.equal(new LeaderEpochCache([{ epoch: 0, startOffset: 0 }, { epoch: 4, startOffset: 1250 }]).serialize().toString(), '0\n2\n0 0\n4 1250\n');
  t.same(entries(LeaderEpochCache.parse('0\n2\n0 0\n4 1250\n')), [[0, 0], [4, 1250]]);
  t.same(entries(LeaderEpochCache.parse('0\n0\n')), []);
  for (const bad of ['', '1\n0\n', '0\n2\n0 0\n', '0\n1\nx 1\n', '0\n2\n3 5\n2 9\n', '0\n2\n1 5\n2 5\n']) {
    t.throws(() => LeaderEpochCache.parse(bad), `rejects ${JSON.stringify(bad)}`);
  }
});

t.test('high watermark: follows the log end by default; set by the caller otherwise, checkpointed in Kafka format', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  {
    const { s, log } = await open(mem, clock, { create: true });
    await log.append(kv('a', '0'));
    t.equal(log.highWatermark, 1, 'default: leader with ISR = itself');
    await s.close();
  }
  const { s, log } = await open(mem, clock, { follows: false });
  t.equal(log.highWatermark, 1, 'recovered from replication-offset-checkpoint');
  for (let i = 1; i < 5; i++) await log.append(kv('a', String(i)));
  t.equal(log.logEndOffset, 5);
  t.equal(log.highWatermark, 1, 'appends do not move it');
  t.equal((await log.read(3, 1000)).error, 'OFFSET_OUT_OF_RANGE', 'consumers read up to the high watermark');
  t.same(parseRecords(Buffer.concat((await log.read(0, 1000)).batches)).map((r) => r.value), ['0']);
  const replica = await log.read(1, 1000, { toLogEnd: true });
  t.same(parseRecords(Buffer.concat(replica.batches)).map((r) => r.value), ['1', '2', '3', '4'], 'replica reads go to the log end');
  t.equal((await log.offsetForTimestamp(-1))?.offset, 1, 'ListOffsets latest is the high watermark');
  t.equal(log.setHighWatermark(3), 3);
  t.equal(log.setHighWatermark(2), 3, 'never backwards');
  t.equal(log.setHighWatermark(99), 5, 'never beyond the log end');
  t.equal(log.updateHighWatermark(2), 2, "a follower's update from its leader may go back");
  t.throws(() => log.deleteRecordsBefore(3), 'DeleteRecords stops at the high watermark');
  clock.advance(5000);
  await s.settle();
  await new Promise((r) => setImmediate(r));
  const ckpt = async () => (await readText(mem, '/d/replication-offset-checkpoint'));
  t.equal(await ckpt(), '0\n1\nt 0 2\n', 'written by the timer (replica.high.watermark.checkpoint.interval.ms)');
  // A crash: the checkpoint holds 2 although the log end is 5.
  const r2 = await open(mem, clock, { follows: false });
  t.equal(r2.log.highWatermark, 2, 'min(checkpoint, log end) after a crash');
  t.equal(r2.log.logEndOffset, 5);
  r2.log.highWatermarkFollowsLogEnd = true;
  t.equal(r2.log.highWatermark, 5, 'becoming the only ISR member: HW = LEO');
  await r2.s.close();
  await s.close().catch(() => {});
  t.equal(await ckpt(), '0\n1\nt 0 5\n', 'written at close');

  await mem.unlink('/d/replication-offset-checkpoint');
  const r3 = await open(mem, clock, { follows: false });
  t.equal(r3.log.highWatermark, 0, 'no checkpoint: 0, as Kafka');
  await r3.s.close();
});

async function readText(fs: FsLike, path: string): Promise<string | null> {
  const st = await fs.stat(path);
  if (!st) return null;
  const fd = await fs.open(path, 'r');
  const b = Buffer.alloc(st.size);
  await fs.read(fd, b, 0, st.size, 0);
  await fs.close(fd);
  return b.toString();
}

t.test('appendAsFollower keeps offsets, epochs and gaps; rejects overlap; the epoch cache follows', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  const { s, log } = await open(mem, clock, { follows: false, create: true, configs: { 'segment.bytes': '300' } });
  t.same(await log.appendAsFollower(Buffer.concat([fetched(0, 1, ['a', 'b']), fetched(2, 1, ['c'])])), { baseOffset: 0, lastOffset: 2, logAppendTime: -1 });
  t.same(await log.appendAsFollower(fetched(5, 2, ['f'])), { baseOffset: 5, lastOffset: 5, logAppendTime: -1 }, 'a gap (compacted leader) is kept');
  for (let i = 0; i < 6; i++) await log.appendAsFollower(fetched(10 + i * 3, 4, [`x${i}`]));
  t.equal(log.logEndOffset, 26);
  t.ok(log.segmentBaseOffsets.length > 1);
  t.ok(log.segmentBaseOffsets.slice(1).every((b) => [10, 13, 16, 19, 22, 25].includes(b)), `rolled segments start at a fetched batch: ${log.segmentBaseOffsets}`);
  t.same(entries(log), [[1, 0], [2, 5], [4, 10]]);
  t.same(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 10 });
  t.same(log.endOffsetForEpoch(3), { epoch: 2, endOffset: 10 });
  t.same(log.endOffsetForEpoch(4), { epoch: 4, endOffset: 26 });
  await t.rejects(log.appendAsFollower(fetched(25, 4, ['dup'])), { kind: 'OFFSET_OUT_OF_RANGE', message: /overlaps the log \(next offset 26\); truncate first/ } as object as Error);
  await t.rejects(log.appendAsFollower(Buffer.concat([fetched(30, 4, ['p', 'q']), fetched(31, 4, ['r'])])), { kind: 'OFFSET_OUT_OF_RANGE', message: /out of order/ } as object as Error);
  t.equal(log.logEndOffset, 26, 'nothing written by a rejected append');
  log.setHighWatermark(26);
  const recs = await readAll(log);
  t.same(recs.map((r) => r.offset), [0, 1, 2, 5, 10, 13, 16, 19, 22, 25]);
  const raw = await log.read(5, 100);
  t.equal(raw.batches[0].readInt32BE(12), 2, 'leader epoch kept');
  // The leader append after becoming leader in epoch 6 continues at the log end.
  log.assignEpochStartOffset(6, log.logEndOffset);
  t.equal((await log.append(kv('k', 'leader'), { leaderEpoch: 6 })).baseOffset, 26);
  t.same(entries(log).at(-1), [6, 26]);
  await s.close();
  t.equal(await readText(mem, '/d/t-0/leader-epoch-checkpoint'), '0\n4\n1 0\n2 5\n4 10\n6 26\n');
  const r = await open(mem, clock, { follows: false });
  t.same(entries(r.log), [[1, 0], [2, 5], [4, 10], [6, 26]], 'reloaded from the checkpoint');
  await r.s.close();
});

/** A follower log of 60 offsets in epochs 1 (0-19), 2 (20-39), 3 (40-59), batches of 2 records, several segments. */
async function followerLog(fs: FsLike, clock: ManualClock) {
  const { s, log } = await open(fs, clock, { follows: false, create: true, configs: { 'segment.bytes': '500', 'index.interval.bytes': '100' } });
  for (let o = 0; o < 60; o += 2) await log.appendAsFollower(fetched(o, 1 + Math.floor(o / 20), [`v${o}`, `v${o + 1}`]));
  log.setHighWatermark(50);
  await log.flush();
  await s.settle();
  return { s, log };
}

const values = (n: number, from = 0) => Array.from({ length: n - from }, (_, i) => `v${from + i}`);

t.test('truncateTo: later segments go, the containing one is cut; HW, epochs and checkpoints follow; restart agrees', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  const { s, log } = await followerLog(mem, clock);
  const segsBefore = log.segmentBaseOffsets.length;
  t.ok(segsBefore >= 4, `${segsBefore} segments`);
  t.equal(await log.truncateTo(60), false, 'at the log end: nothing to do');
  t.equal(await log.truncateTo(27), true, 'mid-batch: the batch holding 27 goes whole');
  t.equal(log.logEndOffset, 26);
  t.equal(log.highWatermark, 26);
  t.same(entries(log), [[1, 0], [2, 20]]);
  t.ok(log.segmentBaseOffsets.length < segsBefore);
  t.ok(log.segmentBaseOffsets.every((b) => b <= 26));
  t.same((await readAll(log)).map((r) => r.value), values(26));
  t.equal(await log.truncateTo(20), true, 'at an epoch boundary');
  t.same(entries(log), [[1, 0]]);
  t.same(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 20 });
  t.equal(await readText(mem, '/d/recovery-point-offset-checkpoint'), '0\n1\nt 0 20\n', 'recovery point lowered and checkpointed');
  t.equal(await readText(mem, '/d/replication-offset-checkpoint'), '0\n1\nt 0 20\n', 'high watermark lowered and checkpointed');
  t.equal(await readText(mem, '/d/t-0/leader-epoch-checkpoint'), '0\n1\n1 0\n');
  // The new leader's data (epoch 5) continues at the log end.
  await log.appendAsFollower(Buffer.concat([fetched(20, 5, ['n20', 'n21']), fetched(22, 5, ['n22'])]));
  log.setHighWatermark(23);
  t.same(entries(log), [[1, 0], [5, 20]]);
  await log.flush();
  t.equal(await readText(mem, '/d/t-0/leader-epoch-checkpoint'), '0\n2\n1 0\n5 20\n');
  const files = (await mem.readdir('/d/t-0')).filter((f) => f.endsWith('.log'));
  t.same(files.map((f) => Number(f.slice(0, 20))), log.segmentBaseOffsets, 'no segment file above the cut remains');
  // Crash (no close) and reload: the same log.
  const r = await open(mem, clock, { follows: false });
  t.equal(r.log.logEndOffset, 23);
  r.log.setHighWatermark(23);
  t.same((await readAll(r.log)).map((x) => x.value), [...values(20), 'n20', 'n21', 'n22']);
  t.same(entries(r.log), [[1, 0], [5, 20]]);
  await r.s.close();
  await s.close().catch(() => {});
});

t.test('truncateTo below the first segment and truncateFullyAndStartAt start an empty log at the offset', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  const { s, log } = await followerLog(mem, clock);
  await log.truncateFullyAndStartAt(100);
  t.same([log.logStartOffset, log.logEndOffset, log.highWatermark], [100, 100, 100]);
  t.same(log.segmentBaseOffsets, [100]);
  t.same(entries(log), []);
  await log.appendAsFollower(fetched(100, 7, ['a']));
  t.same(entries(log), [[7, 100]]);
  t.same((await mem.readdir('/d/t-0')).filter((f) => f.endsWith('.log')), ['00000000000000000100.log']);
  const r = await open(mem, clock, { follows: false });
  t.same([r.log.logStartOffset, r.log.logEndOffset], [100, 101]);
  t.equal(r.log.highWatermark, 100, 'no high watermark checkpointed yet: the log start');
  r.log.setHighWatermark(101);
  t.same((await readAll(r.log)).map((x) => x.offset), [100]);
  t.equal(await r.log.truncateTo(50), true, 'below the first segment: truncate fully');
  t.same([r.log.logStartOffset, r.log.logEndOffset, r.log.segmentBaseOffsets[0]], [50, 50, 50]);
  await r.s.close();
  await s.close().catch(() => {});
});

t.test('retention and DeleteRecords move the epoch cache start; retention stops at the high watermark', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  const { s, log } = await followerLog(mem, clock);
  log.updateHighWatermark(30);
  log.config = { ...log.config, retentionBytes: 0 };
  t.ok(log.applyRetention() > 0);
  const bases = log.segmentBaseOffsets;
  t.ok(bases[0] <= 30 && bases[1] > 30, `retention keeps the segments above the high watermark 30 (${bases})`);
  t.equal(log.logStartOffset, bases[0]);
  t.same(entries(log), [[bases[0] < 20 ? 1 : 2, bases[0]], [3, 40]]);
  log.deleteRecordsBefore(25);
  t.same(entries(log), [[2, 25], [3, 40]]);
  await log.idle();
  await s.close();
  t.equal(await readText(mem, '/d/t-0/leader-epoch-checkpoint'), '0\n2\n2 25\n3 40\n');
});

t.test('leader-epoch-checkpoint missing, corrupt or stale is rebuilt/corrected from the log at load', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  const { s } = await followerLog(mem, clock);
  await s.close();
  const path = '/d/t-0/leader-epoch-checkpoint';
  const want = [[1, 0], [2, 20], [3, 40]];
  for (const content of [null, 'garbage\n', '0\n5\n1 0\n', '0\n4\n1 0\n2 20\n3 40\n9 70\n']) {
    if (content === null) await mem.unlink(path);
    else { const fd = await mem.open(path, 'w+'); await mem.write(fd, Buffer.from(content), 0, content.length, 0); await mem.close(fd); }
    const r = await open(mem, clock, { follows: false });
    t.same(entries(r.log), want, `file ${JSON.stringify(content)}`);
    await r.s.close();
    t.equal(await readText(mem, path), '0\n3\n1 0\n2 20\n3 40\n', 'rewritten');
    const fd = await mem.open(path, 'w+'); await mem.write(fd, Buffer.from('0\n3\n1 0\n2 20\n3 40\n'), 0, 19, 0); await mem.close(fd);
  }
});

t.test('faults during truncation: the partition goes offline, reads work, a restart recovers a consistent log', async (t) => {
  for (const op of ['ftruncate', 'unlink', 'fsyncDir', 'fdatasync', 'rename'] as const) {
    const clock = new ManualClock(T0);
    const mem = new MemFs(() => clock.now());
    const fs = new FaultyFs(mem);
    const { log } = await followerLog(fs, clock);
    fs.failNext(op);
    await t.rejects(log.truncateTo(11), { kind: 'KAFKA_STORAGE_ERROR' } as object as Error, `${op} fails`);
    t.ok(log.offline, `${op}: offline`);
    await t.rejects(log.appendAsFollower(fetched(10, 1, ['x'])), { kind: 'KAFKA_STORAGE_ERROR' } as object as Error);
    t.equal((await log.read(0, 1000)).error, null, `${op}: reads keep working`);
    fs.heal();
    const r = await open(mem, clock, { follows: false });
    t.equal(r.log.offline, null);
    const leo = r.log.logEndOffset;
    t.ok(leo === 10 || leo === 60 || (leo > 10 && leo < 60), `${op}: log end ${leo}`);
    r.log.setHighWatermark(leo);
    t.same((await readAll(r.log)).map((x) => x.value), values(leo), `${op}: a prefix of the old log, every record at its offset`);
    t.ok(await r.log.truncateTo(10) || leo === 10, 'truncation redone');
    t.equal(r.log.logEndOffset, 10);
    await r.s.close();
  }
});

t.test('a crash after every file-system step of truncateTo / truncateFullyAndStartAt recovers a prefix of the old log', async (t) => {
  const run = async (what: 'within' | 'fully', limit: number) => {
    const clock = new ManualClock(T0);
    const mem = new MemFs(() => clock.now());
    const cfs = new CrashingFs(mem, Infinity);
    const { log } = await followerLog(cfs, clock);
    await log.idle();
    const start = cfs.count;
    cfs.limit = start + limit;
    if (what === 'within') await log.truncateTo(27).catch(() => false);
    else await log.truncateFullyAndStartAt(80).catch(() => undefined);
    return { mem, clock, calls: cfs.count - start };
  };
  for (const what of ['within', 'fully'] as const) {
    const full = await run(what, Infinity);
    t.ok(full.calls >= 5, `${what}: ${full.calls} mutating calls`);
    const seen = new Set<number>();
    for (let k = 0; k <= full.calls; k++) {
      const { mem, clock } = await run(what, k);
      const r = await open(mem, clock, { follows: false });
      const l = r.log;
      if (l.offline) t.fail(`${what}, crash after ${k}: offline ${l.offline.message}`);
      const leo = l.logEndOffset;
      seen.add(leo);
      const lso = l.logStartOffset;
      l.setHighWatermark(leo);
      const got = await readAll(l);
      if (what === 'within' || lso < 60) {
        // Every record at its own offset, no hole: a prefix of the old log.
        t.same(got.map((x) => x.value), values(leo, lso), `${what}, crash after ${k}: [${lso}, ${leo}) is a prefix of the old log`);
      } else {
        t.same(got, [], `${what}, crash after ${k}: empty`);
      }
      if (what === 'within') t.ok(leo >= 26 && leo <= 60, `crash after ${k}: log end ${leo}`);
      // The epoch cache matches the batches kept: the old epochs cut to [log start, log end).
      const want = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 20 }, { epoch: 3, startOffset: 40 }]);
      want.truncateFromEnd(leo);
      want.truncateFromStart(lso);
      t.same(entries(l), leo === lso ? [] : entries(want), `${what}, crash after ${k}: epochs of [${lso}, ${leo})`);
      if (l.highWatermark > leo) t.fail('HW beyond log end');
      // The recovered log takes the truncation again and goes on.
      if (what === 'within') {
        await l.truncateTo(26);
        t.equal(l.logEndOffset, 26);
      } else {
        await l.truncateFullyAndStartAt(80);
      }
      const next = l.logEndOffset;
      await l.appendAsFollower(fetched(next, 9, ['after']));
      t.same(entries(l).at(-1), [9, next]);
      await r.s.close();
    }
    t.ok(seen.size >= 2, `${what}: crashes landed both before and after (${[...seen].join(', ')})`);
  }
});

t.test('a read at an offset in a gap between segments returns the next segment (also after a restart)', async (t) => {
  const clock = new ManualClock(T0);
  const mem = new MemFs(() => clock.now());
  const { s, log } = await open(mem, clock, { follows: false, create: true, configs: { 'segment.bytes': '150' } });
  await log.appendAsFollower(fetched(0, 1, ['a', 'b']));
  await log.appendAsFollower(fetched(2, 1, ['c']));
  await log.appendAsFollower(fetched(7, 1, ['h']));
  await s.close();
  const r = await open(mem, clock, { follows: false });
  r.log.setHighWatermark(8);
  t.same(r.log.segmentBaseOffsets, [0, 7], 'the follower roll starts the segment at the fetched offset');
  const at = await r.log.read(4, 1000); // segment 0 (offsets 0-2) reaches 7 after a reload
  t.same(parseRecords(Buffer.concat(at.batches)).map((x) => [x.offset, x.value]), [[7, 'h']]);
  t.equal(await r.log.truncateTo(5), true);
  t.equal(r.log.logEndOffset, 3, 'truncating into the gap: the log ends after the last kept batch');
  await r.s.close();
});
