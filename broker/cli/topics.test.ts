// gregor topics against an in-process gregor.
import t from 'tap';
import { startTestBroker } from '../test-broker.ts';
import { cli } from '../testing/cli.ts';

t.test('topics create, list, describe, alter, delete', async (t) => {
  const b = await startTestBroker({ config: { 'num.partitions': 2 } });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];

  let r = await cli(['topics', 'create', '--topic', 'orders', '--partitions', '3', '--config', 'retention.ms=60000,cleanup.policy=delete', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'Created topic orders.\n');
  t.equal(b.broker.context.topics.get('orders')?.partitions, 3);
  t.equal(b.broker.context.topics.get('orders')?.configs.get('retention.ms'), '60000');
  r = await cli(['topics', 'create', '--topic', 'plain', ...bs]);
  t.equal(b.broker.context.topics.get('plain')?.partitions, 2, 'no --partitions: num.partitions');

  r = await cli(['topics', 'create', '--topic', 'orders', ...bs]);
  t.equal(r.code, 1, 'an existing topic fails');
  t.match(r.err, /TOPIC_ALREADY_EXISTS/);
  r = await cli(['topics', 'create', '--topic', 'orders', '--if-not-exists', ...bs]);
  t.equal(r.code, 0, '--if-not-exists');
  r = await cli(['topics', 'create', '--topic', 'bad', '--config', 'retention.ms=soon', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /INVALID_CONFIG/);

  r = await cli(['topics', 'list', ...bs]);
  t.equal(r.out, 'orders\nplain\n');

  r = await cli(['topics', 'describe', '--topic', 'orders', ...bs]);
  t.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  t.match(lines[0], /^Topic: orders\tTopicId: \S{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: cleanup.policy=delete,retention.ms=60000$/);
  t.same(lines.slice(1), [0, 1, 2].map((p) => `\tTopic: orders\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`));
  r = await cli(['topics', 'describe', '--topic', 'missing', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /UNKNOWN_TOPIC_OR_PARTITION/);

  r = await cli(['topics', 'alter', '--topic', 'orders', '--partitions', '5', '--config', 'retention.ms=1000', '--delete-config', 'cleanup.policy', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(b.broker.context.topics.get('orders')?.partitions, 5);
  t.same([...b.broker.context.topics.get('orders')!.configs], [['retention.ms', '1000']]);
  r = await cli(['topics', 'alter', '--topic', 'orders', '--partitions', '2', ...bs]);
  t.equal(r.code, 1, 'shrinking fails');
  t.match(r.err, /INVALID_PARTITIONS/);

  r = await cli(['topics', 'delete', '--topic', 'orders', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'Deleted topic orders.\n');
  t.equal(b.broker.context.topics.get('orders'), undefined);
  r = await cli(['topics', 'delete', '--topic', 'orders', ...bs]);
  t.equal(r.code, 1);
  r = await cli(['topics', 'delete', '--topic', 'orders', '--if-exists', ...bs]);
  t.equal(r.code, 0);
});

t.test('usage mistakes exit 2 with the usage; --help exits 0', async (t) => {
  for (const args of [['topics'], ['topics', 'frobnicate', '--bootstrap-server', 'x:1'], ['topics', 'create', '--bootstrap-server', 'x:1'],
    ['topics', 'list'], ['topics', 'list', '--bootstrap-server', 'nohost'], ['topics', 'list', '--bogus', '--bootstrap-server', 'x:1'],
    ['topics', 'create', '--topic', 'a', '--partitions', 'x', '--bootstrap-server', 'x:1'], ['nosuchcommand']]) {
    const r = await cli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, /usage: gregor/);
  }
  const r = await cli(['topics', '--help']);
  t.equal(r.code, 0);
  t.match(r.out, /^usage: gregor topics list/);
});

t.test('a broker that is not there fails with exit code 1 after default.api.timeout.ms', async (t) => {
  const b = await startTestBroker();
  const port = b.port;
  await b.close();
  const dir = t.testdir({ 'client.properties': 'default.api.timeout.ms=300\nretry.backoff.ms=50\n' });
  const r = await cli(['topics', 'list', '--bootstrap-server', `127.0.0.1:${port}`, '--command-config', `${dir}/client.properties`]);
  t.equal(r.code, 1);
  t.match(r.err, /ECONNREFUSED/);
});
