// gregor groups against an in-process gregor.
import { Readable } from 'node:stream';
import t from 'tap';
import { startTestBroker } from '../test-broker.ts';
import { run as consume } from './consume.ts';
import { cli } from '../testing/cli.ts';

const lines = (s: string) => s.split('\n').filter(Boolean);

t.test('groups list, describe with lag, reset-offsets (dry run, --execute), delete', async (t) => {
  const b = await startTestBroker({ topics: [{ name: 'orders', partitions: 2 }] });
  t.teardown(() => b.close());
  const bs = ['--bootstrap-server', b.bootstrap];
  await cli(['produce', '--topic', 'orders', '--partition', '0', ...bs], 'a\nb\nc\nd\n');
  await cli(['produce', '--topic', 'orders', '--partition', '1', ...bs], 'e\nf\n');
  let r = await cli(['consume', '--topic', 'orders', '--group', 'billing', '--from-beginning', '--max-messages', '3', ...bs]);
  t.equal(r.code, 0, r.err);

  r = await cli(['groups', 'list', ...bs]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^GROUP\s+TYPE\s+PROTOCOL-TYPE\s+STATE\nbilling\s+classic\s+consumer\s+Empty\n$/);

  r = await cli(['groups', 'describe', '--group', 'billing', ...bs]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /GROUP billing {2}state Empty/);
  const table = lines(r.out).filter((l) => l.startsWith('orders')).map((l) => l.split(/\s+/).slice(0, 5));
  // Three records read from partition 0 (range: both partitions, in order 0 then 1? any order): lag = end - committed.
  const byPart = new Map(table.map((x) => [x[1], x]));
  const committed0 = Number(byPart.get('0')?.[2] ?? 0);
  const committed1 = byPart.get('1')?.[2] === '-' || !byPart.get('1') ? 0 : Number(byPart.get('1')![2]);
  t.equal(committed0 + committed1, 3, 'three records committed in all');
  for (const x of table) t.equal(Number(x[4]), Number(x[3]) - Number(x[2]), `lag of partition ${x[1]}`);
  t.equal(byPart.get('0')?.[3], '4', 'log end offset of partition 0');

  r = await cli(['groups', 'reset-offsets', '--group', 'billing', '--topic', 'orders', '--to-earliest', ...bs]);
  t.equal(r.code, 0, r.err);
  t.match(r.err, /Dry run/);
  t.match(r.out, /billing\s+orders\s+0\s+0\n/);
  r = await cli(['groups', 'describe', '--group', 'billing', ...bs]);
  t.notMatch(r.out, /orders\s+0\s+0\s+4/, 'the dry run changed nothing');

  r = await cli(['groups', 'reset-offsets', '--group', 'billing', '--topic', 'orders:0', '--to-offset', '1', '--execute', ...bs]);
  t.equal(r.code, 0, r.err);
  r = await cli(['groups', 'describe', '--group', 'billing', ...bs]);
  t.match(r.out, /orders\s+0\s+1\s+4\s+3\s/, '--execute: partition 0 at offset 1, lag 3');
  r = await cli(['groups', 'reset-offsets', '--group', 'billing', '--all-topics', '--shift-by', '-5', '--execute', ...bs]);
  t.match(r.out, /billing\s+orders\s+0\s+0\n/, 'shifted below the log start: clamped to 0');
  r = await cli(['groups', 'reset-offsets', '--group', 'billing', '--topic', 'orders', '--to-latest', '--execute', ...bs]);
  r = await cli(['groups', 'describe', '--group', 'billing', ...bs]);
  t.match(r.out, /orders\s+0\s+4\s+4\s+0\s/);
  t.match(r.out, /orders\s+1\s+2\s+2\s+0\s/);
  const beforeAll = Date.now() - 60_000;
  r = await cli(['groups', 'reset-offsets', '--group', 'billing', '--topic', 'orders', '--to-datetime', new Date(beforeAll).toISOString(), '--execute', ...bs]);
  t.match(r.out, /orders\s+1\s+0\n/, '--to-datetime before every record: the start');

  // An active group cannot be reset (as kafka-consumer-groups.sh).
  const ac = new AbortController();
  let err = '';
  const running = consume(['--topic', 'orders', '--group', 'billing', ...bs], { out: () => {}, err: (s) => { err += s; }, stdin: Readable.from(['']) }, ac.signal);
  const deadline = Date.now() + 10000;
  while (!/assigned/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  r = await cli(['groups', 'describe', '--group', 'billing', '--members', ...bs]);
  t.match(r.out, /state Stable/);
  t.match(r.out, /gregor-cli-\S+\s+\/127.0.0.1\s+gregor-cli\s+2\s+orders\(0,1\)/, 'the member and its assignment');
  r = await cli(['groups', 'reset-offsets', '--group', 'billing', '--topic', 'orders', '--to-earliest', '--execute', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /can only be reset if the group 'billing' is inactive, but the current state is Stable/);
  r = await cli(['groups', 'delete', '--group', 'billing', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /NON_EMPTY_GROUP/);
  ac.abort();
  t.equal(await running, 0);

  r = await cli(['groups', 'delete', '--group', 'billing', ...bs]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, "Deletion of group 'billing' succeeded.\n");
  r = await cli(['groups', 'describe', '--group', 'billing', ...bs]);
  t.equal(r.code, 1);
  t.match(r.err, /does not exist/);
  r = await cli(['groups', 'reset-offsets', '--group', 'g', '--topic', 'orders', ...bs]);
  t.equal(r.code, 2, 'no reset spec');
  r = await cli(['groups', 'reset-offsets', '--group', 'g', '--to-latest', '--to-earliest', '--topic', 'orders', ...bs]);
  t.equal(r.code, 2, 'two reset specs');
});
