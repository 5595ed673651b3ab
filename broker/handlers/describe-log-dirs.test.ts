import t from 'tap';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDescribeLogDirsRequest } from '../../protocol/generated/describe-log-dirs.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { kv } from '../../storage/testing/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker, type TestBroker } from '../testing/start.ts';

const DESCRIBE_LOG_DIRS = 35;

async function fill(tb: TestBroker, topic: string, partition: number, n: number): Promise<void> {
  const log = tb.broker.context.storage.partition(topic, partition)!;
  for (let i = 0; i < n; i++) await log.append(kv(`k${i}`, `value-${i}`));
}

const shape = (result: any) => result.topics
  .map((tp: any) => [tp.name, tp.partitions.map((p: any) => [p.partitionIndex, p.partitionSize, p.offsetLag, p.isFutureKey]).sort((a: any, b: any) => a[0] - b[0])])
  .sort((a: any, b: any) => a[0].localeCompare(b[0]));

function tempDataDir(t: any): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gregor-log-dirs-')));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('every version, file storage: the data dir, partition sizes, volume sizes (v4+), topic filter', async (t) => {
  const dir = tempDataDir(t);
  const tb = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  await tb.broker.context.createTopic('a', 2);
  await tb.broker.context.createTopic('b', 1);
  await fill(tb, 'a', 0, 3);
  await fill(tb, 'b', 0, 1);
  const size = (topic: string, p: number) => BigInt(tb.broker.context.storage.partition(topic, p)!.size);
  t.ok(size('a', 0) > 0n, 'bytes were written');

  for (let v = 1; v <= 5; v++) {
    const res = await c.request(DESCRIBE_LOG_DIRS, v, makeDescribeLogDirsRequest({ topics: null }));
    if (v >= 3) t.equal(res.errorCode, ErrorCode.NONE);
    t.equal(res.results.length, 1, `v${v} one log dir`);
    const r = res.results[0];
    t.equal(r.errorCode, ErrorCode.NONE);
    t.equal(r.logDir, dir, `v${v} absolute data dir`);
    t.same(shape(r), [
      ['a', [[0, size('a', 0), 0n, false], [1, 0n, 0n, false]]],
      ['b', [[0, size('b', 0), 0n, false]]],
    ], `v${v} topics and sizes`);
    if (v >= 4) {
      t.ok(r.totalBytes > 0n, `v${v} totalBytes from statfs`);
      t.ok(r.usableBytes >= 0n && r.usableBytes <= r.totalBytes, `v${v} usableBytes within totalBytes`);
    }
    if (v >= 5) t.equal(r.isCordoned, false);
  }

  const filtered = await c.request(DESCRIBE_LOG_DIRS, 4, makeDescribeLogDirsRequest({
    topics: [{ topic: 'a', partitions: [1, 9] }, { topic: 'missing', partitions: [0] }],
  }));
  t.same(shape(filtered.results[0]), [['a', [[1, 0n, 0n, false]]]], 'only the named partitions that exist');
  const none = await c.request(DESCRIBE_LOG_DIRS, 4, makeDescribeLogDirsRequest({ topics: [] }));
  t.same(none.results[0].topics, [], 'an empty filter: the dir with no topics');
  t.equal(none.results[0].errorCode, ErrorCode.NONE);
});

t.test('in-memory storage: sizes known, volume sizes −1', async (t) => {
  const tb = await startTestBroker();
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  await tb.broker.context.createTopic('m', 1);
  await fill(tb, 'm', 0, 2);
  const res = await c.request(DESCRIBE_LOG_DIRS, 4, makeDescribeLogDirsRequest({ topics: null }));
  const r = res.results[0];
  t.equal(r.errorCode, ErrorCode.NONE);
  t.equal(r.logDir, tb.broker.context.storage.dataDir);
  t.same(shape(r), [['m', [[0, BigInt(tb.broker.context.storage.partition('m', 0)!.size), 0n, false]]]]);
  t.same([r.totalBytes, r.usableBytes], [-1n, -1n]);
});

t.test('a dir holding an offline partition answers KAFKA_STORAGE_ERROR', async (t) => {
  const dir = tempDataDir(t);
  const tb1 = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  await tb1.broker.context.createTopic('broken', 1, new Map([['segment.bytes', '200']]));
  await fill(tb1, 'broken', 0, 12);
  const segments = tb1.broker.context.storage.partition('broken', 0)!.segmentBaseOffsets;
  await tb1.close();
  const mid = join(dir, 'broken-0', String(segments[1]).padStart(20, '0') + '.log');
  const b = readFileSync(mid);
  b[b.length - 20] ^= 0x55;
  writeFileSync(mid, b);
  writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), '0\n0\n');
  rmSync(join(dir, '.kafka_cleanshutdown'), { force: true });

  const tb = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  const res = await c.request(DESCRIBE_LOG_DIRS, 4, makeDescribeLogDirsRequest({ topics: null }));
  t.same(res.results.map((r: any) => [r.logDir, r.errorCode, r.topics.length]), [[dir, ErrorCode.KAFKA_STORAGE_ERROR, 0]]);
  t.equal(res.errorCode, ErrorCode.NONE, 'top-level error code stays NONE');
});
