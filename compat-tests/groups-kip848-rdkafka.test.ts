// Unmodified node-rdkafka (librdkafka 2.12) with the KIP-848 consumer protocol (`group.protocol=consumer`:
// ConsumerGroupHeartbeat v1, server-side assignor, topic ids from assignments, Metadata v12 by id,
// OffsetCommit/OffsetFetch with member epochs) against a gregor process: three consumers on 12
// partitions; one leaves, one joins, one crashes (SIGKILL: fenced after the session timeout); every record consumed, no partition consumed twice past a committed
// offset except across the leave (auto-commit window); the group as ConsumerGroupDescribe and ListGroups show it; committed offsets.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { RawClient } from '../broker/testing/raw-client.ts';
import { startGregor } from './support/gregor-process.ts';
import { Rdkafka, RdProducer, advertisedApis, makeRecords, rdConnect, rdDisconnect, rdProduceAll, waitFor } from './support/clients.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOPIC = 'kip848-orders';
const GROUP = 'kip848-group';
const PARTITIONS = 12;
const conf = (bootstrap: string) => ({
  'metadata.broker.list': bootstrap, 'group.id': GROUP, 'group.protocol': 'consumer',
  'enable.auto.commit': true, 'auto.commit.interval.ms': 100, 'fetch.wait.max.ms': 100, rebalance_cb: true,
});

const g = await startGregor({ overrides: { 'num.partitions': String(PARTITIONS), 'group.consumer.heartbeat.interval.ms': '500', 'group.consumer.min.heartbeat.interval.ms': '500', 'group.consumer.session.timeout.ms': '6000', 'group.consumer.min.session.timeout.ms': '6000' } });
t.teardown(() => g.stop());

type Seen = { who: string; partition: number; offset: number };

t.test('advertised', async (t) => {
  const apis = await advertisedApis(g.port);
  t.equal(apis.get(68), 1, 'ConsumerGroupHeartbeat v0-1');
  t.equal(apis.get(69), 1, 'ConsumerGroupDescribe v0-1');
});

