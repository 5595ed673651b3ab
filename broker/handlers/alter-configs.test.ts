import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeAlterConfigsRequest } from '../../protocol/generated/alter-configs.ts';
import { makeCreateTopicsRequest } from '../../protocol/generated/create-topics.ts';
import { makeDescribeConfigsRequest } from '../../protocol/generated/describe-configs.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeIncrementalAlterConfigsRequest } from '../../protocol/generated/incremental-alter-configs.ts';
import { buildBrokerConfig, silentLogger, startBroker } from '../index.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const CREATE_TOPICS = 19;
const DESCRIBE_CONFIGS = 32;
const ALTER_CONFIGS = 33;
const INCREMENTAL = 44;

async function setup(t: { teardown(fn: () => unknown): void }) {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

async function overrides(c: RawClient, topic: string) {
  const r = await c.request(DESCRIBE_CONFIGS, 4, makeDescribeConfigsRequest({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }], includeSynonyms: true }));
  return Object.fromEntries(r.results[0].configs.filter((x: any) => x.configSource === 1).map((x: any) => [x.name, x.value]));
}

t.test('round trip: create with configs → describe → incremental alter → describe → alter → describe; storage follows', async (t) => {
  const { tb, c } = await setup(t);
  const created = await c.request(CREATE_TOPICS, 7, makeCreateTopicsRequest({
    topics: [{ name: 'rt', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }, { name: 'cleanup.policy', value: 'compact' }] }],
    timeoutMs: 5000,
  }));
  t.equal(created.topics[0].errorCode, 0);
  const d1 = await c.request(DESCRIBE_CONFIGS, 4, makeDescribeConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'rt', configurationKeys: ['retention.ms'] }], includeSynonyms: true }));
  t.match(d1.results[0].configs[0], { name: 'retention.ms', value: '1000', configSource: 1, synonyms: [{ name: 'retention.ms', value: '1000', source: 1 }] });
  const log = tb.broker.context.storage.partition('rt', 0)!;
  t.equal(log.config.retentionMs, 1000);
  t.equal(log.config.deleteEnabled, false);

  for (const v of [0, 1]) {
    const inc = await c.request(INCREMENTAL, v, makeIncrementalAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'rt', configs: [
      { name: 'retention.ms', configOperation: 1, value: null },
      { name: 'cleanup.policy', configOperation: 2, value: 'delete' },
      { name: 'segment.ms', configOperation: 0, value: String(100000 + v) },
    ] }] }));
    t.same(inc.responses.map((x: any) => [x.resourceType, x.resourceName, x.errorCode, x.errorMessage]), [[2, 'rt', 0, null]], `incremental v${v}`);
    t.same(await overrides(c, 'rt'), { 'cleanup.policy': 'compact,delete', 'segment.ms': String(100000 + v) });
  }
  t.equal(tb.broker.context.storage.partition('rt', 0)!.config.retentionMs, 604800000, 'deleted override: back to the default');
  t.equal(tb.broker.context.storage.partition('rt', 0)!.config.segmentMs, 100001);
  t.equal(tb.broker.context.storage.partition('rt', 0)!.config.deleteEnabled, true);

  const sub = await c.request(INCREMENTAL, 1, makeIncrementalAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'rt', configs: [{ name: 'cleanup.policy', configOperation: 3, value: 'compact' }] }] }));
  t.equal(sub.responses[0].errorCode, 0);
  t.same((await overrides(c, 'rt'))['cleanup.policy'], 'delete', 'SUBTRACT');

  for (const v of [0, 1, 2]) {
    const alt = await c.request(ALTER_CONFIGS, v, makeAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'rt', configs: [{ name: 'retention.bytes', value: String(12345 + v) }] }] }));
    t.same(alt.responses.map((x: any) => [x.errorCode, x.errorMessage]), [[0, null]], `alter v${v}`);
    t.same(await overrides(c, 'rt'), { 'retention.bytes': String(12345 + v) }, 'AlterConfigs replaces the whole override set');
  }
  t.equal(tb.broker.context.storage.partition('rt', 0)!.config.retentionBytes, 12347);
  t.equal(tb.broker.context.storage.partition('rt', 0)!.config.segmentMs, 604800000);
});

