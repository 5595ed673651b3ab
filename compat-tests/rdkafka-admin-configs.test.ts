// Unmodified node-rdkafka (librdkafka) AdminClient against a gregor process: createTopic with configs,
// validation errors, existing topics. (node-rdkafka's admin has createTopic/deleteTopic/createPartitions only.)
import t from 'tap';
import { createRequire } from 'node:module';
import { startGregor } from './support/gregor-process.ts';

const require = createRequire(import.meta.url);
const Kafka = require('node-rdkafka');

function getMetadata(client: any, opts: object): Promise<any> {
  return new Promise((resolve, reject) => client.getMetadata({ timeout: 10000, ...opts }, (err: any, md: any) => (err ? reject(err) : resolve(md))));
}
function connect(client: any): Promise<void> {
  return new Promise((resolve, reject) => client.connect({ timeout: 10000 }, (err: any) => (err ? reject(err) : resolve())));
}

t.test('node-rdkafka AdminClient.createTopic', async (t) => {
  const g = await startGregor({ overrides: { 'num.partitions': '2' } });
  t.teardown(() => g.stop());
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': g.bootstrap, 'client.id': 'compat-rdkafka-admin' });
  t.teardown(() => admin.disconnect());
  const create = (topic: object) => new Promise<any>((resolve) => admin.createTopic(topic, 10000, (err: any) => resolve(err ?? null)));

  t.equal(await create({ topic: 'rd-admin', num_partitions: 4, replication_factor: 1, config: { 'retention.ms': '60000', 'cleanup.policy': 'compact' } }), null, 'created');
  t.equal(await create({ topic: 'rd-dflt', num_partitions: -1, replication_factor: -1 }), null, 'defaults');

  const exists = await create({ topic: 'rd-admin', num_partitions: 1, replication_factor: 1 });
  t.equal(exists?.code, Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS, 'TOPIC_ALREADY_EXISTS');
  const badCfg = await create({ topic: 'rd-bad', num_partitions: 1, replication_factor: 1, config: { 'retention.ms': 'soon' } });
  t.equal(badCfg?.code, Kafka.CODES.ERRORS.ERR_INVALID_CONFIG, 'INVALID_CONFIG');
  t.match(badCfg?.message, /Not a number of type LONG/);
  const rf = await create({ topic: 'rd-rf', num_partitions: 1, replication_factor: 3 });
  t.equal(rf?.code, Kafka.CODES.ERRORS.ERR_INVALID_REPLICATION_FACTOR, 'INVALID_REPLICATION_FACTOR');
  const badName = await create({ topic: 'bad name', num_partitions: 1, replication_factor: 1 });
  t.equal(badName?.code, Kafka.CODES.ERRORS.ERR_TOPIC_EXCEPTION, 'INVALID_TOPIC_EXCEPTION');

  const producer = new Kafka.Producer({ 'metadata.broker.list': g.bootstrap, 'allow.auto.create.topics': false });
  await connect(producer);
  t.teardown(() => new Promise<void>((r) => producer.disconnect(() => r())));
  const md = await getMetadata(producer, { allTopics: true });
  t.same(md.topics.map((x: any) => [x.name, x.partitions.length]).sort(), [['rd-admin', 4], ['rd-dflt', 2]]);
});
