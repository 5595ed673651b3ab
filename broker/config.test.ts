import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { LOG_CONFIG_DEFAULTS } from '../storage/config.ts';
import { brokerConfigDefs, buildBrokerConfig, configFromEnv, ineffectiveSettings, parseListeners, parseProperties, readEnvironment } from './config.ts';
import { TOPIC_CONFIGS } from './configs/topic-configs.ts';

t.test('defaults are Kafka\'s', async (t) => {
  const c = buildBrokerConfig();
  t.equal(c.int('num.partitions'), 1);
  t.equal(c.bool('auto.create.topics.enable'), true);
  t.equal(c.int('socket.request.max.bytes'), 104857600);
  t.equal(c.int('message.max.bytes'), 1048588);
  t.same(c.list('listeners'), ['PLAINTEXT://:9092']);
  t.equal(c.get('advertised.listeners'), null);
  t.equal(c.isSet('num.partitions'), false);
});

t.test('properties file syntax', async (t) => {
  const p = parseProperties('# comment\n! also\nnum.partitions=3\nlog.dirs : /a,\\\n  /b\nbroker.rack r1\nkey\\=x=y\n');
  t.equal(p.get('num.partitions'), '3');
  t.equal(p.get('log.dirs'), '/a,/b');
  t.equal(p.get('broker.rack'), 'r1');
  t.equal(p.get('key=x'), 'y');
});

t.test('precedence: file < env < overrides, aliases, validation', async (t) => {
  const c = buildBrokerConfig({
    file: new Map([['num.partitions', '2'], ['log.dir', '/x'], ['broker.id', '7']]),
    env: configFromEnv({ KAFKA_NUM_PARTITIONS: '4', KAFKA_HEAP_OPTS: '-Xmx1g', KAFKA_CFG_AUTO_CREATE_TOPICS_ENABLE: 'FALSE' }),
    overrides: new Map([['num.partitions', '5']]),
  });
  t.equal(c.int('num.partitions'), 5);
  t.same(c.list('log.dirs'), ['/x']);
  t.equal(c.int('node.id'), 7);
  t.equal(c.bool('auto.create.topics.enable'), false);
  t.throws(() => buildBrokerConfig({ overrides: new Map([['num.partitons', '1']]) }), { name: 'ConfigError' });
  t.throws(() => buildBrokerConfig({ overrides: new Map([['num.partitions', 'x']]) }), { name: 'ConfigError' });
  t.throws(() => buildBrokerConfig({ overrides: new Map([['auto.create.topics.enable', 'yes']]) }), { name: 'ConfigError' });
});

t.test('listeners', async (t) => {
  t.same(parseListeners(['PLAINTEXT://:9092', 'internal://[::1]:0', 'X://host.example:19092']), [
    { name: 'PLAINTEXT', host: '', port: 9092 },
    { name: 'INTERNAL', host: '::1', port: 0 },
    { name: 'X', host: 'host.example', port: 19092 },
  ]);
  t.throws(() => parseListeners(['localhost:9092']), { name: 'ConfigError' });
});

// ---- what gregor does with each config (the catalogue's `support`) -------------------------------------

const OWNED_ELSEWHERE = new Set<string>();

/** Source files that read configs: everything but tests and the catalogue itself. */
function sourceText(): string {
  const roots = ['broker', 'storage', 'protocol', 'controller'].map((d) => path.join(import.meta.dirname, '..', d));
  let text = '';
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'generated' && e.name !== 'testing') walk(p); continue; }
      if (!e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue;
      if (p.endsWith(path.join('configs', 'broker-configs.ts')) || p.endsWith(path.join('configs', 'topic-configs.ts'))) continue;
      text += fs.readFileSync(p, 'utf8');
    }
  };
  for (const r of roots) if (fs.existsSync(r)) walk(r);
  return text;
}

function otherValue(def: { type: string; default: string | null }): string {
  switch (def.type) {
    case 'int': case 'short': case 'long': return def.default === null ? '7' : String(BigInt(def.default) === 7n ? 8n : 7n);
    case 'boolean': return def.default === 'true' ? 'false' : 'true';
    case 'double': return '0.25';
    default: return 'gregor-test-value';
  }
}

