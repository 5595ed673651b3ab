import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeProduceRequest } from '../../protocol/generated/produce.ts';
import { buildRecordBatch, parseBatchHeader, recomputeCrc } from '../../protocol/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { batchOf, FETCH, fetchRequest, PRODUCE, produce } from '../testing/produce.ts';
import { startTestBroker } from '../testing/start.ts';

async function setup(t: any, overrides: Record<string, string> = {}) {
  const tb = await startTestBroker(overrides);
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

t.test('every version appends and answers base offsets', async (t) => {
  const { tb, c } = await setup(t);
  const topic = await tb.broker.context.createTopic('p', 1);
  let next = 0;
  for (let v = 3; v <= 13; v++) {
    const r = await produce(c, v >= 13 ? '' : 'p', 0, batchOf(3), v, 1, topic.topicId);
    t.equal(r.errorCode, 0, `v${v} no error`);
    t.equal(r.baseOffset, BigInt(next), `v${v} base offset`);
    t.equal(r.logAppendTimeMs, -1n, `v${v} CreateTime topic answers -1`);
    if (v >= 5) t.equal(r.logStartOffset, 0n);
    next += 3;
  }
  t.equal(tb.broker.context.storage.partition('p', 0)!.logEndOffset, next);
});

t.test('acks=0: no response, data appended; acks=-1 acknowledged after the append', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('a', 1);
  const req = makeProduceRequest({ acks: 0, timeoutMs: 1000, topicData: [{ name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: batchOf(2) }] }] });
  c.sendRaw(c.encodeRequest(PRODUCE, 9, req, 500));
  const r = await produce(c, 'a', 0, batchOf(1), 9, -1);
  t.equal(r.baseOffset, 2n, 'the acks=0 batch was appended first');
  t.equal(r.errorCode, 0);
});

t.test('acks=0 with an error closes the connection, as Kafka does', async (t) => {
  const { c } = await setup(t, { 'auto.create.topics.enable': 'false' });
  const req = makeProduceRequest({ acks: 0, timeoutMs: 1000, topicData: [{ name: 'missing', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: batchOf(1) }] }] });
  c.sendRaw(c.encodeRequest(PRODUCE, 9, req));
  await c.waitClosed();
  t.ok(c.closed);
});

