// ConsumerGroupHeartbeat v0-1 and ConsumerGroupDescribe v0-1 over the wire against an in-process broker
// (the handler table is passed explicitly), plus what the other group APIs
// show of a KIP-848 group: OffsetCommit/OffsetFetch member-epoch checks, ListGroups, DescribeGroups,
// DeleteGroups, and the classic/consumer group-id collision rules.
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';
import { loadAllHandlers } from './index.ts';

const CGHB = 68, CGDESCRIBE = 69, COMMIT = 8, FETCH = 9, LIST = 16, DESCRIBE = 15, DELETE = 42, JOIN = 11, FIND = 10;
const handlers = await loadAllHandlers();

const join = (groupId: string, memberId: string, over: Record<string, unknown> = {}) => ({
  groupId, memberId, memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000,
  subscribedTopicNames: ['t'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [], ...over,
});
const hb = (groupId: string, memberId: string, memberEpoch: number, owned: unknown[] | null) => ({
  groupId, memberId, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: -1,
  subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: owned,
});
const count = (a: any) => a.topicPartitions.reduce((n: number, tp: any) => n + tp.partitions.length, 0);

t.test('heartbeat v0/v1, describe v0/v1, offsets, list/describe/delete', async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' }, { handlers });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const topic = await tb.broker.context.createTopic('t', 4);
  t.equal((await c.request(FIND, 3, { key: 'g', keyType: 0 })).errorCode, 0);

  // v1: two members.
  const a = await c.request(CGHB, 1, join('g', 'member-a'));
  t.equal(a.errorCode, 0);
  t.equal(a.memberId, 'member-a');
  t.equal(a.memberEpoch, 1);
  t.equal(a.heartbeatIntervalMs, 5000);
  t.same(a.assignment.topicPartitions, [{ topicId: topic.topicId, partitions: [0, 1, 2, 3] }]);
  const b = await c.request(CGHB, 1, join('g', 'member-b'));
  t.equal(b.memberEpoch, 2);
  t.same(b.assignment.topicPartitions, [], 'b waits until a revokes');
  const a2 = await c.request(CGHB, 1, hb('g', 'member-a', 1, a.assignment.topicPartitions));
  t.equal(a2.memberEpoch, 1, 'a keeps its epoch until it revokes');
  t.equal(count(a2.assignment), 2);
  const a3 = await c.request(CGHB, 1, hb('g', 'member-a', 1, a2.assignment.topicPartitions));
  t.equal(a3.memberEpoch, 2);
  t.equal(a3.assignment, null, 'unchanged assignment is not repeated');
  const b2 = await c.request(CGHB, 1, hb('g', 'member-b', 2, []));
  t.equal(count(b2.assignment), 2);

  // v0: the coordinator generates the member id.
  const z = await c.request(CGHB, 0, join('g0', ''));
  t.equal(z.errorCode, 0);
  t.ok(z.memberId.length > 0);
  t.equal((await c.request(CGHB, 1, join('g', ''))).errorCode, ErrorCode.INVALID_REQUEST, 'v1 requires a member id');
  t.equal((await c.request(CGHB, 1, hb('g', 'member-a', 7, []))).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);

  // Describe.
  for (const v of [0, 1]) {
    const d = await c.request(CGDESCRIBE, v, { groupIds: ['g', 'nope'], includeAuthorizedOperations: true });
    const g = d.groups[0];
    t.equal(g.errorCode, 0);
    t.equal(g.groupState, 'Stable');
    t.equal(g.groupEpoch, 2);
    t.equal(g.assignmentEpoch, 2);
    t.equal(g.assignorName, 'uniform');
    t.equal(g.members.length, 2);
    const ma = g.members.find((m: any) => m.memberId === 'member-a');
    t.equal(ma.memberEpoch, 2);
    t.same(ma.subscribedTopicNames, ['t']);
    t.equal(ma.assignment.topicPartitions[0].topicName, 't');
    t.same(ma.assignment, ma.targetAssignment);
    t.equal(ma.clientId, 'raw-client');
    if (v >= 1) t.equal(ma.memberType, 1);
    t.same([d.groups[1].errorCode, d.groups[1].errorMessage], [ErrorCode.GROUP_ID_NOT_FOUND, 'Group nope not found.']);
  }

  // OffsetCommit v9: member epoch checks.
  const commit = (memberId: string, epoch: number) => c.request(COMMIT, 9, {
    groupId: 'g', generationIdOrMemberEpoch: epoch, memberId, groupInstanceId: null,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  }).then((r: any) => r.topics[0].partitions[0].errorCode);
  t.equal(await commit('member-a', 2), 0);
  t.equal(await commit('member-a', 3), ErrorCode.STALE_MEMBER_EPOCH, 'a newer epoch');
  t.equal(await commit('member-a', 0), ErrorCode.STALE_MEMBER_EPOCH, 'older than any assignment epoch (KIP-1251)');
  t.equal(await commit('ghost', 2), ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal(await commit('', -1), ErrorCode.UNKNOWN_MEMBER_ID, 'admin commit refused while the group has members');
  const fetch = (memberId: string | null, memberEpoch: number) => c.request(FETCH, 9, {
    groups: [{ groupId: 'g', memberId, memberEpoch, topics: [{ name: 't', partitionIndexes: [0] }] }], requireStable: false,
  }).then((r: any) => r.groups[0]);
  const f = await fetch('member-a', 2);
  t.equal(f.errorCode, 0);
  t.equal(f.topics[0].partitions[0].committedOffset, 5n);
  t.equal((await fetch('member-a', 1)).errorCode, ErrorCode.STALE_MEMBER_EPOCH);
  t.equal((await fetch('ghost', 2)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal((await fetch(null, -1)).errorCode, 0, 'admin fetch');

  // ListGroups / DescribeGroups / classic collision.
  const l = await c.request(LIST, 5, { statesFilter: [], typesFilter: ['consumer'] });
  t.same(l.groups.map((g: any) => [g.groupId, g.protocolType, g.groupState, g.groupType]).sort(), [['g', 'consumer', 'Stable', 'consumer'], ['g0', 'consumer', 'Stable', 'consumer']]);
  t.same((await c.request(LIST, 5, { statesFilter: [], typesFilter: ['classic'] })).groups, []);
  const dg = await c.request(DESCRIBE, 6, { groups: ['g'], includeAuthorizedOperations: false });
  t.same([dg.groups[0].errorCode, dg.groups[0].errorMessage, dg.groups[0].groupState], [ErrorCode.GROUP_ID_NOT_FOUND, 'Group g is not a classic group.', 'Dead']);
  t.same([(await c.request(DESCRIBE, 5, { groups: ['g'], includeAuthorizedOperations: false })).groups[0].errorCode], [0]);
  const cj = await c.request(JOIN, 5, { groupId: 'g', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: 'x', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
  t.equal(cj.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, 'classic join into a live consumer group');
  t.equal((await c.request(DELETE, 2, { groupsNames: ['g'] })).results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);

  // Leave both; delete.
  t.equal((await c.request(CGHB, 1, hb('g', 'member-a', -1, null))).memberEpoch, -1);
  t.equal((await c.request(CGHB, 1, hb('g', 'member-b', -1, null))).errorCode, 0);
  t.equal((await c.request(CGDESCRIBE, 1, { groupIds: ['g'], includeAuthorizedOperations: false })).groups[0].groupState, 'Empty');
  t.equal(await commit('', -1), 0, 'admin commit to an empty consumer group');
  t.equal((await c.request(DELETE, 2, { groupsNames: ['g'] })).results[0].errorCode, 0);
  t.equal((await fetch(null, -1)).topics[0].partitions[0].committedOffset, -1n, 'offsets deleted with the group');
});

t.test('a classic group with members is not a consumer group', async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' }, { handlers });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('t', 1);
  await c.request(FIND, 3, { key: 'cg', keyType: 0 });
  const j = await c.request(JOIN, 3, { groupId: 'cg', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
  t.equal(j.errorCode, 0);
  const r = await c.request(CGHB, 1, join('cg', 'm'));
  t.same([r.errorCode, r.errorMessage], [ErrorCode.GROUP_ID_NOT_FOUND, 'Group cg is not a consumer group.']);
  const d = await c.request(CGDESCRIBE, 1, { groupIds: ['cg'], includeAuthorizedOperations: false });
  t.same([d.groups[0].errorCode, d.groups[0].errorMessage], [ErrorCode.GROUP_ID_NOT_FOUND, 'Group cg is not a consumer group.']);
});
