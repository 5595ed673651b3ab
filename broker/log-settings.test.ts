// Broker-level log settings reach storage and act on the broker's clock (injected: no real sleeping), and
// topic-level ones change behaviour when altered at run time through IncrementalAlterConfigs; committed
// offsets expire per offsets.retention.minutes on the offsets.retention.check.interval.ms timer, with
// tombstones in __consumer_offsets. storage/settings.test.ts has the storage side of each setting.
import t from 'tap';
import { ManualClock } from '../storage/clock.ts';
import { parseRecords } from '../storage/testing/records.ts';
import { batchOf, produce } from './testing/produce.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker, type TestBroker } from './testing/start.ts';
import { OFFSETS_TOPIC, partitionForGroup } from './groups/records.ts';

const T0 = 1_700_000_000_000;
const INCREMENTAL = 44, COMMIT = 8, FETCH_OFFSETS = 9, JOIN = 11, LEAVE = 13, SYNC = 14;

async function setup(t: { teardown(fn: () => unknown): void }, overrides: Record<string, string>): Promise<{ tb: TestBroker; c: RawClient; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', ...overrides }, { clock });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c, clock };
}

const partitionLog = (tb: TestBroker, topic: string, p = 0) => tb.broker.context.storage.partition(topic, p)!;

t.test('log.initial.task.delay.ms: the first retention pass after it, then every log.retention.check.interval.ms', async (t) => {
  const { tb, c, clock } = await setup(t, {
    'log.initial.task.delay.ms': '3000', 'log.retention.check.interval.ms': '10000', 'log.retention.ms': '1000', 'log.roll.ms': '1000',
  });
  t.equal((await produce(c, 'r', 0, batchOf(1, { timestamp: T0 - 60_000 }))).errorCode, 0);
  await clock.advanceAsync(1000);
  await produce(c, 'r', 0, batchOf(1, { timestamp: T0 - 60_000 })); // rolls (log.roll.ms): segment 0 is expired
  const log = partitionLog(tb, 'r');
  t.same(log.segmentBaseOffsets, [0, 1]);
  await clock.advanceAsync(1999);
  t.equal(log.logStartOffset, 0, 'no pass before log.initial.task.delay.ms');
  await clock.advanceAsync(1);
  t.equal(log.logStartOffset, 1, 'the first pass at 3000 ms deleted the expired segment');
  await produce(c, 'r', 0, batchOf(1, { timestamp: T0 - 60_000 }));
  const start = log.logStartOffset;
  await clock.advanceAsync(9999);
  t.equal(log.logStartOffset, start, 'the next pass waits log.retention.check.interval.ms');
  await clock.advanceAsync(1);
  t.ok(log.logStartOffset > start, `the pass at 13000 ms (log start ${log.logStartOffset})`);
});

t.test('broker defaults reach topics: log.roll.jitter.ms, log.index.size.max.bytes, log.segment.delete.delay.ms', async (t) => {
  const { tb, c } = await setup(t, { 'log.roll.jitter.ms': '600', 'log.index.size.max.bytes': '4096', 'log.segment.delete.delay.ms': '7000' });
  await produce(c, 'b', 0, batchOf(1));
  const cfg = partitionLog(tb, 'b').config;
  t.same([cfg.segmentJitterMs, cfg.segmentIndexBytes, cfg.fileDeleteDelayMs], [600, 4096, 7000]);
});

async function alter(c: RawClient, topic: string, configs: Record<string, string>): Promise<void> {
  const r = await c.request(INCREMENTAL, 1, {
    resources: [{ resourceType: 2, resourceName: topic, configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })) }],
    validateOnly: false,
  });
  if (r.responses[0].errorCode !== 0) throw new Error(`IncrementalAlterConfigs: ${r.responses[0].errorMessage}`);
}

t.test('segment.ms, retention.ms and file.delete.delay.ms altered at run time (IncrementalAlterConfigs) act on the next roll / pass / delete', async (t) => {
  const { tb, c, clock } = await setup(t, { 'log.initial.task.delay.ms': '5000', 'log.retention.check.interval.ms': '5000' });
  const hourAgo = T0 - 3600_000;
  await produce(c, 'd', 0, batchOf(1, { timestamp: hourAgo }));
  const log = partitionLog(tb, 'd');
  await clock.advanceAsync(2000);
  await produce(c, 'd', 0, batchOf(1, { timestamp: hourAgo }));
  t.same(log.segmentBaseOffsets, [0], 'default segment.ms (7 days): no roll');
  await alter(c, 'd', { 'segment.ms': '1000' });
  await produce(c, 'd', 0, batchOf(1, { timestamp: hourAgo }));
  t.same(log.segmentBaseOffsets, [0, 2], 'segment.ms 1000: the next append rolls');
  await clock.advanceAsync(3000); // first pass at 5000 ms: default retention (7 days) keeps the hour-old data
  t.equal(log.logStartOffset, 0);
  await alter(c, 'd', { 'retention.ms': '60000', 'file.delete.delay.ms': '2000' });
  await clock.advanceAsync(5000);
  t.equal(log.logStartOffset, 2, 'retention.ms 60000: the next pass deletes the hour-old segment');
  const fs = tb.broker.context.storage.fs;
  const files = async () => (await fs.readdir(log.dir)).filter((n) => n.startsWith('00000000000000000000.'));
  t.ok((await files()).every((n) => n.endsWith('.deleted')), `renamed: ${await files()}`);
  await clock.advanceAsync(1999);
  t.ok((await files()).length > 0, 'still there before file.delete.delay.ms');
  await clock.advanceAsync(1);
  await log.idle();
  t.same(await files(), [], 'removed after file.delete.delay.ms (2000 ms)');
});

