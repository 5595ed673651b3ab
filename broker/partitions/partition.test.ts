// Partition and PartitionManager: the leader-epoch check, the epoch recorded at the log end on becoming
// leader, the one append path (effects before wake-ups), the high watermark and the lookups' errors.
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import { FaultyFs, type FsLike, MemFs, openStorage, silentLogger, type Storage } from '../../storage/index.ts';
import { AppendNotifier, partitionKey } from '../append-notifier.ts';
import { PartitionManager } from './index.ts';

const batch = (n = 1) => buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });

async function setup(t: any, fs: FsLike = new MemFs()): Promise<{ storage: Storage; appends: AppendNotifier; partitions: PartitionManager }> {
  const storage = await openStorage({ fs, dataDir: '/d', log: silentLogger });
  t.teardown(() => storage.close());
  const appends = new AppendNotifier();
  return { storage, appends, partitions: new PartitionManager(storage, appends) };
}

t.test('leader epoch check: -1 and the current epoch pass, newer is UNKNOWN, older is FENCED', async (t) => {
  const fs = new MemFs();
  const { storage, partitions } = await setup(t, fs);
  await storage.createTopic('e', { partitions: 1, topicId: 'id-e' });
  partitions.open('e');
  const p = partitions.get('e', 0)!;
  t.equal(p.leaderEpoch, 0, 'a new partition is led with epoch 0');
  t.equal(p.role, 'leader');
  t.equal(p.checkLeaderEpoch(-1), ErrorCode.NONE);
  t.equal(p.checkLeaderEpoch(0), ErrorCode.NONE);
  t.equal(p.checkLeaderEpoch(1), ErrorCode.UNKNOWN_LEADER_EPOCH);
  // A log whose checkpoint carries a later epoch: the Partition takes it from there.
  await storage.partition('e', 0)!.append(batch(), { leaderEpoch: 4 });
  await storage.close();
  const s2 = await openStorage({ fs, dataDir: '/d', log: silentLogger });
  t.teardown(() => s2.close());
  const p2 = new PartitionManager(s2, new AppendNotifier()).get('e', 0)!;
  t.equal(p2.leaderEpoch, 4, 'the epoch comes from the leader-epoch cache');
  t.equal(p2.checkLeaderEpoch(3), ErrorCode.FENCED_LEADER_EPOCH);
  t.equal(p2.checkLeaderEpoch(5), ErrorCode.UNKNOWN_LEADER_EPOCH);
  t.equal(p2.checkLeaderEpoch(4), ErrorCode.NONE);
});

