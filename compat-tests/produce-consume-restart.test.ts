// Durability as real clients see it: records written by kafkajs and node-rdkafka to a gregor with file
// storage are all there after a restart — a clean one (SIGTERM) and a crash (SIGKILL while both clients
// are producing: every acknowledged record must be at its acknowledged offset).
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import {
  KAFKAJS_CODEC, RdProducer, kafkajs, makeRecords, rdConnect, rdConsume, rdConsumer, rdDisconnect, rdProduceAll, rdWatermarks, sleep,
  tempDir, toKafkajsMessage, verifyConsumed, waitFor, type Consumed, type TestRecord,
} from './support/clients.ts';
import kafkajsPkg from 'kafkajs';

const PARTITIONS = 4;
const overrides = { 'num.partitions': String(PARTITIONS) };

async function highWatermarks(bootstrap: string, topic: string): Promise<number[]> {
  const c = rdConsumer(bootstrap);
  await rdConnect(c);
  try {
    const out = [];
    for (let p = 0; p < PARTITIONS; p++) out.push((await rdWatermarks(c, topic, p)).highOffset);
    return out;
  } finally {
    await rdDisconnect(c);
  }
}

async function readAll(bootstrap: string, topic: string): Promise<Consumed[]> {
  const total = (await highWatermarks(bootstrap, topic)).reduce((a, b) => a + b, 0);
  return rdConsume(bootstrap, topic, total, { partitions: PARTITIONS });
}