function tombstoneKeys(tb: TestBroker, partition: number): Promise<string[]> {
  const log = partitionLog(tb, OFFSETS_TOPIC, partition);
  return log.read(0, 1 << 20).then((r) => r.batches.flatMap((b) => parseRecords(b)).filter((r) => r.value === null).map((r) => r.key ?? ''));
}

async function committed(c: RawClient, groupId: string, topic: string): Promise<bigint> {
  const r = await c.request(FETCH_OFFSETS, 5, { groupId, topics: [{ name: topic, partitionIndexes: [0] }] });
  return r.topics[0].partitions[0].committedOffset;
}

t.test('offsets.retention.minutes on the offsets.retention.check.interval.ms timer: standalone commits expire after the commit, an empty group\'s after it became empty; tombstones written', async (t) => {
  const { tb, c, clock } = await setup(t, { 'offsets.retention.minutes': '1', 'offsets.retention.check.interval.ms': '5000', 'offsets.topic.num.partitions': '1' });
  await produce(c, 'o', 0, batchOf(1));
  const commit = (groupId: string, generationIdOrMemberEpoch = -1, memberId = '') => c.request(COMMIT, 5, {
    groupId, generationIdOrMemberEpoch, memberId, groupInstanceId: null,
    topics: [{ name: 'o', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  t.equal((await commit('standalone')).topics[0].partitions[0].errorCode, 0);

  // A consumer group: join, sync, commit, then leave 30 s later (the group becomes Empty then).
  const protocols = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 111, 255, 255, 255, 255]) }];
  const joining = c.request(JOIN, 3, { groupId: 'grp', sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 60_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols });
  // The join completes on a (zero) rebalance-delay timer of the broker's clock: turn it until answered.
  let answered = false;
  void joining.then(() => { answered = true; }, () => { answered = true; });
  for (let i = 0; i < 500 && !answered; i++) {
    await clock.advanceAsync(0);
    await new Promise((r) => setTimeout(r, 5));
  }
  const j = await joining;
  t.equal(j.errorCode, 0);
  t.equal((await c.request(SYNC, 3, { groupId: 'grp', generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, assignments: [{ memberId: j.memberId, assignment: Buffer.from('A') }] })).errorCode, 0);
  t.equal((await commit('grp', j.generationId, j.memberId)).topics[0].partitions[0].errorCode, 0);
  await clock.advanceAsync(30_000);
  t.equal((await c.request(LEAVE, 3, { groupId: 'grp', members: [{ memberId: j.memberId, groupInstanceId: null }] })).errorCode, 0);

  // Checks at 35, 40, …: the standalone commit (t=0) expires at the first check ≥ 60 s; the group's offsets
  // (empty since t=30 s) at the first check ≥ 90 s.
  await clock.advanceAsync(24_999); // t = 54.999 s
  t.equal(await committed(c, 'standalone', 'o'), 1n);
  await clock.advanceAsync(5001); // t = 60 s: the check at 60 s
  t.equal(await committed(c, 'standalone', 'o'), -1n, 'standalone commit expired one retention after the commit');
  t.equal(await committed(c, 'grp', 'o'), 1n, 'the group\'s offset is kept: empty for only 30 s');
  await clock.advanceAsync(25_000); // t = 85 s
  t.equal(await committed(c, 'grp', 'o'), 1n);
  await clock.advanceAsync(5000); // t = 90 s
  t.equal(await committed(c, 'grp', 'o'), -1n, 'expired one retention after the group became empty');
  await partitionLog(tb, OFFSETS_TOPIC, partitionForGroup('grp', 1)).idle();
  const tombstones = await tombstoneKeys(tb, 0);
  t.ok(tombstones.length >= 2, `${tombstones.length} tombstones in __consumer_offsets`);
  t.ok(tombstones.some((k) => k.includes('standalone')) && tombstones.some((k) => k.includes('grp')), 'for both offsets');
});
