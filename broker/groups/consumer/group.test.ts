// KIP-848 consumer-group state machine against a manual clock and an in-memory topic view: epochs,
// target assignment, reconciliation (revoke before reassign), fencing, timeouts, regex, offsets checks.
import t from 'tap';
import type { Test } from 'tap';
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import { ConsumerGroupManager, type HeartbeatInput, type HeartbeatOutput, type TopicPartitionsList, type TopicView, compileTopicRegex } from './group.ts';
import { ManualClock } from '../../../storage/clock.ts';


class Topics implements TopicView {
  byName = new Map<string, { name: string; topicId: string; partitions: number }>();
  add(name: string, partitions: number) { this.byName.set(name, { name, topicId: `id-${name}`, partitions }); }
  get(name: string) { return this.byName.get(name); }
  getById(id: string) { return [...this.byName.values()].find((x) => x.topicId === id); }
  all() { return this.byName.values(); }
}

function setup(config = {}) {
  const clock = new ManualClock();
  const topics = new Topics();
  topics.add('orders', 12);
  const mgr = new ConsumerGroupManager({ clock, topics, config });
  return { clock, topics, mgr };
}

/** A well-behaved client: revokes at once, reports what it owns on every heartbeat. */
class Client {
  epoch = 0;
  owned: TopicPartitionsList[] = [];
  last!: HeartbeatOutput;
  readonly mgr: ConsumerGroupManager;
  readonly id: string;
  readonly sub: { names?: string[]; regex?: string; assignor?: string };
  constructor(mgr: ConsumerGroupManager, id: string, sub: { names?: string[]; regex?: string; assignor?: string } = { names: ['orders'] }) {
    this.mgr = mgr; this.id = id; this.sub = sub;
  }
  req(over: Partial<HeartbeatInput> = {}): HeartbeatInput {
    const join = this.epoch === 0;
    return {
      groupId: 'g', memberId: this.id, memberEpoch: this.epoch, instanceId: null, rackId: null,
      rebalanceTimeoutMs: join ? 30000 : -1,
      subscribedTopicNames: join ? this.sub.names ?? null : null,
      subscribedTopicRegex: join ? this.sub.regex ?? null : null,
      serverAssignor: join ? this.sub.assignor ?? null : null,
      topicPartitions: join ? [] : this.owned,
      clientId: 'c', clientHost: '/127.0.0.1', apiVersion: 1, ...over,
    };
  }
  hb(over: Partial<HeartbeatInput> = {}): HeartbeatOutput {
    this.last = this.mgr.heartbeat(this.req(over));
    if (this.last.errorCode === ErrorCode.NONE) {
      this.epoch = this.last.memberEpoch;
      if (this.last.assignment) this.owned = this.last.assignment;
    }
    return this.last;
  }
  count(): number { return this.owned.reduce((n, tp) => n + tp.partitions.length, 0); }
}

/** No partition is owned (assigned or pending revocation) by two members; returns assigned count. */
function checkExclusive(t: Test, mgr: ConsumerGroupManager): number {
  const seen = new Set<string>();
  let n = 0;
  for (const m of mgr.groups.get('g')!.members.values()) {
    for (const map of [m.assigned, m.pendingRevocation]) {
      for (const [tid, ps] of map) for (const p of ps) {
        const k = `${tid}:${p}`;
        t.notOk(seen.has(k), `${k} owned once`);
        seen.add(k);
      }
    }
    for (const ps of m.assigned.values()) n += ps.length;
  }
  return n;
}

