// The Java client (kafka-clients inside Apache Kafka's own tools, fetched from Maven Central by
// scripts/kafka-ref.ts): an idempotent producer (Java's default since 3.0), transactional producers on
// transaction version 2 (gregor finalizes transaction.version=2, so kafka-clients 4.x uses EndTxn v5,
// Produce v12 without AddPartitionsToTxn and TxnOffsetCommit v5: commit, abort, offsets in a transaction,
// support/TxnCommitAbort.java), read_committed consumers, and kafka-transactions.sh (TransactionsCommand:
// ListTransactions, DescribeTransactions, DescribeProducers).
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ensureKafkaTools } from '../scripts/kafka-ref.ts';
import { startGregor } from './support/gregor-process.ts';
import { kafkajs, tempDir } from './support/clients.ts';

const javaBin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
const hasJava = spawnSync(javaBin, ['-version']).status === 0;

t.test('Java clients', { skip: hasJava ? false : 'no java on this machine (the CI image has OpenJDK 17)' }, async (t) => {
  const tools = await ensureKafkaTools();
  const data = tempDir('gregor-compat-java-');
  const g = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  t.teardown(async () => { await g.stop(); data.remove(); });
  const java = (main: string, args: string[]) => {
    const r = spawnSync(javaBin, ['-Xmx256m', '-Dlog4j2.level=warn', '-cp', `${tools.libs}/*`, `org.apache.kafka.tools.${main}`, ...args], { encoding: 'utf8', timeout: 180000 });
    t.equal(r.status, 0, `${main} ${args[0] ?? ''} exits 0${r.status === 0 ? '' : `: ${r.stderr.slice(-1500)}`}`);
    return r.stdout;
  };
  const admin = kafkajs(g.bootstrap, 'compat-java').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'java-idem', numPartitions: 3 }, { topic: 'java-txn', numPartitions: 3 }, { topic: 'java-tv2', numPartitions: 3 }] });

  const perf = (topic: string, extra: string[]) => java('ProducerPerformance', ['--topic', topic, '--num-records', '20000', '--record-size', '100', '--throughput', '-1', ...extra, '--producer-props', `bootstrap.servers=${g.bootstrap}`, 'acks=all']);
  t.match(perf('java-idem', []), /20000 records sent/, 'idempotent producer (default settings)');
  t.match(perf('java-txn', ['--transactional-id', 'java-txn-1', '--transaction-duration-ms', '100']), /20000 records sent/, 'transactional producer');

  const ends = await admin.fetchTopicOffsets('java-txn');
  t.ok(ends.reduce((n, p) => n + Number(p.high), 0) > 20000, 'commit markers take offsets too');

  const consumed = (topic: string) => {
    const out = java('ConsumerPerformance', ['--bootstrap-server', g.bootstrap, '--topic', topic, '--messages', '20000', '--timeout', '30000', '--command-property', 'isolation.level=read_committed']);
    const last = out.trim().split('\n').at(-1)!.split(',').map((s) => s.trim());
    return Number(last[4]);
  };
  t.equal(consumed('java-txn'), 20000, 'read_committed Java consumer reads every committed record');
  t.equal(consumed('java-idem'), 20000);

  const txns = (args: string[]) => java('TransactionsCommand', ['--bootstrap-server', g.bootstrap, ...args]);
  t.match(txns(['list']), /java-txn-1\s+1\s+\d+\s+CompleteCommit/, 'kafka-transactions.sh list');
  t.match(txns(['describe', '--transactional-id', 'java-txn-1']), /1\s+java-txn-1\s+\d+\s+\d+\s+CompleteCommit\s+\d+/, 'kafka-transactions.sh describe');
  const producers = txns(['describe-producers', '--topic', 'java-txn', '--partition', '0']);
  // LastSequence is -1: the last marker bumped the epoch, which clears the producer's batches (as Kafka's ProducerStateEntry).
  t.match(producers, /\d+\s+\d+\s+0\s+-?\d+\s+\d+\s+None/, 'kafka-transactions.sh describe-producers: no open transaction');
  // Transaction version 2: every EndTxn bumped the epoch (version 1 keeps epoch 0 for one producer).
  const epochOf = (id: string) => Number(new RegExp(`\\d+\\s+${id}\\s+\\d+\\s+(\\d+)\\s+CompleteCommit`).exec(txns(['describe', '--transactional-id', id]))?.[1] ?? -1);
  t.ok(epochOf('java-txn-1') > 0, 'ProducerPerformance ran on transaction version 2 (an epoch bump per transaction)');

  // Commit, abort, commit with sendOffsetsToTransaction (TxnOffsetCommit v5, no AddOffsetsToTxn), then read_committed.
  const src = path.join(import.meta.dirname, 'support', 'TxnCommitAbort.java');
  const r = spawnSync(javaBin, ['-Xmx256m', '-Dlog4j2.level=warn', '-cp', `${tools.libs}/*`, src, g.bootstrap, 'java-tv2', 'java-tv2-txn', 'java-tv2-group'], { encoding: 'utf8', timeout: 180000 });
  t.equal(r.status, 0, `TxnCommitAbort exits 0${r.status === 0 ? '' : `: ${r.stderr.slice(-1500)}`}`);
  const out = Object.fromEntries(r.stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => l.split('=')));
  t.same(out, { 'seen.commit': '10', 'seen.commit-with-offsets': '10', total: '20', 'group.offset': '42' }, 'read_committed sees both committed transactions, not the aborted one, and the transactional offset');
  t.equal(epochOf('java-tv2-txn'), 3, 'three transaction ends, three epoch bumps (transaction version 2)');
});
