// Unmodified node-rdkafka (librdkafka) with enable.idempotence=true against a gregor process that drops
// the connection instead of answering every 7th produce request (GREGOR_TEST_DROP_AFTER_APPEND, a
// test-only hook: the batches were appended, the client never hears so and retries them). Dedup must
// answer the retries with the original offsets: no duplicates, no gaps, order kept per partition.
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import { RdProducer, makeRecords, rdConsume, rdProduceAll, tempDir, verifyConsumed } from './support/clients.ts';

const PARTITIONS = 6;
const DROP_EVERY = 7;
const data = tempDir('gregor-compat-idem-rd-');
process.env.GREGOR_TEST_DROP_AFTER_APPEND = String(DROP_EVERY);
const g = await startGregor({ dataDir: data.dir, overrides: { 'num.partitions': String(PARTITIONS) } });
delete process.env.GREGOR_TEST_DROP_AFTER_APPEND;
t.teardown(async () => { await g.stop(); data.remove(); });

t.test('node-rdkafka enable.idempotence=true: 100,000 records while responses are dropped after the append', async (t) => {
  const records = makeRecords(100_000, { source: 'rdkafka-idem', keys: 1000 });
  const p = await new RdProducer(g.bootstrap, {
    'enable.idempotence': true, 'linger.ms': 5, 'batch.num.messages': 2000, 'socket.timeout.ms': 10000, 'message.timeout.ms': 120000,
  }).connect();
  t.teardown(() => p.disconnect());
  const reports = await rdProduceAll(p, 'idem-100k', records);
  t.equal(reports.filter((r) => r.err).length, 0, 'every delivery report is a success');
  const drops = (g.output().match(/GREGOR_TEST_DROP_AFTER_APPEND=\d+: dropping produce response/g) ?? []).length;
  t.ok(drops >= 3, `the broker dropped ${drops} produce responses after appending`);

  const consumed = await rdConsume(g.bootstrap, 'idem-100k', records.length, { partitions: PARTITIONS, timeoutMs: 120000 });
  t.equal(consumed.length, records.length, 'exactly as many records as produced');
  const v = verifyConsumed(records, consumed);
  t.same(v.problems, [], 'no duplicates, no gaps (offsets contiguous from 0), order kept per partition');
  const at = new Map(consumed.map((c) => [Number(c.headers.seq), c]));
  const mismatched = reports.filter((r, i) => at.get(i)?.partition !== r.partition || at.get(i)?.offset !== r.offset).length;
  t.equal(mismatched, 0, 'delivery report offsets (also of retried batches) = where the records are');
});
