import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { isStorageError } from './types.ts';
import { buildBatch, kv, parseRecords } from './testing/records.ts';
import { ManualClock } from './clock.ts';
import { readAll, tempDir } from './testing/helpers.ts';

t.test('layout, append, read, clean restart on disk', async (t) => {
  const dir = tempDir(t);
  const s = await openStorage({ dataDir: dir });
  await s.createTopic('orders', { partitions: 2, topicId: 'abcdefghijklmnopqrstuv', configs: { 'retention.ms': '1000000' } });
  const log = s.partition('orders', 1)!;
  const r1 = await log.append(kv('k0', 'v0'), { leaderEpoch: 3 });
  t.same(r1, { baseOffset: 0, lastOffset: 0, logAppendTime: -1 });
  const r2 = await log.append(Buffer.concat([buildBatch([{ key: Buffer.from('k1'), value: Buffer.from('v1') }, { key: null, value: Buffer.from('v2') }]), kv('k3', 'v3')]));
  t.same(r2, { baseOffset: 1, lastOffset: 3, logAppendTime: -1 });
  t.equal(log.logEndOffset, 4);
  t.equal(log.highWatermark, 4);
  const read = await log.read(0, 1 << 20);
  t.equal(read.error, null);
  const recs = parseRecords(Buffer.concat(read.batches));
  t.same(recs.map((r) => [r.offset, r.key, r.value]), [[0, 'k0', 'v0'], [1, 'k1', 'v1'], [2, null, 'v2'], [3, 'k3', 'v3']]);
  t.equal(read.batches[0].readInt32BE(12), 3, 'leader epoch patched');
  // A fetch in the middle of a batch returns that whole batch.
  const mid = await log.read(2, 1 << 20);
  t.equal(parseRecords(mid.batches[0])[0].offset, 1);
  t.same((await log.read(4, 100)).batches, [], 'at the end: empty');
  t.equal((await log.read(5, 100)).error, 'OFFSET_OUT_OF_RANGE');
  t.equal((await log.read(-1, 100)).error, 'OFFSET_OUT_OF_RANGE');
  await s.close();

  const pdir = join(dir, 'orders-1');
  t.same(readdirSync(pdir).sort(), ['00000000000000000000.index', '00000000000000000000.log', '00000000000000000000.timeindex', 'leader-epoch-checkpoint']);
  t.equal(readFileSync(join(pdir, 'leader-epoch-checkpoint'), 'utf8'), '0\n1\n3 0\n', 'epoch 3 starts at 0 (Kafka format)');
  t.notOk(existsSync(join(dir, 'orders-0', 'leader-epoch-checkpoint')), 'an empty log writes no epoch file');
  t.equal(readFileSync(join(dir, 'replication-offset-checkpoint'), 'utf8'), '0\n2\norders 0 0\norders 1 4\n');
  t.ok(existsSync(join(dir, '.kafka_cleanshutdown')));
  t.equal(readFileSync(join(dir, 'recovery-point-offset-checkpoint'), 'utf8'), '0\n2\norders 0 0\norders 1 4\n');
  t.equal(readFileSync(join(dir, 'log-start-offset-checkpoint'), 'utf8'), '0\n2\norders 0 0\norders 1 0\n');

  const s2 = await openStorage({ dataDir: dir });
  t.same(s2.topics(), [{ name: 'orders', topicId: 'abcdefghijklmnopqrstuv', partitions: 2, configs: { 'retention.ms': '1000000' } }]);
  const log2 = s2.partition('orders', 1)!;
  t.equal(log2.logEndOffset, 4);
  t.same((await readAll(log2)).map((r) => r.value), ['v0', 'v1', 'v2', 'v3']);
  t.same(await log2.append(kv('k4', 'v4')), { baseOffset: 4, lastOffset: 4, logAppendTime: -1 });
  await s2.close();
});

t.test('memory backend: same interface, crash = reopen without close', async (t) => {
  const fs = new MemFs();
  const s = await openStorage({ memory: true, fs, dataDir: '/d' });
  await s.createTopic('a', { partitions: 1, topicId: 'x' });
  const log = s.partition('a', 0)!;
  const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(kv(`k${i}`, `v${i}`))));
  t.same(acks.map((a) => a.baseOffset), Array.from({ length: 50 }, (_, i) => i), 'concurrent appends get ordered offsets');
  const s2 = await openStorage({ memory: true, fs, dataDir: '/d' });
  t.same((await readAll(s2.partition('a', 0)!)).map((r) => r.key), acks.map((_, i) => `k${i}`));
  await s2.close();
  const s3 = await openStorage({ memory: true });
  t.same(s3.topics(), []);
  await s3.close();
});