t.test('group.protocol=consumer: three consumers; one leaves, one joins; every record consumed', async (t) => {
  const seen: Seen[] = [];
  const consumers: any[] = [];
  t.teardown(() => Promise.all(consumers.map((c) => rdDisconnect(c))));
  const owned = new Map<string, Set<number>>();
  const start = async (who: string) => {
    const c = new Rdkafka.KafkaConsumer(conf(g.bootstrap), { 'auto.offset.reset': 'earliest' });
    owned.set(who, new Set());
    c.on('data', (m: any) => seen.push({ who, partition: m.partition, offset: m.offset }));
    c.on('rebalance', (err: any, a: any[]) => {
      const mine = owned.get(who)!;
      if (err.code === Rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) { for (const x of a) mine.add(x.partition); c.incrementalAssign(a); }
      else { for (const x of a) mine.delete(x.partition); c.incrementalUnassign(a); }
    });
    await rdConnect(c);
    c.subscribe([TOPIC]);
    c.consume();
    consumers.push(c);
    return c;
  };
  const producer = new RdProducer(g.bootstrap);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  let n = 0;
  const produce = async (count: number) => {
    await rdProduceAll(producer, TOPIC, makeRecords(count, { source: `k${n}`, keys: 100 }));
    n += count;
  };
  await produce(12); // creates the topic (12 partitions)
  const distinct = () => new Set(seen.map((s) => `${s.partition}:${s.offset}`)).size;
  const total = () => [...owned.values()].reduce((k, s) => k + s.size, 0);
  const exclusive = () => {
    const all = [...owned.values()].flatMap((s) => [...s]);
    return new Set(all).size === all.length;
  };

  const a = await start('A');
  const b = await start('B');
  const c = await start('C');
  await waitFor(`A, B, C own 4 partitions each (${[...owned.values()].map((s) => s.size)})`, () => [...owned.values()].every((s) => s.size === 4), 30000);
  t.ok(exclusive(), 'no partition owned twice');
  await produce(588);
  await waitFor(`600 records (has ${distinct()})`, () => distinct() >= 600, 60000);
  t.same([...new Set(seen.map((s) => s.who))].sort(), ['A', 'B', 'C'], 'all three consumed');

  await rdDisconnect(b); // leaves the group (ConsumerGroupHeartbeat epoch -1)
  owned.delete('B');
  await waitFor(`A and C take B's partitions (${[...owned.values()].map((s) => s.size)})`, () => total() === 12 && exclusive(), 30000);
  await produce(300);
  await waitFor(`records after B left (has ${distinct()})`, () => distinct() >= 900, 60000);
  await start('D');
  await waitFor(`A, C, D own 4 each (${[...owned.values()].map((s) => s.size)})`, () => [...owned.values()].every((s) => s.size === 4), 30000);
  t.ok(exclusive(), 'no partition owned twice after D joined');
  await produce(300);
  await waitFor(`every record (has ${distinct()})`, () => distinct() >= n, 60000);
  t.equal(distinct(), n, 'every produced record consumed, none skipped');
  t.ok(seen.some((s) => s.who === 'D'), 'D consumed');

  // A consumer in a child process joins, takes its share, and is SIGKILLed: after the session timeout
  // it is fenced and the others take its partitions; every record is still consumed.
  const code = `
    const Rd = require('node-rdkafka');
    const c = new Rd.KafkaConsumer(${JSON.stringify(conf(g.bootstrap))}, { 'auto.offset.reset': 'earliest' });
    c.on('rebalance', (err, a) => {
      if (err.code === Rd.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) { c.incrementalAssign(a); if (a.length) process.stdout.write('ASSIGNED\\n'); }
      else c.incrementalUnassign(a);
    });
    c.on('data', (m) => process.stdout.write(m.partition + ' ' + m.offset + '\\n'));
    c.connect({}, () => { c.subscribe([${JSON.stringify(TOPIC)}]); c.consume(); });`;
  const child = spawn(process.execPath, ['-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  let childAssigned = false;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ASSIGNED') childAssigned = true;
      else { const [p, o] = line.split(' ').map(Number); seen.push({ who: 'E', partition: p!, offset: o! }); }
    }
  });
  await waitFor('the child consumer gets partitions', () => childAssigned && total() < 12, 30000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  await produce(300);
  await waitFor(`A, C, D own all 12 again after the session timeout (${[...owned.values()].map((s) => s.size)})`, () => total() === 12 && exclusive(), 30000);
  await waitFor(`every record after the crash (has ${distinct()})`, () => distinct() >= n, 60000);
  t.equal(distinct(), n, 'every record consumed after the crash');

  // The group as ConsumerGroupDescribe and ListGroups show it (node-rdkafka 3.6 exposes neither: raw
  // requests), and the offsets librdkafka committed with its member epoch (OffsetCommit v9).
  const raw = await RawClient.connect(g.port);
  t.teardown(() => raw.close());
  await waitFor('offsets committed', async () => {
    const f = await raw.request(9, 9, { groups: [{ groupId: GROUP, memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [...Array(PARTITIONS).keys()] }] }], requireStable: false });
    return f.groups[0].topics[0].partitions.reduce((k: number, p: any) => k + Number(p.committedOffset), 0) === n;
  }, 20000);
  const d = await raw.request(69, 1, { groupIds: [GROUP], includeAuthorizedOperations: false });
  const dg = d.groups[0];
  t.equal(dg.errorCode, 0);
  t.equal(dg.groupState, 'Stable');
  t.equal(dg.assignorName, 'uniform');
  t.equal(dg.members.length, 3);
  t.ok(dg.members.every((m: any) => m.memberEpoch === dg.assignmentEpoch && m.memberType === 1 && m.subscribedTopicNames[0] === TOPIC));
  t.same(dg.members.map((m: any) => m.assignment.topicPartitions[0].partitions.length), [4, 4, 4]);
  const l = await raw.request(16, 5, { statesFilter: [], typesFilter: [] });
  t.same(l.groups.filter((x: any) => x.groupId === GROUP).map((x: any) => [x.protocolType, x.groupState, x.groupType]), [['consumer', 'Stable', 'consumer']]);
  t.equal([a, c].length, 2);
});

