// Kafka 4.4's own admin tools against gregor (issue #19 item 4): kafka-features.sh (ApiVersions features,
// UpdateFeatures), kafka-topics.sh --describe (DescribeTopicPartitions, paginated), kafka-leader-election.sh
// (ElectLeaders) and kafka-reassign-partitions.sh (AlterPartitionReassignments, ListPartitionReassignments,
// the throttle clean-up through IncrementalAlterConfigs). Jars fetched by scripts/kafka-ref.ts.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ensureKafkaTools } from '../scripts/kafka-ref.ts';
import { startGregor } from './support/gregor-process.ts';
import { tempDir } from './support/clients.ts';

const javaBin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
const hasJava = spawnSync(javaBin, ['-version']).status === 0;

t.test('Kafka admin tools', { skip: hasJava ? false : 'no java on this machine (the CI image has OpenJDK 17)' }, async (t) => {
  const tools = await ensureKafkaTools();
  const data = tempDir('gregor-compat-java-admin-');
  const g = await startGregor({ dataDir: data.dir, overrides: { 'node.id': '1' } });
  t.teardown(async () => { await g.stop(); data.remove(); });
  const run = (main: string, args: string[]) => {
    const r = spawnSync(javaBin, ['-Xmx256m', '-Dlog4j2.level=warn', '-cp', `${tools.libs}/*`, `org.apache.kafka.tools.${main}`, '--bootstrap-server', g.bootstrap, ...args], { encoding: 'utf8', timeout: 120000 });
    return { status: r.status, out: r.stdout };
  };
  const ok = (main: string, args: string[]) => {
    const r = run(main, args);
    t.equal(r.status, 0, `${main} ${args.join(' ')} exits 0`);
    return r.out;
  };

  const features = ok('FeatureCommand', ['describe']);
  t.match(features, /Feature: group\.version\s+SupportedMinVersion: 1\s+SupportedMaxVersion: 1\s+FinalizedVersionLevel: 1/);
  t.match(features, /Feature: transaction\.version\s+SupportedMinVersion: 0\s+SupportedMaxVersion: 2\s+FinalizedVersionLevel: 2/, 'transaction.version 2 finalized, as Kafka 4.4 bootstraps');
  t.match(features, /Feature: metadata\.version\s+SupportedMinVersion: 3\.3-IV3\s+SupportedMaxVersion: 4\.4-IV2\s+FinalizedVersionLevel: 4\.4-IV2/);
  t.match(ok('FeatureCommand', ['upgrade', '--feature', 'metadata.version=33']), /metadata\.version was upgraded to 33/);
  const down = run('FeatureCommand', ['downgrade', '--feature', 'group.version=0']);
  t.equal(down.status, 1, 'a level gregor cannot serve is refused');
  t.match(down.out, /Could not downgrade group\.version to 0\. .*only supports versions 1-1/);

  ok('TopicCommand', ['--create', '--topic', 'admin-a', '--partitions', '3']);
  ok('TopicCommand', ['--create', '--topic', 'admin-b', '--partitions', '2']);
  // One partition per DescribeTopicPartitions response: the tool follows the cursor through every page.
  const described = ok('TopicCommand', ['--describe', '--partition-size-limit-per-response', '1', '--exclude-internal']);
  const rows = described.split('\n').filter((l) => /^\s+Topic: admin-/.test(l)).map((l) => l.trim().split(/\s+/).slice(1, 4).join(' '));
  t.same(rows, ['admin-a Partition: 0', 'admin-a Partition: 1', 'admin-a Partition: 2', 'admin-b Partition: 0', 'admin-b Partition: 1']);
  t.match(described, /Topic: admin-a\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: /);

  t.match(ok('LeaderElectionCommand', ['--election-type', 'unclean', '--topic', 'admin-a', '--partition', '0']), /Valid replica already elected for partitions admin-a-0/);
  ok('LeaderElectionCommand', ['--election-type', 'preferred', '--all-topic-partitions']);

  const plan = `${data.dir}/reassign.json`;
  (await import('node:fs')).writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'admin-a', partition: 0, replicas: [1] }] }));
  t.match(ok('reassign.ReassignPartitionsCommand', ['--reassignment-json-file', plan, '--execute']), /Successfully started partition reassignment for admin-a-0/);
  t.match(ok('reassign.ReassignPartitionsCommand', ['--reassignment-json-file', plan, '--verify']), /Reassignment of partition admin-a-0 is completed\.[\s\S]*Clearing broker-level throttles on broker 1/);
  t.match(ok('reassign.ReassignPartitionsCommand', ['--list']), /No partition reassignments found/);
});
