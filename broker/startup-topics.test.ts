// Topics from configuration (gregor.create.topics / GREGOR_CREATE_TOPICS / KAFKA_CREATE_TOPICS): the syntax,
// creation before any listener, idempotence across restarts.
import t from 'tap';
import { makeMetadataRequest } from '../protocol/generated/metadata.ts';
import { MemFs } from '../storage/index.ts';
import { buildBrokerConfig } from './config.ts';
import { memoryLogger } from './log.ts';
import { startBroker } from './server.ts';
import { startupTopics } from './startup-topics.ts';
import { RawClient } from './testing/raw-client.ts';
import { ZERO_UUID } from './topics.ts';

const config = (topics: string, more: Record<string, string> = {}) =>
  buildBrokerConfig({ overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': '/data', 'gregor.create.topics': topics, ...more })) });

t.test('syntax: name[:partitions[:replicas[:config...]]], wurstmeister\'s cleanup policy, defaults', async (t) => {
  const got = startupTopics(config('orders:3:1, events\naudit:1:1:compact  users:6::cleanup.policy=compact:retention.ms=60000 logs::-1', { 'num.partitions': '2' }));
  t.same(got.map((x) => [x.name, x.partitions, Object.fromEntries(x.configs)]), [
    ['orders', 3, {}],
    ['events', 2, {}],
    ['audit', 1, { 'cleanup.policy': 'compact' }],
    ['users', 6, { 'cleanup.policy': 'compact', 'retention.ms': '60000' }],
    ['logs', 2, {}],
  ]);
  t.same(startupTopics(config('')), []);
});

t.test('mistakes are configuration errors naming the entry', async (t) => {
  const bad = (spec: string, msg: RegExp) => t.throws(() => startupTopics(config(spec)), { name: 'ConfigError', message: msg }, spec);
  bad('orders:3:3', /"orders:3:3": 3 replicas asked for, but this single node holds one replica/);
  bad('orders:0:1', /partitions must be a positive integer, got "0"/);
  bad('orders:x', /partitions must be a positive integer/);
  bad('orders:1:0', /replicas must be a positive integer, got "0"/);
  bad('bad name!:1:1', /Topic name is invalid/);
  bad('__consumer_offsets:1:1', /internal topic/);
  bad('a.b:1:1,a_b:1:1', /a_b collides with a\.b/);
  bad('a:1:1,a:2:1', /a is listed twice/);
  bad('a:1:1:retention.ms=soon', /Invalid value soon for configuration retention\.ms/);
  bad('a:1:1:no.such.config=1', /Unknown topic config name: no\.such\.config/);
  bad('a:1:1:compact:delete', /"delete" is not a topic config key=value/);
  bad('a:20000:1', /at most 10000 partitions/);
  // At start too: the broker refuses before it opens storage.
  await t.rejects(startBroker({ config: config('a:1:2'), storage: 'memory', logger: memoryLogger() }), { name: 'ConfigError' });
});

async function metadata(port: number): Promise<Map<string, number>> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(3, 12, makeMetadataRequest({ topics: null, allowAutoTopicCreation: false }));
    return new Map(res.topics.map((x: any) => [x.name, x.partitions.length]));
  } finally { c.close(); }
}

t.test('created with partitions and configs before the first client can connect; a restart leaves them alone', async (t) => {
  const fs = new MemFs();
  const log = memoryLogger();
  const spec = 'orders:3:1,compacted:1:1:compact:min.cleanable.dirty.ratio=0.1';
  const b1 = await startBroker({ config: config(spec), storage: 'file', fs, logger: log });
  const created = log.lines.findIndex((l) => /created topic compacted/.test(l));
  const listening = log.lines.findIndex((l) => /listening on/.test(l));
  t.ok(created >= 0 && created < listening, 'topics created before the listener binds');
  t.same(await metadata(b1.listeners[0].port), new Map([['orders', 3], ['compacted', 1]]));
  t.same(Object.fromEntries(b1.context.topics.get('compacted')!.configs), { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1' });
  const ids = [b1.context.topics.get('orders')!.topicId, b1.context.topics.get('compacted')!.topicId];
  await b1.close();

  // Restart with a different partition count for orders: left as it is (wurstmeister's --if-not-exists), logged.
  const log2 = memoryLogger();
  const b2 = await startBroker({ config: config('orders:5:1,compacted:1:1:compact:min.cleanable.dirty.ratio=0.1,fresh'), storage: 'file', fs, logger: log2 });
  t.teardown(() => b2.close());
  t.same(await metadata(b2.listeners[0].port), new Map([['orders', 3], ['compacted', 1], ['fresh', 1]]));
  t.same([b2.context.topics.get('orders')!.topicId, b2.context.topics.get('compacted')!.topicId], ids, 'same topics, not recreated');
  t.ok(log2.lines.some((l) => /WARN gregor\.create\.topics: topic orders exists and is left as it is: 3 partition\(s\), configured 5/.test(l)));
  t.ok(log2.lines.some((l) => /INFO gregor\.create\.topics: topic compacted exists$/.test(l)));
  t.notOk(log2.lines.some((l) => /created topic (orders|compacted)/.test(l)));
});

t.test('a configured name colliding with an existing topic stops the start', async (t) => {
  const fs = new MemFs();
  const b1 = await startBroker({ config: config('a.b:1:1'), storage: 'file', fs, logger: memoryLogger() });
  await b1.close();
  await t.rejects(startBroker({ config: config('a_b:1:1'), storage: 'file', fs, logger: memoryLogger() }), { name: 'ConfigError', message: /a_b collides with existing topic a\.b/ });
  // …and released what it had opened: the same data opens again.
  const b3 = await startBroker({ config: config(''), storage: 'file', fs, logger: memoryLogger() });
  t.ok(b3.context.topics.get('a.b'));
  await b3.close();
});
