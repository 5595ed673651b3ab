// ElectLeaders, AlterPartitionReassignments, ListPartitionReassignments and ListConfigResources on one node.
// Expected answers were read off a Kafka 4.4 broker (node 1) given the same topics and requests.
import t from 'tap';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

async function setup(t: any) {
  const tb = await startTestBroker({ 'node.id': '1' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  await c.request(19, 7, { topics: [
    { name: 'a', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
    { name: 'b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
  ], timeoutMs: 5000, validateOnly: false });
  return c;
}
const results = (res: any) => res.replicaElectionResults.map((r: any) => [r.topic, r.partitionResult.map((p: any) => [p.partitionId, p.errorCode, p.errorMessage])]);
const NOT_NEEDED = 'Leader election not needed for topic partition.';

t.test('ElectLeaders: never needed on one node', async (t) => {
  const c = await setup(t);
  const named = { topicPartitions: [{ topic: 'a', partitions: [0, 9] }, { topic: 'zz', partitions: [0] }], timeoutMs: 5000 };
  for (const [v, electionType] of [[0, 0], [1, 0], [2, 0], [2, 1]]) {
    const res = await c.request(43, v, { ...named, electionType });
    t.equal(res.errorCode, 0);
    t.same(results(res), [['a', [[0, 84, NOT_NEEDED], [9, 3, 'No such partition as a-9']]], ['zz', [[0, 3, 'No such topic as zz']]]], `v${v} type ${electionType}`);
  }
  const all = await c.request(43, 2, { electionType: 0, topicPartitions: null, timeoutMs: 5000 });
  t.same(results(all).sort(), [['a', []], ['b', []]], 'all partitions: no results');
  const bad = await c.request(43, 2, { electionType: 5, topicPartitions: [{ topic: 'a', partitions: [0] }], timeoutMs: 5000 });
  t.same([bad.errorCode, results(bad)], [42, [['a', [[0, 42, 'Unknown election type 5']]]]]);
  t.same(results(await c.request(43, 2, { electionType: 0, topicPartitions: [], timeoutMs: 5000 })), []);
});

t.test('AlterPartitionReassignments / ListPartitionReassignments', async (t) => {
  const c = await setup(t);
  const alter = (v: number, topics: any[], allowReplicationFactorChange = true) => c.request(45, v, { timeoutMs: 5000, allowReplicationFactorChange, topics });
  const brief = (res: any) => res.responses.map((r: any) => [r.name, r.partitions.map((p: any) => [p.partitionIndex, p.errorCode, p.errorMessage])]);
  const one = await alter(1, [
    { name: 'a', partitions: [{ partitionIndex: 0, replicas: [1] }, { partitionIndex: 1, replicas: null }, { partitionIndex: 2, replicas: [] }, { partitionIndex: 9, replicas: [1] }] },
    { name: 'zz', partitions: [{ partitionIndex: 0, replicas: [1] }] },
  ]);
  t.same([one.errorCode, one.errorMessage, one.allowReplicationFactorChange], [0, null, true]);
  t.same(brief(one), [
    ['a', [[0, 0, null], [1, 85, null], [2, 39, 'The manual partition assignment includes an empty replica list.'], [9, 3, 'Unable to find partition a:9.']]],
    ['zz', [[0, 3, 'Unable to find a topic named zz.']]],
  ]);
  const two = await alter(1, [{ name: 'a', partitions: [{ partitionIndex: 0, replicas: [1, 1] }, { partitionIndex: 1, replicas: [2] }, { partitionIndex: 2, replicas: [1, 2] }, { partitionIndex: -1, replicas: [1] }] }], false);
  t.same(brief(two), [['a', [
    [0, 39, 'The manual partition assignment includes the broker 1 more than once.'],
    [1, 39, 'The manual partition assignment includes broker 2, but no such broker is registered.'],
    [2, 39, 'The manual partition assignment includes broker 2, but no such broker is registered.'],
    [-1, 3, 'Unable to find partition a:-1.'],
  ]]]);
  t.equal(two.allowReplicationFactorChange, false);
  const v0 = await alter(0, [{ name: 'a', partitions: [{ partitionIndex: 0, replicas: [1] }] }]);
  t.same(brief(v0), [['a', [[0, 0, null]]]]);
  t.same((await alter(1, [])).errorMessage, '', 'an empty request: empty message, as Kafka');
  for (const topics of [null, [{ name: 'a', partitionIndexes: [0, 9] }, { name: 'zz', partitionIndexes: [0] }]]) {
    const list = await c.request(46, 0, { timeoutMs: 5000, topics });
    t.same([list.errorCode, list.errorMessage, list.topics], [0, null, []], 'nothing is ever in progress');
  }
});

t.test('ListConfigResources', async (t) => {
  const c = await setup(t);
  const list = async (v: number, resourceTypes: number[]) => {
    const res = await c.request(74, v, { resourceTypes });
    return [res.errorCode, res.configResources.map((r: any) => [r.resourceType, r.resourceName])];
  };
  t.same(await list(0, []), [0, []], 'v0: client metrics resources, none');
  const everything = [[8, '1'], [4, '1'], [2, 'a'], [2, 'b']];
  t.same(await list(1, []), [0, everything]);
  t.same(await list(1, [2, 4, 8, 16, 32]), [0, everything]);
  t.same(await list(1, [2, 2]), [0, [[2, 'a'], [2, 'b']]]);
  t.same(await list(1, [16, 8]), [0, [[8, '1']]]);
  t.same(await list(1, [32]), [0, []], 'no group has configs');
  for (const bad of [[0], [1], [99]]) t.same(await list(1, bad), [35, []], `type ${bad[0]} → UNSUPPORTED_VERSION`);
});