t.test('every broker config is classified; each effective one is read by the code', async (t) => {
  const src = sourceText();
  const quoted = (n: string) => src.includes(`'${n}'`);
  // A broker synonym takes effect when its topic config does (storage's LOG_CONFIG_DEFAULTS or a read).
  const effectiveTopic = (n: string) => n in LOG_CONFIG_DEFAULTS || quoted(n);
  for (const def of brokerConfigDefs) {
    if (OWNED_ELSEWHERE.has(def.name)) continue;
    t.ok(def.support, `${def.name} is classified`);
    if (def.support?.kind !== 'effective') continue;
    const viaTopic = TOPIC_CONFIGS.some((e) => e.synonyms.some((s) => s.name === def.name) && effectiveTopic(e.name));
    t.ok(quoted(def.name) || viaTopic, `${def.name} is read somewhere`);
  }
});

t.test('unsupported configs are refused when set, accepted at their default', async (t) => {
  let n = 0;
  for (const def of brokerConfigDefs) {
    if (def.support?.kind !== 'unsupported') continue;
    n++;
    const v = otherValue(def);
    t.throws(() => buildBrokerConfig({ overrides: new Map([[def.name, v]]) }), { name: 'ConfigError', message: new RegExp(`gregor does not implement ${def.name.replace(/\./g, '\\.')} \\(.*not supported`) }, `${def.name}=${v} refused`);
    if (def.default !== null) t.doesNotThrow(() => buildBrokerConfig({ overrides: new Map([[def.name, def.default!]]) }), `${def.name} at its default accepted`);
  }
  t.ok(n > 10, `${n} unsupported configs checked`);
  t.throws(() => buildBrokerConfig({ env: configFromEnv({ KAFKA_AUTHORIZER_CLASS_NAME: 'x.Y' }) }), { message: /authorizer\.class\.name/ });
});

t.test('noop configs are accepted and reported as having no effect; satisfied ones are accepted', async (t) => {
  const c = buildBrokerConfig({ overrides: new Map([['num.io.threads', '16'], ['num.network.threads', '3'], ['offsets.topic.replication.factor', '1'], ['transaction.state.log.min.isr', '1']]) });
  const lines = ineffectiveSettings(c);
  t.equal(lines.length, 1, 'only the non-default noop setting');
  t.match(lines[0], /^num\.io\.threads=16 has no effect on gregor/);
});

t.test('single-node checks: process.roles, controller.quorum.voters, log.dirs, group.consumer bounds', async (t) => {
  const build = (o: Record<string, string>) => buildBrokerConfig({ overrides: new Map(Object.entries(o)) });
  t.doesNotThrow(() => build({ 'process.roles': 'broker,controller', 'node.id': '1', 'controller.quorum.voters': '1@kafka:9093', 'controller.listener.names': 'CONTROLLER' }));
  t.throws(() => build({ 'process.roles': 'controller' }), { message: /process\.roles/ });
  // Several voters: combined mode only, with Kafka's validation messages.
  const multi = { 'node.id': '1', 'controller.quorum.voters': '1@a:9093,2@b:9093,3@c:9093', 'process.roles': 'broker,controller', 'controller.listener.names': 'CONTROLLER', 'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT' };
  t.doesNotThrow(() => build(multi));
  t.throws(() => build({ ...multi, 'process.roles': '' }), { message: /process\.roles must be set/ });
  t.throws(() => build({ ...multi, 'process.roles': 'broker' }), { message: /broker-only node .* not supported yet/ });
  t.throws(() => build({ ...multi, 'node.id': '4' }), { message: "If process.roles contains the 'controller' role, the node id 4 must be included in the set of voters controller.quorum.voters=[1, 2, 3]" });
  t.throws(() => build({ ...multi, 'controller.listener.names': '' }), { message: /controller\.listener\.names must contain at least one value appearing in the 'listeners'/ });
  t.throws(() => build({ ...multi, 'controller.listener.names': 'CONTROLLER,OTHER' }), { message: /must only contain values appearing in the 'listeners'/ });
  t.throws(() => build({ ...multi, 'advertised.listeners': 'PLAINTEXT://a:9092,CONTROLLER://a:9093' }), { message: /must not contain KRaft controller listeners/ });
  t.throws(() => build({ ...multi, 'controller.quorum.voters': '1@a:9093,1@b:9093' }), { message: /voter 1 appears twice/ });
  t.throws(() => build({ ...multi, 'controller.quorum.voters': '1@a:9093,2@b' }), { message: /malformed entry "2@b"/ });
  t.throws(() => build({ 'log.dirs': '/a,/b' }), { message: /log\.dirs/ });
  t.throws(() => build({ 'group.consumer.session.timeout.ms': '1000' }), { message: /group\.consumer\.session\.timeout\.ms must be between/ });
  t.throws(() => build({ 'group.consumer.heartbeat.interval.ms': '50000', 'group.consumer.max.heartbeat.interval.ms': '60000', 'group.consumer.session.timeout.ms': '50000' }), { message: /less than/ });
});