t.test('group.protocol=consumer with a regex subscription: matching topics only, a new matching topic joins', async (t) => {
  const producer = new RdProducer(g.bootstrap);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await rdProduceAll(producer, 'rx-a', makeRecords(20, { source: 'rx-a', keys: 20 }));
  await rdProduceAll(producer, 'rx-other', makeRecords(20, { source: 'rx-other', keys: 20 }));
  const seen = new Set<string>();
  const c = new Rdkafka.KafkaConsumer({ ...conf(g.bootstrap), 'group.id': 'kip848-regex', 'topic.metadata.refresh.interval.ms': 1000 }, { 'auto.offset.reset': 'earliest' });
  t.teardown(() => rdDisconnect(c));
  c.on('rebalance', (err: any, a: any[]) => (err.code === Rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS ? c.incrementalAssign(a) : c.incrementalUnassign(a)));
  c.on('data', (m: any) => seen.add(`${m.topic}:${m.partition}:${m.offset}`));
  await rdConnect(c);
  c.subscribe(['^rx-[ab]$']);
  c.consume();
  await waitFor(`rx-a's 20 records (has ${seen.size})`, () => seen.size >= 20, 30000);
  await rdProduceAll(producer, 'rx-b', makeRecords(20, { source: 'rx-b', keys: 20 }));
  await waitFor(`rx-b's 20 records too (has ${seen.size})`, () => seen.size >= 40, 30000);
  t.equal(seen.size, 40);
  t.notOk([...seen].some((s) => s.startsWith('rx-other:')), 'the non-matching topic is not consumed');
});

t.test('group.protocol=consumer static member: close leaves with epoch -2, a new consumer with the instance id takes over', async (t) => {
  const producer = new RdProducer(g.bootstrap);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await rdProduceAll(producer, 'kip848-static', makeRecords(20, { source: 's1', keys: 20 }));
  const seen = new Set<string>();
  const make = () => {
    const c = new Rdkafka.KafkaConsumer({ ...conf(g.bootstrap), 'group.id': 'kip848-static', 'group.instance.id': 'inst-1' }, { 'auto.offset.reset': 'earliest' });
    c.on('rebalance', (err: any, a: any[]) => (err.code === Rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS ? c.incrementalAssign(a) : c.incrementalUnassign(a)));
    c.on('data', (m: any) => seen.add(`${m.partition}:${m.offset}`));
    return c;
  };
  const raw = await RawClient.connect(g.port);
  t.teardown(() => raw.close());
  const members = async () => (await raw.request(69, 1, { groupIds: ['kip848-static'], includeAuthorizedOperations: false })).groups[0].members
    .map((m: any) => ({ memberId: m.memberId, instanceId: m.instanceId, epoch: m.memberEpoch }));
  const first = make();
  await rdConnect(first);
  first.subscribe(['kip848-static']);
  first.consume();
  await waitFor(`20 records (has ${seen.size})`, () => seen.size >= 20, 30000);
  await waitFor('offsets committed', async () => {
    const f = await raw.request(9, 9, { groups: [{ groupId: 'kip848-static', memberId: null, memberEpoch: -1, topics: [{ name: 'kip848-static', partitionIndexes: [...Array(PARTITIONS).keys()] }] }], requireStable: false });
    return f.groups[0].topics[0].partitions.reduce((k: number, p: any) => k + Math.max(0, Number(p.committedOffset)), 0) === 20;
  }, 20000);
  const before = await members();
  await rdDisconnect(first);
  const left = await members();
  t.same(left.map((m: any) => [m.memberId, m.instanceId, m.epoch]), [[before[0].memberId, 'inst-1', -2]], 'the static member stays with epoch -2');
  const second = make();
  t.teardown(() => rdDisconnect(second));
  await rdConnect(second);
  second.subscribe(['kip848-static']);
  second.consume();
  await rdProduceAll(producer, 'kip848-static', makeRecords(20, { source: 's2', keys: 20 }));
  await waitFor(`40 records (has ${seen.size})`, () => seen.size >= 40, 30000);
  const after = await members();
  t.equal(after.length, 1);
  t.not(after[0].memberId, before[0].memberId, 'a new member id');
  t.equal(after[0].epoch, before[0].epoch, 'same epoch: no rebalance');
  t.equal(seen.size, 40);
});