/** Clients' owned partitions never overlap (what consumers actually fetch). */
function clientsExclusive(clients: Client[]): boolean {
  const seen = new Set<string>();
  for (const c of clients) for (const tp of c.owned) for (const p of tp.partitions) {
    const k = `${tp.topicId}:${p}`;
    if (seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

function converge(t: Test, mgr: ConsumerGroupManager, clients: Client[], rounds = 6) {
  for (let i = 0; i < rounds; i++) {
    for (const c of clients) {
      t.equal(c.hb().errorCode, ErrorCode.NONE);
      t.ok(clientsExclusive(clients), 'no two clients own one partition');
      checkExclusive(t, mgr);
    }
  }
}

t.test('three members on 12 partitions converge to 4 each, one epoch, Stable', async (t) => {
  const { mgr } = setup();
  const cs = ['a', 'b', 'c'].map((id) => new Client(mgr, id));
  converge(t, mgr, cs);
  t.same(cs.map((c) => c.count()), [4, 4, 4]);
  const g = mgr.groups.get('g')!;
  t.equal(g.state, 'Stable');
  t.equal(g.groupEpoch, 3);
  t.same(cs.map((c) => c.epoch), [3, 3, 3]);
  mgr.close();
});

t.test('a partition moves only after its owner acknowledges the revocation', async (t) => {
  const { mgr } = setup();
  const a = new Client(mgr, 'a');
  a.hb();
  t.equal(a.count(), 12);
  t.equal(a.epoch, 1);
  const b = new Client(mgr, 'b');
  const r = b.hb();
  t.equal(r.memberEpoch, 2, 'b joins at the new epoch');
  t.same(r.assignment, [], 'nothing free yet: a still owns all 12');
  t.equal(mgr.groups.get('g')!.members.get('b')!.state, 'UNRELEASED_PARTITIONS');
  t.equal(mgr.groups.get('g')!.state, 'Reconciling');
  // a heartbeats still owning everything: it is told its new (smaller) assignment, keeps epoch 1.
  const ra = a.mgr.heartbeat(a.req());
  t.equal(ra.memberEpoch, 1);
  t.equal(ra.assignment!.reduce((n, x) => n + x.partitions.length, 0), 6);
  t.equal(mgr.groups.get('g')!.members.get('a')!.state, 'UNREVOKED_PARTITIONS');
  // b still gets nothing while a has not acknowledged.
  t.same(b.hb().assignment, null);
  t.equal(b.count(), 0);
  // a acknowledges (owned = the 6 it keeps): it advances, the 6 are free.
  a.owned = ra.assignment!;
  a.hb();
  t.equal(a.epoch, 2);
  t.equal(b.hb().assignment!.reduce((n, x) => n + x.partitions.length, 0), 6);
  t.equal(mgr.groups.get('g')!.state, 'Stable');
  t.ok(clientsExclusive([a, b]));
  mgr.close();
});

t.test('leave (-1) frees partitions at once; the remaining members take them', async (t) => {
  const { mgr } = setup();
  const cs = ['a', 'b', 'c'].map((id) => new Client(mgr, id));
  converge(t, mgr, cs);
  const r = cs[1]!.hb({ memberEpoch: -1 });
  t.equal(r.errorCode, ErrorCode.NONE);
  t.equal(r.memberEpoch, -1);
  const rest = [cs[0]!, cs[2]!];
  converge(t, mgr, rest);
  t.same(rest.map((c) => c.count()), [6, 6]);
  t.equal(checkExclusive(t, mgr), 12);
  t.equal(mgr.heartbeat(cs[1]!.req({ memberEpoch: -1 })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  // A fourth member joins: 3/3/... every partition once.
  const d = new Client(mgr, 'd');
  converge(t, mgr, [...rest, d]);
  t.same([...rest, d].map((c) => c.count()), [4, 4, 4]);
  mgr.close();
});

t.test('session timeout fences a silent member; rebalance timeout fences one that does not revoke', async (t) => {
  const { mgr, clock } = setup({ sessionTimeoutMs: 45000 });
  const a = new Client(mgr, 'a');
  const b = new Client(mgr, 'b');
  converge(t, mgr, [a, b]);
  const epoch = mgr.groups.get('g')!.groupEpoch;
  // b falls silent; a keeps heartbeating every 5 s.
  for (let i = 0; i < 8; i++) { clock.advance(5000); a.hb(); }
  t.ok(mgr.groups.get('g')!.members.has('b'), 'still a member at 40 s');
  clock.advance(5000); a.hb();
  t.notOk(mgr.groups.get('g')!.members.has('b'), 'fenced after 45 s');
  t.equal(mgr.groups.get('g')!.groupEpoch, epoch + 1);
  a.hb();
  t.equal(a.count(), 12);
  t.equal(b.hb().errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

  // c joins; a heartbeats but never revokes (keeps reporting all 12).
  const c = new Client(mgr, 'c');
  c.hb();
  const stuck = a.owned;
  const r = mgr.heartbeat(a.req({ topicPartitions: stuck }));
  t.equal(mgr.groups.get('g')!.members.get('a')!.state, 'UNREVOKED_PARTITIONS');
  t.equal(r.assignment!.reduce((n, x) => n + x.partitions.length, 0), 6);
  for (let i = 0; i < 5; i++) { clock.advance(5000); mgr.heartbeat(a.req({ topicPartitions: stuck })); c.hb(); }
  t.equal(c.count(), 0, 'c waits for a');
  clock.advance(5001); c.hb();
  t.notOk(mgr.groups.get('g')!.members.has('a'), 'a fenced after its 30 s rebalance timeout');
  c.hb();
  t.equal(c.count(), 12);
  t.equal(mgr.heartbeat(a.req({ topicPartitions: stuck })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  mgr.close();
});

t.test('member epoch checks: FENCED_MEMBER_EPOCH, previous epoch accepted with a subset', async (t) => {
  const { mgr } = setup();
  const a = new Client(mgr, 'a');
  a.hb();
  t.equal(mgr.heartbeat(a.req({ memberEpoch: 5 })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  const b = new Client(mgr, 'b');
  b.hb();
  a.hb(); a.hb(); // a revokes and moves to epoch 2
  t.equal(a.epoch, 2);
  // Lost response: a retries with epoch 1 owning a subset of its assignment → accepted.
  const r = mgr.heartbeat(a.req({ memberEpoch: 1, topicPartitions: a.owned }));
  t.equal(r.errorCode, ErrorCode.NONE);
  t.equal(r.memberEpoch, 2);
  // Epoch 1 claiming partitions it does not have → fenced.
  t.equal(mgr.heartbeat(a.req({ memberEpoch: 1, topicPartitions: [{ topicId: 'id-orders', partitions: [...Array(12).keys()] }] })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  const rejoin = mgr.heartbeat(a.req({ memberEpoch: 0, rebalanceTimeoutMs: 30000, subscribedTopicNames: ['orders'], topicPartitions: [] }));
  t.equal(rejoin.errorCode, ErrorCode.NONE, 'rejoin with epoch 0 is accepted');
  t.equal(rejoin.memberEpoch, 3, 'a rejoin from scratch bumps the group epoch');
  t.same(rejoin.assignment, [{ topicId: 'id-orders', partitions: [0, 1, 2, 3, 4, 5] }], 'a released its partitions, so its sticky target is free again');
  t.equal(mgr.heartbeat({ ...a.req(), memberId: 'zz', memberEpoch: 3 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal(mgr.heartbeat({ ...a.req(), groupId: 'nope', memberEpoch: 3 }).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  mgr.close();
});

t.test('request validation', async (t) => {
  const { mgr } = setup();
  const a = new Client(mgr, 'a');
  const code = (over: Partial<HeartbeatInput>) => mgr.heartbeat(a.req(over)).errorCode;
  t.equal(code({ memberId: '' }), ErrorCode.INVALID_REQUEST);
  t.equal(code({ groupId: '' }), ErrorCode.INVALID_GROUP_ID);
  t.equal(code({ rebalanceTimeoutMs: -1 }), ErrorCode.INVALID_REQUEST);
  t.equal(code({ topicPartitions: null }), ErrorCode.INVALID_REQUEST);
  t.equal(code({ subscribedTopicNames: null }), ErrorCode.INVALID_REQUEST);
  t.equal(code({ subscribedTopicNames: null, subscribedTopicRegex: '' }), ErrorCode.NONE, 'empty regex = none (librdkafka sends it)');
  t.same(mgr.groups.get('g')!.members.get('a')!.subscribedTopicNames, []);
  t.equal(code({ memberId: 'b', subscribedTopicRegex: '' }), ErrorCode.NONE, 'names with an empty regex (librdkafka)');
  t.same(mgr.groups.get('g')!.members.get('b')!.subscribedTopicNames, ['orders']);
  t.equal(mgr.groups.get('g')!.members.get('b')!.subscribedTopicRegex, null);
  t.equal(code({ subscribedTopicNames: null, subscribedTopicRegex: '(' }), ErrorCode.INVALID_REGULAR_EXPRESSION);
  t.equal(code({ memberId: 'c', serverAssignor: 'sticky' }), ErrorCode.UNSUPPORTED_ASSIGNOR);
  t.equal(code({ memberEpoch: -3 }), ErrorCode.INVALID_REQUEST);
  const r = mgr.heartbeat(a.req({ apiVersion: 0, memberId: '' }));
  t.equal(r.errorCode, ErrorCode.NONE, 'v0: the coordinator generates the member id');
  t.ok(r.memberId && r.memberId.length > 0);
  mgr.close();
});

t.test('regex subscription follows topic creation; range assignor on request', async (t) => {
  const { mgr, topics } = setup();
  topics.add('logs-a', 2);
  topics.add('other', 5);
  const a = new Client(mgr, 'a', { regex: 'logs-.*', assignor: 'range' });
  const b = new Client(mgr, 'b', { regex: 'logs-.*', assignor: 'range' });
  converge(t, mgr, [a, b]);
  t.same(a.owned, [{ topicId: 'id-logs-a', partitions: [0] }]);
  t.same(b.owned, [{ topicId: 'id-logs-a', partitions: [1] }]);
  topics.add('logs-b', 2);
  converge(t, mgr, [a, b]);
  t.same(a.owned.map((x) => x.topicId).sort(), ['id-logs-a', 'id-logs-b']);
  t.equal(a.count() + b.count(), 4);
  t.equal(mgr.groups.get('g')!.preferredAssignor('uniform'), 'range');
  t.same([...mgr.subscribedTopicNames('g')].sort(), ['logs-a', 'logs-b']);
  // Partitions added to a subscribed topic are picked up too.
  topics.byName.get('logs-b')!.partitions = 4;
  converge(t, mgr, [a, b]);
  t.equal(a.count() + b.count(), 6);
  t.ok(compileTopicRegex('(?i)LOGS').test('logs'));
  t.notOk(compileTopicRegex('logs').test('xlogs'), 'whole-name match');
  mgr.close();
});

t.test('offset commit / fetch member checks', async (t) => {
  const { mgr } = setup();
  t.equal(mgr.validateOffsetCommit('g', 'a', 1, 9).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const a = new Client(mgr, 'a');
  a.hb();
  t.equal(mgr.validateOffsetCommit('g', 'a', 1, 9).errorCode, ErrorCode.NONE);
  t.equal(mgr.validateOffsetCommit('g', 'a', 2, 9).errorCode, ErrorCode.STALE_MEMBER_EPOCH, 'a newer epoch is refused outright');
  t.equal(mgr.validateOffsetCommit('g', 'a', 0, 9).check!('orders', 0), ErrorCode.STALE_MEMBER_EPOCH, 'an older one per partition (KIP-1251)');
  t.equal(mgr.validateOffsetCommit('g', 'x', 1, 9).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal(mgr.validateOffsetCommit('g', '', -1, 9).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'admin commit refused while members exist');
  t.equal(mgr.validateOffsetCommit('g', 'a', 1, 8).errorCode, ErrorCode.UNSUPPORTED_VERSION);
  t.equal(mgr.validateOffsetFetch('g', null, -1), ErrorCode.NONE);
  t.equal(mgr.validateOffsetFetch('g', 'a', 1), ErrorCode.NONE);
  t.equal(mgr.validateOffsetFetch('g', 'a', 7), ErrorCode.STALE_MEMBER_EPOCH);
  t.equal(mgr.validateOffsetFetch('g', 'x', 1), ErrorCode.UNKNOWN_MEMBER_ID);
  t.equal(mgr.delete('g'), ErrorCode.NON_EMPTY_GROUP);
  a.hb({ memberEpoch: -1 });
  t.equal(mgr.groups.get('g')!.state, 'Empty');
  t.equal(mgr.validateOffsetCommit('g', '', -1, 9).errorCode, ErrorCode.NONE);
  t.equal(mgr.delete('g'), ErrorCode.NONE);
  t.notOk(mgr.has('g'));
  mgr.close();
});

t.test('static membership: -2 keeps the partitions; a new member with the instance id takes them over without a rebalance', async (t) => {
  const { mgr, clock } = setup();
  const a = new Client(mgr, 'a');
  const s1 = new Client(mgr, 's1');
  a.hb();
  s1.hb({ instanceId: 'inst-1' });
  converge(t, mgr, [a, s1]);
  const g = mgr.groups.get('g')!;
  const epoch = g.groupEpoch;
  const held = s1.owned;
  t.equal(s1.count(), 6);
  t.equal(s1.hb({ memberEpoch: -2, instanceId: 'inst-1' }).memberEpoch, -2);
  t.ok(g.members.has('s1'), 'a static leave keeps the member');
  t.equal(g.groupEpoch, epoch, 'no rebalance');
  const s2 = new Client(mgr, 's2');
  const r = s2.hb({ instanceId: 'inst-1' });
  t.equal(r.errorCode, ErrorCode.NONE);
  t.equal(r.memberEpoch, epoch, 'continues at the old epoch');
  t.same(r.assignment, held, 'takes over the partitions');
  t.notOk(g.members.has('s1'));
  t.equal(g.groupEpoch, epoch, 'still no rebalance');
  t.equal(g.state, 'Stable');
  // A second member with a live instance id is refused.
  t.equal(new Client(mgr, 's3').hb({ instanceId: 'inst-1' }).errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
  // A static member that left and never came back is removed after the session timeout.
  s2.hb({ memberEpoch: -2, instanceId: 'inst-1' });
  for (let i = 0; i < 10; i++) { clock.advance(5000); a.hb(); }
  t.notOk(g.members.has('s2'));
  converge(t, mgr, [a]);
  t.equal(a.count(), 12);
  mgr.close();
});

t.test('KIP-1251 offset commits at an older member epoch: checked per partition against its assignment epoch', async (t) => {
  const { mgr } = setup();
  const a = new Client(mgr, 'a');
  a.hb();
  converge(t, mgr, [a], 2);
  const e1 = a.epoch;
  t.equal(a.count(), 12);
  const m = mgr.groups.get('g')!.members.get('a')!;
  t.same([...new Set(m.assignmentEpochs.values())], [e1], 'every partition given at the first epoch');

  // b joins: a must give up half of its partitions; it stays at e1 while it revokes.
  const b = new Client(mgr, 'b');
  b.hb();
  a.hb({ topicPartitions: a.owned }); // still reports everything: UNREVOKED_PARTITIONS
  t.equal(m.state, 'UNREVOKED_PARTITIONS');
  t.equal(a.epoch, e1);
  const revoking = [...m.pendingRevocation.get('id-orders')!];
  const kept = [...m.assigned.get('id-orders')!];
  t.equal(revoking.length, 6);
  converge(t, mgr, [a, b]);
  const e2 = a.epoch;
  t.ok(e2 > e1, 'a moved to a newer epoch');
  t.same([...m.assignmentEpochs.values()].every((e) => e === e1), true, 'kept partitions keep their assignment epoch');

  const check = (epoch: number, partitions: number[], topic = 'orders') => {
    const v = mgr.validateOffsetCommit('g', 'a', epoch, 9);
    if (v.errorCode !== ErrorCode.NONE || !v.check) return v.errorCode;
    for (const p of partitions) {
      const err = v.check(topic, p);
      if (err !== ErrorCode.NONE) return err;
    }
    return ErrorCode.NONE;
  };
  t.equal(mgr.validateOffsetCommit('g', 'a', e2, 9).check, null, 'current epoch: no per-partition check');
  t.equal(check(e2, kept), ErrorCode.NONE);
  t.equal(check(e1, kept), ErrorCode.NONE, 'older epoch accepted for partitions held since then');
  t.equal(check(e1, [revoking[0]!]), ErrorCode.STALE_MEMBER_EPOCH, 'a partition no longer the member\'s');
  t.equal(check(e1 - 1, kept), ErrorCode.STALE_MEMBER_EPOCH, 'an epoch older than the assignment');
  t.equal(check(e2 + 1, kept), ErrorCode.STALE_MEMBER_EPOCH, 'a newer epoch than the member\'s');
  t.equal(check(e1, kept, 'nope'), ErrorCode.STALE_MEMBER_EPOCH, 'an unknown topic');

  // b got its partitions at its own epoch: its first epoch is accepted later, earlier ones are not.
  const bEpoch = b.epoch;
  const bm = mgr.groups.get('g')!.members.get('b')!;
  const bParts = [...bm.assigned.get('id-orders')!];
  t.equal(bParts.length, 6);
  const c = new Client(mgr, 'c');
  c.hb();
  converge(t, mgr, [a, b, c]);
  t.ok(b.epoch > bEpoch);
  const vb = mgr.validateOffsetCommit('g', 'b', bEpoch, 9);
  const still = [...bm.assigned.get('id-orders')!];
  t.ok(still.every((p) => vb.check!('orders', p) === ErrorCode.NONE), 'b commits at the epoch it got its partitions');
  const vb0 = mgr.validateOffsetCommit('g', 'b', bEpoch - 1, 9);
  t.ok(still.every((p) => vb0.check!('orders', p) === ErrorCode.STALE_MEMBER_EPOCH), 'not before it');

  // Pending revocation: still the member's until it reports them gone.
  const d = new Client(mgr, 'd');
  d.hb();
  const aBefore = a.epoch;
  a.hb({ topicPartitions: a.owned });
  t.equal(m.state, 'UNREVOKED_PARTITIONS');
  const pend = [...m.pendingRevocation.get('id-orders')!];
  t.ok(pend.length > 0);
  const v = mgr.validateOffsetCommit('g', 'a', e1, 9);
  t.ok(pend.every((p) => v.check!('orders', p) === ErrorCode.NONE), 'partitions pending revocation accepted at their assignment epoch');
  t.equal(a.epoch, aBefore);
  mgr.close();
});

t.test('KIP-1251: a rejoin (epoch 0) starts afresh; a static leave resets assignment epochs to 0', async (t) => {
  const { mgr } = setup();
  const a = new Client(mgr, 'a');
  a.hb();
  converge(t, mgr, [a], 2);
  const m = mgr.groups.get('g')!.members.get('a')!;
  const e1 = a.epoch;
  // Fenced client rejoining with epoch 0 gives everything up; partitions come back at the new epoch.
  a.epoch = 0;
  a.hb();
  converge(t, mgr, [a], 2);
  t.ok(a.epoch > e1);
  t.ok([...m.assignmentEpochs.values()].every((e) => e === a.epoch));
  t.equal(mgr.validateOffsetCommit('g', 'a', e1, 9).check!('orders', 0), ErrorCode.STALE_MEMBER_EPOCH);

  const s = new Client(mgr, 's');
  s.hb({ instanceId: 'i1' });
  converge(t, mgr, [a, s]);
  const sm = mgr.groups.get('g')!.members.get('s')!;
  t.ok(sm.assignmentEpochs.size > 0);
  s.hb({ memberEpoch: -2, instanceId: 'i1' });
  t.ok([...sm.assignmentEpochs.values()].every((e) => e === 0), 'reset to 0 on a static leave');
  mgr.close();
});
