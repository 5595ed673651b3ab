// Unmodified node-rdkafka (librdkafka) consumer groups with the cooperative-sticky assignor (classic
// protocol, incremental rebalances) against a gregor process: three consumers on 12 partitions; one
// leaves, one crashes (child process, SIGKILL), one joins; every record consumed, duplicates only from the
// crashed member; committed offsets survive a broker restart (read back by a fresh consumer's committed()).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGregor, type GregorProcess } from './support/gregor-process.ts';
import { Rdkafka, RdProducer, rdConnect, rdDisconnect, rdProduceAll, makeRecords, tempDir, waitFor } from './support/clients.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOPIC = 'rd-orders';
const GROUP = 'rd-group';
const PARTITIONS = 12;
const conf = (bootstrap: string) => ({
  'metadata.broker.list': bootstrap, 'group.id': GROUP, 'partition.assignment.strategy': 'cooperative-sticky',
  'enable.auto.commit': true, 'auto.commit.interval.ms': 100, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 300,
  'fetch.wait.max.ms': 100, rebalance_cb: true,
});

const data = tempDir('gregor-compat-rdgroups-');
let g: GregorProcess = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': String(PARTITIONS) } });
t.teardown(async () => { await g.stop(); data.remove(); });

type Seen = { who: string; partition: number; offset: number };

function childConsumer(bootstrap: string): { child: ChildProcess; seen: Seen[]; assigned: Promise<void> } {
  const code = `
    const Rd = require('node-rdkafka');
    const c = new Rd.KafkaConsumer(${JSON.stringify(conf(bootstrap))}, { 'auto.offset.reset': 'earliest' });
    c.on('data', (m) => process.stdout.write(m.partition + ' ' + m.offset + '\\n'));
    c.on('rebalance', (err, a) => { if (err.code === Rd.CODES.ERRORS.ERR__ASSIGN_PARTITIONS && a.length) process.stdout.write('ASSIGNED\\n'); });
    c.connect({}, () => { c.subscribe([${JSON.stringify(TOPIC)}]); c.consume(); });`;
  const child = spawn(process.execPath, ['-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: Seen[] = [];
  let buf = '';
  let assigned!: () => void;
  const p = new Promise<void>((r) => { assigned = r; });
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ASSIGNED') assigned();
      else {
        const [part, off] = line.split(' ').map(Number);
        seen.push({ who: 'C', partition: part!, offset: off! });
      }
    }
  });
  return { child, seen, assigned: p };
}

t.test('cooperative-sticky: three consumers; one leaves, one crashes, one joins; commits survive a restart', async (t) => {
  const seen: Seen[] = [];
  const consumers: any[] = [];
  t.teardown(() => Promise.all(consumers.map((c) => rdDisconnect(c))));
  const start = async (who: string) => {
    const c = new Rdkafka.KafkaConsumer(conf(g.bootstrap), { 'auto.offset.reset': 'earliest' });
    let assigned = 0;
    c.on('data', (m: any) => seen.push({ who, partition: m.partition, offset: m.offset }));
    c.on('rebalance', (err: any, a: any[]) => { if (err.code === Rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) assigned += a.length; });
    await rdConnect(c);
    c.subscribe([TOPIC]);
    c.consume();
    consumers.push(c);
    return { c, assigned: () => assigned };
  };
  const producer = new RdProducer(g.bootstrap);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  let n = 0;
  const produce = async (count: number) => {
    const recs = makeRecords(count, { source: `rd${n}`, keys: 100 });
    n += count;
    await rdProduceAll(producer, TOPIC, recs);
  };
  await produce(12); // creates the topic (12 partitions)

  const a = await start('A');
  const b = await start('B');
  const child = childConsumer(g.bootstrap);
  t.teardown(() => { child.child.kill('SIGKILL'); });
  await child.assigned;
  await waitFor('A and B assigned', () => a.assigned() > 0 && b.assigned() > 0, 30000);
  await produce(588);
  const all = () => [...seen, ...child.seen];
  const distinct = () => new Set(all().map((s) => `${s.partition}:${s.offset}`)).size;
  await waitFor(`600 records (has ${distinct()})`, () => distinct() >= 600, 60000);
  t.same([...new Set(all().map((s) => s.who))].sort(), ['A', 'B', 'C'], 'all three consumed');

  await rdDisconnect(a.c); // leaves the group (LeaveGroup)
  await produce(300);
  await waitFor('records after A left', () => distinct() >= 900, 60000);
  child.child.kill('SIGKILL');
  await new Promise((r) => child.child.once('exit', r));
  await produce(300);
  const d = await start('D');
  await produce(300);
  await waitFor(`every record (has ${distinct()})`, () => distinct() >= 1500, 90000);
  t.equal(distinct(), n, 'every produced record consumed, none skipped');
  const byKey = new Map<string, Seen[]>();
  for (const s of all()) byKey.set(`${s.partition}:${s.offset}`, [...(byKey.get(`${s.partition}:${s.offset}`) ?? []), s]);
  const dups = [...byKey.values()].filter((v) => v.length > 1);
  t.ok(dups.every((v) => v.some((x) => x.who === 'C')), `duplicates (${dups.length}) only from the crashed member's uncommitted window`);

  // Commit what was consumed (auto-commit) and leave; then restart the broker.
  for (const c of [b.c, d.c]) {
    try { c.commitSync(null); } catch { /* nothing new to commit (ERR__NO_OFFSET) */ }
  }
  await rdDisconnect(b.c);
  await rdDisconnect(d.c);
  await g.stop();
  g = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  const probe = new Rdkafka.KafkaConsumer(conf(g.bootstrap), {});
  await rdConnect(probe);
  t.teardown(() => rdDisconnect(probe));
  const committed: Array<{ partition: number; offset: number }> = await new Promise((resolve, reject) =>
    probe.committed(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })), 10000, (err: any, tps: any) => (err ? reject(err) : resolve(tps))));
  t.equal(committed.reduce((s, p) => s + p.offset, 0), n, 'committed offsets (sum = every record) survive the restart');
});
