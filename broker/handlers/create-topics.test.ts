import t from 'tap';
import { makeCreatableTopic, makeCreateTopicsRequest } from '../../protocol/generated/create-topics.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';
import { ZERO_UUID } from '../topics.ts';

const CREATE_TOPICS = 19;

const topic = (name: string, init: Record<string, unknown> = {}) =>
  makeCreatableTopic({ name, numPartitions: 1, replicationFactor: 1, ...init });
const req = (topics: ReturnType<typeof topic>[], init: Record<string, unknown> = {}) =>
  makeCreateTopicsRequest({ topics, timeoutMs: 10000, ...init });

async function setup(t: { teardown(fn: () => unknown): void }, overrides: Record<string, string> = {}) {
  const tb = await startTestBroker(overrides);
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

t.test('every version creates; defaults from num.partitions; v5+ reports partitions, RF and configs; v7 the topic id', async (t) => {
  const { tb, c } = await setup(t, { 'num.partitions': '3', 'log.retention.hours': '2' });
  for (let v = 2; v <= 7; v++) {
    const name = `v${v}`;
    const res = await c.request(CREATE_TOPICS, v, req([topic(name, { numPartitions: -1, replicationFactor: -1 })]));
    const r = res.topics[0];
    t.equal(r.name, name);
    t.equal(r.errorCode, 0, `v${v} created`);
    const info = tb.broker.context.topics.get(name);
    t.equal(info?.partitions, 3, `v${v} num.partitions applied`);
    t.ok(tb.broker.context.storage.getTopic(name), `v${v} exists in storage when answered`);
    if (v >= 5) {
      t.equal(r.numPartitions, 3);
      t.equal(r.replicationFactor, 1);
      const ret = r.configs.find((x: any) => x.name === 'retention.ms');
      t.same([ret.value, ret.configSource], ['7200000', 5], `v${v} retention.ms from log.retention.hours`);
      t.equal(r.configs.length, 37);
    } else {
      t.equal(r.numPartitions, -1, `v${v} has no numPartitions field`);
    }
    t.equal(r.topicId, v >= 7 ? info!.topicId : ZERO_UUID);
  }
});

t.test('configs are validated, canonicalised and applied; v5+ reports them as DYNAMIC_TOPIC_CONFIG', async (t) => {
  const { tb, c } = await setup(t);
  const res = await c.request(CREATE_TOPICS, 7, req([topic('with-configs', {
    configs: [{ name: 'retention.ms', value: ' +1000 ' }, { name: 'cleanup.policy', value: 'compact, delete' }, { name: 'segment.bytes', value: '2097152' }],
  })]));
  t.equal(res.topics[0].errorCode, 0);
  t.same([...tb.broker.context.topics.get('with-configs')!.configs], [['retention.ms', '1000'], ['cleanup.policy', 'compact,delete'], ['segment.bytes', '2097152']]);
  const byName = new Map(res.topics[0].configs.map((x: any) => [x.name, x]));
  t.match(byName.get('retention.ms'), { value: '1000', configSource: 1, readOnly: false, isSensitive: false });
  t.match(byName.get('segment.ms'), { value: '604800000', configSource: 5 });
  const log = tb.broker.context.storage.partition('with-configs', 0)!;
  t.equal(log.config.retentionMs, 1000, 'storage runs with the topic config');
  t.equal(log.config.segmentBytes, 2097152);
});

t.test('error paths with Kafka 4.4 codes and messages', async (t) => {
  const { tb, c } = await setup(t, { 'default.replication.factor': '1' });
  await tb.broker.context.createTopic('exists', 1);
  await tb.broker.context.createTopic('a_b', 1);
  const cases: [ReturnType<typeof topic>, number, string | null][] = [
    [topic('exists'), ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'exists' already exists."],
    [topic('a.b'), ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic 'a.b' collides with existing topic: a_b"],
    [topic('bad name'), ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is invalid: 'bad name' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"],
    [topic(''), ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name is invalid: the empty string is not allowed'],
    [topic('..'), ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is invalid: '..' is not allowed"],
    [topic('x'.repeat(250)), ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic name is invalid: the length of '${'x'.repeat(250)}' is longer than the max allowed length 249`],
    [topic('rf3', { replicationFactor: 3 }), ErrorCode.INVALID_REPLICATION_FACTOR, 'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.'],
    [topic('rf0', { replicationFactor: 0 }), ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.'],
    [topic('p0', { numPartitions: 0 }), ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.'],
    [topic('pm2', { numPartitions: -2 }), ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.'],
    [topic('cfg-unknown', { configs: [{ name: 'foo.bar', value: '1' }] }), ErrorCode.INVALID_CONFIG, 'Unknown topic config name: foo.bar'],
    [topic('cfg-gone', { configs: [{ name: 'message.downconversion.enable', value: 'true' }] }), ErrorCode.INVALID_CONFIG, 'Unknown topic config name: message.downconversion.enable'],
    [topic('cfg-type', { configs: [{ name: 'retention.ms', value: 'abc' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value abc for configuration retention.ms: Not a number of type LONG'],
    [topic('cfg-range', { configs: [{ name: 'segment.bytes', value: '10' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value 10 for configuration segment.bytes: Value must be at least 1048576'],
    [topic('cfg-enum', { configs: [{ name: 'cleanup.policy', value: 'foo' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value foo for configuration cleanup.policy: String must be one of: compact, delete'],
    [topic('cfg-comp', { configs: [{ name: 'compression.type', value: 'GZIP' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value GZIP for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer'],
    [topic('cfg-ts', { configs: [{ name: 'message.timestamp.type', value: 'createtime' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value createtime for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime'],
    [topic('cfg-ratio', { configs: [{ name: 'min.cleanable.dirty.ratio', value: '2' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value 2.0 for configuration min.cleanable.dirty.ratio: Value must be no more than 1'],
    [topic('cfg-gzip', { configs: [{ name: 'compression.gzip.level', value: '10' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value 10 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1'],
    [topic('cfg-bool', { configs: [{ name: 'preallocate', value: 'yes' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value yes for configuration preallocate: Expected value to be either true or false'],
    [topic('cfg-int', { configs: [{ name: 'segment.bytes', value: '99999999999' }] }), ErrorCode.INVALID_CONFIG, 'Invalid value 99999999999 for configuration segment.bytes: Not a number of type INT'],
    [topic('cfg-null', { configs: [{ name: 'retention.ms', value: null }] }), ErrorCode.INVALID_CONFIG, 'Null value not supported for topic configs: retention.ms'],
    [topic('cfg-empty', { configs: [{ name: 'cleanup.policy', value: ',' }] }), ErrorCode.INVALID_CONFIG, "Configuration 'cleanup.policy' values must not be empty."],
    [topic('cfg-thr', { configs: [{ name: 'leader.replication.throttled.replicas', value: 'foo' }] }), ErrorCode.INVALID_CONFIG, "Invalid value [foo] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."],
    [topic('cfg-remote', { configs: [{ name: 'remote.storage.enable', value: 'true' }] }), ErrorCode.INVALID_CONFIG, 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.'],
    [topic('asg-other', { numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2] }] }), ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 2, but no such broker is registered.'],
    [topic('asg-np', { numPartitions: 1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] }), ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.'],
    [topic('asg-rf', { numPartitions: -1, replicationFactor: 1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] }), ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but replication factor was not set to -1.'],
    [topic('asg-gap', { numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }] }), ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence'],
    [topic('asg-dup', { numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 1] }] }), ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes the broker 1 more than once.'],
    [topic('asg-empty', { numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [] }] }), ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.'],
  ];
  for (const v of [2, 7]) {
    const res = await c.request(CREATE_TOPICS, v, req(cases.map((x) => x[0])));
    t.same(res.topics.map((x: any) => [x.name, x.errorCode, x.errorMessage]), cases.map(([tp, code, msg]) => [tp.name, code, msg]), `v${v}`);
    for (const x of res.topics) if (v >= 5) t.same([x.numPartitions, x.replicationFactor, x.configs], [-1, -1, []]);
  }
  t.same([...tb.broker.context.topics.all()].map((x) => x.name).sort(), ['a_b', 'exists'], 'nothing was created');
});

t.test('replication factor above 1 via default.replication.factor', async (t) => {
  const { c } = await setup(t, { 'default.replication.factor': '2' });
  const res = await c.request(CREATE_TOPICS, 7, req([topic('d', { replicationFactor: -1 })]));
  t.equal(res.topics[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
});

t.test('manual assignment on this node; duplicates; internal names; topic being created', async (t) => {
  const { tb, c } = await setup(t);
  const res = await c.request(CREATE_TOPICS, 6, req([
    topic('manual', { numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }, { partitionIndex: 0, brokerIds: [1] }] }),
    topic('dup'), topic('dup'),
    topic('__consumer_offsets'),
  ]));
  t.same(res.topics.map((x: any) => [x.name, x.errorCode, x.errorMessage]), [
    ['manual', 0, null],
    ['dup', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
    ['__consumer_offsets', 0, null],
  ]);
  t.equal(tb.broker.context.topics.get('manual')?.partitions, 2);
  t.equal(tb.broker.context.topics.get('dup'), undefined, 'duplicates are not created');
  t.equal(tb.broker.context.topics.get('__consumer_offsets')?.internal, true, 'Kafka 4.4 lets clients create internal topics');

  // A creation still under way (e.g. auto-creation) counts as existing.
  const pending = tb.broker.context.createTopic('racing', 1);
  const again = await c.request(CREATE_TOPICS, 7, req([topic('racing')]));
  t.same([again.topics[0].errorCode, again.topics[0].errorMessage], [ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'racing' already exists."]);
  await pending;
});

t.test('validateOnly checks everything and creates nothing', async (t) => {
  const { tb, c } = await setup(t, { 'num.partitions': '4' });
  const res = await c.request(CREATE_TOPICS, 7, req([
    topic('vo', { numPartitions: -1, replicationFactor: -1, configs: [{ name: 'retention.ms', value: '1000' }] }),
    topic('vo-bad', { configs: [{ name: 'retention.ms', value: 'x' }] }),
  ], { validateOnly: true }));
  const [ok, bad] = res.topics;
  t.same([ok.errorCode, ok.numPartitions, ok.replicationFactor], [0, 4, 1]);
  t.not(ok.topicId, ZERO_UUID, 'v7 reports an id even for validateOnly, as Kafka does');
  t.match(ok.configs.find((x: any) => x.name === 'retention.ms'), { value: '1000', configSource: 1 });
  t.equal(bad.errorCode, ErrorCode.INVALID_CONFIG);
  t.equal(tb.broker.context.topics.size, 0);
  t.same(tb.broker.context.storage.topics(), []);
});

t.test('timeoutMs <= 0 creates nothing and answers REQUEST_TIMED_OUT; a slow creation times out but completes', async (t) => {
  const { tb, c } = await setup(t);
  const res = await c.request(CREATE_TOPICS, 7, req([topic('t0')], { timeoutMs: 0 }));
  t.same([res.topics[0].errorCode, res.topics[0].errorMessage], [ErrorCode.REQUEST_TIMED_OUT, null]);
  t.equal(tb.broker.context.topics.get('t0'), undefined);

  // Hold storage's topic creation until the request has timed out.
  const storage = tb.broker.context.storage;
  const original = storage.createTopic.bind(storage);
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  (storage as any).createTopic = async (...args: Parameters<typeof original>) => { await gate; return original(...args); };
  t.teardown(() => { (storage as any).createTopic = original; });
  const slow = await c.request(CREATE_TOPICS, 7, req([topic('slow')], { timeoutMs: 20 }));
  t.equal(slow.topics[0].errorCode, ErrorCode.REQUEST_TIMED_OUT);
  release();
  for (let i = 0; i < 100 && !tb.broker.context.topics.get('slow'); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(tb.broker.context.topics.get('slow'), 'creation continued in the background');
});

t.test('more than 10,000 partitions in one request: POLICY_VIOLATION for every topic, nothing created (Kafka\'s controller)', async (t) => {
  const { tb, c } = await setup(t, { 'num.partitions': '4000' });
  const EXCESSIVE = 'Excessively large number of partitions per request.';
  // The report's request: one topic of 33,554,431 partitions.
  const huge = await c.request(CREATE_TOPICS, 7, req([topic('huge', { numPartitions: 33_554_431 })]));
  t.same(huge.topics.map((r: any) => [r.name, r.errorCode, r.errorMessage]), [['huge', ErrorCode.POLICY_VIOLATION, EXCESSIVE]]);
  // Kafka counts the whole request: -1 = num.partitions, assignments by number, invalid names too.
  const sum = await c.request(CREATE_TOPICS, 5, req([
    topic('a', { numPartitions: -1 }), topic('b', { numPartitions: 4000 }), topic('bad name', { numPartitions: 2001 }),
  ]));
  t.same(sum.topics.map((r: any) => [r.name, r.errorCode]), [['a', ErrorCode.POLICY_VIOLATION], ['b', ErrorCode.POLICY_VIOLATION], ['bad name', ErrorCode.POLICY_VIOLATION]]);
  const validateOnly = await c.request(CREATE_TOPICS, 7, req([topic('v', { numPartitions: 10_001 })], { validateOnly: true }));
  t.equal(validateOnly.topics[0].errorCode, ErrorCode.POLICY_VIOLATION, 'validateOnly is checked the same way');
  // Duplicated names are not counted (Kafka's ControllerApis drops them first); exactly 10,000 passes.
  const atCap = await c.request(CREATE_TOPICS, 7, req([
    topic('d', { numPartitions: 5000 }), topic('d', { numPartitions: 5000 }), topic('e', { numPartitions: 6000 }), topic('f', { numPartitions: 4000 }),
  ], { validateOnly: true }));
  t.same(atCap.topics.map((r: any) => [r.name, r.errorCode]), [['d', ErrorCode.INVALID_REQUEST], ['e', ErrorCode.NONE], ['f', ErrorCode.NONE]]);
  t.equal(tb.broker.context.storage.topics().length, 0, 'nothing reached storage');
  t.notOk(c.closed);
});

t.test('a storage failure part-way through creation answers an error and leaves no topic behind', async (t) => {
  const { FaultyFs } = await import('../../storage/faulty-fs.ts');
  const { MemFs } = await import('../../storage/memfs.ts');
  const fs = new FaultyFs(new MemFs());
  const tb = await startTestBroker({}, { fs });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  fs.failNext('open', { code: 'EMFILE', pathIncludes: '/emfile-7/' });
  const res = await c.request(CREATE_TOPICS, 7, req([topic('emfile', { numPartitions: 10 })]));
  t.equal(res.topics[0].errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  t.equal(tb.broker.context.topics.get('emfile'), undefined, 'not registered');
  t.equal(tb.broker.context.storage.getTopic('emfile'), undefined);
  t.same((await fs.readdir(tb.broker.context.storage.dataDir)).filter((e) => e.startsWith('emfile-')), [], 'no partition directory left');
  const again = await c.request(CREATE_TOPICS, 7, req([topic('emfile', { numPartitions: 10 })]));
  t.equal(again.topics[0].errorCode, ErrorCode.NONE, 'the name can be created afterwards');
});
