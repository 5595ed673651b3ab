// The public test broker (`gregor/testing`) and the examples the README shows for each test runner.
import t from 'tap';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from './config.ts';
import { startTestBroker } from './test-broker.ts';

t.test('seeded topics, Kafka settings, bootstrap on 127.0.0.1, close twice', async (t) => {
  const broker = await startTestBroker({
    topics: ['plain', { name: 'compacted', partitions: 4, configs: { 'cleanup.policy': 'compact', 'retention.ms': 60_000 } }],
    config: { 'num.partitions': 2 },
  });
  t.equal(broker.bootstrap, `127.0.0.1:${broker.port}`);
  t.ok(broker.port > 0, 'an ephemeral port');
  const topics = broker.broker.context.topics;
  t.equal(topics.get('plain')?.partitions, 2, 'a name alone gets num.partitions');
  t.equal(topics.get('compacted')?.partitions, 4);
  t.equal(topics.get('compacted')?.configs.get('cleanup.policy'), 'compact');
  t.equal(topics.get('compacted')?.configs.get('retention.ms'), '60000');
  t.equal(broker.broker.context.config.int('group.initial.rebalance.delay.ms'), 0, 'no initial rebalance delay');
  await broker.close();
  await broker.close();
});

t.test('await using closes the broker', async (t) => {
  let port = 0;
  {
    await using broker = await startTestBroker();
    port = broker.port;
  }
  const { createConnection } = await import('node:net');
  const refused = await new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }).once('connect', () => { s.destroy(); resolve(false); }).once('error', () => resolve(true));
  });
  t.ok(refused, 'the port is closed after the block');
});

t.test('a bad topic spec or setting fails the start with a ConfigError naming it', async (t) => {
  await t.rejects(startTestBroker({ topics: [{ name: 'x', partitions: 0 }] }), { constructor: ConfigError, message: /topics: "x": partitions must be a positive integer/ });
  await t.rejects(startTestBroker({ topics: ['__consumer_offsets'] }), { message: /internal topic/ });
  await t.rejects(startTestBroker({ topics: ['a', 'a'] }), { message: /listed twice/ });
  await t.rejects(startTestBroker({ topics: [{ name: 'y', configs: { 'cleanup.policy': 'sometimes' } }] }), { message: /topics: "y"/ });
  await t.rejects(startTestBroker({ config: { 'no.such.setting': 1 } }), { message: /no\.such\.setting/ });
});

// The README's examples, run as a user runs them; `gregor/testing` resolves to the source through the
// `gregor-source` export condition.
const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
for (const [name, args] of [['node:test', ['--test']], ['tap', []]] as const) {
  const file = name === 'tap' ? 'examples/testing/tap.example.ts' : 'examples/testing/node-test.example.ts';
  t.test(`the ${name} example passes (${file})`, async (t) => {
    const r = await run(process.execPath, ['--conditions=gregor-source', ...args, file], { cwd: root, timeout: 60_000 }).catch((e) => e);
    if ((r.code ?? 0) !== 0) t.comment(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    t.equal(r.code ?? 0, 0, 'exits 0');
  });
}
