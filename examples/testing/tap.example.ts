// tap — a broker per test, closed by t.teardown; `await using` works as well (Symbol.asyncDispose).
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from 'gregor/testing';

t.test('the topic has the partitions and configs it was seeded with', async (t) => {
  const broker = await startTestBroker({
    topics: [{ name: 'users', partitions: 6, configs: { 'cleanup.policy': 'compact' } }],
    config: { 'auto.create.topics.enable': false },
  });
  t.teardown(() => broker.close());

  const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const { topics } = await admin.fetchTopicMetadata({ topics: ['users'] });
  t.equal(topics[0]?.partitions.length, 6);
  const described = await admin.describeConfigs({ resources: [{ type: 2, name: 'users', configNames: ['cleanup.policy'] }], includeSynonyms: false });
  t.equal(described.resources[0]?.configEntries[0]?.configValue, 'compact');
});
