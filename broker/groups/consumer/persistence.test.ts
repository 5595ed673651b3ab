// KIP-848 consumer groups in `__consumer_offsets`: the records written for joins, reconciliation, leaves,
// fencing and deletion (Kafka's ConsumerGroup* keys 3-8), and a manager rebuilt from them ("restart")
// that carries on with the same epochs, members and assignments.
import t from 'tap';
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import { type ConsumerGroupKey, decodeCurrentAssignmentValue, decodeEpochValue, decodeKey, decodeMemberValue, decodeTargetMemberValue } from '../records.ts';
import { ConsumerGroupManager, type ConsumerGroupRecord, type HeartbeatInput, type TopicPartitionsList, type TopicView } from './group.ts';
import { ManualClock } from '../../../storage/clock.ts';
import { StorageError } from '../../../storage/index.ts';


// Topic ids in Kafka's textual form (the records carry them as 16-byte UUIDs).
const ORDERS = 'AAAAAAAAAAAAAAAAAAAAAQ';
const EVENTS = 'AAAAAAAAAAAAAAAAAAAAAg';

class Topics implements TopicView {
  list = [{ name: 'orders', topicId: ORDERS, partitions: 6 }, { name: 'events', topicId: EVENTS, partitions: 2 }];
  get(name: string) { return this.list.find((x) => x.name === name); }
  getById(id: string) { return this.list.find((x) => x.topicId === id); }
  all() { return this.list; }
}

interface Written { groupId: string; key: ConsumerGroupKey; value: Buffer | null; raw: ConsumerGroupRecord }

function setup(opts: { fail?: () => boolean } = {}) {
  const clock = new ManualClock();
  const topics = new Topics();
  const log: Written[] = [];
  const persist = async (groupId: string, records: ConsumerGroupRecord[]) => {
    if (opts.fail?.()) throw new StorageError('KAFKA_STORAGE_ERROR', 'disk');
    for (const r of records) log.push({ groupId, key: decodeKey(r.key) as ConsumerGroupKey, value: r.value, raw: r });
  };
  const mgr = new ConsumerGroupManager({ clock, topics, persist });
  return { clock, topics, log, mgr };
}

/** A new manager rebuilt from the records (what a restart does). */
function restart(log: Written[], clock = new ManualClock()) {
  const mgr = new ConsumerGroupManager({ clock, topics: new Topics(), persist: async () => {} });
  for (const w of log) mgr.replay(w.key, w.value);
  mgr.finishLoading();
  return { mgr, clock };
}

class Client {
  epoch = 0;
  owned: TopicPartitionsList[] = [];
  readonly mgr: ConsumerGroupManager;
  readonly id: string;
  readonly instanceId: string | null;
  constructor(mgr: ConsumerGroupManager, id: string, instanceId: string | null = null) { this.mgr = mgr; this.id = id; this.instanceId = instanceId; }
  hb(over: Partial<HeartbeatInput> = {}) {
    const join = this.epoch === 0;
    const r = this.mgr.heartbeat({
      groupId: 'g', memberId: this.id, memberEpoch: this.epoch, instanceId: this.instanceId, rackId: null,
      rebalanceTimeoutMs: join ? 30000 : -1, subscribedTopicNames: join ? ['orders', 'missing'] : null, subscribedTopicRegex: join ? 'ev.*' : null,
      serverAssignor: null, topicPartitions: join ? [] : this.owned, clientId: `client-${this.id}`, clientHost: '/10.0.0.1', apiVersion: 1, ...over,
    });
    if (r.errorCode === ErrorCode.NONE) {
      this.epoch = r.memberEpoch;
      if (r.assignment) this.owned = r.assignment;
    }
    return r;
  }
  settle() { for (let i = 0; i < 4; i++) this.hb(); }
}

