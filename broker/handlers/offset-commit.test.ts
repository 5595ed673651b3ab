// OffsetCommit v2–4 retention edge (found by the fuzzer, scripts/fuzz): a retentionTimeMs near Int64 max
// pushed the expire timestamp past Int64 and the record encoder threw, dropping the client's connection.
import t from 'tap';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

t.test('OffsetCommit v4 with retentionTimeMs = Int64 max is answered and the offset kept', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await c.request(19, 5, { topics: [{ name: 'oc-retention', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
  for (const retentionTimeMs of [0x7fffffffffffffffn, 0x7ffffffffffffff0n]) {
    const res = await c.request(8, 4, {
      groupId: 'oc-retention-group', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs,
      topics: [{ name: 'oc-retention', partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: '' }] }],
    });
    t.equal(res.topics[0].partitions[0].errorCode, 0, `retention ${retentionTimeMs}: committed`);
  }
  const fetched = await c.request(9, 5, { groupId: 'oc-retention-group', topics: [{ name: 'oc-retention', partitionIndexes: [0] }] });
  t.equal(fetched.topics[0].partitions[0].committedOffset, 7n, 'offset readable');
  t.notOk(c.closed, 'connection kept');
});

// Offsets are Int64 values Kafka stores as given (OffsetCommitValue.offset is a long, only the metadata
// size is checked). Beyond 2^53 gregor carries them as bigint so they round-trip exactly; 2^63−1 used to
// round to 2^63 and make the record encoder throw.
const EDGE_OFFSETS = [0x7fffffffffffffffn, 0x7ffffffffffffc00n, 9007199254740993n, 9007199254740992n, 5n, -1n, -0x8000000000000000n];

t.test('OffsetCommit: any Int64 offset is stored and fetched back exactly, also after a restart', async (t) => {
  const { restartTestBroker } = await import('../testing/start.ts');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-oc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const first = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  let tb = first;
  t.teardown(() => first.close());
  let c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await c.request(19, 5, { topics: [{ name: 'oc-edge', numPartitions: EDGE_OFFSETS.length, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
  const res = await c.request(8, 9, {
    groupId: 'oc-edge-group', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: 'oc-edge', partitions: EDGE_OFFSETS.map((o, i) => ({ partitionIndex: i, committedOffset: o, committedLeaderEpoch: -1, committedMetadata: '' })) }],
  });
  t.same(res.topics[0].partitions.map((p: any) => p.errorCode), EDGE_OFFSETS.map(() => 0), 'every offset committed');
  t.notOk(c.closed, 'connection kept');
  const fetch = () => c.request(9, 7, { groupId: 'oc-edge-group', topics: [{ name: 'oc-edge', partitionIndexes: EDGE_OFFSETS.map((_, i) => i) }], requireStable: false })
    .then((r: any) => r.topics[0].partitions.map((p: any) => p.committedOffset));
  t.same(await fetch(), EDGE_OFFSETS, 'fetched back exactly');
  ({ tb, c } = await restartTestBroker(t, tb, c, { 'log.dirs': dir }));
  t.same(await fetch(), EDGE_OFFSETS, 'replayed from __consumer_offsets exactly');
});

t.test('TxnOffsetCommit: an offset of Int64 max is committed by the marker and fetched back exactly', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await c.request(19, 5, { topics: [{ name: 'txn-edge', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
  const init = await c.request(22, 4, { transactionalId: 'txn-edge', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
  const { producerId, producerEpoch } = init;
  t.equal((await c.request(25, 3, { transactionalId: 'txn-edge', producerId, producerEpoch, groupId: 'txn-edge-group' })).errorCode, 0);
  const commit = await c.request(28, 3, {
    transactionalId: 'txn-edge', groupId: 'txn-edge-group', producerId, producerEpoch, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: 'txn-edge', partitions: [{ partitionIndex: 0, committedOffset: 0x7fffffffffffffffn, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  t.equal(commit.topics[0].partitions[0].errorCode, 0, 'committed in the transaction');
  t.equal((await c.request(26, 3, { transactionalId: 'txn-edge', producerId, producerEpoch, committed: true })).errorCode, 0, 'EndTxn');
  const fetched = await c.request(9, 7, { groupId: 'txn-edge-group', topics: [{ name: 'txn-edge', partitionIndexes: [0] }], requireStable: true });
  t.equal(fetched.topics[0].partitions[0].committedOffset, 0x7fffffffffffffffn, 'fetched back exactly');
  t.notOk(c.closed, 'connection kept');
});