// ---- compose dialects: the environment as Kafka's Docker images read it ---------------------------------

const fromEnv = (env: Record<string, string>, more: { defaults?: Record<string, string>; file?: Record<string, string> } = {}) => {
  const e = readEnvironment(env);
  return buildBrokerConfig({
    defaults: more.defaults && new Map(Object.entries(more.defaults)), file: more.file && new Map(Object.entries(more.file)),
    env: e.configs, envOrigins: e.origins,
  });
};

t.test("cp-kafka's classic two-listener file: listeners derived from the advertised ones", async (t) => {
  const c = fromEnv({
    KAFKA_BROKER_ID: '1',
    KAFKA_ZOOKEEPER_CONNECT: 'zookeeper:2181',
    KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_JMX_PORT: '9101',
  });
  t.same(c.list('listeners'), ['PLAINTEXT://:29092', 'PLAINTEXT_HOST://:9092']);
  t.equal(c.notes.length, 1);
  t.match(c.notes[0], /derived listeners=PLAINTEXT:\/\/:29092,PLAINTEXT_HOST:\/\/:9092 from advertised\.listeners/);
  // Set explicitly, listeners are left alone (and then must contain every advertised name).
  const explicit = fromEnv({ KAFKA_LISTENERS: 'PLAINTEXT://:9092', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092' });
  t.same(explicit.list('listeners'), ['PLAINTEXT://:9092']);
  t.same(explicit.notes, []);
});

t.test('listener checks: advertised names bound, names in the protocol map, distinct ports', async (t) => {
  t.throws(() => fromEnv({ KAFKA_LISTENERS: 'PLAINTEXT://:9092', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT' }),
    { name: 'ConfigError', message: /advertised\.listeners: PLAINTEXT_HOST is not one of the listeners \(PLAINTEXT\)/ });
  t.throws(() => fromEnv({ KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092' }),
    { name: 'ConfigError', message: /listener PLAINTEXT_HOST has no security protocol: add PLAINTEXT_HOST:PLAINTEXT to listener\.security\.protocol\.map/ });
  t.throws(() => fromEnv({ KAFKA_LISTENERS: 'A://:9092,B://:9092', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'A:PLAINTEXT,B:PLAINTEXT' }), { message: /A and B both use port 9092/ });
  // Security protocols are Kafka's four; each listener's TLS/SASL settings are checked when the broker starts (security/).
  t.doesNotThrow(() => fromEnv({ KAFKA_LISTENERS: 'SSL://:9093' }));
  t.doesNotThrow(() => fromEnv({ KAFKA_LISTENERS: 'X://:9093', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'X:SASL_PLAINTEXT' }));
  t.throws(() => fromEnv({ KAFKA_LISTENERS: 'X://:9093', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'X:TLS' }), { message: /unknown security protocol TLS for X/ });
  // Per-listener settings: listener.name.<l>.<config>, validated as the config they prefix.
  t.equal(fromEnv({ KAFKA_LISTENER_NAME_X_SSL_CLIENT_AUTH: 'required' }).raw('listener.name.x.ssl.client.auth'), 'required');
  t.equal(fromEnv({ KAFKA_LISTENER_NAME_X_SCRAM___SHA___512_SASL_JAAS_CONFIG: 'm required;' }).raw('listener.name.x.scram-sha-512.sasl.jaas.config'), 'm required;');
  t.throws(() => fromEnv({ KAFKA_LISTENER_NAME_X_NUM_PARTITIONS: '3' }), { name: 'ConfigError', message: /listener\.name\.x\.num\.partitions.*no per-listener num\.partitions/ });
  t.throws(() => fromEnv({ KAFKA_LISTENER_NAME_X_CONNECTIONS_MAX_REAUTH_MS: 'soon' }), { name: 'ConfigError', message: /expected an integer/ });
  // apache/kafka's KRaft file: a CONTROLLER listener, mapped explicitly or (map unset) as PLAINTEXT, as Kafka does.
  t.doesNotThrow(() => fromEnv({
    KAFKA_NODE_ID: '1', KAFKA_PROCESS_ROLES: 'broker,controller', KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
    KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://localhost:9092',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  }));
  t.doesNotThrow(() => fromEnv({ KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093', KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER' }));
  t.throws(() => fromEnv({ KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT', KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER' }),
    { message: /listener CONTROLLER has no security protocol/ });
});

t.test('unknown KAFKA_* variables are refused naming them; JVM, ZooKeeper and image-script ones are listed as ignored', async (t) => {
  t.throws(() => readEnvironment({ KAFKA_NUM_PARTITONS: '3' }), { name: 'ConfigError', message: /unknown config "num\.partitons" \(from environment variable KAFKA_NUM_PARTITONS\)/ });
  t.throws(() => readEnvironment({ KAFKA_CFG_NUM_PARTITONS: '3' }), { message: /KAFKA_CFG_NUM_PARTITONS/ });
  t.throws(() => readEnvironment({ KAFKA_ADVERTISED_HOST_NAME: 'localhost' }), { message: /advertised\.host\.name.*removed in Kafka 3\.0: use KAFKA_ADVERTISED_LISTENERS/ });
  t.throws(() => readEnvironment({ KAFKA_PORT: '9092' }), { message: /"port".*use KAFKA_LISTENERS/ });
  const e = readEnvironment({
    KAFKA_HEAP_OPTS: '-Xmx1G', KAFKA_JVM_PERFORMANCE_OPTS: '-XX:+UseG1GC', KAFKA_OPTS: '-Dx', KAFKA_JMX_PORT: '9101', KAFKA_JMX_HOSTNAME: 'localhost',
    KAFKA_LOG4J_LOGGERS: 'kafka=WARN', KAFKA_LOG4J_ROOT_LOGLEVEL: 'WARN', KAFKA_ZOOKEEPER_CONNECT: 'zk:2181', KAFKA_CFG_ZOOKEEPER_CONNECT: 'zk:2181',
    KAFKA_HOME: '/opt/kafka', KAFKA_VERSION: '3.7.0', KAFKA_ENABLE_KRAFT: 'yes', KAFKA_CLIENT_USERS: 'u', KAFKA_CLIENT_PASSWORDS_FILE: '/run/secrets/p',
    KAFKA_CONFLUENT_SUPPORT_METRICS_ENABLE: 'false', KAFKA_PORT_9092_TCP: 'tcp://10.0.0.7:9092', KAFKA_SERVICE_HOST: '10.0.0.7',
    KAFKA_NUM_PARTITIONS: '3', ALLOW_PLAINTEXT_LISTENER: 'yes', PATH: '/usr/bin', HOSTNAME: 'x', CI: 'true',
  });
  t.same([...e.configs], [['num.partitions', '3']], 'only the broker config is taken; variables without the prefixes are never looked at');
  t.same(e.ignored.map((i) => i.name).sort(), [
    'KAFKA_CFG_ZOOKEEPER_CONNECT', 'KAFKA_CLIENT_PASSWORDS_FILE', 'KAFKA_CLIENT_USERS', 'KAFKA_CONFLUENT_SUPPORT_METRICS_ENABLE', 'KAFKA_ENABLE_KRAFT',
    'KAFKA_HEAP_OPTS', 'KAFKA_HOME', 'KAFKA_JMX_HOSTNAME', 'KAFKA_JMX_PORT', 'KAFKA_JVM_PERFORMANCE_OPTS', 'KAFKA_LOG4J_LOGGERS', 'KAFKA_OPTS',
    'KAFKA_PORT_9092_TCP', 'KAFKA_SERVICE_HOST', 'KAFKA_VERSION', 'KAFKA_ZOOKEEPER_CONNECT',
  ], 'KAFKA_LOG4J_ROOT_LOGLEVEL is not listed: the CLI reads it as the log level');
  t.match(e.ignored.find((i) => i.name === 'KAFKA_HEAP_OPTS')!.why, /JVM/);
  // A Kubernetes service named kafka sets KAFKA_PORT=tcp://…: a link, not the old port config.
  t.same(readEnvironment({ KAFKA_PORT: 'tcp://10.0.0.7:9092' }).ignored.map((i) => i.name), ['KAFKA_PORT']);
  t.same(readEnvironment({ GREGOR_CACHE_DIR: '/x', GREGOR_LOG_LEVEL: 'warn' }).unknownGregor, ['GREGOR_CACHE_DIR']);
});

t.test('two spellings of one config: equal is fine, different is refused naming both', async (t) => {
  t.equal(fromEnv({ KAFKA_NUM_PARTITIONS: '3', KAFKA_CFG_NUM_PARTITIONS: '3' }).int('num.partitions'), 3);
  t.throws(() => readEnvironment({ KAFKA_NUM_PARTITIONS: '3', KAFKA_CFG_NUM_PARTITIONS: '4' }), { message: /KAFKA_CFG_NUM_PARTITIONS="4" and KAFKA_NUM_PARTITIONS="3" both set num\.partitions|KAFKA_NUM_PARTITIONS="3" and KAFKA_CFG_NUM_PARTITIONS="4"/ });
  t.throws(() => readEnvironment({ CLUSTER_ID: 'MkU3OEVBNTcwNTJENDM2Qk', KAFKA_KRAFT_CLUSTER_ID: 'abcdefghijklmnopqrstuv' }), { message: /both set cluster\.id/ });
});

t.test('CLUSTER_ID (apache/kafka, cp-kafka), KAFKA_KRAFT_CLUSTER_ID (bitnami) set the cluster id; a malformed one is refused', async (t) => {
  t.equal(fromEnv({ CLUSTER_ID: 'MkU3OEVBNTcwNTJENDM2Qk' }).get('cluster.id'), 'MkU3OEVBNTcwNTJENDM2Qk');
  t.equal(fromEnv({ KAFKA_KRAFT_CLUSTER_ID: 'abcdefghijklmnopqrstuv' }).get('cluster.id'), 'abcdefghijklmnopqrstuv');
  t.throws(() => fromEnv({ CLUSTER_ID: 'my-cluster' }), { name: 'ConfigError', message: /^CLUSTER_ID: cluster id "my-cluster" is not a UUID in base64url/ });
  t.throws(() => buildBrokerConfig({ overrides: new Map([['cluster.id', 'x']]) }), { message: /--override cluster\.id: cluster id "x"/ });
});

t.test('precedence with --default: defaults < file < env < overrides; KAFKA_LOG_DIRS / KAFKA_CFG_LOG_DIRS win over the image default', async (t) => {
  const image = { 'log.dirs': '/var/lib/gregor' };
  t.same(fromEnv({}, { defaults: image }).list('log.dirs'), ['/var/lib/gregor']);
  t.same(fromEnv({ KAFKA_LOG_DIRS: '/data' }, { defaults: image }).list('log.dirs'), ['/data']);
  t.same(fromEnv({ KAFKA_CFG_LOG_DIRS: '/bitnami/kafka/data' }, { defaults: image }).list('log.dirs'), ['/bitnami/kafka/data']);
  t.same(fromEnv({}, { defaults: image, file: { 'log.dir': '/f' } }).list('log.dirs'), ['/f']);
  t.throws(() => buildBrokerConfig({ defaults: new Map([['nope', '1']]) }), { message: /unknown config "nope"/ });
});

t.test('unsupported and invalid values from the environment name the variable', async (t) => {
  t.throws(() => fromEnv({ KAFKA_NUM_PARTITIONS: 'three' }), { message: /num\.partitions: expected an integer.*\(from environment variable KAFKA_NUM_PARTITIONS\)/ });
  t.throws(() => fromEnv({ KAFKA_CFG_AUTHORIZER_CLASS_NAME: 'x.Y' }), { message: /authorizer\.class\.name.*\(from environment variable KAFKA_CFG_AUTHORIZER_CLASS_NAME\)/ });
});

t.test('gregor settings: GREGOR_<NAME> and the create-topics variables', async (t) => {
  const e = readEnvironment({ GREGOR_CREATE_TOPICS: 'a:1:1', KAFKA_CREATE_TOPICS: 'b:2:1:compact' });
  t.equal(e.configs.get('gregor.create.topics'), 'a:1:1,b:2:1:compact');
  t.equal(fromEnv({ KAFKA_CREATE_TOPICS: 'x:3:1' }).get('gregor.create.topics'), 'x:3:1');
  t.equal(buildBrokerConfig({ overrides: new Map([['gregor.create.topics', 'y']]) }).get('gregor.create.topics'), 'y');
  t.equal(buildBrokerConfig().get('gregor.create.topics'), '');
  t.throws(() => readEnvironment({ KAFKA_GREGOR_CREATE_TOPICS: 'y' }), { message: /unknown config "gregor\.create\.topics" \(from environment variable KAFKA_GREGOR_CREATE_TOPICS\)/ });
});
