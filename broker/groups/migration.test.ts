// group.consumer.migration.policy: online upgrade of a classic group to a consumer group on a
// ConsumerGroupHeartbeat join, classic members served inside the consumer group (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, OffsetCommit), downgrade back when the last consumer-protocol member leaves.
// Manual clock, in-memory log.
import t from 'tap';
import { decodeConsumerProtocolAssignment } from '../../protocol/generated/consumer-protocol-assignment.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { Reader } from '../../protocol/reader.ts';
import { memoryLogger } from '../log.ts';
import { type CoordinatorRecord, GroupCoordinator, type JoinRequest } from './coordinator.ts';
import { encodeAssignment } from './consumer/group.ts';
import { decodeMemberValue, encodeMemberValue } from './records.ts';
import { ManualClock } from '../../storage/clock.ts';
import { subscription } from '../testing/groups.ts';


const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
function setup(policy = 'bidirectional') {
  const clock = new ManualClock();
  const records: Array<{ groupId: string } & CoordinatorRecord> = [];
  const store = { async append(groupId: string, recs: CoordinatorRecord[]) { for (const r of recs) records.push({ groupId, ...r }); } };
  let n = 0;
  const gc = new GroupCoordinator({ clock, log: memoryLogger(), store, uuid: () => `uuid-${++n}`, config: { initialRebalanceDelayMs: 0 } });
  const topics = {
    list: [{ name: 't', topicId: TOPIC_ID, partitions: 4 }],
    get(name: string) { return this.list.find((x) => x.name === name); },
    getById(id: string) { return this.list.find((x) => x.topicId === id); },
    all() { return this.list; },
  };
  const mgr = gc.consumerGroups(topics, { migrationPolicy: policy });
  return { clock, gc, mgr, records };
}

const protocols = [{ name: 'range', metadata: subscription(['t']) }];
const joinReq = (over: Partial<JoinRequest> = {}): JoinRequest => ({
  groupId: 'g', memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols, sessionTimeoutMs: 10000,
  rebalanceTimeoutMs: 20000, clientId: 'c', clientHost: '/h', requireKnownMemberId: false, supportsSkipAssignment: false, ...over,
});
const assigned = (buf: Buffer) => {
  if (buf.length === 0) return [];
  const r = new Reader(buf);
  return decodeConsumerProtocolAssignment(r, r.int16()).assignedPartitions.map((tp) => [tp.topic, [...tp.partitions].sort()]);
};
const cgJoin = (memberId: string, memberEpoch = 0, owned: number[] = []) => ({
  groupId: 'g', memberId, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: memberEpoch === 0 ? 30000 : -1,
  subscribedTopicNames: memberEpoch === 0 ? ['t'] : null, subscribedTopicRegex: null, serverAssignor: null,
  topicPartitions: owned.length > 0 || memberEpoch !== 0 ? [{ topicId: TOPIC_ID, partitions: owned }] : [], clientId: 'cg', clientHost: '/h', apiVersion: 1,
});

/** A Stable classic group g of two members: a owns t-0,1, b owns t-2,3 (generation 1). */
async function classicGroup(gc: GroupCoordinator, clock: ManualClock) {
  const ja = gc.join(joinReq({ clientId: 'a' }));
  const jb = gc.join(joinReq({ clientId: 'b' }));
  await clock.advanceAsync(1);
  const [ra, rb] = await Promise.all([ja, jb]);
  const leader = ra.leader === ra.memberId ? ra : rb;
  const other = leader === ra ? rb : ra;
  const sa = gc.sync({ groupId: 'g', memberId: leader.memberId, groupInstanceId: null, generationId: 1, protocolType: 'consumer', protocolName: 'range', assignments: [
    { memberId: leader.memberId, assignment: encodeAssignment([{ topic: 't', partitions: [0, 1] }], protocols[0]!.metadata) },
    { memberId: other.memberId, assignment: encodeAssignment([{ topic: 't', partitions: [2, 3] }], protocols[0]!.metadata) },
  ] });
  const sb = gc.sync({ groupId: 'g', memberId: other.memberId, groupInstanceId: null, generationId: 1, protocolType: 'consumer', protocolName: 'range', assignments: [] });
  await Promise.all([sa, sb]);
  if (gc.describeGroup('g').state !== 'Stable') throw new Error('classic group not Stable');
  return { a: leader.memberId, b: other.memberId };
}