t.test('validateOnly changes nothing; error paths of both APIs', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('e', 1, new Map([['retention.ms', '1000']]));
  const vo = await c.request(ALTER_CONFIGS, 2, makeAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'e', configs: [{ name: 'retention.ms', value: '2000' }] }], validateOnly: true }));
  t.equal(vo.responses[0].errorCode, 0);
  const vo2 = await c.request(INCREMENTAL, 1, makeIncrementalAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'e', configs: [{ name: 'retention.ms', configOperation: 0, value: '3000' }] }], validateOnly: true }));
  t.equal(vo2.responses[0].errorCode, 0);
  t.same(await overrides(c, 'e'), { 'retention.ms': '1000' });

  const ac = (resourceType: number, resourceName: string, configs: { name: string; value: string | null }[]) => ({ resourceType, resourceName, configs });
  const a = await c.request(ALTER_CONFIGS, 2, makeAlterConfigsRequest({ resources: [
    ac(2, 'e', [{ name: 'foo.bar', value: '1' }]),
  ] }));
  const cases: [ReturnType<typeof ac>, number, string | null][] = [
    [ac(2, 'e', [{ name: 'retention.ms', value: 'x' }]), ErrorCode.INVALID_CONFIG, 'Invalid value x for configuration retention.ms: Not a number of type LONG'],
    [ac(2, 'e', [{ name: 'retention.ms', value: null }]), ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
    [ac(2, 'e', [{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }]), ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
    [ac(2, 'missing', [{ name: 'retention.ms', value: '1' }]), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'missing' does not exist."],
    [ac(2, 'bad name', []), ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is invalid: 'bad name' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"],
    [ac(4, '1', [{ name: 'node.id', value: '1' }]), ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: [node.id]'],
    [ac(4, '1', [{ name: 'log.retention.ms', value: '1000' }]), ErrorCode.INVALID_REQUEST, 'Dynamic broker config updates are not supported by gregor; set these in server.properties and restart: [log.retention.ms]'],
    [ac(4, '2', [{ name: 'log.retention.ms', value: '1000' }]), ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 2'],
    [ac(4, 'abc', [{ name: 'log.retention.ms', value: '1000' }]), ErrorCode.INVALID_REQUEST, 'Broker id must be an integer, but it is: abc'],
    [ac(8, '1', [{ name: 'root', value: 'INFO' }]), ErrorCode.INVALID_REQUEST, 'Unknown resource type 8'],
  ];
  t.same([a.responses[0].errorCode, a.responses[0].errorMessage], [ErrorCode.INVALID_CONFIG, 'Unknown topic config name: foo.bar']);
  for (const v of [0, 2]) {
    for (const [resource, code, msg] of cases) {
      const r = await c.request(ALTER_CONFIGS, v, makeAlterConfigsRequest({ resources: [resource] }));
      t.same([r.responses[0].errorCode, r.responses[0].errorMessage], [code, msg], `AlterConfigs v${v} ${resource.resourceName} ${JSON.stringify(resource.configs)}`);
    }
  }
  const dupRes = await c.request(ALTER_CONFIGS, 2, makeAlterConfigsRequest({ resources: [ac(2, 'e', []), ac(2, 'e', [])] }));
  t.same(dupRes.responses.map((x: any) => [x.errorCode, x.errorMessage]), [[42, 'Each resource must appear at most once.'], [42, 'Each resource must appear at most once.']]);

  const ic = (resourceType: number, resourceName: string, configs: { name: string; configOperation: number; value: string | null }[]) => ({ resourceType, resourceName, configs });
  const icases: [ReturnType<typeof ic>, number, string | null][] = [
    [ic(2, 'e', [{ name: 'retention.ms', configOperation: 2, value: '5' }]), ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."],
    [ic(2, 'e', [{ name: 'retention.ms', configOperation: 3, value: '5' }]), ErrorCode.INVALID_CONFIG, "Can't SUBTRACT to key retention.ms because its type is not LIST."],
    [ic(2, 'e', [{ name: 'foo.bar', configOperation: 0, value: '5' }]), ErrorCode.INVALID_CONFIG, 'Unknown topic config name: foo.bar'],
    [ic(2, 'e', [{ name: 'foo.bar', configOperation: 1, value: null }]), 0, null],
    [ic(2, 'e', [{ name: 'retention.ms', configOperation: 0, value: '1' }, { name: 'retention.ms', configOperation: 1, value: null }]), ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
    [ic(2, 'e', [{ name: 'retention.ms', configOperation: 9, value: '1' }]), ErrorCode.UNKNOWN_SERVER_ERROR, null],
    [ic(2, 'e', [{ name: 'cleanup.policy', configOperation: 2, value: 'foo' }]), ErrorCode.INVALID_CONFIG, 'Invalid value foo for configuration cleanup.policy: String must be one of: compact, delete'],
    [ic(2, 'e', [{ name: 'retention.ms', configOperation: 0, value: null }]), ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
    [ic(2, 'missing', [{ name: 'retention.ms', configOperation: 0, value: '1' }]), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'missing' does not exist."],
    [ic(4, '1', [{ name: 'num.partitions', configOperation: 0, value: '3' }]), ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: [num.partitions]'],
    [ic(4, 'abc', [{ name: 'log.retention.ms', configOperation: 0, value: '3' }]), ErrorCode.INVALID_REQUEST, 'Node id must be an integer, but it is: abc'],
    // kafka-reassign-partitions.sh --verify clears the replication throttles: deleting what was never set is a no-op.
    [ic(4, '1', [{ name: 'leader.replication.throttled.rate', configOperation: 1, value: null }, { name: 'follower.replication.throttled.rate', configOperation: 1, value: null }]), ErrorCode.NONE, null],
    [ic(4, '1', [{ name: 'num.partitions', configOperation: 1, value: null }]), ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: [num.partitions]'],
    [ic(8, '1', [{ name: 'root', configOperation: 2, value: 'INFO' }]), ErrorCode.INVALID_REQUEST, 'APPEND operation is not allowed for the BROKER_LOGGER resource'],
    [ic(8, '1', [{ name: 'root', configOperation: 0, value: 'INFO' }]), ErrorCode.INVALID_REQUEST, 'Broker loggers are not supported by gregor'],
    [ic(1, 'x', []), ErrorCode.INVALID_REQUEST, 'Unknown resource type 1'],
  ];
  for (const v of [0, 1]) {
    for (const [resource, code, msg] of icases) {
      const r = await c.request(INCREMENTAL, v, makeIncrementalAlterConfigsRequest({ resources: [resource], validateOnly: true }));
      t.same([r.responses[0].errorCode, r.responses[0].errorMessage], [code, msg], `IncrementalAlterConfigs v${v} ${JSON.stringify(resource.configs)}`);
    }
  }
  t.same(await overrides(c, 'e'), { 'retention.ms': '1000' }, 'nothing changed');
});

t.test('two incremental changes in flight on one connection both apply', async (t) => {
  const { c } = await setup(t);
  await c.request(CREATE_TOPICS, 7, makeCreateTopicsRequest({ topics: [{ name: 'f', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 }));
  const a = c.request(INCREMENTAL, 1, makeIncrementalAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'f', configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }] }] }));
  const b = c.request(INCREMENTAL, 1, makeIncrementalAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'f', configs: [{ name: 'segment.ms', configOperation: 0, value: '2' }] }] }));
  t.same([(await a).responses[0].errorCode, (await b).responses[0].errorCode], [0, 0]);
  t.same(await overrides(c, 'f'), { 'retention.ms': '1', 'segment.ms': '2' });
});

t.test('a topic config set via AlterConfigs survives a broker restart (file storage)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-alter-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = buildBrokerConfig({ overrides: new Map([['listeners', 'PLAINTEXT://127.0.0.1:0'], ['log.dirs', dir]]) });
  const b1 = await startBroker({ config, logger: silentLogger });
  const c1 = await RawClient.connect(b1.listeners[0].port);
  await c1.request(CREATE_TOPICS, 7, makeCreateTopicsRequest({ topics: [{ name: 'persist', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 }));
  const alt = await c1.request(ALTER_CONFIGS, 2, makeAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'persist', configs: [{ name: 'retention.ms', value: '60000' }, { name: 'cleanup.policy', value: 'compact' }] }] }));
  t.equal(alt.responses[0].errorCode, 0);
  c1.close();
  await b1.close();

  const b2 = await startBroker({ config, logger: silentLogger });
  t.teardown(() => b2.close());
  const c2 = await RawClient.connect(b2.listeners[0].port);
  t.teardown(() => c2.close());
  t.same(await overrides(c2, 'persist'), { 'cleanup.policy': 'compact', 'retention.ms': '60000' });
  t.equal(b2.context.storage.partition('persist', 1)!.config.retentionMs, 60000);
});