const stateOf = (mgr: ConsumerGroupManager) => {
  const g = mgr.groups.get('g');
  if (!g) return null;
  return {
    groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch, state: g.state,
    subscriptionMetadata: [...g.subscriptionMetadata].sort(),
    target: [...g.target].map(([m, a]) => [m, [...a].sort()]).sort(),
    partitionEpochs: [...g.partitionEpochs].sort(),
    members: [...g.members.values()].map((m) => ({
      id: m.memberId, epoch: m.memberEpoch, prev: m.previousMemberEpoch, state: m.state, instanceId: m.instanceId, clientId: m.clientId,
      clientHost: m.clientHost, names: m.subscribedTopicNames, regex: m.subscribedTopicRegex, rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      assigned: [...m.assigned].sort(), pending: [...m.pendingRevocation].sort(),
    })).sort((a, b) => a.id.localeCompare(b.id)),
  };
};

t.test('records of a join, in Kafka\'s order and formats', async (t) => {
  const { mgr, log } = setup();
  const a = new Client(mgr, 'a');
  a.hb();
  await mgr.written('g');
  t.same(log.map((w) => w.key.type), ['cg-member', 'cg-metadata', 'cg-partition-metadata', 'cg-target-member', 'cg-target-metadata', 'cg-current-assignment']);
  t.same(log[0].raw.key.readInt16BE(0), 5, 'member key: record type 5');
  t.same(decodeMemberValue(log[0].value!), {
    instanceId: null, rackId: null, clientId: 'client-a', clientHost: '/10.0.0.1', subscribedTopicNames: ['missing', 'orders'],
    subscribedTopicRegex: 'ev.*', rebalanceTimeoutMs: 30000, serverAssignor: null,
  });
  t.equal(decodeEpochValue(log[1].value!), 1, 'group epoch');
  t.same(decodeTargetMemberValue(log[3].value!).map((x) => [x.topicId, x.partitions]).sort(), [[ORDERS, [0, 1, 2, 3, 4, 5]], [EVENTS, [0, 1]]]);
  t.same(decodeCurrentAssignmentValue(log[5].value!).memberEpoch, 1);
  const n = log.length;
  a.hb();
  await mgr.written('g');
  t.equal(log.length, n, 'a heartbeat that changes nothing writes nothing');
});

t.test('a restart keeps the epoch, members, assignments and reconciliation state; members carry on', async (t) => {
  const { mgr, log } = setup();
  const a = new Client(mgr, 'a');
  const b = new Client(mgr, 'b');
  a.hb(); a.settle();
  b.hb(); // b joins: a must revoke half; b waits for them
  a.hb({ topicPartitions: a.owned }); // a has not revoked yet: UNREVOKED_PARTITIONS
  await mgr.written('g');
  const before = stateOf(mgr);
  t.ok(before!.members.some((m) => m.state !== 'STABLE'), 'mid-reconciliation');
  const r = restart(log);
  t.same(stateOf(r.mgr), before, 'same state after replay');
  t.equal(r.mgr.groups.get('g')!.state, mgr.groups.get('g')!.state);
  // The clients continue against the restarted coordinator with their epochs.
  const a2 = Object.assign(new Client(r.mgr, 'a'), { epoch: a.epoch, owned: a.owned });
  const b2 = Object.assign(new Client(r.mgr, 'b'), { epoch: b.epoch, owned: b.owned });
  for (let i = 0; i < 4; i++) {
    t.equal(a2.hb().errorCode, ErrorCode.NONE);
    t.equal(b2.hb().errorCode, ErrorCode.NONE);
  }
  t.equal(r.mgr.groups.get('g')!.state, 'Stable');
  t.same([a2.owned, b2.owned].map((o) => o.reduce((n, tp) => n + tp.partitions.length, 0)).sort(), [4, 4], 'reconciled after the restart');
  t.equal(a2.epoch, b2.epoch);
  t.equal(r.mgr.validateOffsetCommit('g', 'a', a2.epoch, 9).errorCode, ErrorCode.NONE, 'offset commits with the member epoch work');
});