t.test('upgrade on a consumer-protocol join, classic members rejoin into the consumer group, downgrade when the consumer member leaves', async (t) => {
  const { clock, gc, mgr, records } = setup();
  const { a, b } = await classicGroup(gc, clock);
  t.equal(gc.claimForConsumerGroup('g', 5), ErrorCode.GROUP_ID_NOT_FOUND, 'only a join (epoch 0) upgrades');

  t.equal(gc.claimForConsumerGroup('g', 0), ErrorCode.NONE);
  t.notOk(gc.groups.has('g'), 'the classic group is gone');
  t.ok(records.some((r) => r.groupId === 'g' && r.value === null), 'GroupMetadata tombstone written');
  const g = mgr.groups.get('g')!;
  t.equal(g.groupEpoch, 1);
  t.same([...g.members.values()].map((m) => [m.memberId, m.memberEpoch, !!m.classic, m.assigned.get(TOPIC_ID)]), [[a, 1, true, [0, 1]], [b, 1, true, [2, 3]]]);
  t.equal(gc.heartbeat('g', a, null, 1), ErrorCode.NONE, 'the classic members carry on');

  const c1 = mgr.heartbeat(cgJoin('c'));
  t.equal(c1.errorCode, ErrorCode.NONE);
  t.equal(g.groupEpoch, 2);
  t.same(c1.assignment, [], 'c waits for the classic members to release partitions');
  t.equal(gc.heartbeat('g', a, null, 1), ErrorCode.REBALANCE_IN_PROGRESS, 'classic members are told to rejoin');
  t.equal(gc.heartbeat('g', b, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  t.same(await gc.commitOffsets({ groupId: 'g', memberId: a, groupInstanceId: null, generationId: 1, retentionTimeMs: -1, apiVersion: 8, partitions: [{ topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: '', errorCode: 0 }] }),
    [ErrorCode.NONE], 'a classic member commits at its generation (any version)');
  t.same(await gc.commitOffsets({ groupId: 'g', memberId: a, groupInstanceId: null, generationId: 7, retentionTimeMs: -1, apiVersion: 8, partitions: [{ topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: '', errorCode: 0 }] }),
    [ErrorCode.ILLEGAL_GENERATION]);

  // Eager classic clients rejoin owning nothing: they move to the new epoch at once.
  const ja = await gc.join(joinReq({ memberId: a }));
  t.same([ja.errorCode, ja.generationId, ja.protocolType, ja.protocolName, ja.leader, ja.members], [0, 2, 'consumer', 'range', '', []]);
  const sa = await gc.sync({ groupId: 'g', memberId: a, groupInstanceId: null, generationId: 2, protocolType: 'consumer', protocolName: 'range', assignments: [] });
  t.equal(sa.errorCode, 0);
  const jb = await gc.join(joinReq({ memberId: b }));
  const sb = await gc.sync({ groupId: 'g', memberId: b, groupInstanceId: null, generationId: jb.generationId, protocolType: 'consumer', protocolName: 'range', assignments: [] });
  t.equal(sb.errorCode, 0);
  const c2 = mgr.heartbeat(cgJoin('c', c1.memberEpoch));
  const cParts = c2.assignment?.[0]?.partitions ?? [];
  t.ok(cParts.length > 0, 'c got partitions once released');
  const all = [...assigned(sa.assignment).flatMap((x) => x[1] as number[]), ...assigned(sb.assignment).flatMap((x) => x[1] as number[]), ...cParts].sort();
  t.same(all, [0, 1, 2, 3], 'every partition once');
  t.equal(gc.heartbeat('g', a, null, 2), ErrorCode.NONE);
  t.equal(gc.sync({ groupId: 'g', memberId: a, groupInstanceId: null, generationId: 2, protocolType: 'consumer', protocolName: 'other', assignments: [] }) instanceof Promise, true);
  t.equal((await gc.sync({ groupId: 'g', memberId: a, groupInstanceId: null, generationId: 2, protocolType: 'consumer', protocolName: 'other', assignments: [] })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.equal((await gc.sync({ groupId: 'g', memberId: 'c', groupInstanceId: null, generationId: c2.memberEpoch, protocolType: 'consumer', protocolName: 'range', assignments: [] })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'a consumer-protocol member cannot SyncGroup');
  t.equal((await gc.join(joinReq({ protocolType: 'connect' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.equal((await gc.join(joinReq({ protocols: [{ name: 'roundrobin', metadata: protocols[0]!.metadata }] }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, 'a protocol the classic members do not all support');

  // The consumer member leaves: only classic members remain → a classic group again, rebalancing.
  const epoch = mgr.groups.get('g')!.groupEpoch;
  t.equal(mgr.heartbeat({ ...cgJoin('c', -1), topicPartitions: null }).errorCode, ErrorCode.NONE);
  t.notOk(mgr.has('g'), 'the consumer group is gone');
  const cg = gc.groups.get('g')!;
  t.equal(cg.state, 'PreparingRebalance');
  t.equal(cg.generationId, epoch);
  t.equal(cg.protocolName, 'range');
  t.same([...cg.members.keys()].sort(), [a, b].sort());
  t.equal(gc.heartbeat('g', a, null, epoch), ErrorCode.REBALANCE_IN_PROGRESS);
  const [ra, rb] = await Promise.all([gc.join(joinReq({ memberId: a })), gc.join(joinReq({ memberId: b }))]);
  t.equal(ra.errorCode, 0);
  t.equal(ra.generationId, epoch + 1, 'a classic rebalance follows');
  t.equal(rb.generationId, epoch + 1);
  gc.close();
});

t.test('policies: disabled / downgrade refuse the upgrade; upgrade keeps the consumer group when the consumer member leaves', async (t) => {
  for (const policy of ['disabled', 'DOWNGRADE']) {
    const { clock, gc } = setup(policy);
    await classicGroup(gc, clock);
    t.equal(gc.claimForConsumerGroup('g', 0), ErrorCode.GROUP_ID_NOT_FOUND, `${policy}: no upgrade`);
    t.ok(gc.groups.has('g'));
    gc.close();
  }
  const { clock, gc, mgr } = setup('upgrade');
  const { a } = await classicGroup(gc, clock);
  t.equal(gc.claimForConsumerGroup('g', 0), ErrorCode.NONE);
  const c1 = mgr.heartbeat(cgJoin('c'));
  mgr.heartbeat({ ...cgJoin('c', -1), topicPartitions: null });
  t.ok(mgr.has('g'), 'no downgrade under `upgrade`');
  t.notOk(gc.groups.has('g'));
  t.equal(c1.errorCode, 0);
  t.equal(gc.heartbeat('g', a, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  // Classic LeaveGroup of every member leaves an empty consumer group, which a classic JoinGroup replaces.
  const left = gc.leave('g', [...mgr.groups.get('g')!.members.keys()].map((memberId) => ({ memberId, groupInstanceId: null })));
  t.same(left.members.map((m) => m.errorCode), [0, 0]);
  t.equal(mgr.groups.get('g')!.state, 'Empty');
  t.same(gc.leave('g', [{ memberId: 'ghost', groupInstanceId: null }]).members.map((m) => m.errorCode), [ErrorCode.UNKNOWN_MEMBER_ID]);
  const jp = gc.join(joinReq({}));
  await clock.advanceAsync(1);
  t.equal((await jp).errorCode, 0);
  t.notOk(mgr.has('g'));
  t.ok(gc.groups.has('g'));
  gc.close();
});

t.test('a non-consumer classic group is never upgraded; classic members are fenced by their session timeout', async (t) => {
  const { clock, gc, mgr } = setup();
  const j = gc.join(joinReq({ groupId: 'x', protocolType: 'connect' }));
  await clock.advanceAsync(1);
  t.equal((await j).errorCode, 0);
  t.equal(gc.claimForConsumerGroup('x', 0), ErrorCode.GROUP_ID_NOT_FOUND);

  const { a, b } = await classicGroup(gc, clock);
  gc.claimForConsumerGroup('g', 0);
  mgr.heartbeat(cgJoin('c'));
  const g = mgr.groups.get('g')!;
  t.equal(g.members.size, 3);
  for (let i = 0; i < 3; i++) {
    await clock.advanceAsync(5000);
    mgr.heartbeat(cgJoin('c', g.members.get('c')!.memberEpoch, [...(g.members.get('c')!.assigned.get(TOPIC_ID) ?? [])]));
    gc.heartbeat('g', a, null, g.members.get(a)?.memberEpoch ?? -1);
  }
  t.notOk(g.members.has(b), 'b (silent for its 10 s session timeout) is fenced');
  t.ok(g.members.has(a));
  // a was told to rejoin but never does: fenced after its rebalance timeout (20 s).
  for (let i = 0; i < 5; i++) {
    await clock.advanceAsync(5000);
    gc.heartbeat('g', a, null, g.members.get(a)?.memberEpoch ?? -1);
    mgr.heartbeat(cgJoin('c', g.members.get('c')!.memberEpoch, [...(g.members.get('c')!.assigned.get(TOPIC_ID) ?? [])]));
  }
  t.notOk(g.members.has(a), 'a classic member that does not rejoin within its rebalance timeout is fenced');
  gc.close();
});

t.test('ConsumerGroupMemberMetadataValue: ClassicMemberMetadata (tagged field 0) round trip', async (t) => {
  const base = { instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: ['t'], subscribedTopicRegex: null, rebalanceTimeoutMs: 1000, serverAssignor: null };
  const v = encodeMemberValue({ ...base, classic: { sessionTimeoutMs: 30000, protocols: [{ name: 'range', metadata: Buffer.from([1, 2]) }] } });
  // Kafka's bytes for this value (version 0, tag 0 = presence byte, int32, one protocol, empty tagged fields).
  const tail = '010011' + '01' + '00007530' + '02' + '0672616e6765' + '030102' + '00' + '00';
  t.equal(v.subarray(v.length - tail.length / 2).toString('hex'), tail);
  const d = decodeMemberValue(v);
  t.same(d.classic, { sessionTimeoutMs: 30000, protocols: [{ name: 'range', metadata: Buffer.from([1, 2]) }] });
  t.notOk(decodeMemberValue(encodeMemberValue(base)).classic);
});
