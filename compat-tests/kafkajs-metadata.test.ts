// Unmodified kafkajs 2.2.4 against a gregor process: connect, list topics, read metadata.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { startGregor } from './support/gregor-process.ts';

t.test('kafkajs admin and consumer metadata', async (t) => {
  const g = await startGregor({ overrides: { 'num.partitions': '4' } });
  t.teardown(() => g.stop());
  const kafka = new Kafka({ clientId: 'compat-kafkajs', brokers: [g.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());

  t.same(await admin.listTopics(), [], 'no topics on a fresh broker');
  const cluster = await admin.describeCluster();
  t.equal(cluster.controller, 1);
  t.same(cluster.brokers.map((b) => [b.nodeId, b.host, b.port]), [[1, '127.0.0.1', g.port]]);
  t.match(cluster.clusterId, /^[A-Za-z0-9_-]{22}$/);

  // A consumer's subscribe refreshes metadata with allowAutoTopicCreation=true (kafkajs's default):
  // the topic is auto-created with num.partitions partitions, after one LEADER_NOT_AVAILABLE retry.
  const consumer = kafka.consumer({ groupId: 'unused' });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topics: ['orders', 'payments'] });

  t.same((await admin.listTopics()).sort(), ['orders', 'payments']);
  const md = await admin.fetchTopicMetadata({ topics: ['orders'] });
  t.equal(md.topics.length, 1);
  t.equal(md.topics[0].name, 'orders');
  t.same(md.topics[0].partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr]).sort(),
    [0, 1, 2, 3].map((i) => [i, 1, [1], [1]]));
  const all = await admin.fetchTopicMetadata();
  t.same(all.topics.map((x) => x.name).sort(), ['orders', 'payments'], 'no topics = all topics');

  // The admin client never auto-creates: an unknown topic is an error.
  const unknown = await admin.fetchTopicMetadata({ topics: ['nope'] }).then(() => null, (e) => e);
  t.equal(unknown?.type, 'UNKNOWN_TOPIC_OR_PARTITION');
  const invalid = await admin.fetchTopicMetadata({ topics: ['bad name'] }).then(() => null, (e) => e);
  t.equal(invalid?.type, 'INVALID_TOPIC_EXCEPTION');
});