t.test('appends are serialised and acked in order; errors are typed', async (t) => {
  const s = await openStorage({ memory: true });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'max.message.bytes': '200' } });
  const log = s.partition('t', 0)!;
  const order: number[] = [];
  await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(kv('k', 'v' + i)).then((r) => order.push(r.baseOffset))));
  t.same(order, Array.from({ length: 20 }, (_, i) => i));
  await t.rejects(log.append(kv('k', 'x'.repeat(300))), { kind: 'MESSAGE_TOO_LARGE', code: 10 } as object as Error);
  await t.rejects(log.append(Buffer.alloc(30)), { kind: 'CORRUPT_MESSAGE', code: 2 } as object as Error);
  const bad = kv('k', 'v');
  bad.writeInt32BE(1000, 8);
  await t.rejects(log.append(bad), { kind: 'CORRUPT_MESSAGE' } as object as Error);
  t.equal(log.logEndOffset, 20);
  await t.rejects(s.createTopic('t', { partitions: 1, topicId: 'y' }), { kind: 'TOPIC_ALREADY_EXISTS' } as object as Error);
  await t.rejects(s.createTopic('../x', { partitions: 1, topicId: 'y' }), { kind: 'INVALID_TOPIC_EXCEPTION' } as object as Error);
  await t.rejects(s.createTopic('u', { partitions: 0, topicId: 'y' }), { kind: 'INVALID_PARTITIONS' } as object as Error);
  await t.rejects(s.createTopic('u', { partitions: 1, topicId: 'y', configs: { 'segment.bytes': 'lots' } }), { kind: 'INVALID_CONFIG' } as object as Error);
  await s.close();
});

t.test('LogAppendTime sets the max timestamp and keeps the CRC valid', async (t) => {
  const clock = new ManualClock(1_800_000_000_000);
  const s = await openStorage({ memory: true, clock });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'message.timestamp.type': 'LogAppendTime' } });
  const log = s.partition('t', 0)!;
  const r = await log.append(kv('k', 'v', 5));
  t.equal(r.logAppendTime, 1_800_000_000_000);
  const b = (await log.read(0, 1000)).batches[0];
  t.equal(Number(b.readBigInt64BE(35)), 1_800_000_000_000);
  t.ok(b.readInt16BE(21) & 0x08);
  t.doesNotThrow(() => parseRecords(b));
  await s.close();
});

t.test('topic metadata: add partitions, alter configs, delete removes data', async (t) => {
  const dir = tempDir(t);
  const s = await openStorage({ dataDir: dir });
  await s.createTopic('t', { partitions: 1, topicId: 'id1' });
  await s.partition('t', 0)!.append(kv('a', 'b'));
  await s.addPartitions('t', 3);
  await t.rejects(s.addPartitions('t', 2), { kind: 'INVALID_PARTITIONS' } as object as Error);
  await s.partition('t', 2)!.append(kv('c', 'd'));
  await s.alterTopicConfigs('t', { 'retention.bytes': '100' });
  t.equal(s.partition('t', 0)!.config.retentionBytes, 100);
  await s.createTopic('gone', { partitions: 2, topicId: 'id2' });
  await s.partition('gone', 0)!.append(kv('a', 'b'));
  await s.deleteTopic('gone');
  t.equal(s.getTopic('gone'), undefined);
  await t.rejects(s.deleteTopic('gone'), { kind: 'UNKNOWN_TOPIC_OR_PARTITION' } as object as Error);
  await s.close();
  // Renamed at once, removed after file.delete.delay.ms (60 s here) or by the next start.
  const left = readdirSync(dir).filter((e) => e.startsWith('gone'));
  t.same(left.map((e) => e.endsWith('-delete')), [true, true], 'renamed to *-delete, pending removal');
  const s2 = await openStorage({ dataDir: dir });
  t.same(s2.topics().map((x) => [x.name, x.partitions, x.configs]), [['t', 3, { 'retention.bytes': '100' }]]);
  t.equal(s2.partition('t', 2)!.logEndOffset, 1);
  t.equal(s2.partition('gone', 0), undefined);
  await s2.close();
  t.notOk(readdirSync(dir).some((e) => e.startsWith('gone')), 'the restart finished the pending delete');
});

t.test('isStorageError', async (t) => {
  const s = await openStorage({ memory: true });
  const err = await s.deleteTopic('nope').catch((e: unknown) => e);
  t.ok(isStorageError(err, 'UNKNOWN_TOPIC_OR_PARTITION'));
  await s.close();
});
