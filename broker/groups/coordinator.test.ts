// The classic group coordinator against a manual clock and an in-memory record log: state machine,
// error codes, timeouts, static membership, offsets, records, replay and expiry. No sockets, no sleeps.
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { memoryLogger } from '../log.ts';
import { type CoordinatorRecord, GroupCoordinator, type JoinRequest, type JoinResult } from './coordinator.ts';
import {
  decodeGroupMetadataValue, decodeKey, decodeOffsetCommitValue, encodeOffsetCommitValue, javaStringHashCode, partitionForGroup,
} from './records.ts';
import { ManualClock } from '../../storage/clock.ts';
import { StorageError } from '../../storage/index.ts';
import { subscription } from '../testing/groups.ts';



class MemLog {
  records: Array<{ groupId: string } & CoordinatorRecord> = [];
  failNext = 0;
  async append(groupId: string, recs: CoordinatorRecord[]) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new StorageError('KAFKA_STORAGE_ERROR', 'disk full');
    }
    for (const r of recs) this.records.push({ groupId, ...r });
  }
}

function setup(config: Partial<GroupCoordinator['config']> = {}) {
  const clock = new ManualClock();
  const store = new MemLog();
  let n = 0;
  const gc = new GroupCoordinator({ clock, log: memoryLogger(), store, uuid: () => `uuid-${++n}`, config: { initialRebalanceDelayMs: 3000, ...config } });
  return { clock, store, gc };
}


const proto = (topics = 'a') => [{ name: 'range', metadata: Buffer.from(topics) }];
function joinReq(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g', memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: proto(),
    sessionTimeoutMs: 10000, rebalanceTimeoutMs: 20000, clientId: 'c', clientHost: '', requireKnownMemberId: true,
    supportsSkipAssignment: false, ...over,
  };
}

/** Two-step join: MEMBER_ID_REQUIRED then the real join (left pending). */
async function startJoin(gc: GroupCoordinator, over: Partial<JoinRequest> = {}): Promise<{ id: string; done: Promise<JoinResult> }> {
  const first = await gc.join(joinReq(over));
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) return { id: first.memberId, done: Promise.resolve(first) };
  return { id: first.memberId, done: gc.join(joinReq({ ...over, memberId: first.memberId })) };
}

t.test('Java hashCode partitioning (Utils.abs semantics)', async (t) => {
  t.equal(javaStringHashCode('hello'), 99162322);
  t.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  t.equal(partitionForGroup('polygenelubricants', 50), 0, 'MIN_VALUE maps to 0, not a negative partition');
  t.equal(partitionForGroup('hello', 50), 99162322 % 50);
  t.equal(javaStringHashCode('é'), 233, 'UTF-16 code units');
});

