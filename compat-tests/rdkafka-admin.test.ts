// Unmodified node-rdkafka (librdkafka) AdminClient against a gregor process: deleteTopic, createPartitions.
// Topics are auto-created through a producer's metadata request.
import t from 'tap';
import { createRequire } from 'node:module';
import { startGregor } from './support/gregor-process.ts';

const require = createRequire(import.meta.url);
const Kafka = require('node-rdkafka');

function connect(client: any): Promise<void> {
  return new Promise((resolve, reject) => client.connect({ timeout: 10000 }, (err: any) => (err ? reject(err) : resolve())));
}
function getMetadata(client: any, opts: object): Promise<any> {
  return new Promise((resolve, reject) => client.getMetadata({ timeout: 10000, ...opts }, (err: any, md: any) => (err ? reject(err) : resolve(md))));
}
function disconnect(client: any): Promise<void> {
  return new Promise((resolve) => client.disconnect(() => resolve()));
}
/** Resolves with the error (or null) of an AdminClient callback. */
function call(fn: (cb: (err: any) => void) => void): Promise<any> {
  return new Promise((resolve) => fn((err) => resolve(err ?? null)));
}

async function waitForTopic(producer: any, topic: string, partitions: number): Promise<any> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const md = await getMetadata(producer, { topic, allTopics: false });
    const found = md.topics.find((x: any) => x.name === topic && x.partitions.length === partitions);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

t.test('node-rdkafka AdminClient: createPartitions and deleteTopic', async (t) => {
  const g = await startGregor({ overrides: { 'num.partitions': '2' } });
  t.teardown(() => g.stop());
  const producer = new Kafka.Producer({ 'metadata.broker.list': g.bootstrap, 'client.id': 'compat-rdkafka-admin', 'socket.timeout.ms': 10000 });
  await connect(producer);
  t.teardown(() => disconnect(producer));
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': g.bootstrap, 'client.id': 'compat-rdkafka-admin' });
  t.teardown(() => admin.disconnect());

  for (const topic of ['rd-grow', 'rd-delete']) t.ok(await waitForTopic(producer, topic, 2), `${topic} auto-created`);

  t.equal(await call((cb) => admin.createPartitions('rd-grow', 4, 10000, cb)), null, 'grown to 4');
  t.ok(await waitForTopic(producer, 'rd-grow', 4), 'metadata shows 4 partitions');
  const same = await call((cb) => admin.createPartitions('rd-grow', 4, 10000, cb));
  t.equal(same?.code, 37, 'INVALID_PARTITIONS for the same count');
  t.match(same?.message, /Topic already has 4 partition\(s\)/);
  const unknownGrow = await call((cb) => admin.createPartitions('rd-nope', 3, 10000, cb));
  t.equal(unknownGrow?.code, 3, 'UNKNOWN_TOPIC_OR_PARTITION');

  t.equal(await call((cb) => admin.deleteTopic('rd-delete', 10000, cb)), null, 'deleted');
  const all = await getMetadata(producer, { allTopics: true });
  t.same(all.topics.map((x: any) => x.name).sort(), ['rd-grow'], 'no longer listed');
  const unknownDelete = await call((cb) => admin.deleteTopic('rd-never', 10000, cb));
  t.equal(unknownDelete?.code, 3, 'UNKNOWN_TOPIC_OR_PARTITION');
  t.notMatch(g.output(), /closing connection/, 'gregor closed no connection');
});
