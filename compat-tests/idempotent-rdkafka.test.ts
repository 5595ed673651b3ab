// Unmodified node-rdkafka (librdkafka) with enable.idempotence=true against a gregor broker that closes the
// connection instead of answering every 7th produce request after appending it (broker.intercept with
// close: 'after', the public fault-injection API): the client never hears the batches were written and
// retries them. Dedup must answer the retries with the original offsets: no duplicates, no gaps, order kept
// per partition. The broker runs in this process (startBroker from the public entry point) so the fault
// reaches it through its options; librdkafka runs on its own threads, so an in-process broker serves it as
// a separate process would.
import t from 'tap';
import { buildBrokerConfig, memoryLogger, startBroker } from '../broker/index.ts';
import { RdProducer, makeRecords, rdConsume, rdProduceAll, tempDir, verifyConsumed } from './support/clients.ts';

const PRODUCE = 0;
const PARTITIONS = 6;
const DROP_EVERY = 7;
const data = tempDir('gregor-compat-idem-rd-');
const log = memoryLogger();
const broker = await startBroker({
  config: buildBrokerConfig({ overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': data.dir, 'num.partitions': String(PARTITIONS) })) }),
  logger: log,
});
const bootstrap = `127.0.0.1:${broker.listeners[0].port}`;
t.teardown(async () => { await broker.close(); data.remove(); });
let produced = 0;
const drops = broker.intercept(PRODUCE, { match: (req) => req.acks !== 0 }, () => (++produced % DROP_EVERY === 0 ? { close: 'after' } : undefined));

t.test('node-rdkafka enable.idempotence=true: 100,000 records while responses are dropped after the append', async (t) => {
  const records = makeRecords(100_000, { source: 'rdkafka-idem', keys: 1000 });
  const p = await new RdProducer(bootstrap, {
    'enable.idempotence': true, 'linger.ms': 5, 'batch.num.messages': 2000, 'socket.timeout.ms': 10000, 'message.timeout.ms': 120000,
  }).connect();
  t.teardown(() => p.disconnect());
  const reports = await rdProduceAll(p, 'idem-100k', records);
  t.equal(reports.filter((r) => r.err).length, 0, 'every delivery report is a success');
  t.ok(drops.hits >= 3, `the broker closed the connection instead of answering ${drops.hits} appended produce requests`);
  drops.remove();

  const consumed = await rdConsume(bootstrap, 'idem-100k', records.length, { partitions: PARTITIONS, timeoutMs: 120000 });
  t.equal(consumed.length, records.length, 'exactly as many records as produced');
  const v = verifyConsumed(records, consumed);
  t.same(v.problems, [], 'no duplicates, no gaps (offsets contiguous from 0), order kept per partition');
  const at = new Map(consumed.map((c) => [Number(c.headers.seq), c]));
  const mismatched = reports.filter((r, i) => at.get(i)?.partition !== r.partition || at.get(i)?.offset !== r.offset).length;
  t.equal(mismatched, 0, 'delivery report offsets (also of retried batches) = where the records are');
});
