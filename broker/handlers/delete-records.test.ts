import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDeleteRecordsRequest } from '../../protocol/generated/delete-records.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { kv } from '../../storage/testing/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker, type TestBroker } from '../testing/start.ts';

const DELETE_RECORDS = 21;

async function setup(t: any): Promise<{ tb: TestBroker; c: RawClient }> {
  const tb = await startTestBroker();
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  return { tb, c };
}

async function fill(tb: TestBroker, topic: string, partition: number, n: number): Promise<void> {
  const log = tb.broker.context.storage.partition(topic, partition)!;
  for (let i = 0; i < n; i++) await log.append(kv(`k${i}`, `value-${i}`));
}

function req(topics: Record<string, Array<[number, bigint]>>, timeoutMs = 5000) {
  return makeDeleteRecordsRequest({
    topics: Object.entries(topics).map(([name, parts]) => ({ name, partitions: parts.map(([partitionIndex, offset]) => ({ partitionIndex, offset })) })),
    timeoutMs,
  });
}

const flat = (res: any) => res.topics.flatMap((tp: any) => tp.partitions.map((p: any) => [tp.name, p.partitionIndex, p.errorCode, p.lowWatermark]));

t.test('every version advances the log start offset; −1 = high watermark; never moves back', async (t) => {
  const { tb, c } = await setup(t);
  for (let v = 0; v <= 2; v++) {
    const name = `dr-${v}`;
    await tb.broker.context.createTopic(name, 2);
    await fill(tb, name, 0, 5);
    await fill(tb, name, 1, 2);
    const res = await c.request(DELETE_RECORDS, v, req({ [name]: [[0, 3n], [1, -1n]] }));
    t.same(flat(res), [[name, 0, ErrorCode.NONE, 3n], [name, 1, ErrorCode.NONE, 2n]], `v${v}`);
    t.equal(tb.broker.context.storage.partition(name, 0)!.logStartOffset, 3, `v${v} log start offset of p0`);
    t.equal(tb.broker.context.storage.partition(name, 1)!.logStartOffset, 2, `v${v} log start offset of p1 (high watermark)`);
    const back = await c.request(DELETE_RECORDS, v, req({ [name]: [[0, 1n]] }));
    t.same(flat(back), [[name, 0, ErrorCode.NONE, 3n]], `v${v} an older offset leaves the low watermark where it is`);
    const all = await c.request(DELETE_RECORDS, v, req({ [name]: [[0, 5n]] }));
    t.same(flat(all), [[name, 0, ErrorCode.NONE, 5n]], `v${v} up to the high watermark`);
    t.equal(tb.broker.context.storage.partition(name, 0)!.logEndOffset, 5, 'the log end offset is kept');
  }
});

t.test('errors: beyond the high watermark, negative, unknown topic/partition, internal topic, compacted topic', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('e', 2);
  await fill(tb, 'e', 0, 3);
  await tb.broker.context.createTopic('__consumer_offsets', 1);
  await tb.broker.context.createTopic('compacted', 1, new Map([['cleanup.policy', 'compact']]));
  await fill(tb, 'compacted', 0, 2);
  const res = await c.request(DELETE_RECORDS, 2, req({
    e: [[0, 4n], [1, -2n], [7, 0n], [-1, 0n]],
    nope: [[0, 0n]],
    __consumer_offsets: [[0, -1n]],
    compacted: [[0, 1n]],
  }));
  t.same(flat(res), [
    ['e', 0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
    ['e', 1, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
    ['e', 7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
    ['e', -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
    ['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
    ['__consumer_offsets', 0, ErrorCode.INVALID_TOPIC_EXCEPTION, -1n],
    ['compacted', 0, ErrorCode.POLICY_VIOLATION, -1n],
  ]);
  t.equal(tb.broker.context.storage.partition('e', 0)!.logStartOffset, 0, 'nothing deleted');
  t.equal(tb.broker.context.storage.partition('compacted', 0)!.logStartOffset, 0);
});

t.test('a partition named twice counts once, with the last offset; topics named twice are merged', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('d', 1);
  await fill(tb, 'd', 0, 4);
  const res = await c.request(DELETE_RECORDS, 1, makeDeleteRecordsRequest({
    topics: [
      { name: 'd', partitions: [{ partitionIndex: 0, offset: 1n }] },
      { name: 'd', partitions: [{ partitionIndex: 0, offset: 2n }] },
    ],
    timeoutMs: 1000,
  }));
  t.same(flat(res), [['d', 0, ErrorCode.NONE, 2n]]);
});

t.test('whole segments below the new log start offset are removed', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('segs', 1, new Map([['segment.bytes', '200']]));
  await fill(tb, 'segs', 0, 12);
  const log = tb.broker.context.storage.partition('segs', 0)!;
  const before = log.segmentBaseOffsets;
  t.ok(before.length >= 3, `several segments (${before})`);
  const cut = before[2];
  const res = await c.request(DELETE_RECORDS, 2, req({ segs: [[0, BigInt(cut + 1)]] }));
  t.same(flat(res), [['segs', 0, ErrorCode.NONE, BigInt(cut + 1)]]);
  t.equal(log.segmentBaseOffsets[0], cut, 'segments wholly below the offset are gone');
  t.equal(log.logStartOffset, cut + 1);
  const read = await log.read(log.logStartOffset, 1 << 20);
  t.notOk(read.error, 'reads from the new log start offset work');
});

t.test('offline partition → KAFKA_STORAGE_ERROR', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gregor-delete-records-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const overrides = { 'log.dirs': dir };
  const tb1 = await startTestBroker(overrides, { storage: 'file' });
  await tb1.broker.context.createTopic('broken', 2, new Map([['segment.bytes', '200']]));
  await fill(tb1, 'broken', 0, 12);
  await fill(tb1, 'broken', 1, 3);
  const segments = tb1.broker.context.storage.partition('broken', 0)!.segmentBaseOffsets;
  await tb1.close();
  // Corrupt a middle segment and force a full recovery scan: the partition comes back offline.
  const mid = join(dir, 'broken-0', String(segments[1]).padStart(20, '0') + '.log');
  const b = readFileSync(mid);
  b[b.length - 20] ^= 0x55;
  writeFileSync(mid, b);
  writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), '0\n0\n');
  rmSync(join(dir, '.kafka_cleanshutdown'), { force: true });

  const tb = await startTestBroker(overrides, { storage: 'file' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  t.ok(tb.broker.context.storage.partition('broken', 0)!.offline, 'partition 0 is offline');
  const res = await c.request(DELETE_RECORDS, 2, req({ broken: [[0, 1n], [1, 1n]] }));
  t.same(flat(res), [['broken', 0, ErrorCode.KAFKA_STORAGE_ERROR, -1n], ['broken', 1, ErrorCode.NONE, 1n]]);
});
