// Unmodified kafkajs 2.2.4 with an idempotent producer (InitProducerId v1, Produce v7 with producer id,
// epoch and sequences) against a gregor process; read back with node-rdkafka assign().
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import { kafkajs, makeRecords, rdConsume, tempDir, toKafkajsMessage, verifyConsumed } from './support/clients.ts';

const data = tempDir('gregor-compat-idem-kjs-');
const g = await startGregor({ dataDir: data.dir, overrides: { 'num.partitions': '3' } });
t.teardown(async () => { await g.stop(); data.remove(); });

t.test('kafkajs idempotent: true producer: sends succeed with consecutive offsets, read back once each', async (t) => {
  const kafka = kafkajs(g.bootstrap, 'compat-kafkajs-idem');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const records = makeRecords(3000, { source: 'kafkajs-idem', keys: 100 });
  const results = [];
  for (let i = 0; i < records.length; i += 500) {
    results.push(...await producer.send({ topic: 'idem-kjs', acks: -1, messages: records.slice(i, i + 500).map((r) => toKafkajsMessage(r)) }));
  }
  t.ok(results.length > 0 && results.every((r) => r.errorCode === 0), 'every send acknowledged without error');
  const consumed = await rdConsume(g.bootstrap, 'idem-kjs', records.length, { partitions: 3, timeoutMs: 60000 });
  t.equal(consumed.length, records.length);
  t.same(verifyConsumed(records, consumed).problems, [], 'no duplicates or gaps, order per partition');
});
