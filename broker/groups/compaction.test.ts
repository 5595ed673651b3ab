// `__consumer_offsets` is compacted by the log cleaner: with many commits it stays bounded, and a restart
// after cleaning still has every group's latest committed offsets and last state (file storage); offsets
// committed by transactions (TxnOffsetCommit) are compacted too, aborted ones removed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { OFFSETS_TOPIC } from './records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { restartTestBroker, startTestBroker } from '../testing/start.ts';

const COMMIT = 8, FETCH = 9, OFFSET_DELETE = 47, JOIN = 11, SYNC = 14;

t.test('__consumer_offsets stays bounded under repeated commits; offsets survive a restart after cleaning', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-compaction-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const overrides = {
    'group.initial.rebalance.delay.ms': '0', 'log.dirs': dir, 'offsets.topic.num.partitions': '1',
    'offsets.topic.segment.bytes': '4096', 'log.cleaner.backoff.ms': '3600000',
  };
  let tb = await startTestBroker(overrides, { storage: 'file' });
  let c = await RawClient.connect(tb.port);
  await tb.broker.context.createTopic('t', 3);
  const commit = async (groupId: string, offset: number) => {
    const r = await c.request(COMMIT, 8, { groupId, generationIdOrMemberEpoch: -1, memberId: '', topics: [{ name: 't', partitions: [0, 1, 2].map((p) => ({ partitionIndex: p, committedOffset: BigInt(offset + p), committedLeaderEpoch: -1, committedMetadata: '' })) }] });
    if (!r.topics[0].partitions.every((p: any) => p.errorCode === 0)) t.fail(`commit ${groupId} ${offset}`);
  };
  // A classic group with state, then many commits by two simple groups.
  const protocols = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]) }];
  let j = await c.request(JOIN, 5, { groupId: 'classic', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 30000, protocolType: 'consumer', protocols, memberId: '', groupInstanceId: null });
  j = await c.request(JOIN, 5, { groupId: 'classic', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 30000, protocolType: 'consumer', protocols, memberId: j.memberId, groupInstanceId: null });
  t.equal(j.errorCode, 0);
  t.equal((await c.request(SYNC, 3, { groupId: 'classic', generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, assignments: [{ memberId: j.memberId, assignment: Buffer.from('A') }] })).errorCode, 0);

  const storage = tb.broker.context.storage;
  const log = () => storage.partition(OFFSETS_TOPIC, 0)!;
  const sizes: number[] = [];
  let n = 0;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 150; i++, n++) {
      await commit('a', n * 10);
      await commit('b', n * 20);
    }
    await commit('gone', 5);
    await c.request(OFFSET_DELETE, 0, { groupId: 'gone', topics: [{ name: 't', partitions: [0, 1, 2].map((p) => ({ partitionIndex: p })) }] });
    const before = log().size;
    await storage.runCleaner();
    sizes.push(log().size);
    t.ok(log().size < before / 2, `round ${round}: ${before} → ${log().size} bytes`);
  }
  t.ok(log().logEndOffset > 3000, `${log().logEndOffset} records written`);
  t.ok(Math.max(...sizes) < 2 * Math.min(...sizes) + 8192, `size stays bounded across rounds: ${sizes.join(', ')}`);
  ({ tb, c } = await restartTestBroker(t, tb, c, overrides));
  const last = n - 1;
  const f = await c.request(FETCH, 9, { groups: ['a', 'b', 'gone'].map((groupId) => ({ groupId, memberId: null, memberEpoch: -1, topics: null })) });
  t.same(f.groups[0].topics[0].partitions.map((x: any) => x.committedOffset), [0, 1, 2].map((p) => BigInt(last * 10 + p)), 'group a: latest offsets');
  t.same(f.groups[1].topics[0].partitions.map((x: any) => x.committedOffset), [0, 1, 2].map((p) => BigInt(last * 20 + p)), 'group b: latest offsets');
  t.same(f.groups[2].topics, [], 'deleted offsets stay deleted');
  const d = await c.request(15, 5, { groups: ['classic'] });
  t.same([d.groups[0].groupState, d.groups[0].members.map((m: any) => m.memberId)], ['Stable', [j.memberId]], 'the classic group\'s last state');
  const loaded = tb.logLines.find((l) => l.includes('loaded') && l.includes(OFFSETS_TOPIC));
  const count = Number(/loaded (\d+) record/.exec(loaded ?? '')?.[1]);
  t.ok(count < 200, `replay after cleaning reads ${count} records, not every commit`);
});

t.test('__consumer_offsets written by TxnOffsetCommit is compacted: aborted commits go, committed ones keep their latest', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-compaction-txn-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const overrides = {
    'group.initial.rebalance.delay.ms': '0', 'log.dirs': dir, 'offsets.topic.num.partitions': '1',
    'offsets.topic.segment.bytes': '4096', 'log.cleaner.backoff.ms': '3600000', 'transaction.state.log.num.partitions': '1',
  };
  let tb = await startTestBroker(overrides, { storage: 'file' });
  let c = await RawClient.connect(tb.port);
  await tb.broker.context.createTopic('t', 1);
  const INIT = 22, ADD_OFFSETS = 25, END_TXN = 26, TXN_OFFSET_COMMIT = 28;
  const { producerId: pid, producerEpoch: e } = await c.request(INIT, 4, { transactionalId: 'tx', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
  const txnCommit = async (offset: number, commit: boolean) => {
    if ((await c.request(ADD_OFFSETS, 3, { transactionalId: 'tx', producerId: pid, producerEpoch: e, groupId: 'g' })).errorCode !== 0) t.fail('AddOffsetsToTxn');
    const r = await c.request(TXN_OFFSET_COMMIT, 3, { transactionalId: 'tx', groupId: 'g', producerId: pid, producerEpoch: e, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: '' }] }] });
    if (r.topics[0].partitions[0].errorCode !== 0) t.fail(`TxnOffsetCommit ${offset}`);
    if ((await c.request(END_TXN, 3, { transactionalId: 'tx', producerId: pid, producerEpoch: e, committed: commit })).errorCode !== 0) t.fail('EndTxn');
  };
  const fetchOffset = async () => {
    const r = await c.request(FETCH, 7, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: true });
    return Number(r.topics[0].partitions[0].committedOffset);
  };
  const storage = tb.broker.context.storage;
  const log = () => storage.partition(OFFSETS_TOPIC, 0)!;
  let last = -1;
  for (let i = 0; i < 300; i++) {
    const commit = i % 5 !== 4;
    await txnCommit(i * 10, commit);
    if (commit) last = i * 10;
  }
  await txnCommit(99_999, false); // the newest transaction aborted: its data goes, the committed value stays
  t.equal(await fetchOffset(), last);
  await log().idle();
  const before = log().size;
  t.ok(log().segmentBaseOffsets.length > 10, `${log().segmentBaseOffsets.length} segments`);
  await storage.runCleaner();
  // Markers stay until a later pass finds their transactions empty and delete.retention.ms passes (as Kafka).
  t.ok(log().size < before / 2, `${before} → ${log().size} bytes`);
  t.equal(await fetchOffset(), last, 'latest committed offset after cleaning');
  ({ tb, c } = await restartTestBroker(t, tb, c, overrides));
  t.equal(await fetchOffset(), last, 'latest committed offset after a restart (replayed from the cleaned log)');
  const loaded = tb.logLines.find((l) => l.includes('loaded') && l.includes(OFFSETS_TOPIC));
  const count = Number(/loaded (\d+) record/.exec(loaded ?? '')?.[1]);
  t.ok(count < 100, `replay after cleaning reads ${count} records, not every commit`);
});
