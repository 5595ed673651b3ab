// Expected answers were read off a Kafka 4.4 broker given the same topics and requests.
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const DTP = 75;
const OPS = 3576;
const OMITTED = -2147483648;

async function setup(t: any, overrides: Record<string, string> = {}) {
  const tb = await startTestBroker({ 'node.id': '1', ...overrides });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  const created = await c.request(19, 7, { topics: [
    { name: 'a', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
    { name: 'b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
  ], timeoutMs: 5000, validateOnly: false });
  const ids = Object.fromEntries(created.topics.map((x: any) => [x.name, x.topicId]));
  const ask = (topics: string[], limit: number, cursor: [string, number] | null = null) =>
    c.request(DTP, 0, { topics: topics.map((name) => ({ name })), responsePartitionLimit: limit, cursor: cursor && { topicName: cursor[0], partitionIndex: cursor[1] } });
  return { ask, ids, c };
}

// [name, errorCode, partition indexes] per topic, and the cursor.
const brief = (res: any) => [res.topics.map((x: any) => [x.name, x.errorCode, x.partitions.map((p: any) => p.partitionIndex)]), res.nextCursor && [res.nextCursor.topicName, res.nextCursor.partitionIndex]];

t.test('all topics, paginated by the partition limit and the cursor', async (t) => {
  const { ask, ids } = await setup(t);
  const first = await ask([], 2);
  t.same(brief(first), [[['a', 0, [0, 1]]], ['a', 2]]);
  const p = first.topics[0].partitions[0];
  t.same(p, { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: [] });
  t.same([first.topics[0].topicId, first.topics[0].isInternal, first.topics[0].topicAuthorizedOperations], [ids.a, false, OPS]);
  t.same(brief(await ask([], 2000, ['a', 1])), [[['a', 0, [1, 2]], ['b', 0, [0]]], null], 'rest from the cursor');
  t.same(brief(await ask([], 0)), [[['a', 0, [0]]], ['a', 1]], 'limit 0 answers one partition');
  t.same(brief(await ask([], -3)), [[['a', 0, [0]]], ['a', 1]]);
  t.same(brief(await ask([], 5, ['a', 7])), [[['a', 0, []], ['b', 0, [0]]], null], 'cursor past the partitions');
  t.same(brief(await ask([], 5, ['nope', 0])), [[], null], 'cursor after every topic');
  t.same(brief(await ask([], 3)), [[['a', 0, [0, 1, 2]]], ['b', 0]], 'limit used up exactly: cursor at the next topic');
});

t.test('named topics: sorted, unknown and invalid names, duplicates, cursor rules', async (t) => {
  const { ask } = await setup(t);
  t.same(brief(await ask(['b', 'a', 'zz'], 2)), [[['a', 0, [0, 1]]], ['a', 2]]);
  t.same(brief(await ask(['b', 'a', 'zz'], 2, ['a', 2])), [[['a', 0, [2]], ['b', 0, [0]]], ['zz', 0]], 'cursor at a topic that does not exist');
  const mixed = await ask(['b', 'zz', 'a.b', 'bad/'], 2);
  t.same(brief(mixed), [[['a.b', 3, []], ['b', 0, [0]], ['bad/', 17, []], ['zz', 3, []]], null], 'unknown topics cost no partitions');
  t.same([mixed.topics[0].topicId, mixed.topics[0].topicAuthorizedOperations], ['AAAAAAAAAAAAAAAAAAAAAA', OPS]);
  t.same(brief(await ask(['b', 'b'], 2)), [[['b', 0, [0]]], null], 'duplicates once');
  t.same(brief(await ask(['b', 'c'], 2, ['c', 0])), [[['c', 3, []]], null], 'topics before the cursor are skipped');
  t.same(brief(await ask(['b', ''], 2)), [[['', 17, []], ['b', 0, [0]]], null], 'empty name: INVALID_TOPIC_EXCEPTION');
  const notListed = await ask(['b'], 5, ['a', 0]);
  t.same(brief(notListed), [[['b', ErrorCode.INVALID_REQUEST, []]], null], 'cursor topic not listed');
  t.equal(notListed.topics[0].topicAuthorizedOperations, OMITTED);
  t.same(brief(await ask(['b', 'a'], 2, ['a', -1])), [[['b', 42, []], ['a', 42, []]], null], 'negative cursor partition');
  t.same(brief(await ask([], 5, ['a', -1])), [[], null]);
});

t.test('max.request.partition.size.limit caps the page; internal topics flagged', async (t) => {
  const { ask, c } = await setup(t, { 'max.request.partition.size.limit': '2' });
  t.same(brief(await ask([], 100)), [[['a', 0, [0, 1]]], ['a', 2]]);
  await c.request(10, 4, { keyType: 0, coordinatorKeys: ['g'] });
  const internal = await ask(['__consumer_offsets'], 1);
  t.same([internal.topics[0].errorCode, internal.topics[0].isInternal], [0, true]);
});

t.test('max.request.partition.size.limit below 1 is refused at start, as Kafka', async (t) => {
  await t.rejects(startTestBroker({ 'max.request.partition.size.limit': '0' }), /max.request.partition.size.limit: Value must be at least 1/);
});
