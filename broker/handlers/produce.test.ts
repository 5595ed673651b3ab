import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeProduceRequest } from '../../protocol/generated/produce.ts';
import { buildRecordBatch, parseBatchHeader, recomputeCrc, setMaxTimestamp } from '../../protocol/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { batchOf, batchWithSection, bombBatch, FETCH, fetchRequest, PRODUCE, produce, withCrc } from '../testing/produce.ts';
import { compress, decompressSmall, SYNC_DECOMPRESS_BYTES } from '../../protocol/compression.ts';
import crypto from 'node:crypto';
import { writeVarint } from '../../protocol/varint.ts';
import { records as iterateRecords, RecordBatchView } from '../../protocol/records.ts';
import { startTestBroker } from '../testing/start.ts';
import { FaultyFs, MemFs } from '../../storage/index.ts';

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

t.test('compacted topics reject null keys, naming every keyless record (KIP-467, v8+)', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('cmp', 1, new Map([['cleanup.policy', 'compact']]));
  const keyless = [3, 11, 20, 37, 42, 50, 64, 77, 88, 99];
  const records = Array.from({ length: 100 }, (_, i) => ({ key: keyless.includes(i) ? null : `k${i}`, value: `v${i}` }));
  for (const compression of [0, 4]) {
    const r = await produce(c, 'cmp', 0, buildRecordBatch({ records, compression }), 9);
    t.equal(r.errorCode, ErrorCode.INVALID_RECORD, `codec ${compression}`);
    t.same(r.recordErrors.map((e: any) => e.batchIndex), keyless, 'exactly the ten keyless records');
    t.equal(r.recordErrors[0].batchIndexErrorMessage, 'Compacted topic cannot accept message without key in topic partition cmp-0');
    t.equal(r.errorMessage, "One or more records have been rejected due to 10 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=3, message='Compacted topic cannot accept message without key in topic partition cmp-0'), RecordError(batchIndex=11, message='Compacted topic cannot accept message without key in topic partition cmp-0'), RecordError(batchIndex=20, message='Compacted topic cannot accept message without key in topic partition cmp-0')]");
  }
  const v7 = await produce(c, 'cmp', 0, buildRecordBatch({ records }), 7);
  t.same([v7.errorCode, v7.recordErrors, v7.errorMessage], [ErrorCode.INVALID_RECORD, [], null], 'v7: the code only');
  t.equal(tb.broker.context.storage.partition('cmp', 0)!.logEndOffset, 0);
});

t.test('producer id -1 with kafkajs-style epoch 0 / sequence 0 is plain, non-idempotent produce', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('k', 1);
  const b = buildRecordBatch({ records: [{ key: 'a', value: '1' }], producerId: -1, producerEpoch: 0, baseSequence: 0 });
  recomputeCrc(b, 0);
  t.equal((await produce(c, 'k', 0, b, 7)).errorCode, 0);
  t.equal((await produce(c, 'k', 0, b, 7)).baseOffset, 1n, 'a resend is a new record (no dedup without a producer id)');
});

// ---- idempotence (producer id ≥ 0) ----------------------------------------------------------------

