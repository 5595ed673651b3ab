// Coordinator writes go through the partitions' one append path, so a long-polling Fetch of
// __consumer_offsets or __transaction_state returns the new records when they are written (before, it
// waited until maxWaitMs and answered empty).
import t from 'tap';
import { iterateBatches, parseBatchHeader } from '../../protocol/records.ts';
import { partitionForGroup } from '../groups/records.ts';
import { FETCH, fetchRequest } from '../testing/produce.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const OFFSET_COMMIT = 8, CREATE_TOPICS = 19, INIT_PRODUCER_ID = 22;
const MAX_WAIT_MS = 20_000;

async function setup(t: any) {
  const tb = await startTestBroker({ 'offsets.topic.num.partitions': '3', 'transaction.state.log.num.partitions': '3' });
  t.teardown(() => tb.close());
  const poller = await RawClient.connect(tb.port); // a long poll holds its connection's later answers
  t.teardown(() => poller.close());
  const writer = await RawClient.connect(tb.port);
  t.teardown(() => writer.close());
  return { tb, poller, writer };
}

/** Resolves once a long poll is parked (subscribed for wake-ups). */
function parked(tb: { broker: { context: { appends: { subscribe: (...a: any[]) => () => void } } } }): Promise<void> {
  const appends = tb.broker.context.appends;
  const original = appends.subscribe;
  return new Promise((resolve) => {
    appends.subscribe = (...a: any[]) => {
      appends.subscribe = original;
      const cancel = original.apply(appends, a);
      resolve();
      return cancel;
    };
  });
}

/** Starts a long poll at `offset` and reports whether it has answered. */
function longPoll(poller: RawClient, topic: string, partition: number, offset: number) {
  const state = { answered: false };
  const res = poller.request(FETCH, 12, fetchRequest([{ topic, partition, offset }], { maxWaitMs: MAX_WAIT_MS, minBytes: 1 }))
    .then((r) => { state.answered = true; return r.responses[0].partitions[0]; });
  return { state, res };
}

/** Base offsets of the batches in a fetch answer. */
const bases = (records: Buffer | null) => records ? [...iterateBatches(records)].map((b) => parseBatchHeader(records, b.offset).baseOffset) : [];

t.test('an OffsetCommit wakes a long poll on __consumer_offsets', { timeout: 10_000 }, async (t) => {
  const { tb, poller, writer } = await setup(t);
  await writer.request(CREATE_TOPICS, 5, { topics: [{ name: 'data', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
  const commit = async (offset: bigint) => {
    const r = await writer.request(OFFSET_COMMIT, 8, {
      groupId: 'g1', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
      topics: [{ name: 'data', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    t.equal(r.topics[0].partitions[0].errorCode, 0, `commit ${offset}`);
  };
  await commit(1n); // creates __consumer_offsets
  const partition = partitionForGroup('g1', 3);
  const end = tb.broker.context.partitions.get('__consumer_offsets', partition)!.logEndOffset;
  t.equal(end, 1, 'the first commit is at offset 0');
  const waiting = parked(tb);
  const poll = longPoll(poller, '__consumer_offsets', partition, end);
  await waiting; // parked (nothing at the log end) before the commit arrives on the other connection
  t.notOk(poll.state.answered, 'the long poll waits');
  await commit(2n);
  const p = await poll.res;
  t.equal(p.errorCode, 0);
  t.same(bases(p.records), [1], 'answered with the new commit record, not an empty timeout answer');
  t.equal(p.highWatermark, 2n);
});

t.test('a transactional id\'s state write wakes a long poll on __transaction_state', { timeout: 10_000 }, async (t) => {
  const { tb, poller, writer } = await setup(t);
  const init = async () => {
    const r = await writer.request(INIT_PRODUCER_ID, 4, { transactionalId: 'tx1', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    t.equal(r.errorCode, 0, 'InitProducerId');
  };
  await init(); // creates __transaction_state
  const partition = partitionForGroup('tx1', 3);
  const end = tb.broker.context.partitions.get('__transaction_state', partition)!.logEndOffset;
  t.ok(end > 0, `the state is written (log end ${end})`);
  const waiting = parked(tb);
  const poll = longPoll(poller, '__transaction_state', partition, end);
  await waiting;
  t.notOk(poll.state.answered, 'the long poll waits');
  await init(); // bumps the epoch: a new state record
  const p = await poll.res;
  t.equal(p.errorCode, 0);
  t.ok(bases(p.records).length > 0 && bases(p.records)[0] === end, 'answered with the new state record');
});