t.test('validation errors', async (t) => {
  const { tb, c } = await setup(t, { 'auto.create.topics.enable': 'false' });
  await tb.broker.context.createTopic('v', 2);
  const corrupt = batchOf(2);
  corrupt[corrupt.length - 1] ^= 0xff;
  const magic1 = batchOf(1);
  magic1[16] = 1;
  const two = Buffer.concat([batchOf(1), batchOf(1)]);
  const zstd = batchOf(5, { compression: 4 });
  const cases: Array<[string, () => Promise<any>, number]> = [
    ['CRC mismatch', () => produce(c, 'v', 0, corrupt), ErrorCode.CORRUPT_MESSAGE],
    ['magic 1', () => produce(c, 'v', 0, magic1), ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT],
    ['two batches', () => produce(c, 'v', 0, two), ErrorCode.INVALID_RECORD],
    ['empty records', () => produce(c, 'v', 0, Buffer.alloc(0)), ErrorCode.INVALID_RECORD],
    ['zstd before v7', () => produce(c, 'v', 0, zstd, 6), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE],
    ['unknown partition', () => produce(c, 'v', 7, batchOf(1)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['unknown topic, no auto-creation', () => produce(c, 'nope', 0, batchOf(1)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['invalid topic name', () => produce(c, 'bad name', 0, batchOf(1)), ErrorCode.INVALID_TOPIC_EXCEPTION],
    ['unknown topic id (v13)', () => produce(c, '', 0, batchOf(1), 13, 1, 'AAAAAAAAAAAAAAAAAAAAAQ'), ErrorCode.UNKNOWN_TOPIC_ID],
    ['invalid acks', () => produce(c, 'v', 0, batchOf(1), 9, 2), ErrorCode.INVALID_REQUIRED_ACKS],
  ];
  for (const [name, run, code] of cases) t.equal((await run()).errorCode, code, name);
  t.equal(tb.broker.context.storage.partition('v', 0)!.logEndOffset, 0, 'nothing was appended');
  const ok = await produce(c, 'v', 0, zstd, 7);
  t.equal(ok.errorCode, 0, 'zstd from v7');
});

t.test('internal topics are not writable by clients', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('__consumer_offsets', 1);
  t.equal((await produce(c, '__consumer_offsets', 0, batchOf(1))).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
});

t.test('unknown topic is auto-created and the batch appended', async (t) => {
  const { tb, c } = await setup(t, { 'num.partitions': '2' });
  const r = await produce(c, 'fresh', 1, batchOf(4));
  t.equal(r.errorCode, 0);
  t.equal(r.baseOffset, 0n);
  t.equal(tb.broker.context.topics.get('fresh')?.partitions, 2);
});

t.test('max.message.bytes: MESSAGE_TOO_LARGE with the topic override and the broker default', async (t) => {
  const { tb, c } = await setup(t, { 'message.max.bytes': '5000' });
  await tb.broker.context.createTopic('big', 1, new Map([['max.message.bytes', '200']]));
  await tb.broker.context.createTopic('dflt', 1);
  const r = await produce(c, 'big', 0, batchOf(20));
  t.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  const value = Buffer.alloc(6000, 1);
  const huge = buildRecordBatch({ records: [{ key: 'k', value }] });
  t.equal((await produce(c, 'dflt', 0, huge)).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  t.equal((await produce(c, 'dflt', 0, batchOf(3))).errorCode, 0);
});

t.test('LogAppendTime topics rewrite the max timestamp and report it', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('lat', 1, new Map([['message.timestamp.type', 'LogAppendTime']]));
  const before = Date.now();
  const r = await produce(c, 'lat', 0, batchOf(3, { timestamp: 1000 }));
  t.equal(r.errorCode, 0);
  t.ok(Number(r.logAppendTimeMs) >= before, 'logAppendTimeMs is the append time');
  const f = await c.request(FETCH, 12, fetchRequest([{ topic: 'lat', partition: 0, offset: 0 }]));
  const h = parseBatchHeader(f.responses[0].partitions[0].records, 0);
  t.equal(h.timestampType, 1);
  t.equal(h.maxTimestamp, Number(r.logAppendTimeMs));
});

t.test('compression.type other than producer recompresses', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('gz', 1, new Map([['compression.type', 'gzip']]));
  t.equal((await produce(c, 'gz', 0, batchOf(50, { compression: 2 }))).errorCode, 0);
  const f = await c.request(FETCH, 12, fetchRequest([{ topic: 'gz', partition: 0, offset: 0 }]));
  const h = parseBatchHeader(f.responses[0].partitions[0].records, 0);
  t.equal(h.compression, 1, 'stored as gzip');
  t.equal(h.recordsCount, 50);
});

t.test('compacted topics reject null keys with per-record errors (v8+)', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('cmp', 1, new Map([['cleanup.policy', 'compact']]));
  const b = buildRecordBatch({ records: [{ key: 'a', value: '1' }, { key: null, value: '2' }] });
  const r = await produce(c, 'cmp', 0, b, 9);
  t.equal(r.errorCode, ErrorCode.INVALID_RECORD);
  t.same(r.recordErrors.map((e: any) => e.batchIndex), [1]);
  t.match(r.errorMessage, /without key/);
});

t.test('producer id -1 with kafkajs-style epoch 0 / sequence 0 is plain, non-idempotent produce', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('k', 1);
  const b = buildRecordBatch({ records: [{ key: 'a', value: '1' }], producerId: -1, producerEpoch: 0, baseSequence: 0 });
  recomputeCrc(b, 0);
  t.equal((await produce(c, 'k', 0, b, 7)).errorCode, 0);
  t.equal((await produce(c, 'k', 0, b, 7)).baseOffset, 1n, 'a resend is a new record (no dedup without a producer id)');
});