function idem(pid: number, epoch: number, seq: number, n = 2, opts: { prefix?: string; transactional?: boolean } = {}): Buffer {
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${opts.prefix ?? 'v'}${seq + i}`, timestamp: 1_700_000_000_000 + i }));
  return buildRecordBatch({ records, producerId: BigInt(pid), producerEpoch: epoch, baseSequence: seq, isTransactional: opts.transactional ?? false });
}

t.test('idempotent: a resent batch answers its original offset and is not appended again', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('i', 1);
  const log = tb.broker.context.storage.partition('i', 0)!;
  t.equal((await produce(c, 'i', 0, idem(1, 0, 0), 7)).baseOffset, 0n);
  t.equal((await produce(c, 'i', 0, idem(1, 0, 2), 7)).baseOffset, 2n);
  for (const v of [3, 7, 9, 13]) {
    const topicId = tb.broker.context.topics.get('i')!.topicId;
    const r = await produce(c, v >= 13 ? '' : 'i', 0, idem(1, 0, 0), v, 1, topicId);
    t.equal(r.errorCode, 0, `v${v}: NONE, not DUPLICATE_SEQUENCE_NUMBER`);
    t.equal(r.baseOffset, 0n, `v${v}: the original base offset`);
    t.equal(r.logAppendTimeMs, 1_700_000_000_001n, "Kafka's quirk: the original batch's max timestamp as logAppendTime");
  }
  t.equal(log.logEndOffset, 4, 'nothing appended twice');
  t.equal((await produce(c, 'i', 0, idem(1, 0, 4), 7)).baseOffset, 4n, 'the sequence continues');
});

t.test('idempotent: gaps, unknown producers, epochs, transactional batches', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('s', 1);
  t.equal((await produce(c, 's', 0, idem(5, 1, 10), 9)).errorCode, 0, 'unknown producer may start at any sequence (Kafka 4)');
  const gap = await produce(c, 's', 0, idem(5, 1, 13), 9);
  t.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  t.match(gap.errorMessage, /Out of order sequence number for producer 5/);
  t.equal((await produce(c, 's', 0, idem(5, 0, 12), 9)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'older epoch');
  t.equal((await produce(c, 's', 0, idem(5, 2, 3), 9)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'new epoch not at 0');
  t.equal((await produce(c, 's', 0, idem(5, 2, 0), 9)).errorCode, 0, 'new epoch at 0');
  t.equal((await produce(c, 's', 0, idem(5, 1, 12), 9)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'the old epoch is fenced');
  const txn = await produce(c, 's', 0, idem(6, 0, 0, 1, { transactional: true }), 9);
  t.same([txn.errorCode, txn.errorMessage], [ErrorCode.INVALID_TXN_STATE, 'Record was not part of an ongoing transaction']);
  t.equal(tb.broker.context.storage.partition('s', 0)!.logEndOffset, 4, 'rejected batches were not appended');
});

t.test('idempotent: pipelined batches of one producer, and a retry pipelined behind its original', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('q', 1);
  const send = (records: Buffer) => c.sendRaw(c.encodeRequest(PRODUCE, 9, makeProduceRequest({ acks: -1, timeoutMs: 1000, topicData: [{ name: 'q', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }] })));
  send(idem(2, 0, 0));
  send(idem(2, 0, 2));
  send(idem(2, 0, 2)); // retry while the original is still being written
  send(idem(2, 0, 2)); // and again
  send(idem(2, 0, 6)); // gap against the in-flight end
  send(idem(2, 0, 4));
  const rs = [];
  for (let i = 0; i < 6; i++) rs.push(c.decodeResponse(PRODUCE, 9, await c.nextFrame()).responses[0].partitionResponses[0]);
  t.same(rs.map((r: any) => [r.errorCode, r.baseOffset]), [[0, 0n], [0, 2n], [0, 2n], [0, 2n], [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n], [0, 4n]]);
  t.equal(tb.broker.context.storage.partition('q', 0)!.logEndOffset, 6);
});

t.test('idempotent: a failed append releases its reservation; the retry is appended', async (t) => {
  const fsx = new FaultyFs(new MemFs());
  const tb = await startTestBroker({}, { fs: fsx });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('f', 1);
  fsx.failNext('write', { code: 'ENOSPC', pathIncludes: '/f-0/' });
  const first = await produce(c, 'f', 0, idem(3, 0, 0), 9);
  t.equal(first.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, 'first attempt failed in the write');
  const c2 = await RawClient.connect(tb.port);
  t.teardown(() => c2.close());
  const r = await produce(c2, 'f', 0, idem(3, 0, 0), 9);
  t.same([r.errorCode, r.baseOffset], [0, 0n]);
});

t.test('idempotent: dedup survives a clean restart, a crash, and a snapshot followed by a crash', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-idem-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const open = async () => {
    const tb = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
    const c = await RawClient.connect(tb.port);
    return { tb, c };
  };
  const a = await open();
  await a.tb.broker.context.createTopic('r', 1);
  t.equal((await produce(a.c, 'r', 0, idem(9, 0, 0), 9)).baseOffset, 0n);
  t.equal((await produce(a.c, 'r', 0, batchOf(3), 9)).baseOffset, 2n, 'non-idempotent batch in between');
  t.equal((await produce(a.c, 'r', 0, idem(9, 0, 2), 9)).baseOffset, 5n);
  a.c.close();
  await a.tb.close();
  t.ok(fs.readdirSync(path.join(dir, 'r-0')).includes('00000000000000000007.snapshot'), 'snapshot at the log end on clean shutdown');

  const b = await open();
  t.equal((await produce(b.c, 'r', 0, idem(9, 0, 0), 9)).baseOffset, 0n, 'clean restart: duplicate of an old batch');
  t.equal((await produce(b.c, 'r', 0, idem(9, 0, 2), 9)).baseOffset, 5n);
  t.equal((await produce(b.c, 'r', 0, idem(9, 0, 4), 9)).baseOffset, 7n);
  await b.tb.broker.context.producers.snapshotAll(false); // the timer's snapshot
  t.ok(fs.readdirSync(path.join(dir, 'r-0')).includes('00000000000000000009.snapshot'));
  t.equal((await produce(b.c, 'r', 0, idem(9, 0, 6), 9)).baseOffset, 9n, 'after the snapshot');
  b.c.close();
  // crash: b is never closed

  const c = await open();
  t.teardown(() => b.tb.close());
  t.teardown(() => c.tb.close());
  t.teardown(() => c.c.close());
  t.equal((await produce(c.c, 'r', 0, idem(9, 0, 6), 9)).baseOffset, 9n, 'crash: batch after the snapshot replayed from the log');
  t.equal((await produce(c.c, 'r', 0, idem(9, 0, 4), 9)).baseOffset, 7n, 'crash: batch from the snapshot');
  t.equal((await produce(c.c, 'r', 0, idem(9, 0, 9), 9)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  t.equal((await produce(c.c, 'r', 0, idem(9, 0, 8), 9)).baseOffset, 11n);
  t.equal(c.tb.broker.context.storage.partition('r', 0)!.logEndOffset, 13);
});

t.test('idempotent: producer.id.expiration.ms forgets idle producers (by batch timestamp, as Kafka)', async (t) => {
  const { tb, c } = await setup(t, { 'producer.id.expiration.ms': '60000' });
  await tb.broker.context.createTopic('e', 1);
  t.equal((await produce(c, 'e', 0, idem(4, 0, 0), 9)).errorCode, 0);
  t.equal(tb.broker.context.producers.expire(), 1, 'the batch timestamps (2023) are older than 60 s');
  t.equal((await produce(c, 'e', 0, idem(4, 0, 0), 9)).baseOffset, 2n, 'forgotten: the resend is appended as new');
});

t.test('intercept dropResponse: every 2nd produce is appended but not answered; the retry finds the batch', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('d', 1);
  let n = 0;
  const drops = tb.broker.intercept(PRODUCE, {}, () => (++n % 2 === 0 ? { dropResponse: true } : undefined));
  // Pipelined on one connection: the 2nd request's answer is dropped, the 3rd (its retry) still answered in order.
  const send = (seq: number) => c.sendRaw(c.encodeRequest(PRODUCE, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'd', partitionData: [{ index: 0, records: idem(8, 0, seq) }] }] }));
  send(0);
  send(2);
  const answers = [c.decodeResponse(PRODUCE, 9, await c.nextFrame())];
  send(2);
  answers.push(c.decodeResponse(PRODUCE, 9, await c.nextFrame()));
  t.same(answers.map((a) => [a.correlationId, a.responses[0].partitionResponses[0].errorCode, a.responses[0].partitionResponses[0].baseOffset]),
    [[1, 0, 0n], [3, 0, 2n]], 'correlation id 2 is never answered; its retry answers the original offset');
  t.equal(drops.hits, 1);
  t.equal(tb.broker.context.storage.partition('d', 0)!.logEndOffset, 4, 'appended once');
});

t.test('CreateTime timestamps outside message.timestamp.before/after.max.ms answer INVALID_TIMESTAMP', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('ts', 1);
  await tb.broker.context.createTopic('ts-before', 1, new Map([['message.timestamp.before.max.ms', '60000']]));
  await tb.broker.context.createTopic('ts-lat', 1, new Map([['message.timestamp.type', 'LogAppendTime']]));
  const now = Date.now();
  const future = buildRecordBatch({ records: [{ key: 'a', value: '1', timestamp: now }, { key: 'b', value: '2', timestamp: now + 2 * 3600_000 }] });
  const r = await produce(c, 'ts', 0, future, 9);
  t.equal(r.errorCode, ErrorCode.INVALID_TIMESTAMP, 'two hours ahead exceeds the one-hour default');
  t.same(r.recordErrors.map((e: any) => e.batchIndex), [1]);
  t.equal(r.errorMessage, 'One or more records have been rejected due to invalid timestamp', "Kafka's message");
  t.match(r.recordErrors[0].batchIndexErrorMessage, /^Timestamp \d+ of message with offset 1 is out of range/);
  t.equal((await produce(c, 'ts', 0, buildRecordBatch({ records: [{ key: 'a', value: '1', timestamp: 1000 }] }))).errorCode, 0, 'old timestamps pass by default');
  t.equal((await produce(c, 'ts-before', 0, buildRecordBatch({ records: [{ key: 'a', value: '1', timestamp: now - 3600_000 }] }))).errorCode, ErrorCode.INVALID_TIMESTAMP, 'configured lower bound');
  t.equal((await produce(c, 'ts-lat', 0, future)).errorCode, 0, 'LogAppendTime topics do not check producer timestamps');
  t.equal((await produce(c, 'ts', 0, future, 7)).errorCode, ErrorCode.INVALID_TIMESTAMP, 'v7 gets the code without per-record details');
});

// ---- record walk (Kafka's LogValidator / DefaultRecord checks) ----------------------------------------

/** One well-formed record: length, attributes, timestamp delta, offset delta, key, value, headers. */
function rec(offsetDelta: number, opts: { key?: string | null; value?: string; headers?: number; tail?: number[] } = {}): Buffer {
  const zz = (n: number) => (n << 1) ^ (n >> 31);
  const key = opts.key === undefined ? 'k' : opts.key;
  const value = Buffer.from(opts.value ?? 'v');
  const body = [0, 0, zz(offsetDelta)];
  if (key === null) body.push(1); else body.push(zz(key.length), ...Buffer.from(key));
  body.push(zz(value.length), ...value, zz(opts.headers ?? 0), ...(opts.tail ?? []));
  return Buffer.from([zz(body.length), ...body]);
}

t.test('record batches are not trusted: counts, lengths and structure are walked', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('w', 1);
  const log = tb.broker.context.storage.partition('w', 0)!;
  const cases: Array<[string, Buffer, RegExp]> = [
    ['header claims 1,000,000 records, holds 1', batchWithSection(rec(0), { count: 1_000_000 }), /premature EOF/],
    ['count 1 but two records present', batchWithSection(Buffer.concat([rec(0), rec(1)]), { count: 1 }), /records still remaining/],
    ['count and lastOffsetDelta disagree', batchWithSection(rec(0), { count: 1, lastOffsetDelta: 5 }), /Inconsistent batch offset range \[0, 5\] and count of records 1/],
    ['record length beyond the batch', batchWithSection(Buffer.concat([Buffer.from([0x7e]), rec(0).subarray(1)])), /Invalid record size: expected 63 bytes/],
    ['key length beyond the record', batchWithSection(rec(0, { key: 'abc' }).fill(0x7e, 4, 5)), /invalid record structure/],
    ['negative header count', batchWithSection(rec(0, { headers: -1 })), /invalid number of record headers -1/],
    ['header count larger than the bytes', batchWithSection(rec(0, { headers: 50 })), /larger than the remaining size/],
    ['bytes left inside a record', batchWithSection(rec(0, { tail: [0, 0] })), /expected to read \d+ bytes in record payload, but instead read/],
    ['a varint longer than 5 bytes', batchWithSection(Buffer.from([0x10, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0])), /invalid record structure/],
  ];
  for (const [name, batch, message] of cases) {
    const r = await produce(c, 'w', 0, batch, 9);
    t.equal(r.errorCode, ErrorCode.INVALID_RECORD, name);
    t.match(r.errorMessage, message, `${name}: message`);
    t.match(r.errorMessage, / in topic partition w-0$/);
    t.same(r.recordErrors, [], `${name}: no per-record list (the batch is malformed)`);
  }
  t.equal(log.logEndOffset, 0, 'nothing was appended');
  const ok = await produce(c, 'w', 0, batchWithSection(Buffer.concat([rec(0), rec(1, { key: null, headers: 0 })]), { count: 2 }), 9);
  t.same([ok.errorCode, ok.baseOffset], [0, 0n], 'a hand-built well-formed batch passes');
  t.equal(log.logEndOffset, 2);
});

t.test('compressed batches are decompressed and walked too', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('z', 1);
  for (const codec of [1, 2, 3, 4]) {
    const bad = batchWithSection(compress(codec, Buffer.concat([rec(0), rec(1, { headers: -1 })])), { count: 2, compression: codec });
    const r = await produce(c, 'z', 0, bad, 9);
    t.equal(r.errorCode, ErrorCode.INVALID_RECORD, `codec ${codec}: corrupt record inside`);
    t.match(r.errorMessage, /invalid number of record headers -1/);
    const short = batchWithSection(compress(codec, rec(0)), { count: 3, compression: codec });
    t.equal((await produce(c, 'z', 0, short, 9)).errorCode, ErrorCode.INVALID_RECORD, `codec ${codec}: count above the records`);
    const garbage = batchWithSection(Buffer.from('definitely not compressed'), { compression: codec });
    t.equal((await produce(c, 'z', 0, garbage, 9)).errorCode, ErrorCode.CORRUPT_MESSAGE, `codec ${codec}: undecodable`);
  }
  t.equal(tb.broker.context.storage.partition('z', 0)!.logEndOffset, 0);
});

t.test('a compressed batch with inner offsets other than 0..n-1 is rewritten, as Kafka does', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('o', 1);
  const b = batchWithSection(compress(4, Buffer.concat([rec(0), rec(7), rec(3)])), { count: 3, compression: 4 });
  t.same((await produce(c, 'o', 0, b, 9)).errorCode, 0);
  const f = await c.request(FETCH, 12, fetchRequest([{ topic: 'o', partition: 0, offset: 0 }]));
  const stored = f.responses[0].partitions[0].records as Buffer;
  t.same([...iterateRecords(new RecordBatchView(stored, 0))].map((r) => r.offset), [0, 1, 2]);
  t.equal(new RecordBatchView(stored, 0).compression, 4, 'kept its codec');
});

t.test('the header max timestamp is not trusted: records are checked and the stored max recomputed', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('mt', 1);
  const now = Date.now();
  const lie = buildRecordBatch({ records: [{ key: 'a', value: '1', timestamp: now }, { key: 'b', value: '2', timestamp: now + 3 * 3600_000 }] });
  lie.writeInt32BE(0, 35);
  lie.writeInt32BE(1000, 39); // maxTimestamp := 1000
  const r = await produce(c, 'mt', 0, withCrc(lie), 9);
  t.equal(r.errorCode, ErrorCode.INVALID_TIMESTAMP);
  t.same(r.recordErrors.map((e: any) => e.batchIndex), [1]);
  const ok = buildRecordBatch({ records: [{ key: 'a', value: '1', timestamp: now - 5 }, { key: 'b', value: '2', timestamp: now }] });
  ok.writeInt32BE(0, 35);
  ok.writeInt32BE(1000, 39);
  t.equal((await produce(c, 'mt', 0, withCrc(ok), 9)).errorCode, 0);
  const f = await c.request(FETCH, 12, fetchRequest([{ topic: 'mt', partition: 0, offset: 0 }]));
  t.equal(parseBatchHeader(f.responses[0].partitions[0].records, 0).maxTimestamp, now, 'stored max timestamp = the largest record timestamp');
});

t.test('max.decompressed.message.bytes (Kafka trunk) bounds each record of a compressed batch', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('md', 1, new Map([['max.decompressed.message.bytes', '100']]));
  const big = { key: 'k', value: Buffer.alloc(200, 1) };
  const r = await produce(c, 'md', 0, buildRecordBatch({ records: [{ key: 'k', value: 'small' }, big], compression: 1 }), 9);
  t.equal(r.errorCode, ErrorCode.INVALID_RECORD);
  t.match(r.errorMessage, /exceeds the configured maximum record size 100/);
  t.equal((await produce(c, 'md', 0, buildRecordBatch({ records: [big] }), 9)).errorCode, 0, 'uncompressed batches are bounded by max.message.bytes only');
});

t.test('decompression bombs: bounded memory, MESSAGE_TOO_LARGE, and the broker keeps serving', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('bomb', 1, new Map([['cleanup.policy', 'compact']]));
  await tb.broker.context.createTopic('recompress', 1, new Map([['compression.type', 'lz4']]));
  await tb.broker.context.createTopic('other', 1);
  const other = await RawClient.connect(tb.port);
  t.teardown(() => other.close());
  for (const [codec, topic] of [[4, 'bomb'], [1, 'recompress']] as const) {
    const bomb = await bombBatch(codec, codec === 4 ? 1024 << 20 : 256 << 20); // one record with a 1 GiB / 256 MiB value
    t.ok(bomb.length < 1 << 20, `codec ${codec}: ${bomb.length} bytes on the wire`);
    (globalThis as any).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
    const pending = produce(c, topic, 0, bomb, 9);
    // Another connection is served while the bomb is being handled.
    const meanwhile = await produce(other, 'other', 0, batchOf(1), 9);
    const r = await pending;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    t.equal(meanwhile.errorCode, 0, 'the other connection was answered');
    t.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE, `codec ${codec}: rejected`);
    t.match(r.errorMessage, /decompress to more than 67108864 bytes/);
    t.ok(peak - before < 200 * 1024 * 1024, `codec ${codec}: RSS grew ${((peak - before) / 1048576).toFixed(0)} MiB (< 200)`);
    t.equal(tb.broker.context.storage.partition(topic, 0)!.logEndOffset, 0);
  }
});

/**
 * One LZ4 frame with 64 KiB blocks, as librdkafka and the Java client write them (lz4-napi picks larger
 * blocks for inputs over 1 MiB, whose header bound is loose): the blocks of one-chunk frames under one header.
 */
function lz4Frame64k(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let o = 0; o < data.length || o === 0; o += 65536) {
    const f = compress(3, data.subarray(o, o + 65536));
    if (f[4] !== 0x60 || f[5] !== 0x40) throw new Error('unexpected lz4-napi frame header');
    parts.push(o === 0 ? f.subarray(0, f.length - 4) : f.subarray(7, f.length - 4));
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

/**
 * A records section of exactly `bytes` bytes: `n` records with ~1000-byte values, half random and half zeros
 * (every codec about halves it), the last one's value sized to fit; `nullKeyLast` leaves its key out.
 */
function sectionOf(bytes: number, nullKeyLast = false): { section: Buffer; count: number } {
  const parts: Buffer[] = [];
  const record = (i: number, valueBytes: number, key: boolean): Buffer => {
    const value = crypto.randomBytes(valueBytes);
    value.fill(0, valueBytes >> 1);
    const body = Buffer.alloc(valueBytes + 32);
    let o = 1; // attributes 0
    o = writeVarint(body, o, i); // timestamp delta
    o = writeVarint(body, o, i);
    if (key) { o = writeVarint(body, o, 1); body[o++] = 0x6b; } else o = writeVarint(body, o, -1);
    o = writeVarint(body, o, valueBytes);
    o += value.copy(body, o);
    o = writeVarint(body, o, 0); // no headers
    const len = Buffer.alloc(5);
    return Buffer.concat([len.subarray(0, writeVarint(len, 0, o)), body.subarray(0, o)]);
  };
  let used = 0;
  while (bytes - used > 3000) { const r = record(parts.length, 1000, true); parts.push(r); used += r.length; }
  let v = bytes - used - 12;
  for (let tries = 0; tries < 5; tries++) {
    const r = record(parts.length, v, !nullKeyLast);
    if (used + r.length === bytes) return { section: Buffer.concat([...parts, r]), count: parts.length + 1 };
    v += bytes - used - r.length;
  }
  throw new Error(`no section of ${bytes} bytes`);
}

t.test('compressed batches just under and just over the synchronous decompression cap: same answers, same stored bytes', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('cap', 1, new Map([['cleanup.policy', 'compact']]));
  let next = 0;
  for (const codec of [1, 2, 3, 4]) {
    const cap = SYNC_DECOMPRESS_BYTES[codec]!;
    const answers: unknown[] = [];
    for (const [bytes, sync] of [[cap - 100, true], [cap + 100, false]] as const) {
      for (const nullKeyLast of [false, true]) {
        const { section, count } = sectionOf(bytes, nullKeyLast);
        const z = (codec === 3 ? lz4Frame64k : (b: Buffer) => compress(codec, b))(section);
        t.equal(decompressSmall(codec, z, cap) !== null, sync, `codec ${codec}, ${bytes} bytes: ${sync ? 'synchronous' : 'asynchronous'} path`);
        // The header's max timestamp is the base one (a client's lie): stored, it is the last record's.
        const batch = batchWithSection(z, { count, compression: codec });
        const r = await produce(c, 'cap', 0, Buffer.from(batch), 9);
        setMaxTimestamp(batch, 0, 0, parseBatchHeader(batch, 0).baseTimestamp + count - 1);
        answers.push([nullKeyLast, r.errorCode, r.errorMessage, r.recordErrors.map((e: any) => [e.batchIndex, e.batchIndexErrorMessage])]);
        if (nullKeyLast) {
          t.equal(r.errorCode, ErrorCode.INVALID_RECORD);
          t.same(r.recordErrors.map((e: any) => e.batchIndex), [count - 1]);
          continue;
        }
        t.equal(r.errorCode, 0, `codec ${codec}, ${bytes} bytes appended`);
        t.equal(r.baseOffset, BigInt(next));
        const f = await c.request(FETCH, 12, fetchRequest([{ topic: 'cap', partition: 0, offset: next, maxBytes: 4 << 20 }]));
        const stored = f.responses[0].partitions[0].records as Buffer;
        t.same(stored.subarray(16, batch.length), batch.subarray(16), `codec ${codec}, ${bytes} bytes: stored as sent (from the magic byte on)`);
        next += count;
      }
    }
    t.same(answers.slice(2).map((a: any) => a.slice(0, 2)), answers.slice(0, 2).map((a: any) => a.slice(0, 2)), `codec ${codec}: same answers both sides of the cap`);
    t.same((answers[3] as any)[3].map((e: any) => e[1]), (answers[1] as any)[3].map((e: any) => e[1]));
  }
});

t.test('a small compressed batch never overtakes a larger one of the same partition still being decompressed', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('order', 1, new Map([['max.message.bytes', String(8 << 20)]]));
  const send = (records: Buffer) => c.sendRaw(c.encodeRequest(PRODUCE, 9, makeProduceRequest({ acks: 1, timeoutMs: 1000, topicData: [{ name: 'order', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }] })));
  const expected: number[] = [];
  let offset = 0;
  for (const codec of [1, 2, 3, 4]) {
    const cap = SYNC_DECOMPRESS_BYTES[codec]!;
    const big = sectionOf(4 * cap);
    const small = sectionOf(1000);
    send(batchWithSection(compress(codec, big.section), { count: big.count, compression: codec }));
    send(batchWithSection(compress(codec, small.section), { count: small.count, compression: codec }));
    send(batchOf(2)); // uncompressed: synchronous too
    for (const n of [big.count, small.count, 2]) { expected.push(offset); offset += n; }
  }
  const got: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    const r = c.decodeResponse(PRODUCE, 9, await c.nextFrame()).responses[0].partitionResponses[0];
    t.equal(r.errorCode, 0);
    got.push(Number(r.baseOffset));
  }
  t.same(got, expected, 'appended in arrival order');
  t.equal(tb.broker.context.storage.partition('order', 0)!.logEndOffset, offset);
});
