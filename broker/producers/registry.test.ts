// ProducerRegistry rebuilds transaction state from the log: open transactions (the last stable offset)
// and aborted ones (re-added to .txnindex) survive a crash with no snapshot, and a snapshot carries them.
import t from 'tap';
import { buildEndTxnMarker, buildRecordBatch } from '../../protocol/records.ts';
import { type FsLike, MemFs, openStorage, silentLogger } from '../../storage/index.ts';
import { systemClock } from '../../storage/clock.ts';
import { AppendNotifier } from '../append-notifier.ts';
import { memoryLogger } from '../log.ts';
import { PartitionManager } from '../partitions/index.ts';
import { ProducerRegistry } from './index.ts';

const txn = (pid: bigint, seq: number, n: number) => buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })), producerId: pid, producerEpoch: 0, baseSequence: seq, isTransactional: true });
const plain = () => buildRecordBatch({ records: [{ key: 'p', value: 'p' }] });
const marker = (pid: bigint, commit: boolean) => buildEndTxnMarker({ producerId: pid, producerEpoch: 0, commit, coordinatorEpoch: 0 });

const registry = (partitions: PartitionManager, storage: { fs: FsLike; dataDir: string }) =>
  new ProducerRegistry({ partitions, fs: storage.fs, dataDir: storage.dataDir, clock: systemClock, log: memoryLogger(), expirationMs: 86400000, expirationCheckIntervalMs: 0, snapshotIntervalMs: 0 });

async function open(fs: MemFs) {
  const storage = await openStorage({ fs, dataDir: '/d', log: silentLogger });
  const partitions = new PartitionManager(storage, new AppendNotifier());
  const reg = registry(partitions, storage);
  await reg.start();
  return { storage, reg, partitions };
}

async function writeHistory(fs: MemFs) {
  const { storage } = await open(fs);
  await storage.createTopic('t', { partitions: 1, topicId: 'x' });
  const log = storage.partition('t', 0)!;
  await log.append(plain()); // 0
  await log.append(txn(1n, 0, 2)); // 1-2  (aborted)
  await log.append(txn(2n, 0, 1)); // 3    (left open)
  await log.append(marker(1n, false)); // 4
  await log.append(plain()); // 5
  return { storage, log };
}

t.test('crash without a snapshot: the replay rebuilds open and aborted transactions', async (t) => {
  const fs = new MemFs();
  await writeHistory(fs); // never closed: a crash
  const { storage, partitions } = await open(fs);
  t.teardown(() => storage.close());
  const log = storage.partition('t', 0)!;
  const st = partitions.get('t', 0)!.producerState;
  t.equal(st.firstUnstableOffset, 3, 'producer 2 still has its transaction open');
  t.same(log.abortedTransactions(0, 10), [{ producerId: 1n, firstOffset: 1, lastOffset: 4, lastStableOffset: 3 }], 'the abort is back in the index');
});

t.test('clean shutdown: the snapshot carries the open transaction', async (t) => {
  const fs = new MemFs();
  const { storage } = await writeHistory(fs);
  const reg0 = registry(new PartitionManager(storage, new AppendNotifier()), storage);
  await reg0.start();
  await reg0.close();
  await storage.close();
  const { storage: s2, partitions } = await open(fs);
  t.teardown(() => s2.close());
  const log = s2.partition('t', 0)!;
  t.ok((await fs.readdir('/d/t-0')).some((f) => f.endsWith('.snapshot')), 'a snapshot was written');
  t.equal(partitions.get('t', 0)!.producerState.firstUnstableOffset, 3);
  t.equal(log.abortedTransactions(0, 10).length, 1);
});

t.test('a segment roll writes a snapshot (Kafka writes one per segment), exact with appends in flight', async (t) => {
  const fs = new MemFs();
  const { storage, reg, partitions } = await open(fs);
  t.teardown(() => storage.close());
  await storage.createTopic('r', { partitions: 1, topicId: 'y', configs: { 'segment.bytes': '400' } });
  partitions.open('r');
  const log = storage.partition('r', 0)!;
  const st = partitions.get('r', 0)!.producerState;
  for (let seq = 0; seq < 20; seq += 2) {
    const batch = buildRecordBatch({ records: [{ key: 'a', value: 'x'.repeat(40) }, { key: 'b', value: 'y'.repeat(40) }], producerId: 9n, producerEpoch: 0, baseSequence: seq });
    const c = st.check({ producerId: 9n, producerEpoch: 0, baseSequence: seq, lastOffsetDelta: 1, maxTimestamp: Date.now() }, log.nextOffset);
    if (c.kind !== 'append') throw new Error(`unexpected ${c.kind}`);
    const r = await log.append(batch);
    st.commit(c.reservation, r.baseOffset, r.lastOffset, Date.now());
  }
  t.ok(log.segmentBaseOffsets.length > 2, `${log.segmentBaseOffsets.length} segments`);
  const deadline = Date.now() + 5000;
  let snaps: string[] = [];
  while (Date.now() < deadline) {
    snaps = (await fs.readdir('/d/r-0')).filter((f) => f.endsWith('.snapshot'));
    if (snaps.length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(snaps.length > 0, `snapshots after rolls, before any close (${snaps.join(', ')})`);
  await reg.snapshotAll(false); // queued behind the roll snapshots
  t.ok((await fs.readdir('/d/r-0')).filter((f) => f.endsWith('.snapshot')).length <= 2, 'the two newest are kept');
});
