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
