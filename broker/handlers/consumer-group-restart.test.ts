// A KIP-848 consumer group over the wire survives a broker restart (file storage): members keep their
// ids, epochs and assignments and carry on heartbeating; ConsumerGroupDescribe shows the same group.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { RawClient } from '../testing/raw-client.ts';
import { restartTestBroker, startTestBroker } from '../testing/start.ts';

const CGHB = 68, CGDESCRIBE = 69, COMMIT = 8;

const join = (memberId: string) => ({
  groupId: 'g', memberId, memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000,
  subscribedTopicNames: ['t'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [],
});
const hb = (memberId: string, memberEpoch: number, owned: unknown[] | null) => ({
  groupId: 'g', memberId, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: -1,
  subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: owned,
});

t.test('a consumer group keeps its epoch, members and assignments across a restart', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-kip848-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const overrides = { 'log.dirs': dir, 'offsets.topic.num.partitions': '3' };
  let tb = await startTestBroker(overrides, { storage: 'file' });
  let c = await RawClient.connect(tb.port);
  await tb.broker.context.createTopic('t', 4);
  const owned = new Map<string, { epoch: number; parts: any[] }>();
  for (const id of ['member-a', 'member-b']) {
    const r = await c.request(CGHB, 1, join(id));
    t.equal(r.errorCode, 0);
    owned.set(id, { epoch: r.memberEpoch, parts: r.assignment?.topicPartitions ?? [] });
  }
  // Heartbeat until both are stable with two partitions each.
  for (let i = 0; i < 6; i++) {
    for (const [id, o] of owned) {
      const r = await c.request(CGHB, 1, hb(id, o.epoch, o.parts));
      t.equal(r.errorCode, 0);
      o.epoch = r.memberEpoch;
      if (r.assignment) o.parts = r.assignment.topicPartitions;
    }
  }
  const count = (o: { parts: any[] }) => o.parts.reduce((n: number, tp: any) => n + tp.partitions.length, 0);
  t.same([...owned.values()].map(count), [2, 2]);
  const epoch = owned.get('member-a')!.epoch;
  const before = await c.request(CGDESCRIBE, 1, { groupIds: ['g'], includeAuthorizedOperations: false });
  const early = await c.request(COMMIT, 9, {
    groupId: 'g', generationIdOrMemberEpoch: epoch, memberId: 'member-a', groupInstanceId: null,
    topics: [{ name: 't', partitions: [{ partitionIndex: owned.get('member-a')!.parts[0].partitions[0], committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  t.equal(early.topics[0].partitions[0].errorCode, 0);
  ({ tb, c } = await restartTestBroker(t, tb, c, overrides));
  const after = await c.request(CGDESCRIBE, 1, { groupIds: ['g'], includeAuthorizedOperations: false });
  const view = (d: any) => ({
    state: d.groups[0].groupState, epoch: d.groups[0].groupEpoch, assignmentEpoch: d.groups[0].assignmentEpoch,
    members: d.groups[0].members.map((m: any) => [m.memberId, m.memberEpoch, JSON.stringify(m.assignment), JSON.stringify(m.targetAssignment)]).sort(),
  });
  t.same(view(after), view(before), 'ConsumerGroupDescribe shows the same group after the restart');
  const list = await c.request(16, 5, { statesFilter: [], typesFilter: [] });
  t.same(list.groups.map((g: any) => [g.groupId, g.groupType, g.groupState]), [['g', 'consumer', 'Stable']], 'listed once, as a consumer group');
  t.equal(view(after).state, 'Stable');
  for (const [id, o] of owned) {
    const r = await c.request(CGHB, 1, hb(id, o.epoch, o.parts));
    t.equal(r.errorCode, 0, `${id} carries on with epoch ${o.epoch}`);
    t.equal(r.memberEpoch, epoch, 'no new epoch');
  }
  const commit = await c.request(COMMIT, 9, {
    groupId: 'g', generationIdOrMemberEpoch: epoch, memberId: 'member-a', groupInstanceId: null,
    topics: [{ name: 't', partitions: [{ partitionIndex: owned.get('member-a')!.parts[0].partitions[0], committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  t.equal(commit.topics[0].partitions[0].errorCode, 0, 'an offset commit with the member epoch is accepted');
});
