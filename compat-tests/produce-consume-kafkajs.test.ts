// Unmodified kafkajs 2.2.4 producing to a gregor process. kafkajs can only consume through a consumer
// group, so what it writes is always read back by node-rdkafka (assign(), no group), and by kafkajs
// itself when gregor advertises JoinGroup (otherwise those subtests are skipped with the reason).
// snappy/lz4/zstd are registered through kafkajs's documented CompressionCodecs hook (support/clients.ts).
import t from 'tap';
import kafkajsPkg from 'kafkajs';
import { startGregor } from './support/gregor-process.ts';
import {
  CODECS, CODEC_ID, KAFKAJS_CODEC, kafkajs, kafkajsConsume, makeRecords, rdConnect, rdConsume, rdConsumer,
  rdDisconnect, rdWatermarks, storedBatches, tempDir, toKafkajsMessage, verifyConsumed, waitFor, type TestRecord,
} from './support/clients.ts';

const { Partitioners } = kafkajsPkg;
const PARTITIONS = 12;
const BROKER_MAX = 1536 * 1024; // broker message.max.bytes: a 1 MiB record fits, 2 MiB does not
const data = tempDir('gregor-compat-kjs-');
const g = await startGregor({ dataDir: data.dir, overrides: { 'num.partitions': String(PARTITIONS), 'message.max.bytes': String(BROKER_MAX) } });
t.teardown(async () => { await g.stop(); data.remove(); });
const kafka = kafkajs(g.bootstrap);
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
t.teardown(() => producer.disconnect());

/** Sends records in order, `chunk` per request, waiting for each acknowledgement. */
async function sendAll(topic: string, records: TestRecord[], opts: { acks?: number; compression?: number; chunk?: number; partition?: number } = {}) {
  const chunk = opts.chunk ?? 2000;
  const results = [];
  for (let i = 0; i < records.length; i += chunk) {
    results.push(...await producer.send({
      topic, acks: opts.acks ?? -1, compression: opts.compression,
      messages: records.slice(i, i + chunk).map((r) => toKafkajsMessage(r, opts.partition)),
    }));
  }
  return results;
}

const big: { records: TestRecord[] } = { records: [] };

t.test('kafkajs: 100,000 keyed records across 12 partitions, read back by node-rdkafka', async (t) => {
  const records = makeRecords(100_000, { source: 'kafkajs', keys: 1000 });
  const results = await sendAll('kjs-100k', records);
  t.ok(results.every((r) => r.errorCode === 0), 'every partition acknowledged');
  const consumed = await rdConsume(g.bootstrap, 'kjs-100k', records.length, { partitions: PARTITIONS });
  const v = verifyConsumed(records, consumed);
  t.same(v.problems, [], 'per-partition order, keys, values, headers, timestamps; each key in one partition');
  t.equal(v.perPartition.size, PARTITIONS, 'all 12 partitions used');
  // kafkajs's DefaultPartitioner (Java-compatible murmur2) chose each key's partition.
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
  const wrong = [...v.partitionOf].filter(([key, p]) => partitioner({ topic: 'kjs-100k', partitionMetadata, message: { key, value: null } }) !== p);
  t.same(wrong, [], 'key → partition as murmur2(key) % 12');
  big.records = records;
});

t.test('kafkajs → kafkajs: the 100,000 records read through a consumer group', async (t) => {
  const consumed = await kafkajsConsume(kafka, 'kjs-100k', big.records.length, { timeoutMs: 90000 });
  t.same(verifyConsumed(big.records, consumed).problems, []);
});

for (const codec of CODECS) {
  t.test(`kafkajs: compression ${codec} produce, node-rdkafka consume`, async (t) => {
    const topic = `kjs-codec-${codec}`;
    const records = makeRecords(2000, { source: 'kafkajs', keys: 50, valueBytes: 200 });
    await sendAll(topic, records, { compression: KAFKAJS_CODEC[codec], chunk: 500 });
    const batches = Array.from({ length: PARTITIONS }, (_, i) => storedBatches(data.dir, topic, i)).flat();
    t.ok(batches.length > 0 && batches.every((b) => b.codec === CODEC_ID[codec]), `every stored batch has codec ${codec} (${batches.length} batches)`);
    const consumed = await rdConsume(g.bootstrap, topic, records.length, { partitions: PARTITIONS });
    t.same(verifyConsumed(records, consumed).problems, []);
  });
}

t.test('kafkajs → kafkajs: every codec read back through a consumer group', async (t) => {
  for (const codec of CODECS) {
    const consumed = await kafkajsConsume(kafka, `kjs-codec-${codec}`, 2000);
    t.equal(consumed.length, 2000, `${codec}: 2000 records`);
  }
});

