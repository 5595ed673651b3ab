// gregor produce and consume against an in-process gregor.
import kafkajs from 'kafkajs';
import t from 'tap';
import { startTestBroker } from '../test-broker.ts';
import { murmur2, partitionForKey } from './murmur2.ts';
import { cli } from '../testing/cli.ts';

t.test('murmur2: the Java client\'s values, and kafkajs\'s DefaultPartitioner picks the same partitions', async (t) => {
  // Kafka's UtilsTest.testMurmur2.
  const cases: Array<[string, number]> = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
  for (const [s, h] of cases) t.equal(murmur2(Buffer.from(s)), h, s);
  const partitioner = kafkajs.Partitioners.DefaultPartitioner();
  for (const n of [1, 3, 7, 64]) {
    const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1 }));
    for (let i = 0; i < 500; i++) {
      const key = `key-${i}-${'x'.repeat(i % 9)}`;
      const theirs = partitioner({ topic: 't', partitionMetadata, message: { key } } as any);
      if (partitionForKey(Buffer.from(key), n) !== theirs) { t.fail(`${key} with ${n} partitions: ${partitionForKey(Buffer.from(key), n)} vs kafkajs ${theirs}`); return; }
    }
  }
  t.pass('2000 keys agree');
});

const lines = (s: string) => s.split('\n').filter(Boolean);

t.test('produce keyed records with headers and compression; consume them with --format, --json, offsets and times', async (t) => {
  const b = await startTestBroker({ topics: [{ name: 'events', partitions: 4 }] });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  const input = Array.from({ length: 40 }, (_, i) => `user${i % 10}|payload ${i}`).join('\n') + '\n';
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const r = await cli(['produce', '--topic', 'events', '--key-separator', '|', '--header', 'source=cli', '--header', 'codec=' + codec, '--compression', codec, ...bs], input);
    t.equal(r.code, 0, r.err);
    t.equal(r.out, '', 'nothing on stdout');
    t.match(r.err, /40 records produced to events/);
  }
  const r = await cli(['consume', '--topic', 'events', '--from-beginning', '--until-end', '--format', '%p %o %k %s %h\\n', ...bs]);
  t.equal(r.code, 0, r.err);
  const got = lines(r.out);
  t.equal(got.length, 200, 'every record once');
  for (const l of got) {
    const [p, , k] = l.split(' ');
    if (Number(p) !== partitionForKey(Buffer.from(k!), 4)) { t.fail(`${l}: not the murmur2 partition`); break; }
  }
  t.match(got[0], /^\d \d+ user\d payload \d+ source=cli,codec=none$/);
  t.match(r.err, /Processed a total of 200 messages/);
  // Order within a partition is the input's.
  const p0 = got.filter((l) => l.startsWith('0 ')).map((l) => l.split(' ')).slice(0, 10);
  t.same(p0.map((x) => Number(x[1])), p0.map((_, i) => i), 'offsets 0.. in order');

  const json = await cli(['consume', '--topic', 'events', '--partition', '1', '--offset', '2', '--max-messages', '3', '--json', ...bs]);
  t.equal(json.code, 0, json.err);
  const recs = lines(json.out).map((l) => JSON.parse(l));
  t.same(recs.map((x) => [x.partition, x.offset]), [[1, 2], [1, 3], [1, 4]]);
  t.match(recs[0], { topic: 'events', key: /^user\d$/, value: /^payload \d+$/, headers: { source: 'cli' } });
  t.type(recs[0].timestamp, 'number');

  // Timestamps: produce two runs apart in time, read only the second with --from-time, the first with --to-time.
  await cli(['produce', '--topic', 'times', '--partition', '0', ...bs], 'early-1\nearly-2\n').then((x) => t.equal(x.code, 0, x.err));
  await new Promise((r) => setTimeout(r, 30));
  const cut = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  await cli(['produce', '--topic', 'times', ...bs], 'late-1\nlate-2\n').then((x) => t.equal(x.code, 0, x.err));
  const late = await cli(['consume', '--topic', 'times', '--from-time', String(cut), '--until-end', ...bs]);
  t.same(lines(late.out), ['late-1', 'late-2'], '--from-time');
  const early = await cli(['consume', '--topic', 'times', '--from-beginning', '--to-time', new Date(cut).toISOString(), ...bs]);
  t.same(lines(early.out), ['early-1', 'early-2'], '--to-time (ISO date)');
  const all = await cli(['consume', '--topic', 'events', '--from-beginning', '--to-time', String(cut), ...bs]);
  t.equal(lines(all.out).length, 200, '--to-time after every record: ends at the log end');
  const grouped = await cli(['consume', '--topic', 'events', '--group', 'till-end', '--from-beginning', '--until-end', ...bs]);
  t.equal(lines(grouped.out).length, 200, '--until-end with --group');
  const none = await cli(['consume', '--topic', 'times', '--timeout-ms', '300', ...bs]);
  t.equal(none.code, 0);
  t.equal(none.out, '', 'default start: the end, nothing new within --timeout-ms');
});

