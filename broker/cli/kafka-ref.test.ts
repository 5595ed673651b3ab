// The CLI against the reference Apache Kafka (scripts/kafka-ref.ts): topics create/describe, produce, consume.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { formatAndStart } from '../../scripts/kafka-ref.ts';
import { partitionForKey } from './murmur2.ts';
import { cli } from '../testing/cli.ts';

const javaBin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
const hasJava = spawnSync(javaBin, ['-version']).status === 0;
const lines = (s: string) => s.split('\n').filter(Boolean);

t.test('the CLI against Apache Kafka', { skip: hasJava ? false : 'no java on this machine (the CI image has OpenJDK 17)', timeout: 240000 }, async (t) => {
  const kafka = await formatAndStart({ extraConfig: { 'group.initial.rebalance.delay.ms': 0 }, heap: '512m' });
  t.teardown(() => kafka.stop());
  const bs = ['--bootstrap-server', `${kafka.host}:${kafka.port}`];

  let r = await cli(['topics', 'create', '--topic', 'ref', '--partitions', '3', '--config', 'retention.ms=3600000', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'Created topic ref.\n');
  r = await cli(['topics', 'create', '--topic', 'ref', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /TOPIC_ALREADY_EXISTS/);
  r = await cli(['topics', 'describe', '--topic', 'ref', ...bs]);
  t.equal(r.code, 0, r.err);
  const d = lines(r.out);
  t.match(d[0], /^Topic: ref\tTopicId: \S{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000$/);
  t.equal(d.length, 4);
  t.match(d[1], /^\tTopic: ref\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1$/);

  const input = Array.from({ length: 30 }, (_, i) => `key${i}:value${i}`).join('\n') + '\n';
  r = await cli(['produce', '--topic', 'ref', '--key-separator', ':', '--header', 'h=1', '--compression', 'gzip', ...bs], input);
  t.equal(r.code, 0, `idempotent, gzip: ${r.err}`);
  r = await cli(['produce', '--topic', 'ref', '--partition', '2', '--acks', '1', '--compression', 'zstd', ...bs], 'plain\n');
  t.equal(r.code, 0, r.err);

  r = await cli(['consume', '--topic', 'ref', '--from-beginning', '--until-end', '--json', ...bs]);
  t.equal(r.code, 0, r.err);
  const recs = lines(r.out).map((l) => JSON.parse(l));
  t.equal(recs.length, 31);
  const keyed = recs.filter((x) => x.key !== null);
  t.equal(keyed.length, 30);
  t.ok(keyed.every((x) => x.partition === partitionForKey(Buffer.from(x.key), 3) && x.value === x.key.replace('key', 'value') && x.headers.h === '1'), 'keyed records on their murmur2 partitions, with headers');
  t.match(recs.find((x) => x.key === null), { partition: 2, value: 'plain' });

  r = await cli(['consume', '--topic', 'ref', '--group', 'ref-group', '--from-beginning', '--max-messages', '31', '--timeout-ms', '20000', '--format', '%k\\n', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(lines(r.out).length, 30, 'every keyed record through a group (the unkeyed one prints an empty line)');
  r = await cli(['groups', 'describe', '--group', 'ref-group', ...bs]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /ref\s+2\s+\d+\s+\d+\s+0\s/, 'committed to the end: lag 0');
});