for (const acks of [0, 1, -1]) {
  t.test(`kafkajs: acks=${acks}`, async (t) => {
    const topic = `kjs-acks-${acks === -1 ? 'all' : acks}`;
    const records = makeRecords(3000, { source: 'kafkajs', keys: 100 });
    const results = await sendAll(topic, records, { acks, chunk: 500 });
    if (acks !== 0) t.ok(results.length > 0 && results.every((r) => r.errorCode === 0 && Number(r.baseOffset) >= 0), 'acknowledged with offsets');
    const c = rdConsumer(g.bootstrap);
    await rdConnect(c);
    t.teardown(() => rdDisconnect(c));
    await waitFor('high watermarks to reach the record count', async () => {
      let sum = 0;
      for (let i = 0; i < PARTITIONS; i++) sum += (await rdWatermarks(c, topic, i)).highOffset;
      return sum === records.length;
    });
    const consumed = await rdConsume(g.bootstrap, topic, records.length, { partitions: PARTITIONS });
    t.same(verifyConsumed(records, consumed).problems, []);
  });
}

t.test('kafkajs: a 1 MiB record is accepted; a 2 MiB one fails with MESSAGE_TOO_LARGE from the broker', async (t) => {
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  mib.write('one-mebibyte');
  const [ok] = await producer.send({ topic: 'kjs-large', messages: [{ key: 'big', value: mib, partition: 0 }] });
  t.equal(ok.errorCode, 0);
  t.equal(ok.baseOffset, '0');
  // kafkajs has no client-side size limit: the refusal can only come from the broker.
  const err: any = await producer.send({ topic: 'kjs-large', messages: [{ key: 'too-big', value: Buffer.alloc(2 * 1024 * 1024, 0x62), partition: 0 }] }).then(() => null, (e) => e);
  t.ok(err, 'send rejected');
  const protocolError = err?.type ? err : err?.cause;
  t.equal(protocolError?.name, 'KafkaJSProtocolError');
  t.equal(protocolError?.type, 'MESSAGE_TOO_LARGE');
  t.equal(protocolError?.code, 10);
  const [after] = await producer.send({ topic: 'kjs-large', messages: [{ key: 'small', value: 'small', partition: 0 }] });
  t.equal(after.baseOffset, '1', 'the rejected record took no offset');
  const consumed = await rdConsume(g.bootstrap, 'kjs-large', 2, { from: [{ partition: 0, offset: 0 }] });
  t.ok(consumed[0].value?.equals(mib), '1 MiB value intact (read by node-rdkafka)');
  t.equal(consumed[1].value?.toString(), 'small');
});

t.test('kafkajs: a batch read from its middle (node-rdkafka, and kafkajs with seek)', async (t) => {
  const records = makeRecords(10, { source: 'kafkajs', keys: 10 });
  await producer.send({ topic: 'kjs-midbatch', compression: KAFKAJS_CODEC.gzip, messages: records.map((r) => toKafkajsMessage(r, 0)) });
  t.same(storedBatches(data.dir, 'kjs-midbatch', 0).map((b) => [b.baseOffset, b.records, b.codec]), [[0, 10, 1]], 'one stored gzip batch of 10 records');
  const consumed = await rdConsume(g.bootstrap, 'kjs-midbatch', 4, { from: [{ partition: 0, offset: 6 }] });
  t.same(consumed.map((c) => c.offset), [6, 7, 8, 9], 'node-rdkafka starts at offset 6');
  t.same(consumed.map((c) => c.headers.seq), ['6', '7', '8', '9']);
  t.test('kafkajs consumer seeks into the batch', async (t) => {
    const got = await kafkajsConsume(kafka, 'kjs-midbatch', 4, { seek: [{ partition: 0, offset: 6 }] });
    t.same(got.map((c) => c.offset).filter((o) => o >= 6).slice(0, 4), [6, 7, 8, 9]);
  });
});

t.test('kafkajs admin: fetchTopicOffsetsByTimestamp, fetchTopicOffsets, deleteTopicRecords', async (t) => {
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const t0 = Date.now() - 3_600_000;
  const r0 = makeRecords(10, { source: 'kafkajs' }).map((r, i) => ({ ...r, timestamp: t0 + i * 1000 }));
  const r1 = makeRecords(10, { source: 'kafkajs' }).map((r, i) => ({ ...r, timestamp: t0 + 500 + i * 1000 }));
  await producer.send({ topic: 'kjs-times', messages: [...r0.map((r) => toKafkajsMessage(r, 0)), ...r1.map((r) => toKafkajsMessage(r, 1))] });
  const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp('kjs-times', ts)).sort((a, b) => a.partition - b.partition).slice(0, 3).map((o) => Number(o.offset));
  t.same(await at(t0 + 3500), [4, 3, 0], 'first offset with timestamp >= t0+3500 (kafkajs maps "none" to the high watermark: 0 for an empty partition)');
  t.same(await at(t0 - 1), [0, 0, 0]);
  t.same(await at(t0 + 60_000), [10, 10, 0], 'after everything: the high watermark');
  const offsets = async () => (await admin.fetchTopicOffsets('kjs-times')).sort((a, b) => a.partition - b.partition).slice(0, 3).map((o) => [Number(o.low), Number(o.high)]);
  t.same(await offsets(), [[0, 10], [0, 10], [0, 0]], 'earliest/latest per partition');
  await admin.deleteTopicRecords({ topic: 'kjs-times', partitions: [{ partition: 0, offset: '4' }] });
  t.same(await offsets(), [[4, 10], [0, 10], [0, 0]], 'earliest moves after DeleteRecords');
  t.same(await at(t0), [4, 0, 0], 'timestamp lookups skip deleted records');
});
