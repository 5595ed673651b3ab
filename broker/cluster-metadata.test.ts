// A data dir written before the metadata log existed (topics in gregor-topics.json) is migrated once at start:
// topics, ids, configs and data survive; the file becomes gregor-topics.json.migrated; later starts read the log.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStorage } from '../storage/index.ts';
import { buildRecordBatch } from '../protocol/records.ts';
import { startTestBroker } from './testing/start.ts';

const ID_A = 'q1Bv3XJxRkOyJX4s1nN8Ag';
const ID_B = 'Zp6sY0c2QnqF4s1Hk2mGfw';

t.test('gregor-topics.json is migrated once into the metadata log', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-migrate-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The old layout, written by storage as before (no `topics` option: it keeps gregor-topics.json).
  const old = await openStorage({ dataDir: dir });
  await old.createTopic('orders', { partitions: 2, topicId: ID_A, configs: { 'retention.ms': '60000', 'cleanup.policy': 'delete' } });
  await old.createTopic('plain', { partitions: 1, topicId: ID_B });
  await old.partition('orders', 1)!.append(buildRecordBatch({ records: [{ value: Buffer.from('kept') }], now: 1 }));
  await old.close();
  const file = JSON.parse(fs.readFileSync(path.join(dir, 'gregor-topics.json'), 'utf8'));
  t.equal(file.version, 1, 'the old file format');

  let tb = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  const ctx = tb.broker.context;
  t.same([...ctx.topics.all()].map((x) => [x.name, x.topicId, x.partitions]).sort(), [['orders', ID_A, 2], ['plain', ID_B, 1]]);
  t.same(Object.fromEntries(ctx.topics.get('orders')!.configs), { 'retention.ms': '60000', 'cleanup.policy': 'delete' });
  t.equal(ctx.controller.image.topics.byName.get('orders')?.id, ID_A, 'in the metadata image');
  const read = await ctx.partitions.get('orders', 1)!.read(0, 1 << 20);
  t.equal(read.error, null);
  t.equal(read.batches.length, 1, 'data survives');
  t.notOk(fs.existsSync(path.join(dir, 'gregor-topics.json')), 'old file gone');
  t.ok(fs.existsSync(path.join(dir, 'gregor-topics.json.migrated')), 'renamed to .migrated');
  t.ok(tb.logLines.some((l) => /migrated 2 topic\(s\) from .*gregor-topics\.json/.test(l)), 'a log line says so');
  t.ok(fs.existsSync(path.join(dir, '__cluster_metadata-0', 'quorum-state')));
  await ctx.createTopic('later', 3);
  await tb.close();

  tb = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  t.same([...tb.broker.context.topics.all()].map((x) => x.name).sort(), ['later', 'orders', 'plain'], 'a restart reads the log');
  t.notOk(tb.logLines.some((l) => /migrated/.test(l)), 'migrated only once');
  t.notOk(fs.existsSync(path.join(dir, 'gregor-topics.json')), 'the file is not written again');
  await tb.close();
});

t.test('a restart with --storage memory on a shared file system keeps topics (the metadata log is on it)', async (t) => {
  const { MemFs } = await import('../storage/index.ts');
  const mem = new MemFs();
  let tb = await startTestBroker({}, { fs: mem });
  await tb.broker.context.createTopic('m', 2, new Map([['segment.bytes', '1048576']]));
  await tb.broker.context.alterTopicConfigs('m', new Map([['segment.bytes', '2097152']]));
  await tb.broker.context.addPartitions('m', 4);
  await tb.close();
  tb = await startTestBroker({}, { fs: mem });
  const m = tb.broker.context.topics.get('m')!;
  t.equal(m.partitions, 4);
  t.same([...m.configs], [['segment.bytes', '2097152']]);
  t.equal(tb.broker.context.storage.partition('m', 3)!.config.segmentBytes, 2097152, 'configs applied to the logs');
  await tb.broker.context.deleteTopic('m');
  await tb.close();
  tb = await startTestBroker({}, { fs: mem });
  t.equal(tb.broker.context.topics.get('m'), undefined, 'deletion survives a restart');
  await tb.close();
});

t.test('concurrent creations committed in one metadata batch each answer once the batch is applied', async (t) => {
  const tb = await startTestBroker({}, { storage: 'memory' });
  t.teardown(() => tb.close());
  const ctx = tb.broker.context;
  // A deletion applied first keeps the applier busy (storage work per partition) while the creations commit.
  await ctx.createTopic('big', 200);
  const deleting = ctx.deleteTopic('big');
  const names = Array.from({ length: 40 }, (_, i) => `c${i}`);
  const infos = await Promise.all(names.map(async (n) => {
    const info = await ctx.createTopic(n, 2);
    // Checked at the moment it answers, not after every creation finished.
    return { n, info, open: ctx.partitions.get(n, 1) !== undefined, listed: ctx.topics.get(n) !== undefined };
  }));
  for (const x of infos) {
    t.equal(x.info?.name, x.n, `${x.n}: the answer carries the topic`);
    t.ok(x.open && x.listed, `${x.n}: partitions open and listed when it answers`);
  }
  await deleting;
});
