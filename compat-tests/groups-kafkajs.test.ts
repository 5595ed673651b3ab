// Unmodified kafkajs 2.2.4 consumer groups against a gregor process: three consumers share a
// 12-partition topic; one leaves, one crashes (a child process, SIGKILLed), one joins; every record is
// consumed, duplicates only from the crashed member's uncommitted window; committed offsets survive a
// broker restart; seek, pause/resume; admin list/describe/delete groups, fetch/set/reset offsets.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGregor, type GregorProcess } from './support/gregor-process.ts';
import { kafkajs, tempDir, waitFor } from './support/clients.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOPIC = 'orders';
const GROUP = 'compat-group';
const PARTITIONS = 12;
const consumerOpts = { groupId: GROUP, sessionTimeout: 6000, rebalanceTimeout: 10000, heartbeatInterval: 300, maxWaitTimeInMs: 100 };

const data = tempDir('gregor-compat-groups-');
let g: GregorProcess = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
t.teardown(async () => { await g.stop(); data.remove(); });

type Seen = { who: string; partition: number; offset: number };

/** A kafkajs consumer in a child process printing "partition offset" per message (commits as kafkajs does). */
function childConsumer(bootstrap: string): { child: ChildProcess; seen: Seen[]; ready: Promise<void> } {
  const code = `
    const { Kafka, logLevel } = require('kafkajs');
    const kafka = new Kafka({ clientId: 'child', brokers: [${JSON.stringify(bootstrap)}], logLevel: logLevel.NOTHING });
    const c = kafka.consumer(${JSON.stringify(consumerOpts)});
    c.on(c.events.GROUP_JOIN, () => process.stdout.write('JOINED\\n'));
    (async () => {
      await c.connect();
      await c.subscribe({ topic: ${JSON.stringify(TOPIC)}, fromBeginning: true });
      await c.run({ eachMessage: async ({ partition, message }) => { process.stdout.write(partition + ' ' + message.offset + '\\n'); } });
    })();`;
  const child = spawn(process.execPath, ['-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: Seen[] = [];
  let buf = '';
  let joined!: () => void;
  const ready = new Promise<void>((r) => { joined = r; });
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'JOINED') joined();
      else {
        const [p, o] = line.split(' ').map(Number);
        seen.push({ who: 'C', partition: p!, offset: o! });
      }
    }
  });
  return { child, seen, ready };
}