t.test('SIGTERM: everything kafkajs and node-rdkafka wrote is there after a clean restart', async (t) => {
  const data = tempDir('gregor-compat-restart-');
  t.teardown(() => data.remove());
  const g1 = await startGregor({ dataDir: data.dir, overrides });
  const kjsRecords = makeRecords(5000, { source: 'kafkajs', keys: 200 });
  const rdRecords = makeRecords(5000, { source: 'rdkafka', keys: 200 });
  try {
    const producer = kafkajs(g1.bootstrap).producer({ createPartitioner: kafkajsPkg.Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < kjsRecords.length; i += 1000) {
      await producer.send({ topic: 'restart-kjs', compression: KAFKAJS_CODEC.gzip, messages: kjsRecords.slice(i, i + 1000).map((r) => toKafkajsMessage(r)) });
    }
    await producer.disconnect();
    const rd = await new RdProducer(g1.bootstrap, { 'compression.codec': 'zstd' }).connect();
    const reports = await rdProduceAll(rd, 'restart-rd', rdRecords);
    await rd.disconnect();
    t.equal(reports.filter((r) => r.err).length, 0, 'all node-rdkafka records delivered');
  } finally {
    t.equal(await g1.stop(), 0, 'gregor exits 0 on SIGTERM');
  }

  const g2 = await startGregor({ dataDir: data.dir, overrides });
  t.teardown(() => g2.stop());
  t.same(verifyConsumed(kjsRecords, await readAll(g2.bootstrap, 'restart-kjs')).problems, [], 'kafkajs records intact');
  t.same(verifyConsumed(rdRecords, await readAll(g2.bootstrap, 'restart-rd')).problems, [], 'node-rdkafka records intact');
  // New appends continue after the recovered offsets.
  const before = await highWatermarks(g2.bootstrap, 'restart-kjs');
  const producer = kafkajs(g2.bootstrap).producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const [r] = await producer.send({ topic: 'restart-kjs', messages: [{ key: 'after', value: 'restart', partition: 0 }] });
  t.equal(Number(r.baseOffset), before[0], 'the next offset follows the recovered log');
});

t.test('SIGKILL while producing: every acknowledged record is there after the crash', async (t) => {
  const data = tempDir('gregor-compat-crash-');
  t.teardown(() => data.remove());
  const g1 = await startGregor({ dataDir: data.dir, overrides });
  const rdAcked = new Map<string, TestRecord>(); // "partition/offset" → record
  const kjsAcked = new Map<string, TestRecord>();
  let killed = false;

  // node-rdkafka: acks=all, explicit partitions, a bounded number of messages in flight.
  const rd = await new RdProducer(g1.bootstrap, { 'request.required.acks': -1, 'message.timeout.ms': 3000, 'linger.ms': 2 }).connect();
  t.teardown(() => rd.disconnect());
  const rdLoop = (async () => {
    const pending: Promise<unknown>[] = [];
    for (let seq = 0; !killed; seq++) {
      const [r] = makeRecords(1, { source: 'rdkafka', t0: Date.now() }).map((x) => ({ ...x, seq, key: `rk-${seq % 97}`, headers: { ...x.headers, seq: String(seq) }, value: Buffer.from(`rd-${seq}`) }));
      pending.push(rd.produce('crash-rd', seq % PARTITIONS, r.value, r.key, r.timestamp, Object.entries(r.headers).map(([k, v]) => ({ [k]: v }))).then((dr) => {
        if (!dr.err) rdAcked.set(`${dr.partition}/${dr.offset}`, r);
      }));
      if (seq % 200 === 199) await sleep(2);
      if (pending.length >= 2000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
  })();

  // kafkajs: acks=-1, 100 records per request, no retries (the loop ends at the first failure).
  const producer = kafkajs(g1.bootstrap, 'compat-crash').producer({ retry: { retries: 0 } });
  await producer.connect();
  t.teardown(() => producer.disconnect().catch(() => {}));
  const kjsLoop = (async () => {
    for (let base = 0; !killed; base += 100) {
      const recs = makeRecords(100, { source: 'kafkajs', t0: Date.now() }).map((x, i) => ({ ...x, seq: base + i, headers: { ...x.headers, seq: String(base + i) }, value: Buffer.from(`kjs-${base + i}`) }));
      const res = await producer.send({ topic: 'crash-kjs', acks: -1, messages: recs.map((r) => toKafkajsMessage(r, r.seq % PARTITIONS)) }).catch(() => null);
      if (!res) return;
      for (const pr of res) {
        recs.filter((r) => r.seq % PARTITIONS === pr.partition).forEach((r, i) => kjsAcked.set(`${pr.partition}/${Number(pr.baseOffset) + i}`, r));
      }
    }
  })();

  console.error(`# ${new Date().toISOString()} producing`);
  await waitFor('both clients to have records acknowledged', () => rdAcked.size >= 20000 && kjsAcked.size >= 3000, 60000);
  g1.child.kill('SIGKILL');
  killed = true;
  await g1.stop(); // resolves once the process is gone
  // A record is acknowledged iff its ack callback ran. Once the process is gone no new ack can arrive
  // (only responses already read before the kill), so wait until the counts stop changing instead of
  // waiting for the clients' loops: their retry/reconnect paths after a dead broker are the clients'
  // business and once took minutes (a kafkajs/librdkafka reconnect), which made this test flaky.
  const step = (what: string) => console.error(`# ${new Date().toISOString()} ${what}`);
  const quietDeadline = Date.now() + 60000;
  for (let last = -1; ;) {
    const now = rdAcked.size + kjsAcked.size;
    if (now === last) break;
    if (Date.now() > quietDeadline) throw new Error('acknowledgements kept arriving 60 s after the kill');
    last = now;
    await sleep(3000);
  }
  const rdFinal = new Map(rdAcked);
  const kjsFinal = new Map(kjsAcked);
  void rdLoop.catch(() => {});
  void kjsLoop.catch(() => {});
  step('acknowledgements settled');
  t.ok(rdFinal.size >= 20000 && kjsFinal.size >= 3000, `${rdFinal.size} node-rdkafka and ${kjsFinal.size} kafkajs records acknowledged before the kill`);

  const g2 = await startGregor({ dataDir: data.dir, overrides });
  t.teardown(() => g2.stop());
  step('restarted');
  for (const [topic, acked] of [['crash-rd', rdFinal], ['crash-kjs', kjsFinal]] as const) {
    const stored = new Map((await readAll(g2.bootstrap, topic)).map((c) => [`${c.partition}/${c.offset}`, c]));
    const missing = [...acked].filter(([at, r]) => {
      const c = stored.get(at);
      return !c || c.key !== r.key || !c.value?.equals(r.value) || c.headers.seq !== String(r.seq);
    }).map(([at]) => at);
    t.same(missing.slice(0, 10), [], `${topic}: all ${acked.size} acknowledged records at their offsets after the crash (${stored.size} stored)`);
  }
});