t.test('produce from a file, to a partition, acks 0 and 1; bad input fails with 1 and usage with 2', async (t) => {
  const b = await startTestBroker({ topics: [{ name: 'f', partitions: 2 }], config: { 'auto.create.topics.enable': false } });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  const dir = t.testdir({ 'in.txt': 'a\nb\nc\n', 'acks0.properties': 'acks=0\n', 'bad.properties': 'linger.ms=5\n' });
  let r = await cli(['produce', '--topic', 'f', '--file', `${dir}/in.txt`, '--partition', '1', '--acks', '1', ...bs]);
  t.equal(r.code, 0, r.err);
  r = await cli(['produce', '--topic', 'f', '--partition', '1', '--command-config', `${dir}/acks0.properties`, ...bs], 'd\n');
  t.equal(r.code, 0, r.err);
  // acks=0 has no answer to wait for: read until the record is there.
  r = await cli(['consume', '--topic', 'f', '--partition', '1', '--from-beginning', '--max-messages', '4', '--timeout-ms', '5000', ...bs]);
  t.same(lines(r.out), ['a', 'b', 'c', 'd']);
  r = await cli(['produce', '--topic', 'f', '--key-separator', ':', ...bs], 'k:v\nno separator\n');
  t.equal(r.code, 1);
  t.match(r.err, /no key separator ":" on line 2/);
  r = await cli(['produce', '--topic', 'nope', ...bs], 'x\n');
  t.equal(r.code, 1, 'a missing topic (auto-creation off) fails');
  t.match(r.err, /topic nope does not exist/);
  r = await cli(['produce', '--topic', 'f', '--partition', '7', ...bs], 'x\n');
  t.equal(r.code, 1);
  r = await cli(['produce', '--topic', 'f', '--command-config', `${dir}/bad.properties`, ...bs], 'x\n');
  t.equal(r.code, 2);
  t.match(r.err, /linger.ms is not a setting this command supports/);
  r = await cli(['produce', '--topic', 'f', '--compression', 'brotli', ...bs], 'x\n');
  t.equal(r.code, 2);
  r = await cli(['consume', '--topic', 'f', '--group', 'g', '--offset', '3', ...bs]);
  t.equal(r.code, 2);
});

t.test('idempotent by default: a produce whose answer is lost is retried without a duplicate', async (t) => {
  const b = await startTestBroker({ topics: ['idem'] });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  const dir = t.testdir({ 'fast.properties': 'request.timeout.ms=400\nretry.backoff.ms=20\n' });
  const count = async () => lines((await cli(['consume', '--topic', 'idem', '--from-beginning', '--until-end', ...bs])).out).length;
  b.faults.add({ name: 'lost', api: 'Produce', dropResponse: true, times: 1 });
  let r = await cli(['produce', '--topic', 'idem', '--command-config', `${dir}/fast.properties`, ...bs], 'one\ntwo\n');
  t.equal(r.code, 0, r.err);
  t.equal(await count(), 2, 'written once');
  b.faults.add({ name: 'lost2', api: 'Produce', dropResponse: true, times: 1 });
  r = await cli(['produce', '--topic', 'idem', '--no-idempotence', '--command-config', `${dir}/fast.properties`, ...bs], 'three\n');
  t.equal(r.code, 0, r.err);
  t.equal(await count(), 4, 'without idempotence the retry writes it again (the control)');
  b.faults.add({ name: 'nl', api: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER', times: 2 });
  r = await cli(['produce', '--topic', 'idem', '--command-config', `${dir}/fast.properties`, ...bs], 'four\n');
  t.equal(r.code, 0, 'retriable errors are retried');
  t.equal(await count(), 5);
  b.faults.add({ name: 'big', api: 'Produce', error: 'MESSAGE_TOO_LARGE', times: 1 });
  r = await cli(['produce', '--topic', 'idem', ...bs], 'five\n');
  t.equal(r.code, 1, 'a non-retriable error fails');
  t.match(r.err, /MESSAGE_TOO_LARGE/);
});

t.test('consume with a group: commits, resumes where it left off, and two members split the partitions', async (t) => {
  const b = await startTestBroker({ topics: [{ name: 'jobs', partitions: 2 }] });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  await cli(['produce', '--topic', 'jobs', '--key-separator', '=', ...bs], Array.from({ length: 10 }, (_, i) => `k${i}=v${i}`).join('\n'));
  let r = await cli(['consume', '--topic', 'jobs', '--group', 'workers', '--from-beginning', '--max-messages', '4', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(lines(r.out).length, 4);
  r = await cli(['consume', '--topic', 'jobs', '--group', 'workers', '--timeout-ms', '700', ...bs]);
  t.equal(lines(r.out).length, 6, 'the rest, from the committed offsets');
  r = await cli(['consume', '--topic', 'jobs', '--group', 'workers', '--timeout-ms', '500', ...bs]);
  t.equal(r.out, '', 'nothing left');

  const ac = new AbortController();
  const { run } = await import('./consume.ts');
  const { Readable } = await import('node:stream');
  let err1 = '';
  const first = run(['--topic', 'jobs', '--group', 'pair', '--from-beginning', ...bs], { out: () => {}, err: (s) => { err1 += s; }, stdin: Readable.from(['']) }, ac.signal);
  const deadline = Date.now() + 10000;
  while (!/assigned jobs partitions \[0,1\]/.test(err1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.match(err1, /assigned jobs partitions \[0,1\]/, 'alone: both partitions');
  r = await cli(['consume', '--topic', 'jobs', '--group', 'pair', '--timeout-ms', '4000', '--max-messages', '1', ...bs]);
  t.match(r.err, /assigned jobs partitions \[\d\]/, 'the second member gets one partition after the rebalance');
  ac.abort();
  t.equal(await first, 0);
  t.match(err1, /generation 2, assigned jobs partitions \[\d\]/, 'the first rejoined with one');
});
