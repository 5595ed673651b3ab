// gregor configs, cluster and acls against an in-process gregor; the gregor binary's dispatch and exit codes.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import kafkajsPkg from 'kafkajs';
const { Kafka, logLevel, AclResourceTypes, ResourcePatternTypes, AclOperationTypes, AclPermissionTypes } = kafkajsPkg as any;
import { startTestBroker } from '../test-broker.ts';
import { cli } from '../testing/cli.ts';

t.test('configs describe and alter for topics and brokers', async (t) => {
  const b = await startTestBroker({ topics: [{ name: 'logs', configs: { 'retention.ms': 5000 } }, 'other'] });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  let r = await cli(['configs', 'describe', '--entity-type', 'topics', '--entity-name', 'logs', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'Topic logs: dynamic configs\n  retention.ms=5000\n');
  r = await cli(['configs', 'alter', '--entity-type', 'topics', '--entity-name', 'logs', '--add-config', 'cleanup.policy=[compact,delete],max.message.bytes=2048', '--delete-config', 'retention.ms', ...bs]);
  t.equal(r.code, 0, r.err);
  t.same(Object.fromEntries(b.broker.context.topics.get('logs')!.configs), { 'cleanup.policy': 'compact,delete', 'max.message.bytes': '2048' });
  r = await cli(['configs', 'describe', '--entity-type', 'topics', ...bs]);
  t.match(r.out, /Topic logs: dynamic configs\n {2}cleanup.policy=compact,delete\n {2}max.message.bytes=2048\nTopic other: dynamic configs\n/);
  r = await cli(['configs', 'describe', '--entity-type', 'topics', '--entity-name', 'other', '--all', ...bs]);
  t.match(r.out, /\n {2}retention.ms=604800000 \(DEFAULT_CONFIG\)\n/, '--all: defaults with their source');
  r = await cli(['configs', 'alter', '--entity-type', 'topics', '--entity-name', 'logs', '--add-config', 'retention.ms=never', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /INVALID_CONFIG/);
  r = await cli(['configs', 'describe', '--entity-type', 'brokers', '--entity-name', '1', '--all', ...bs]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^Broker 1: all configs\n/);
  t.match(r.out, /\n {2}num.partitions=1 \(DEFAULT_CONFIG|STATIC_BROKER_CONFIG/);
  r = await cli(['configs', 'alter', '--entity-type', 'brokers', '--entity-name', '1', '--add-config', 'log.cleaner.threads=2', ...bs]);
  t.equal(r.code, 1, 'gregor refuses broker config changes (as its ledger says)');
  r = await cli(['configs', 'describe', '--entity-type', 'users', ...bs]);
  t.equal(r.code, 2);
  r = await cli(['configs', 'alter', '--entity-type', 'topics', '--entity-name', 'logs', ...bs]);
  t.equal(r.code, 2, 'alter with nothing to change');
});

t.test('cluster describe; acls list: SECURITY_DISABLED without an authorizer, the bindings with one', async (t) => {
  const b = await startTestBroker();
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  let r = await cli(['cluster', 'describe', ...bs]);
  t.equal(r.code, 0, r.err);
  const id = b.broker.context.clusterId;
  t.match(r.out, new RegExp(`^Cluster ID: \\S{22}\\nController: 1\\nBROKER\\s+HOST\\s+PORT\\s+RACK\\n1\\s+127.0.0.1\\s+${b.port}\\n$`));
  t.match(r.out, `Cluster ID: ${id}\n`);
  r = await cli(['cluster', 'describe', '--json', ...bs]);
  t.match(JSON.parse(r.out), { controllerId: 1, brokers: [{ id: 1, host: '127.0.0.1', port: b.port, rack: null }] });
  r = await cli(['acls', '--help']);
  t.equal(r.code, 0);
  t.match(r.out, /SECURITY_DISABLED/, "--help says what a broker without an authorizer answers");
  r = await cli(['acls', 'list', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /DescribeAcls: SECURITY_DISABLED/);

  const a = await startTestBroker({ config: { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS' } });
  t.teardown(() => a.close());
  const admin = new Kafka({ brokers: [a.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createAcls({ acl: [{ resourceType: AclResourceTypes.TOPIC, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW }] });
  r = await cli(['acls', 'list', '--bootstrap-server', a.bootstrap]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:\n\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)\n');
});

t.test('--command-config: client settings take effect, others are refused by name', async (t) => {
  const b = await startTestBroker();
  t.teardown(() => b.close());
  const dir = t.testdir({ 'ok.properties': `# comment\nclient.id=ops-tool\nbootstrap.servers=${b.bootstrap}\n`, 'bad.properties': 'sasl.mechanism=PLAIN\n', 'ssl.properties': 'security.protocol=SSL\n' });
  b.faults.add({ name: 'spy', clientId: 'ops-tool', api: 'Metadata', delayMs: 1 });
  let r = await cli(['topics', 'list', '--command-config', `${dir}/ok.properties`]);
  t.equal(r.code, 0, `bootstrap.servers from the file: ${r.err}`);
  t.ok(b.faults.list().find((x) => x.name === 'spy')!.hits >= 1, 'requests carry client.id');
  r = await cli(['topics', 'list', '--command-config', `${dir}/bad.properties`, '--bootstrap-server', b.bootstrap]);
  t.equal(r.code, 2);
  t.match(r.err, /sasl.mechanism is not a setting this command supports/);
  r = await cli(['topics', 'list', '--command-config', `${dir}/ssl.properties`, '--bootstrap-server', b.bootstrap]);
  t.equal(r.code, 2);
  t.match(r.err, /PLAINTEXT only/);
  r = await cli(['topics', 'list', '--command-config', `${dir}/missing.properties`, '--bootstrap-server', b.bootstrap]);
  t.equal(r.code, 2);
});

t.test('the gregor binary runs commands (exit codes 0, 1, 2) and still starts a broker without one', async (t) => {
  const bin = path.join(import.meta.dirname, '..', 'bin', 'gregor.js');
  const run = (args: string[]) => promisify(execFile)(process.execPath, [bin, ...args], { timeout: 30000 }).then((r) => ({ code: 0, ...r }), (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }));
  const b = await startTestBroker({ topics: ['bin'] });
  t.teardown(() => b.close());
  let r = await run(['topics', 'list', '--bootstrap-server', b.bootstrap]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'bin\n');
  r = await run(['topics', 'describe', '--topic', 'nope', '--bootstrap-server', b.bootstrap]);
  t.equal(r.code, 1);
  r = await run(['produce', '--bootstrap-server', b.bootstrap]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--topic is required/);
  for (const cmd of ['topics', 'produce', 'consume', 'groups', 'configs', 'cluster', 'acls']) {
    r = await run([cmd, '--help']);
    t.equal(r.code, 0, `${cmd} --help`);
    t.match(r.stdout, new RegExp(`^usage: gregor ${cmd}`));
  }
  const viaTs = await promisify(execFile)(process.execPath, [path.join(import.meta.dirname, '..', 'bin', 'gregor.ts'), 'topics', 'list', '--bootstrap-server', b.bootstrap]);
  t.equal(viaTs.stdout, 'bin\n', 'gregor.ts (the npm package\'s bin, compiled) runs commands too');
  r = await run(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^usage: gregor \[server.properties\]/, 'no command: the broker\'s own usage');
});