t.test('first join: MEMBER_ID_REQUIRED, then the initial delay gathers members into one generation', async (t) => {
  const { clock, gc, store } = setup();
  const a = await startJoin(gc, { clientId: 'ca' });
  t.match(a.id, /^ca-uuid-\d+$/, 'member id = client id + uuid');
  const b = await startJoin(gc, { clientId: 'cb' });
  let settled = false;
  void a.done.then(() => { settled = true; });
  await clock.advanceAsync(2999);
  t.notOk(settled, 'still waiting within group.initial.rebalance.delay.ms');
  t.equal(gc.describeGroup('g').state, 'PreparingRebalance');
  await clock.advanceAsync(1);
  t.notOk(settled, 'a member joined during the delay: extended by another delay (up to the rebalance timeout)');
  await clock.advanceAsync(3000);
  t.ok(settled);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  t.equal(ra.errorCode, 0);
  t.equal(ra.generationId, 1);
  t.equal(ra.protocolName, 'range');
  t.equal(ra.leader, a.id, 'first member leads');
  t.equal(ra.members.length, 2, 'leader gets every member');
  t.same(rb.members, [], 'followers get none');
  t.equal(gc.describeGroup('g').state, 'CompletingRebalance');

  // Heartbeats during CompletingRebalance are fine; commits are not.
  t.equal(gc.heartbeat('g', b.id, null, 1), ErrorCode.NONE);
  const codes = await gc.commitOffsets({ groupId: 'g', memberId: b.id, groupInstanceId: null, generationId: 1, retentionTimeMs: -1, apiVersion: 8, partitions: [{ topic: 'a', partition: 0, offset: 5, leaderEpoch: -1, metadata: '', errorCode: 0 }] });
  t.same(codes, [ErrorCode.REBALANCE_IN_PROGRESS]);

  const followerSync = gc.sync({ groupId: 'g', memberId: b.id, groupInstanceId: null, generationId: 1, protocolType: 'consumer', protocolName: 'range', assignments: [] });
  const leaderSync = await gc.sync({ groupId: 'g', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: 'consumer', protocolName: 'range',
    assignments: [{ memberId: a.id, assignment: Buffer.from('A') }, { memberId: b.id, assignment: Buffer.from('B') }] });
  t.equal(leaderSync.assignment.toString(), 'A');
  t.equal((await followerSync).assignment.toString(), 'B');
  t.equal(gc.describeGroup('g').state, 'Stable');
  const meta = store.records.filter((r) => decodeKey(r.key)?.type === 'group').at(-1)!;
  const v = decodeGroupMetadataValue(meta.value!);
  t.equal(meta.value!.readInt16BE(0), 3, 'GroupMetadataValue v3');
  t.equal(meta.key.readInt16BE(0), 2, 'GroupMetadataKey version 2');
  t.same([v.generation, v.protocol, v.leader, v.protocolType], [1, 'range', a.id, 'consumer']);
  t.same(v.members.map((m) => [m.memberId, m.assignment.toString(), m.subscription.toString()]), [[a.id, 'A', 'a'], [b.id, 'B', 'a']]);
  // Replay keeps these for the group's life: copies of their own, not slices of Node's 64 KiB Buffer pool.
  t.ok(v.members.every((m) => m.assignment.buffer.byteLength === m.assignment.length && m.subscription.buffer.byteLength === m.subscription.length),
    'decoded member subscription and assignment own their memory');

  // Errors on Sync/Heartbeat in Kafka's order.
  t.equal(gc.heartbeat('g', 'nobody', null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal(gc.heartbeat('g', a.id, null, 7), ErrorCode.ILLEGAL_GENERATION);
  t.equal(gc.heartbeat('nope', a.id, null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal(gc.heartbeat('', a.id, null, 1), ErrorCode.INVALID_GROUP_ID);
  t.equal((await gc.sync({ groupId: 'g', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: 'other', protocolName: null, assignments: [] })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.equal((await gc.join(joinReq({ protocolType: 'other' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.equal((await gc.join(joinReq({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, 'no common protocol');
  t.equal((await gc.join(joinReq({ sessionTimeoutMs: 10 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  t.equal((await gc.join(joinReq({ groupId: 'other', memberId: 'x' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'known member id, unknown group');

  // A third member: everyone rebalances (REBALANCE_IN_PROGRESS on heartbeat), join completes when all rejoined.
  const c = await startJoin(gc, { clientId: 'cc' });
  t.equal(gc.describeGroup('g').state, 'PreparingRebalance');
  t.equal(gc.heartbeat('g', a.id, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  t.equal((await gc.sync({ groupId: 'g', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [] })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const ra2 = gc.join(joinReq({ memberId: a.id }));
  const rb2 = gc.join(joinReq({ memberId: b.id }));
  const [x, y, z] = await Promise.all([ra2, rb2, c.done]);
  t.same([x.generationId, y.generationId, z.generationId], [2, 2, 2], 'no wait: all members rejoined');
  t.equal(x.members.length, 3);
  gc.close();
});

t.test('session timeout removes a silent member; rebalance timeout drops members that do not rejoin', async (t) => {
  const { clock, gc } = setup({ initialRebalanceDelayMs: 0 });
  const a = await startJoin(gc);
  const b = await startJoin(gc);
  await clock.advanceAsync(0);
  await Promise.all([a.done, b.done]);
  await gc.sync({ groupId: 'g', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [] });
  await gc.sync({ groupId: 'g', memberId: b.id, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [] });
  t.equal(gc.describeGroup('g').state, 'Stable');
  // a heartbeats, b is silent (crashed).
  for (let i = 0; i < 4; i++) {
    await clock.advanceAsync(3000);
    t.equal(gc.heartbeat('g', a.id, null, 1), i < 3 ? ErrorCode.NONE : ErrorCode.REBALANCE_IN_PROGRESS, `heartbeat ${i}`);
  }
  t.same(gc.describeGroup('g').members.map((m) => m.memberId), [a.id], 'b expired after its 10 s session timeout');
  const r = await gc.join(joinReq({ memberId: a.id }));
  t.equal(r.generationId, 2);
  t.same(r.members.map((m) => m.memberId), [a.id]);
  t.equal(gc.heartbeat('g', b.id, null, 1), ErrorCode.UNKNOWN_MEMBER_ID);

  // Rebalance timeout: a new member joins; a (awaiting sync, now Stable-less) never rejoins.
  await gc.sync({ groupId: 'g', memberId: a.id, groupInstanceId: null, generationId: 2, protocolType: null, protocolName: null, assignments: [] });
  const c = await startJoin(gc);
  let done = false;
  void c.done.then(() => { done = true; });
  await clock.advanceAsync(9999);
  t.notOk(done, 'waiting for a to rejoin');
  t.equal(gc.heartbeat('g', a.id, null, 2), ErrorCode.REBALANCE_IN_PROGRESS);
  await clock.advanceAsync(10001);
  const rc = await c.done;
  t.equal(rc.errorCode, 0);
  t.same(rc.members.map((m) => m.memberId), [c.id], 'a did not rejoin within the rebalance timeout');
  t.equal(rc.leader, c.id);
  gc.close();
});

t.test('pending member expires; pending sync expiry; leave (single and batched)', async (t) => {
  const { clock, gc } = setup({ initialRebalanceDelayMs: 0 });
  const first = await gc.join(joinReq());
  t.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  await clock.advanceAsync(10000);
  t.equal((await gc.join(joinReq({ memberId: first.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'pending id expired');

  const a = await startJoin(gc);
  const b = await startJoin(gc);
  await clock.advanceAsync(0);
  await Promise.all([a.done, b.done]);
  // Only a (the leader) syncs; b heartbeats but never syncs: the group is Stable for a, and after the
  // rebalance timeout b is removed for not syncing and the group rebalances.
  const sa = await gc.sync({ groupId: 'g', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [] });
  t.equal(sa.errorCode, 0);
  for (let i = 1; i <= 4; i++) {
    await clock.advanceAsync(5000);
    const hb = [gc.heartbeat('g', a.id, null, 1), gc.heartbeat('g', b.id, null, 1)];
    t.same(hb, i < 4 ? [0, 0] : [ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.UNKNOWN_MEMBER_ID], `after ${i * 5} s`);
  }
  t.same(gc.describeGroup('g').members.map((m) => m.memberId), [a.id]);

  const ra = await gc.join(joinReq({ memberId: a.id }));
  t.equal(ra.generationId, 2);
  const c = await startJoin(gc);
  t.same(gc.leave('g', [{ memberId: 'ghost', groupInstanceId: null }, { memberId: c.id, groupInstanceId: null }]).members.map((m) => m.errorCode),
    [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.NONE], 'batched leave answers each member');
  t.equal((await c.done).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'the left member\'s pending join is answered');
  t.equal(gc.leave('nope', [{ memberId: a.id, groupInstanceId: null }]).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const ra3 = await gc.join(joinReq({ memberId: a.id }));
  t.equal(ra3.errorCode, 0);
  t.equal(gc.leave('g', [{ memberId: a.id, groupInstanceId: null }]).members[0]!.errorCode, 0);
  await clock.advanceAsync(0);
  const d = gc.describeGroup('g');
  t.equal(d.state, 'Empty', 'last member left');
  t.same(d.members, []);
  gc.close();
});

t.test('static membership: rejoin replaces the member id, the old one is fenced', async (t) => {
  const { clock, gc } = setup({ initialRebalanceDelayMs: 0 });
  const a = gc.join(joinReq({ groupInstanceId: 'i-a' }));
  await clock.advanceAsync(0);
  const ra = await a;
  t.equal(ra.errorCode, 0, 'static members join without MEMBER_ID_REQUIRED');
  t.match(ra.memberId, /^i-a-uuid-/);
  await gc.sync({ groupId: 'g', memberId: ra.memberId, groupInstanceId: 'i-a', generationId: 1, protocolType: null, protocolName: null, assignments: [{ memberId: ra.memberId, assignment: Buffer.from('X') }] });
  // Restarted instance: same instance id, no member id; no rebalance, same generation.
  const again = await gc.join(joinReq({ groupInstanceId: 'i-a' }));
  t.equal(again.errorCode, 0);
  t.not(again.memberId, ra.memberId);
  t.equal(again.generationId, 1, 'no rebalance for a returning static member');
  t.equal(gc.describeGroup('g').state, 'Stable');
  t.equal(gc.heartbeat('g', ra.memberId, 'i-a', 1), ErrorCode.FENCED_INSTANCE_ID);
  t.equal(gc.heartbeat('g', again.memberId, 'i-a', 1), ErrorCode.NONE);
  t.equal(gc.heartbeat('g', again.memberId, 'i-b', 1), ErrorCode.UNKNOWN_MEMBER_ID);
  const s = await gc.sync({ groupId: 'g', memberId: again.memberId, groupInstanceId: 'i-a', generationId: 1, protocolType: null, protocolName: null, assignments: [] });
  t.equal(s.assignment.toString(), 'X', 'keeps its assignment');
  t.equal(gc.leave('g', [{ memberId: '', groupInstanceId: 'i-a' }]).members[0]!.errorCode, 0, 'leave by instance id');
  gc.close();
});

t.test('group.max.size', async (t) => {
  const { clock, gc } = setup({ initialRebalanceDelayMs: 0, maxSize: 1 });
  const a = await startJoin(gc);
  await clock.advanceAsync(0);
  await a.done;
  t.equal((await gc.join(joinReq())).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED, 'a full group refuses even the first join');
  t.equal((await gc.join(joinReq({ memberId: a.id }))).errorCode, 0, 'members rejoin');
  gc.close();
});

t.test('offsets: standalone commits, member checks, metadata limit, append failure, fetch', async (t) => {
  const { clock, gc, store } = setup({ initialRebalanceDelayMs: 0 });
  const p = (partition: number, offset: number, metadata: string | null = 'm') => ({ topic: 't', partition, offset, leaderEpoch: 3, metadata, errorCode: 0 });
  const commit = (over: object, partitions = [p(0, 10)]) => gc.commitOffsets({ groupId: 'solo', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, apiVersion: 8, partitions, ...over });
  t.same(await commit({}, [p(0, 10), p(1, 20, null), p(2, 1, 'x'.repeat(4097))]), [0, 0, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  t.same(gc.committedOffset('solo', 't', 0), { offset: 10, leaderEpoch: 3, metadata: 'm', commitTimestamp: clock.t, expireTimestamp: -1 });
  t.equal(gc.committedOffset('solo', 't', 1)!.metadata, '', 'null metadata kept as ""');
  t.equal(gc.committedOffset('solo', 't', 2), undefined);
  t.same(gc.listGroups(), [{ groupId: 'solo', protocolType: '', state: 'Empty' }], 'a simple group exists');
  const rec = store.records.at(-1)!;
  t.equal(rec.key.readInt16BE(0), 1, 'OffsetCommitKey version 1');
  t.equal(rec.value!.readInt16BE(0), 3, 'OffsetCommitValue v3');
  t.same(decodeOffsetCommitValue(rec.value!), { offset: 20, leaderEpoch: 3, metadata: '', commitTimestamp: clock.t, expireTimestamp: -1 });

  t.same(await commit({ groupId: 'ghost', generationId: 1, memberId: 'm' }), [ErrorCode.ILLEGAL_GENERATION], 'missing group, generation ≥ 0, v8');
  t.same(await commit({ groupId: 'ghost', generationId: 1, memberId: 'm', apiVersion: 9 }), [ErrorCode.GROUP_ID_NOT_FOUND], 'v9+');
  t.same(await commit({ memberId: 'm', generationId: 0 }), [ErrorCode.UNKNOWN_MEMBER_ID]);
  t.same(await commit({ retentionTimeMs: 1000 }), [0]);
  t.equal(store.records.at(-1)!.value!.readInt16BE(0), 1, 'retention time → OffsetCommitValue v1 with expire timestamp');
  t.equal(gc.committedOffset('solo', 't', 0)!.expireTimestamp, clock.t + 1000);

  store.failNext = 1;
  t.same(await commit({}, [p(0, 99)]), [ErrorCode.NOT_COORDINATOR], 'KAFKA_STORAGE_ERROR → NOT_COORDINATOR, nothing applied');
  t.equal(gc.committedOffset('solo', 't', 0)!.offset, 10);

  // A consumer group member commits with its generation; a dynamic commit to the active group is refused.
  const a = await startJoin(gc, { groupId: 'cg', protocols: [{ name: 'range', metadata: subscription(['t']) }] });
  await clock.advanceAsync(0);
  await a.done;
  await gc.sync({ groupId: 'cg', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [] });
  const cg = (over: object) => gc.commitOffsets({ groupId: 'cg', memberId: a.id, groupInstanceId: null, generationId: 1, retentionTimeMs: -1, apiVersion: 5, partitions: [p(0, 7)], ...over });
  t.same(await cg({}), [0]);
  t.same(await cg({ generationId: 2 }), [ErrorCode.ILLEGAL_GENERATION]);
  t.same(await cg({ memberId: '', generationId: -1 }), [ErrorCode.UNKNOWN_MEMBER_ID], 'no member id into an active group');
  t.same(await cg({ memberId: 'nope' }), [ErrorCode.UNKNOWN_MEMBER_ID]);
  t.same([...gc.allOffsets('cg').get('t')!.keys()], [0]);

  // OffsetDelete and DeleteGroups.
  t.same(await gc.deleteOffsets('cg', [{ topic: 't', partition: 0 }, { topic: 'u', partition: 0 }]), { errorCode: 0, codes: [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0] },
    'subscribed topics are protected while the group is active');
  t.equal(await gc.deleteGroup('cg'), ErrorCode.NON_EMPTY_GROUP);
  gc.leave('cg', [{ memberId: a.id, groupInstanceId: null }]);
  await clock.advanceAsync(0);
  t.same(await gc.deleteOffsets('cg', [{ topic: 't', partition: 0 }]), { errorCode: 0, codes: [0] });
  t.equal(gc.committedOffset('cg', 't', 0), undefined);
  t.equal(await gc.deleteGroup('cg'), 0);
  t.equal(await gc.deleteGroup('cg'), ErrorCode.GROUP_ID_NOT_FOUND);
  t.same((await gc.deleteOffsets('cg', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  t.equal(store.records.at(-1)!.value, null, 'group tombstone');
  gc.close();
});

t.test('replay of the records restores offsets and group state; offsets expire', async (t) => {
  const { clock, gc, store } = setup({ initialRebalanceDelayMs: 0, offsetsRetentionMs: 60_000 });
  await gc.commitOffsets({ groupId: 'solo', memberId: '', groupInstanceId: null, generationId: -1, retentionTimeMs: -1, apiVersion: 8, partitions: [{ topic: 't', partition: 0, offset: 42, leaderEpoch: 1, metadata: 'meta', errorCode: 0 }] });
  const a = await startJoin(gc, { groupId: 'cg' });
  await clock.advanceAsync(0);
  await a.done;
  await gc.sync({ groupId: 'cg', memberId: a.id, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [{ memberId: a.id, assignment: Buffer.from('as') }] });
  await gc.commitOffsets({ groupId: 'cg', memberId: a.id, groupInstanceId: null, generationId: 1, retentionTimeMs: -1, apiVersion: 5, partitions: [{ topic: 't', partition: 3, offset: 9, leaderEpoch: -1, metadata: '', errorCode: 0 }] });
  gc.close();

  const replayed = setup({ initialRebalanceDelayMs: 0, offsetsRetentionMs: 60_000 });
  const r = replayed.gc;
  for (const rec of store.records) {
    const k = decodeKey(rec.key)!;
    if (k.type === 'offset') r.replayOffset(k.group, k.topic, k.partition, rec.value && decodeOffsetCommitValue(rec.value));
    else r.replayGroup(k.group, rec.value && decodeGroupMetadataValue(rec.value));
  }
  r.finishLoading();
  t.equal(r.committedOffset('solo', 't', 0)!.offset, 42);
  t.equal(r.committedOffset('solo', 't', 0)!.metadata, 'meta');
  t.equal(r.committedOffset('cg', 't', 3)!.offset, 9);
  const d = r.describeGroup('cg');
  t.same([d.state, d.protocolData, d.members.map((m) => m.assignment.toString())], ['Stable', 'range', ['as']]);
  t.equal(r.heartbeat('cg', a.id, null, 1), 0, 'the member carries on after a restart');
  // It stops heartbeating: expires after its session timeout, the group becomes Empty.
  await replayed.clock.advanceAsync(10_001);
  t.equal(r.describeGroup('cg').state, 'Empty');

  // Offsets expire offsets.retention.minutes after commit (simple group) or after the group became Empty.
  replayed.clock.t = clock.t + 59_000;
  t.equal(await r.expireOffsets(), 0, 'not yet');
  replayed.clock.t = clock.t + 60_000;
  t.equal(await r.expireOffsets(), 1, 'solo offset expired');
  t.equal(r.committedOffset('solo', 't', 0), undefined);
  t.notOk(r.listGroups().some((g) => g.groupId === 'solo'), 'an Empty group without offsets is removed');
  replayed.clock.t += 20_000;
  t.equal(await r.expireOffsets(), 1, 'cg offset expires 60 s after the group became Empty');
  t.same(r.listGroups(), []);
  r.close();
});

t.test('OffsetCommitValue v1 and v3 round trip', async (t) => {
  const v3 = { offset: 5, leaderEpoch: 2, metadata: 'x', commitTimestamp: 7, expireTimestamp: -1 };
  t.same(decodeOffsetCommitValue(encodeOffsetCommitValue(v3)), v3);
  const v1 = { offset: 5, leaderEpoch: -1, metadata: 'x', commitTimestamp: 7, expireTimestamp: 9 };
  t.same(decodeOffsetCommitValue(encodeOffsetCommitValue(v1)), v1);
});

t.test('consumer-group commits at an older member epoch (KIP-1251): one bad partition fails the request; TxnOffsetCommit → ILLEGAL_GENERATION', async (t) => {
  const { gc } = setup();
  const topics = {
    list: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: 2 }],
    get(name: string) { return this.list.find((x) => x.name === name); },
    getById(id: string) { return this.list.find((x) => x.topicId === id); },
    all() { return this.list; },
  };
  const mgr = gc.consumerGroups(topics);
  const hb = (memberId: string, memberEpoch: number, owned: Array<{ topicId: string; partitions: number[] }>) => mgr.heartbeat({
    groupId: 'kg', memberId, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: memberEpoch === 0 ? 30000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ['t'] : null, subscribedTopicRegex: null, serverAssignor: null,
    topicPartitions: owned, clientId: 'c', clientHost: 'h', apiVersion: 1,
  });
  const r1 = hb('a', 0, []);
  t.same(r1.assignment, [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [0, 1] }]);
  const e1 = r1.memberEpoch;
  // b joins; a gives up one partition and moves on to a newer epoch.
  hb('b', 0, []);
  hb('a', e1, [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [0, 1] }]);
  const r2 = hb('a', e1, [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [mgr.groups.get('kg')!.members.get('a')!.assigned.get('AAAAAAAAAAAAAAAAAAAAAQ')![0]!] }]);
  t.ok(r2.memberEpoch > e1);
  const kept = mgr.groups.get('kg')!.members.get('a')!.assigned.get('AAAAAAAAAAAAAAAAAAAAAQ')![0]!;
  const lost = 1 - kept;
  const p = (partition: number, over: object = {}) => ({ topic: 't', partition, offset: 5, leaderEpoch: -1, metadata: '', errorCode: 0, ...over });
  const commit = (epoch: number, partitions: ReturnType<typeof p>[]) => gc.commitOffsets({ groupId: 'kg', memberId: 'a', groupInstanceId: null, generationId: epoch, retentionTimeMs: -1, apiVersion: 9, partitions });
  t.same(await commit(e1, [p(kept)]), [ErrorCode.NONE], 'the older epoch commits a partition held since then');
  t.same(await commit(e1, [p(kept), p(lost)]), [ErrorCode.STALE_MEMBER_EPOCH, ErrorCode.STALE_MEMBER_EPOCH], 'one partition no longer the member\'s fails all');
  t.same(await commit(e1, [p(kept), p(lost, { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })]), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], 'partitions the handler failed are not checked');
  t.same(await commit(e1, [p(kept), p(lost, { metadata: 'x'.repeat(5000) })]), [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE], 'nor are those with metadata too large');
  t.same(await commit(r2.memberEpoch + 1, [p(kept)]), [ErrorCode.STALE_MEMBER_EPOCH]);
  const txn = (epoch: number, partitions: ReturnType<typeof p>[]) => gc.commitTxnOffsets({ groupId: 'kg', producerId: 7n, producerEpoch: 0, memberId: 'a', groupInstanceId: null, generationId: epoch, partitions });
  t.same(await txn(e1, [p(kept)]), [ErrorCode.NONE]);
  t.same(await txn(e1, [p(lost)]), [ErrorCode.ILLEGAL_GENERATION]);
  t.same(await txn(r2.memberEpoch + 1, [p(kept)]), [ErrorCode.ILLEGAL_GENERATION]);
  gc.close();
});