t.test('becoming leader records the epoch at the log end: an empty log answers (0, 0)', async (t) => {
  const fs = new MemFs();
  const { storage, partitions } = await setup(t, fs);
  await storage.createTopic('o', { partitions: 1, topicId: 'id-o' });
  partitions.open('o');
  const p = partitions.get('o', 0)!;
  // MemFs writes complete within microtasks: 200 ms is ample time for a write that should not happen.
  for (let i = 0; i < 40 && !(await fs.readdir('/d/o-0')).includes('leader-epoch-checkpoint'); i++) await new Promise((r) => setTimeout(r, 5));
  t.notOk((await fs.readdir('/d/o-0')).includes('leader-epoch-checkpoint'), 'an empty log writes (and syncs) no checkpoint yet');
  t.same(p.endOffsetForEpoch(0), { epoch: 0, endOffset: 0 });
  t.same(p.endOffsetForEpoch(1), { epoch: -1, endOffset: -1 }, 'a later epoch is unknown');
  t.same(p.endOffsetForEpoch(-1), { epoch: -1, endOffset: -1 });
  await p.append(batch(3));
  t.same(p.endOffsetForEpoch(0), { epoch: 0, endOffset: 3 }, 'the current epoch ends at the log end');
  // Written with the first append (before that append's data is synced).
  const deadline = Date.now() + 5000;
  while (!(await fs.readdir('/d/o-0')).includes('leader-epoch-checkpoint') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.ok((await fs.readdir('/d/o-0')).includes('leader-epoch-checkpoint'), 'the epoch is in the checkpoint storage keeps');
});

t.test('append: effects run, then waiting fetches wake; a failed append wakes nobody', async (t) => {
  const fs = new FaultyFs(new MemFs());
  const { storage, appends, partitions } = await setup(t, fs);
  await storage.createTopic('a', { partitions: 2, topicId: 'id-a' });
  partitions.open('a');
  const p = partitions.get('a', 0)!;
  const events: string[] = [];
  const cancel = appends.subscribe([partitionKey('a', 0)], () => events.push(`wake hw=${p.highWatermark}`));
  t.teardown(cancel);
  appends.subscribe([partitionKey('a', 1)], () => events.push('wrong partition'));
  const at = p.nextOffset;
  const res = await p.append(batch(2), { written: (r) => events.push(`written ${r.baseOffset}-${r.lastOffset}`) });
  t.equal(res.baseOffset, at);
  t.same(events, ['written 0-1', 'wake hw=2'], 'effects first, then the wake-up, with the data readable');

  events.length = 0;
  fs.failNext('write', { code: 'EIO' });
  let failed = false;
  await t.rejects(p.append(batch(), { written: () => events.push('written'), failed: () => { failed = true; } }));
  t.ok(failed, 'failed() undoes the reservation');
  t.same(events, [], 'no effect and no wake-up for a failed append');
});

t.test('high watermark: the log\'s own value; reads and the last stable offset stop at it', async (t) => {
  const { storage, partitions } = await setup(t);
  await storage.createTopic('h', { partitions: 1, topicId: 'id-h' });
  partitions.open('h');
  const p = partitions.get('h', 0)!;
  await p.append(batch(2));
  t.equal(p.highWatermark, 2, 'a leader whose ISR is itself: the HW follows the log end');
  p.log.highWatermarkFollowsLogEnd = false;
  await p.append(batch(3));
  t.equal(p.logEndOffset, 5);
  t.equal(p.highWatermark, 2, 'no longer the log end');
  t.equal(p.lastStableOffset, 2);
  const r = await p.read(0, 1 << 20);
  t.equal(r.error, null);
  t.equal(r.highWatermark, 2);
  p.producerState.beginTxn(7n, 1);
  t.equal(p.lastStableOffset, 1, 'an open transaction holds the last stable offset below the HW');
});

t.test('manager: partitions follow create, grow and delete; lookups answer Kafka\'s errors', async (t) => {
  const { storage, partitions } = await setup(t);
  t.equal(partitions.getOrError('g', 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await storage.createTopic('g', { partitions: 1, topicId: 'id-g' });
  partitions.open('g');
  t.equal(partitions.partitionCount('g'), 1);
  await storage.addPartitions('g', 3);
  partitions.open('g');
  t.equal(partitions.partitionCount('g'), 3);
  const p0 = partitions.get('g', 0)!;
  t.equal(partitions.get('g', 0), p0, 'growing keeps the existing partitions');
  t.equal(partitions.getOrError('g', 2), partitions.get('g', 2));
  t.equal(partitions.getOrError('g', 3), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  t.equal(p0.topicId, 'id-g');
  partitions.remove('g');
  t.equal(partitions.get('g', 0), undefined, 'gone at once, before storage removes the data');
  t.equal(partitions.ofLog(p0.log), undefined);
  t.same([...partitions.all()], []);
});

t.test('manager: an offline partition answers KAFKA_STORAGE_ERROR', async (t) => {
  const fs = new FaultyFs(new MemFs());
  const { storage, partitions } = await setup(t, fs);
  await storage.createTopic('x', { partitions: 1, topicId: 'id-x', configs: { 'flush.messages': '1' } });
  partitions.open('x');
  const p = partitions.get('x', 0)!;
  fs.failNext('fdatasync', { code: 'EIO' });
  await t.rejects(p.append(batch()));
  t.ok(p.offline, 'a failed fdatasync takes the partition offline');
  t.equal(partitions.getOrError('x', 0), ErrorCode.KAFKA_STORAGE_ERROR);
  t.same(partitions.offline().map((o) => o.name), ['x-0']);
});
