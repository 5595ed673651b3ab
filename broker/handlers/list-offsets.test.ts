import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeListOffsetsRequest } from '../../protocol/generated/list-offsets.ts';
import { makeOffsetForLeaderEpochRequest } from '../../protocol/generated/offset-for-leader-epoch.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { LIST_OFFSETS, produce } from '../testing/produce.ts';
import { startTestBroker } from '../testing/start.ts';

const OFFSET_FOR_LEADER_EPOCH = 23;

function lo(topic: string, parts: Array<[number, number]>, extra: Record<string, unknown> = {}) {
  return makeListOffsetsRequest({
    replicaId: -1, isolationLevel: 0,
    topics: [{ name: topic, partitions: parts.map(([partitionIndex, ts]) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: BigInt(ts) })) }],
    ...extra,
  });
}

t.test('earliest, latest, by timestamp (exact record), max timestamp, earliest local, tiered', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('lo', 1);
  // Two batches: offsets 0-2 at t=100,200,300 and 3-5 at t=400,900,500.
  await produce(c, 'lo', 0, buildRecordBatch({ records: [100, 200, 300].map((ts, i) => ({ key: `${i}`, value: 'x', timestamp: ts })) }));
  await produce(c, 'lo', 0, buildRecordBatch({ records: [400, 900, 500].map((ts, i) => ({ key: `${i}`, value: 'x', timestamp: ts })) }));
  tb.broker.context.storage.partition('lo', 0)!.deleteRecordsBefore(1);

  for (let v = 1; v <= 11; v++) {
    const ask = async (ts: number) => (await c.request(LIST_OFFSETS, v, lo('lo', [[0, ts]]))).topics[0].partitions[0];
    const latest = await ask(-1);
    t.same([latest.errorCode, latest.offset], [0, 6n], `v${v} latest`);
    t.equal((await ask(-2)).offset, 1n, `v${v} earliest = log start offset after DeleteRecords`);
    const byTs = await ask(250);
    t.same([byTs.offset, byTs.timestamp], [2n, 300n], `v${v} first record with timestamp ≥ 250`);
    t.same([(await ask(150)).offset], [1n], `v${v} never below the log start offset`);
    const none = await ask(5000);
    t.same([none.errorCode, none.offset, none.timestamp], [0, -1n, -1n], `v${v} no record that late`);
    if (v >= 4) t.equal(latest.leaderEpoch, 0, `v${v} leader epoch`);
    if (v >= 7) {
      const max = await ask(-3);
      t.same([max.offset, max.timestamp], [4n, 900n], `v${v} max timestamp is the exact record`);
    } else {
      t.equal((await ask(-3)).errorCode, ErrorCode.UNSUPPORTED_VERSION, `v${v} -3 needs v7`);
    }
    if (v >= 8) t.equal((await ask(-4)).offset, 1n, `v${v} earliest local`);
    if (v >= 9) t.equal((await ask(-5)).offset, -1n, `v${v} latest tiered: no tiered storage`);
  }
});

t.test('errors: unknown topic/partition, duplicates, leader epochs', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('e', 2);
  const res = await c.request(LIST_OFFSETS, 7, lo('e', [[0, -1], [0, -2], [1, -1], [5, -1]]));
  t.same(res.topics[0].partitions.map((p: any) => p.errorCode), [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  t.equal((await c.request(LIST_OFFSETS, 7, lo('nope', [[0, -1]]))).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const fenced = makeListOffsetsRequest({ replicaId: -1, topics: [{ name: 'e', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 4, timestamp: -1n }] }] });
  t.equal((await c.request(LIST_OFFSETS, 7, fenced)).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
});

t.test('OffsetForLeaderEpoch: epoch 0 ends at the log end offset; others are unknown', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('ep', 1);
  await produce(c, 'ep', 0, buildRecordBatch({ records: [{ key: 'a', value: 'b' }, { key: 'c', value: 'd' }] }));
  for (let v = 2; v <= 4; v++) {
    const res = await c.request(OFFSET_FOR_LEADER_EPOCH, v, makeOffsetForLeaderEpochRequest({
      replicaId: -1,
      topics: [
        { topic: 'ep', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }, { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 5 }, { partition: 0, currentLeaderEpoch: 2, leaderEpoch: 0 }] },
        { topic: 'nope', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
      ],
    }));
    t.same(res.topics[0].partitions.map((p: any) => [p.errorCode, p.leaderEpoch, p.endOffset]), [
      [0, 0, 2n], [0, -1, -1n], [ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1n],
    ], `v${v}`);
    t.equal(res.topics[1].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
});
