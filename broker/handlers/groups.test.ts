// The group APIs over the wire, every advertised version, against an in-process broker: FindCoordinator,
// JoinGroup → SyncGroup → Heartbeat → LeaveGroup, OffsetCommit/OffsetFetch (incl. multi-group v8+ and
// topic ids v10), OffsetDelete, ListGroups/DescribeGroups/DeleteGroups; and a restart on file storage
// keeps committed offsets and group state (records in __consumer_offsets).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { OFFSETS_TOPIC, partitionForGroup } from '../groups/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { restartTestBroker, startTestBroker } from '../testing/start.ts';

const FIND_COORDINATOR = 10, JOIN = 11, HEARTBEAT = 12, LEAVE = 13, SYNC = 14, DESCRIBE = 15, LIST = 16, DELETE = 42;
const COMMIT = 8, FETCH = 9, OFFSET_DELETE = 47;
const protocols = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]) }]; // subscription v0: ["t"]

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function joinSyncLeave(t: any, c: RawClient, v: { join: number; sync: number; hb: number; leave: number }, groupId: string) {
  const base = { groupId, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, protocolType: 'consumer', protocols };
  let r = await c.request(JOIN, v.join, { ...base, memberId: '' });
  if (v.join >= 4) {
    t.equal(r.errorCode, ErrorCode.MEMBER_ID_REQUIRED, `JoinGroup v${v.join}: MEMBER_ID_REQUIRED`);
    t.match(r.memberId, /^raw-client-[0-9a-f-]{36}$/);
    r = await c.request(JOIN, v.join, { ...base, memberId: r.memberId });
  }
  t.equal(r.errorCode, 0, `JoinGroup v${v.join}`);
  t.equal(r.generationId, 1);
  t.equal(r.leader, r.memberId);
  t.equal(r.protocolName, 'range');
  if (v.join >= 7) t.equal(r.protocolType, 'consumer');
  t.equal(r.members.length, 1);
  const memberId = r.memberId;
  const s = await c.request(SYNC, v.sync, { groupId, generationId: 1, memberId, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.from('A') }] });
  t.equal(s.errorCode, 0, `SyncGroup v${v.sync}`);
  t.equal(s.assignment.toString(), 'A');
  if (v.sync >= 5) t.same([s.protocolType, s.protocolName], ['consumer', 'range']);
  t.equal((await c.request(HEARTBEAT, v.hb, { groupId, generationId: 1, memberId })).errorCode, 0, `Heartbeat v${v.hb}`);
  t.equal((await c.request(HEARTBEAT, v.hb, { groupId, generationId: 2, memberId })).errorCode, ErrorCode.ILLEGAL_GENERATION);
  return memberId;
}

