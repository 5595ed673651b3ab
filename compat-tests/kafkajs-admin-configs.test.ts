// Unmodified kafkajs 2.2.4 admin against a gregor process: createTopics (validateOnly, configEntries,
// duplicates), describeConfigs (topic + broker), alterConfigs.
import t from 'tap';
import kafkajs from 'kafkajs';

const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;
import { startGregor } from './support/gregor-process.ts';

t.test('kafkajs admin: createTopics, describeConfigs, alterConfigs', async (t) => {
  const g = await startGregor({ overrides: { 'num.partitions': '2', 'log.retention.hours': '24' } });
  t.teardown(() => g.stop());
  const kafka = new Kafka({ clientId: 'compat-kafkajs-configs', brokers: [g.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());

  t.equal(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'vo' }] }), true, 'validateOnly succeeds');
  t.same(await admin.listTopics(), [], 'validateOnly creates nothing');

  t.equal(await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: 'orders', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'cleanup.policy', value: 'compact' }] }, { topic: 'dflt' }],
  }), true);
  t.equal(await admin.createTopics({ topics: [{ topic: 'orders' }] }), false, 'an existing topic answers false');
  const md = await admin.fetchTopicMetadata({ topics: ['orders', 'dflt'] });
  t.same(md.topics.map((x) => [x.name, x.partitions.length]).sort(), [['dflt', 2], ['orders', 3]]);

  const bad = await admin.createTopics({ topics: [{ topic: 'bad', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }).then(() => null, (e) => e);
  t.match(bad?.errors?.[0] ?? bad, { type: 'INVALID_CONFIG' }, 'bad config value surfaces INVALID_CONFIG');

  const d = await admin.describeConfigs({ includeSynonyms: true, resources: [
    { type: ConfigResourceTypes.TOPIC, name: 'orders' },
    { type: ConfigResourceTypes.BROKER, name: '1', configNames: ['num.partitions', 'log.retention.hours', 'message.max.bytes'] },
  ] });
  const [topicRes, brokerRes] = d.resources;
  t.equal(topicRes.errorCode, 0);
  const tc = new Map(topicRes.configEntries.map((e: any) => [e.configName, e]));
  t.match(tc.get('retention.ms'), { configValue: '60000', configSource: 1, readOnly: false, isSensitive: false });
  t.match(tc.get('cleanup.policy'), { configValue: 'compact', configSource: 1 });
  t.match(tc.get('segment.bytes'), { configValue: '1073741824', configSource: 5 });
  t.same((tc.get('cleanup.policy') as any).configSynonyms.map((s: any) => [s.configName, s.configValue, s.configSource]),
    [['cleanup.policy', 'compact', 1], ['log.cleanup.policy', 'delete', 5]]);
  const dflt = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'dflt', configNames: ['retention.ms'] }] });
  t.equal(dflt.resources[0].configEntries[0].configValue, '86400000', 'retention.ms from log.retention.hours');
  const bc = new Map(brokerRes.configEntries.map((e: any) => [e.configName, e]));
  t.match(bc.get('num.partitions'), { configValue: '2', configSource: 4, readOnly: true });
  t.match(bc.get('log.retention.hours'), { configValue: '24', configSource: 4 });
  t.match(bc.get('message.max.bytes'), { configValue: '1048588', configSource: 5 });

  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'retention.ms', value: '120000' }] }] });
  const after = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms', 'cleanup.policy'] }] });
  const ac = new Map(after.resources[0].configEntries.map((e: any) => [e.configName, e]));
  t.match(ac.get('retention.ms'), { configValue: '120000', configSource: 1 });
  t.match(ac.get('cleanup.policy'), { configValue: 'delete', configSource: 5 }, 'AlterConfigs replaced the whole override set');

  const unknown = await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configEntries: [{ name: 'foo.bar', value: '1' }] }] }).then(() => null, (e) => e);
  t.equal(unknown?.type, 'INVALID_CONFIG');
  const missing = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'nope' }] }).then(() => null, (e) => e);
  t.equal(missing?.type, 'UNKNOWN_TOPIC_OR_PARTITION');
});
