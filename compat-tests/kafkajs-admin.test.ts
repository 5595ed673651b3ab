// Unmodified kafkajs 2.2.4 admin against a gregor process: deleteTopics, createPartitions,
// deleteTopicRecords, describeCluster. Topics are auto-created by a producer's first send.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { startGregor } from './support/gregor-process.ts';

t.test('kafkajs admin: createPartitions, deleteTopicRecords, deleteTopics, describeCluster', async (t) => {
  const g = await startGregor({ overrides: { 'num.partitions': '2' } });
  t.teardown(() => g.stop());
  const kafka = new Kafka({ clientId: 'compat-kafkajs-admin', brokers: [g.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());

  const cluster = await admin.describeCluster();
  t.same(cluster.brokers.map((b) => [b.nodeId, b.host, b.port]), [[1, '127.0.0.1', g.port]]);
  t.equal(cluster.controller, 1);

  // Auto-created with num.partitions=2 on the first send.
  for (const topic of ['kj-grow', 'kj-records', 'kj-delete-a', 'kj-delete-b']) {
    await producer.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: `k${i}`, value: `v${i}` })) });
  }
  t.same((await admin.listTopics()).sort(), ['kj-delete-a', 'kj-delete-b', 'kj-grow', 'kj-records']);

  // createPartitions: grow, then refuse a non-increase and an unknown topic.
  t.equal(await admin.createPartitions({ topicPartitions: [{ topic: 'kj-grow', count: 5 }] }), undefined);
  const md = await admin.fetchTopicMetadata({ topics: ['kj-grow'] });
  t.same(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3, 4], 'five partitions');
  const notIncrease = await admin.createPartitions({ topicPartitions: [{ topic: 'kj-grow', count: 3 }] }).then(() => null, (e) => e);
  t.equal(notIncrease?.type, 'INVALID_PARTITIONS');
  const unknown = await admin.createPartitions({ topicPartitions: [{ topic: 'kj-nope', count: 3 }] }).then(() => null, (e) => e);
  t.ok(unknown, 'an unknown topic is refused');
  // Messages can go to a new partition (a new producer: kafkajs keeps a producer's metadata for
  // metadataMaxAge and silently drops messages for partitions it does not know yet).
  const producer2 = kafka.producer();
  await producer2.connect();
  t.teardown(() => producer2.disconnect());
  await producer2.send({ topic: 'kj-grow', messages: [{ partition: 4, value: 'in the new partition' }] });
  const growOffsets = await admin.fetchTopicOffsets('kj-grow');
  t.equal(growOffsets.find((o) => o.partition === 4)?.high, '1');

  // deleteTopicRecords: the low watermark moves; -1 means up to the high watermark. (kafkajs looks the
  // leader up in metadata it already has, so the topic is read first, as applications do.)
  t.same((await admin.fetchTopicOffsets('kj-records')).find((o) => o.partition === 0), { partition: 0, offset: '5', high: '5', low: '0' });
  await admin.deleteTopicRecords({ topic: 'kj-records', partitions: [{ partition: 0, offset: '3' }] });
  let offsets = await admin.fetchTopicOffsets('kj-records');
  t.same(offsets.find((o) => o.partition === 0), { partition: 0, offset: '5', high: '5', low: '3' });
  await admin.deleteTopicRecords({ topic: 'kj-records', partitions: [{ partition: 0, offset: '-1' }] });
  offsets = await admin.fetchTopicOffsets('kj-records');
  t.same(offsets.find((o) => o.partition === 0), { partition: 0, offset: '5', high: '5', low: '5' });

  // deleteTopics: gone from listTopics and metadata; an unknown topic is an error.
  await admin.deleteTopics({ topics: ['kj-delete-a', 'kj-delete-b'], timeout: 5000 });
  t.same((await admin.listTopics()).sort(), ['kj-grow', 'kj-records']);
  const gone = await admin.fetchTopicMetadata({ topics: ['kj-delete-a'] }).then(() => null, (e) => e);
  t.equal(gone?.type, 'UNKNOWN_TOPIC_OR_PARTITION');
  const missing = await admin.deleteTopics({ topics: ['kj-never'], timeout: 5000 }).then(() => null, (e) => e);
  // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION, then gives up with that error's message.
  t.equal(missing?.name, 'KafkaJSNumberOfRetriesExceeded');
  t.equal(missing?.message, 'This server does not host this topic-partition');

  // Re-created by the next send: an empty log under the same name.
  await producer.send({ topic: 'kj-delete-a', messages: [{ partition: 0, value: 'again' }] });
  const fresh = await admin.fetchTopicOffsets('kj-delete-a');
  t.same(fresh.find((o) => o.partition === 0), { partition: 0, offset: '1', high: '1', low: '0' }, 'fresh log');
});