t.test('three consumers; one leaves, one crashes, one joins; nothing skipped; commits survive a restart', async (t) => {
  const kafka = kafkajs(g.bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  let produced = 0;
  const produce = async (n: number) => {
    const messages = Array.from({ length: n }, () => ({ key: `k${produced}`, value: `v${produced++}` }));
    await producer.send({ topic: TOPIC, messages });
  };

  const seen: Seen[] = [];
  const inProcess = (who: string) => {
    const c = kafka.consumer(consumerOpts);
    const joined = new Promise<void>((r) => c.on(c.events.GROUP_JOIN, () => r()));
    return {
      c, joined,
      start: async () => {
        await c.connect();
        await c.subscribe({ topic: TOPIC, fromBeginning: true });
        await c.run({ eachMessage: async ({ partition, message }) => { seen.push({ who, partition, offset: Number(message.offset) }); } });
      },
    };
  };

  const a = inProcess('A');
  const b = inProcess('B');
  const child = childConsumer(g.bootstrap);
  t.teardown(() => { child.child.kill('SIGKILL'); });
  await Promise.all([a.start(), b.start()]);
  await Promise.all([a.joined, b.joined, child.ready]);
  await waitFor('a Stable group of three', async () => {
    const d = (await admin.describeGroups([GROUP])).groups[0]!;
    return d.state === 'Stable' && d.members.length === 3 && d.members.every((m) => m.memberAssignment.length > 0);
  }, 30000, 100);
  await produce(600);
  const all = () => [...seen, ...child.seen];
  const distinct = () => new Set(all().map((s) => `${s.partition}:${s.offset}`)).size;
  await waitFor('the first 600 records', () => distinct() >= 600, 30000);
  const owners = new Set(all().map((s) => s.who));
  t.same([...owners].sort(), ['A', 'B', 'C'], 'all three consumers got partitions');

  // A leaves cleanly (LeaveGroup); more records.
  await a.c.disconnect();
  await produce(300);
  await waitFor('records after A left', () => distinct() >= 900, 30000);

  // C crashes: no LeaveGroup; its partitions move after its session timeout.
  child.child.kill('SIGKILL');
  await new Promise((r) => child.child.once('exit', r));
  await produce(300);
  // D joins.
  const d = inProcess('D');
  await d.start();
  await produce(300);
  await waitFor('every record after the crash', () => distinct() >= 1500, 60000);

  const byKey = new Map<string, Seen[]>();
  for (const s of all()) {
    const k = `${s.partition}:${s.offset}`;
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  t.equal(byKey.size, produced, 'every produced record consumed, none skipped');
  const offsetsPerPartition = await admin.fetchTopicOffsets(TOPIC);
  t.equal(offsetsPerPartition.reduce((n, p) => n + Number(p.high), 0), produced);
  const dups = [...byKey.values()].filter((v) => v.length > 1);
  t.ok(dups.every((v) => v.some((x) => x.who === 'C')), `duplicates (${dups.length}) only for records the crashed member had not committed`);

  await b.c.disconnect();
  await d.c.disconnect();
  const before = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const committed = before[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
  t.equal(committed, produced, 'the group committed everything it consumed');

  // Restart the broker on the same data dir: the commits are still there.
  await g.stop();
  g = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  const kafka2 = kafkajs(g.bootstrap);
  const admin2 = kafka2.admin();
  await admin2.connect();
  t.teardown(() => admin2.disconnect());
  const after = await admin2.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  t.same(after, before, 'committed offsets survive the restart');
  const groups = await admin2.listGroups();
  t.ok(groups.groups.some((x) => x.groupId === GROUP && x.protocolType === 'consumer'), 'listGroups');
  const described = await admin2.describeGroups([GROUP]);
  t.equal(described.groups[0]!.state, 'Empty');

  // A new consumer of the group resumes from the commits: only new records arrive.
  const producer2 = kafka2.producer();
  await producer2.connect();
  t.teardown(() => producer2.disconnect());
  await producer2.send({ topic: TOPIC, messages: [{ key: 'after', value: 'restart' }] });
  const e = kafka2.consumer(consumerOpts);
  const got: string[] = [];
  await e.connect();
  await e.subscribe({ topic: TOPIC, fromBeginning: true });
  await e.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()); } });
  await waitFor('the record produced after the restart', () => got.length >= 1, 30000);
  t.same(got, ['restart'], 'nothing consumed twice after the restart');

  // Admin offsets: resetOffsets / setOffsets on the (now empty) group, then delete it.
  await e.disconnect();
  await admin2.resetOffsets({ groupId: GROUP, topic: TOPIC, earliest: true });
  // kafkajs commits the EARLIEST sentinel (−2) and resolves it when consuming; Kafka stores it as given.
  t.ok((await admin2.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0]!.partitions.every((p) => p.offset === '-2'), 'resetOffsets earliest');
  await admin2.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 3, offset: '7' }] });
  const set = (await admin2.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0]!.partitions.find((p) => p.partition === 3);
  t.equal(set?.offset, '7', 'setOffsets');
  await admin2.deleteGroups([GROUP]);
  t.notOk((await admin2.listGroups()).groups.some((x) => x.groupId === GROUP), 'deleteGroups');
  const gone = await admin2.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  t.ok(gone[0]!.partitions.every((p) => p.offset === '-1'), 'a deleted group has no offsets');
});

t.test('seek, pause and resume', async (t) => {
  const kafka = kafkajs(g.bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'pausable', numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const send = (partition: number, values: string[]) => producer.send({ topic: 'pausable', messages: values.map((value) => ({ value, partition })) });
  await send(0, ['a0', 'a1', 'a2', 'a3']);
  await send(1, ['b0']);
  const c = kafka.consumer({ ...consumerOpts, groupId: 'pause-group' });
  const got: Array<[number, number, string]> = [];
  await c.connect();
  t.teardown(() => c.disconnect());
  await c.subscribe({ topic: 'pausable', fromBeginning: true });
  await c.run({ eachMessage: async ({ partition, message }) => { got.push([partition, Number(message.offset), message.value!.toString()]); } });
  await waitFor('initial records', () => got.length >= 5, 30000);
  c.seek({ topic: 'pausable', partition: 0, offset: '2' });
  await waitFor('records again after seek', () => got.filter(([p]) => p === 0).length >= 6, 30000);
  t.same(got.filter(([p]) => p === 0).slice(4).map(([, o]) => o), [2, 3], 'seek(2) re-reads from offset 2');

  c.pause([{ topic: 'pausable', partitions: [0] }]);
  await send(0, ['a4']);
  await send(1, ['b1']);
  await waitFor('partition 1 keeps flowing', () => got.some(([, , v]) => v === 'b1'), 30000);
  t.notOk(got.some(([, , v]) => v === 'a4'), 'paused partition 0 delivered nothing');
  c.resume([{ topic: 'pausable', partitions: [0] }]);
  await waitFor('partition 0 after resume', () => got.some(([, , v]) => v === 'a4'), 30000);
  t.pass('resumed');
});
