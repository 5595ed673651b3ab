// Unmodified node-rdkafka (librdkafka) against a gregor process: connect and getMetadata.
import t from 'tap';
import { createRequire } from 'node:module';
import { startGregor } from './support/gregor-process.ts';

const require = createRequire(import.meta.url);
const Kafka = require('node-rdkafka');

function connect(client: any): Promise<any> {
  return new Promise((resolve, reject) => client.connect({ timeout: 10000 }, (err: any, md: any) => (err ? reject(err) : resolve(md))));
}
function getMetadata(client: any, opts: object): Promise<any> {
  return new Promise((resolve, reject) => client.getMetadata({ timeout: 10000, ...opts }, (err: any, md: any) => (err ? reject(err) : resolve(md))));
}
function disconnect(client: any): Promise<void> {
  return new Promise((resolve) => client.disconnect(() => resolve()));
}

t.test('node-rdkafka producer getMetadata', async (t) => {
  const g = await startGregor({ overrides: { 'num.partitions': '3' } });
  t.teardown(() => g.stop());
  const producer = new Kafka.Producer({ 'metadata.broker.list': g.bootstrap, 'client.id': 'compat-rdkafka', 'socket.timeout.ms': 10000 });
  await connect(producer);
  t.teardown(() => disconnect(producer));

  const md = await getMetadata(producer, { allTopics: true });
  t.same(md.brokers.map((b: any) => [b.id, b.host, b.port]), [[1, '127.0.0.1', g.port]]);
  t.equal(md.orig_broker_id, 1);
  t.same(md.topics, []);

  // librdkafka producers ask for auto-creation (allow.auto.create.topics defaults to true for them).
  // The first answer is LEADER_NOT_AVAILABLE; poll until the topic is there, with a deadline.
  const deadline = Date.now() + 10000;
  let topic: any;
  while (Date.now() < deadline) {
    const m = await getMetadata(producer, { topic: 'rd-topic', allTopics: false });
    topic = m.topics.find((x: any) => x.name === 'rd-topic' && x.partitions.length > 0);
    if (topic) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(topic, 'topic auto-created');
  t.same(topic.partitions.map((p: any) => [p.id, p.leader, p.replicas, p.isrs]).sort(), [0, 1, 2].map((i) => [i, 1, [1], [1]]));

  const all = await getMetadata(producer, { allTopics: true });
  t.same(all.topics.map((x: any) => x.name), ['rd-topic']);
});

t.test('librdkafka sees its ApiVersions v3 request answered (no fallback errors in the log)', async (t) => {
  const g = await startGregor();
  t.teardown(() => g.stop());
  const logs: string[] = [];
  const producer = new Kafka.Producer({ 'metadata.broker.list': g.bootstrap, debug: 'protocol,broker', 'socket.timeout.ms': 10000 });
  producer.on('event.log', (e: any) => logs.push(e.message));
  await connect(producer);
  t.teardown(() => disconnect(producer));
  await getMetadata(producer, { allTopics: true });
  const text = logs.join('\n');
  t.match(text, /ApiVersion/, 'librdkafka logged its ApiVersions exchange');
  t.notMatch(text, /UNSUPPORTED_VERSION|Broker API support unknown/, 'no version fallback');
  t.notMatch(g.output(), /closing connection/, 'gregor closed no connection');
});