t.test('every version of the group APIs', async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '2' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('t', 2);
  t.notOk(tb.broker.context.topics.get(OFFSETS_TOPIC), 'no __consumer_offsets before first use');

  for (let v = 0; v <= 6; v++) {
    const r = await c.request(FIND_COORDINATOR, v, v >= 4 ? { keyType: 0, coordinatorKeys: ['g1', 'g2'] } : { key: 'g1', keyType: 0 });
    if (v >= 4) {
      t.same(r.coordinators.map((x: any) => [x.key, x.errorCode, x.nodeId, x.host, x.port]), [['g1', 0, 1, '127.0.0.1', tb.port], ['g2', 0, 1, '127.0.0.1', tb.port]], `FindCoordinator v${v}`);
    } else {
      t.same([r.errorCode, r.nodeId, r.host, r.port], [0, 1, '127.0.0.1', tb.port], `FindCoordinator v${v}`);
      if (v >= 1) t.equal(r.errorMessage, 'NONE');
    }
    if (v >= 1) {
      const txn = await c.request(FIND_COORDINATOR, v, v >= 4 ? { keyType: 1, coordinatorKeys: ['tx'] } : { key: 'tx', keyType: 1 });
      t.same(v >= 4 ? [txn.coordinators[0].errorCode, txn.coordinators[0].nodeId] : [txn.errorCode, txn.nodeId], [ErrorCode.NONE, 1], `transaction key v${v}`);
    }
  }
  t.equal(tb.broker.context.topics.get(OFFSETS_TOPIC)?.partitions, 50, '__consumer_offsets created on first use with 50 partitions');
  t.ok(tb.broker.context.topics.get(OFFSETS_TOPIC)?.internal);

  for (let v = 0; v <= 9; v++) {
    const syncV = Math.min(v, 5), hbV = Math.min(v, 4), leaveV = Math.min(v, 5);
    const groupId = `grp-v${v}`;
    const memberId = await joinSyncLeave(t, c, { join: v, sync: syncV, hb: hbV, leave: leaveV }, groupId);
    const l = leaveV >= 3
      ? await c.request(LEAVE, leaveV, { groupId, members: [{ memberId, groupInstanceId: null, reason: null }, { memberId: 'ghost', groupInstanceId: null, reason: null }] })
      : await c.request(LEAVE, leaveV, { groupId, memberId });
    if (leaveV >= 3) t.same(l.members.map((m: any) => [m.memberId, m.errorCode]), [[memberId, 0], ['ghost', ErrorCode.UNKNOWN_MEMBER_ID]], `LeaveGroup v${leaveV} batched`);
    else t.equal(l.errorCode, 0, `LeaveGroup v${leaveV}`);
  }
  for (let v = 0; v <= 2; v++) t.equal((await c.request(LEAVE, v, { groupId: 'grp-v0', memberId: 'ghost' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, `LeaveGroup v${v} error`);

  // OffsetCommit v2-10 as a standalone consumer (generation −1), read back with OffsetFetch v1-10.
  const topicId = tb.broker.context.topics.get('t')!.topicId;
  for (let v = 2; v <= 10; v++) {
    const groupId = `offsets-v${v}`;
    const topic = v >= 10 ? { name: '', topicId } : { name: 't' };
    const r = await c.request(COMMIT, v, {
      groupId, generationIdOrMemberEpoch: -1, memberId: '',
      topics: [{ ...topic, partitions: [{ partitionIndex: 0, committedOffset: BigInt(100 + v), committedLeaderEpoch: 0, committedMetadata: `m${v}` }, { partitionIndex: 9, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    t.same(r.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode]), [[0, 0], [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]], `OffsetCommit v${v}`);
    const unknown = await c.request(COMMIT, v, { groupId, generationIdOrMemberEpoch: -1, memberId: '', topics: [{ name: 'nope', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' }] }] });
    t.equal(unknown.topics[0].partitions[0].errorCode, v >= 10 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
  for (let v = 1; v <= 10; v++) {
    const groupId = `offsets-v${Math.max(v, 2)}`;
    const expected = BigInt(100 + Math.max(v, 2));
    if (v >= 8) {
      const r = await c.request(FETCH, v, { groups: [
        { groupId, memberId: null, memberEpoch: -1, topics: [{ name: 't', topicId, partitionIndexes: [0, 1] }] },
        { groupId: 'offsets-v3', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'never', memberId: null, memberEpoch: -1, topics: null },
      ], requireStable: true });
      t.same(r.groups.map((g: any) => [g.groupId, g.errorCode, g.topics.length]), [[groupId, 0, 1], ['offsets-v3', 0, 1], ['never', 0, 0]], `OffsetFetch v${v} multi-group`);
      t.same(r.groups[0].topics[0].partitions.map((p: any) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata]),
        [[0, expected, 0, `m${Math.max(v, 2)}`], [1, -1n, -1, '']]);
      t.equal(r.groups[1].topics[0].partitions[0].committedOffset, 103n, 'null topics = all');
      if (v >= 10) t.equal(r.groups[0].topics[0].topicId, topicId);
    } else {
      const r = await c.request(FETCH, v, { groupId, topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: v >= 7 });
      t.same(r.topics[0].partitions.map((p: any) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
        [[0, expected, `m${Math.max(v, 2)}`, 0], [1, -1n, '', 0]], `OffsetFetch v${v}`);
      if (v >= 6) t.equal(r.topics[0].partitions[0].committedLeaderEpoch, 0, 'leader epoch committed with v6+');
      if (v >= 2) {
        const all = await c.request(FETCH, v, { groupId, topics: null });
        t.same(all.topics.map((x: any) => x.name), ['t'], `OffsetFetch v${v} all topics`);
      }
    }
  }

  // ListGroups v0-5 with filters, DescribeGroups v0-6, OffsetDelete v0, DeleteGroups v0-3.
  for (let v = 0; v <= 5; v++) {
    const r = await c.request(LIST, v, v >= 4 ? { statesFilter: ['EMPTY'], typesFilter: v >= 5 ? ['Classic'] : [] } : {});
    const names = r.groups.map((g: any) => g.groupId).sort();
    t.ok(names.includes('grp-v3') && names.includes('offsets-v2'), `ListGroups v${v}`);
    if (v >= 4) t.ok(r.groups.every((g: any) => g.groupState === 'Empty'));
    if (v >= 5) t.ok(r.groups.every((g: any) => g.groupType === 'classic'));
    if (v >= 4) t.same((await c.request(LIST, v, { statesFilter: ['Stable'] })).groups, [], 'state filter');
    if (v >= 5) t.same((await c.request(LIST, v, { typesFilter: ['consumer'] })).groups, [], 'type filter');
  }
  for (let v = 0; v <= 6; v++) {
    const r = await c.request(DESCRIBE, v, { groups: ['grp-v1', 'unknown'], includeAuthorizedOperations: v >= 3 });
    t.same(r.groups.map((g: any) => [g.groupId, g.groupState, g.protocolType, g.errorCode]),
      [['grp-v1', 'Empty', 'consumer', 0], ['unknown', 'Dead', '', v >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : 0]], `DescribeGroups v${v}`);
    if (v >= 3) t.equal(r.groups[0].authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8));
  }
  const od = await c.request(OFFSET_DELETE, 0, { groupId: 'offsets-v2', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] });
  t.same([od.errorCode, od.topics[0].partitions[0].errorCode], [0, 0], 'OffsetDelete v0');
  t.equal((await c.request(OFFSET_DELETE, 0, { groupId: 'never', topics: [] })).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  for (let v = 0; v <= 3; v++) {
    const r = await c.request(DELETE, v, { groupsNames: [`grp-v${v}`, 'never', ''] });
    t.same(r.results.map((x: any) => [x.groupId, x.errorCode]), [[`grp-v${v}`, 0], ['never', ErrorCode.GROUP_ID_NOT_FOUND], ['', ErrorCode.INVALID_GROUP_ID]], `DeleteGroups v${v}`);
  }
});

t.test('active groups: NON_EMPTY_GROUP, REBALANCE_IN_PROGRESS, generation checks on commits', async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('t', 1);
  const memberId = await joinSyncLeave(t, c, { join: 5, sync: 3, hb: 3, leave: 3 }, 'active');
  const commit = (gen: number, member: string) => c.request(COMMIT, 5, { groupId: 'active', generationIdOrMemberEpoch: gen, memberId: member, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: '' }] }] });
  t.equal((await commit(1, memberId)).topics[0].partitions[0].errorCode, 0);
  t.equal((await commit(0, memberId)).topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  t.equal((await commit(-1, '')).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal((await c.request(DELETE, 1, { groupsNames: ['active'] })).results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);
  const od = await c.request(OFFSET_DELETE, 0, { groupId: 'active', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }, { name: 'other', partitions: [{ partitionIndex: 0 }] }] });
  t.same(od.topics.map((x: any) => x.partitions[0].errorCode), [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0]);
  const d = await c.request(DESCRIBE, 5, { groups: ['active'] });
  t.same([d.groups[0].groupState, d.groups[0].protocolData, d.groups[0].members[0].memberAssignment.toString()], ['Stable', 'range', 'A']);
  t.equal(d.groups[0].members[0].clientId, 'raw-client');
  t.equal(d.groups[0].members[0].clientHost, '/127.0.0.1', 'clientHost as Kafka prints it');
});

t.test('a restart keeps committed offsets and group state (file storage)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-groups-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const overrides = { 'group.initial.rebalance.delay.ms': '0', 'log.dirs': dir, 'offsets.topic.num.partitions': '5' };
  let tb = await startTestBroker(overrides, { storage: 'file' });
  let c = await RawClient.connect(tb.port);
  await tb.broker.context.createTopic('t', 3);
  const memberId = await joinSyncLeave(t, c, { join: 5, sync: 3, hb: 3, leave: 3 }, 'durable');
  const r = await c.request(COMMIT, 8, { groupId: 'durable', generationIdOrMemberEpoch: 1, memberId, topics: [{ name: 't', partitions: [0, 1, 2].map((p) => ({ partitionIndex: p, committedOffset: BigInt(10 * p + 1), committedLeaderEpoch: 0, committedMetadata: `meta-${p}` })) }] });
  t.ok(r.topics[0].partitions.every((p: any) => p.errorCode === 0));
  await c.request(COMMIT, 8, { groupId: 'solo', generationIdOrMemberEpoch: -1, memberId: '', topics: [{ name: 't', partitions: [{ partitionIndex: 2, committedOffset: 77n, committedLeaderEpoch: -1, committedMetadata: '' }] }] });
  const p = partitionForGroup('durable', 5);
  t.ok(tb.broker.context.storage.partition(OFFSETS_TOPIC, p)!.logEndOffset >= 2, `records in ${OFFSETS_TOPIC}-${p}`);
  ({ tb, c } = await restartTestBroker(t, tb, c, overrides));
  t.equal(tb.broker.context.topics.get(OFFSETS_TOPIC)?.partitions, 5);
  const f = await c.request(FETCH, 9, { groups: [{ groupId: 'durable', memberId: null, memberEpoch: -1, topics: null }, { groupId: 'solo', memberId: null, memberEpoch: -1, topics: null }] });
  t.same(f.groups[0].topics[0].partitions.map((x: any) => [x.partitionIndex, x.committedOffset, x.committedLeaderEpoch, x.metadata]),
    [[0, 1n, 0, 'meta-0'], [1, 11n, 0, 'meta-1'], [2, 21n, 0, 'meta-2']]);
  t.equal(f.groups[1].topics[0].partitions[0].committedOffset, 77n);
  const d = await c.request(DESCRIBE, 5, { groups: ['durable'] });
  t.same([d.groups[0].groupState, d.groups[0].members.map((m: any) => m.memberId)], ['Stable', [memberId]], 'the group\'s last state');
  t.equal((await c.request(HEARTBEAT, 3, { groupId: 'durable', generationId: 1, memberId })).errorCode, 0, 'the member carries on');
});

// A member's metadata and assignment live as long as the member: copies of their own, never a slice of Node's
// 64 KiB Buffer pool (which would keep a whole slab alive per member).
t.test('a member keeps its metadata and assignment in memory of their own', async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const groupId = 'g-own';
  const base = { groupId, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, protocolType: 'consumer', protocols };
  let r = await c.request(JOIN, 5, { ...base, memberId: '' });
  r = await c.request(JOIN, 5, { ...base, memberId: r.memberId });
  t.equal(r.errorCode, 0);
  const s = await c.request(SYNC, 5, { groupId, generationId: r.generationId, memberId: r.memberId, assignments: [{ memberId: r.memberId, assignment: Buffer.from('assigned') }] });
  t.equal(s.errorCode, 0);
  const [m] = tb.broker.context.groups.describeGroup(groupId).members;
  t.same([m!.metadata, m!.assignment.toString()], [protocols[0]!.metadata, 'assigned']);
  t.equal(m!.metadata.buffer.byteLength, m!.metadata.length, 'metadata: memory of its own');
  t.equal(m!.assignment.buffer.byteLength, m!.assignment.length, 'assignment: memory of its own');
});
