import t from 'tap';
import { buildBrokerConfig, configFromEnv, parseListeners, parseProperties } from './config.ts';

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