t.test('after a restart, a member that does not come back is fenced by its session timeout (tombstones written)', async (t) => {
  const { mgr, log } = setup();
  const a = new Client(mgr, 'a');
  const b = new Client(mgr, 'b');
  a.hb(); b.hb(); a.settle(); b.settle();
  await mgr.written('g');
  const clock = new ManualClock();
  const written: Written[] = [...log];
  const r = new ConsumerGroupManager({
    clock, topics: new Topics(),
    persist: async (groupId, recs) => { for (const x of recs) written.push({ groupId, key: decodeKey(x.key) as ConsumerGroupKey, value: x.value, raw: x }); },
  });
  for (const w of log) r.replay(w.key, w.value);
  r.finishLoading();
  const a2 = Object.assign(new Client(r, 'a'), { epoch: a.epoch, owned: a.owned });
  clock.advance(20_000);
  a2.hb();
  clock.advance(30_000); // b's 45 s session runs from the load
  t.same([...r.groups.get('g')!.members.keys()], ['a'], 'b fenced');
  await r.written('g');
  const tail = written.slice(log.length).filter((w) => 'member' in w.key && w.key.member === 'b');
  t.same(tail.map((w) => [w.key.type, w.value]), [['cg-current-assignment', null], ['cg-target-member', null], ['cg-member', null]], 'b\'s tombstones');
  a2.settle();
  t.equal(a2.owned.reduce((n, tp) => n + tp.partitions.length, 0), 8, 'a takes everything');
  // And that state survives another restart.
  t.same(stateOf(restart(written).mgr), stateOf(r));
});

t.test('static member left with −2 survives a restart and is replaced without a rebalance', async (t) => {
  const { mgr, log } = setup();
  const a = new Client(mgr, 'a', 'inst-a');
  a.hb(); a.settle();
  const epoch = a.epoch;
  const owned = a.owned;
  a.hb({ memberEpoch: -2 });
  await mgr.written('g');
  const { mgr: m2 } = restart(log);
  t.equal(m2.groups.get('g')!.members.get('a')!.memberEpoch, -2);
  const a2 = new Client(m2, 'a-new', 'inst-a');
  const res = a2.hb();
  t.equal(res.errorCode, ErrorCode.NONE);
  t.equal(res.memberEpoch, epoch, 'the replacement continues with the old epoch');
  t.same(res.assignment, owned, 'and the old assignment');
  t.equal(m2.groups.get('g')!.groupEpoch, mgr.groups.get('g')!.groupEpoch, 'no rebalance');
});

t.test('leaving and deleting write tombstones; a deleted group does not come back', async (t) => {
  const { mgr, log } = setup();
  const a = new Client(mgr, 'a');
  a.hb(); a.settle();
  a.hb({ memberEpoch: -1 });
  await mgr.written('g');
  t.equal(restart(log).mgr.groups.get('g')?.state, 'Empty', 'an empty group stays');
  t.equal(mgr.delete('g'), ErrorCode.NONE);
  await mgr.written('g');
  t.same(log.slice(-3).map((w) => [w.key.type, w.value]), [['cg-target-metadata', null], ['cg-partition-metadata', null], ['cg-metadata', null]]);
  t.equal(restart(log).mgr.groups.get('g'), undefined);
});

t.test('a failed write is reported and the next change rewrites the group in full', async (t) => {
  let failing = false;
  const { mgr, log } = setup({ fail: () => failing });
  const a = new Client(mgr, 'a');
  a.hb(); a.settle();
  await mgr.written('g');
  failing = true;
  const b = new Client(mgr, 'b');
  b.hb();
  await t.rejects(mgr.written('g'), { code: ErrorCode.KAFKA_STORAGE_ERROR });
  failing = false;
  a.hb();
  b.hb();
  await mgr.written('g');
  t.same(stateOf(restart(log).mgr), stateOf(mgr), 'the log has the whole state again');
});
