import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { LOG_CONFIG_DEFAULTS } from '../storage/config.ts';
import { brokerConfigDefs, buildBrokerConfig, configFromEnv, ineffectiveSettings, parseListeners, parseProperties } from './config.ts';
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
  t.ok(n > 30);
  t.throws(() => buildBrokerConfig({ env: configFromEnv({ KAFKA_SSL_KEYSTORE_LOCATION: '/x.jks' }) }), { message: /ssl\.keystore\.location/ });
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
  t.throws(() => build({ 'node.id': '1', 'controller.quorum.voters': '1@a:9093,2@b:9093' }), { message: /controller\.quorum\.voters.*not supported yet/ });
  t.throws(() => build({ 'log.dirs': '/a,/b' }), { message: /log\.dirs/ });
  t.throws(() => build({ 'group.consumer.session.timeout.ms': '1000' }), { message: /group\.consumer\.session\.timeout\.ms must be between/ });
  t.throws(() => build({ 'group.consumer.heartbeat.interval.ms': '50000', 'group.consumer.max.heartbeat.interval.ms': '60000', 'group.consumer.session.timeout.ms': '50000' }), { message: /less than/ });
});
