// Unmodified node-rdkafka 3.6.1 (librdkafka 2.12.0) producing to and consuming from a gregor process;
// what it writes is also read back by kafkajs (which needs the consumer-group APIs; skipped with the
// reason while gregor does not advertise JoinGroup).
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import {
  CODECS, CODEC_ID, RdProducer, kafkajs, kafkajsConsume, makeRecords, rdConnect, rdConsume,
  rdConsumer, rdDisconnect, rdOffsetsForTimes, rdProduceAll, rdWatermarks, storedBatches, tempDir, verifyConsumed, waitFor, type TestRecord,
} from './support/clients.ts';

const PARTITIONS = 12;
const BROKER_MAX = 1536 * 1024; // broker message.max.bytes: a 1 MiB record fits, 2 MiB does not
const data = tempDir('gregor-compat-rd-');
const g = await startGregor({ dataDir: data.dir, overrides: { 'num.partitions': String(PARTITIONS), 'message.max.bytes': String(BROKER_MAX) } });
t.teardown(async () => { await g.stop(); data.remove(); });
// librdkafka uses FindCoordinator (key 10) as its proxy for "broker supports LZ4" (rdkafka_feature.c);
// without it, it logs "Broker does not support compression type lz4: not compressing batch".
const kafka = kafkajs(g.bootstrap, 'compat-kafkajs-reader');

const big: { records: TestRecord[]; reports: Array<{ partition: number; offset: number }> } = { records: [], reports: [] };

t.test('node-rdkafka: 100,000 keyed records across 12 partitions, read back with assign()', async (t) => {
  const records = makeRecords(100_000, { source: 'rdkafka', keys: 1000 });
  const p = await new RdProducer(g.bootstrap).connect();
  t.teardown(() => p.disconnect());
  const reports = await rdProduceAll(p, 'rd-100k', records);
  t.equal(reports.filter((r) => r.err).length, 0, 'every delivery report is a success');
  const consumed = await rdConsume(g.bootstrap, 'rd-100k', records.length, { partitions: PARTITIONS });
  const v = verifyConsumed(records, consumed);
  t.same(v.problems, [], 'per-partition order, keys, values, headers, timestamps; each key in one partition');
  t.equal(v.perPartition.size, PARTITIONS, 'all 12 partitions used');
  // The delivery reports' (partition, offset) are where the consumer found each record.
  const at = new Map(consumed.map((c) => [Number(c.headers.seq), c]));
  const mismatched = reports.filter((r, i) => at.get(i)?.partition !== r.partition || at.get(i)?.offset !== r.offset).length;
  t.equal(mismatched, 0, 'delivery report partition/offset = consumed partition/offset');
  big.records = records;
  big.reports = reports;
});

t.test('node-rdkafka → kafkajs: the 100,000 records read through a consumer group', async (t) => {
  const consumed = await kafkajsConsume(kafka, 'rd-100k', big.records.length, { timeoutMs: 90000 });
  t.same(verifyConsumed(big.records, consumed).problems, []);
});

for (const codec of CODECS) {
  t.test(`node-rdkafka: compression.codec=${codec} produce and consume`, async (t) => {
    const topic = `rd-codec-${codec}`;
    const records = makeRecords(2000, { source: 'rdkafka', keys: 50, valueBytes: 200 });
    const p = await new RdProducer(g.bootstrap, { 'compression.codec': codec, 'linger.ms': 20 }).connect();
    t.teardown(() => p.disconnect());
    const reports = await rdProduceAll(p, topic, records);
    t.equal(reports.filter((r) => r.err).length, 0, 'all delivered');
    const batches = Array.from({ length: PARTITIONS }, (_, i) => storedBatches(data.dir, topic, i)).flat();
    // (librdkafka uses lz4 only when FindCoordinator is advertised — its LZ4 feature probe — so this also
    // guards that FindCoordinator stays advertised.)
    t.ok(batches.length > 0 && batches.every((b) => b.codec === CODEC_ID[codec]), `every stored batch has codec ${codec} (${batches.length} batches)`);
    t.ok(batches.some((b) => b.records > 1), 'batches hold several records');
    const consumed = await rdConsume(g.bootstrap, topic, records.length, { partitions: PARTITIONS });
    t.same(verifyConsumed(records, consumed).problems, []);
  });
}

t.test('node-rdkafka → kafkajs: every codec read back', async (t) => {
  for (const codec of CODECS) {
    const consumed = await kafkajsConsume(kafka, `rd-codec-${codec}`, 2000);
    t.equal(consumed.length, 2000, `${codec}: 2000 records`);
    t.same(new Set(consumed.map((c) => c.headers.source)), new Set(['rdkafka']));
  }
});

for (const acks of [0, 1, -1]) {
  t.test(`node-rdkafka: request.required.acks=${acks}`, async (t) => {
    const topic = `rd-acks-${acks === -1 ? 'all' : acks}`;
    const records = makeRecords(3000, { source: 'rdkafka', keys: 100 });
    const p = await new RdProducer(g.bootstrap, { 'request.required.acks': acks }).connect();
    t.teardown(() => p.disconnect());
    const reports = await rdProduceAll(p, topic, records);
    t.equal(reports.filter((r) => r.err).length, 0, 'no delivery errors');
    if (acks !== 0) t.ok(reports.every((r) => r.offset >= 0), 'acknowledged with offsets');
    // acks=0 gets no response: wait for the high watermarks to cover every record.
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

t.test('node-rdkafka: a 1 MiB record is accepted; a 2 MiB one gets MSG_SIZE_TOO_LARGE from the broker', async (t) => {
  // The client's own limit (message.max.bytes) is raised above the broker's, so only the broker can refuse.
  const p = await new RdProducer(g.bootstrap, { 'message.max.bytes': 8 * 1024 * 1024, 'linger.ms': 0 }).connect();
  t.teardown(() => p.disconnect());
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  mib.write('one-mebibyte');
  const ok = await p.produce('rd-large', 0, mib, 'big', undefined, [{ size: '1MiB' }]);
  t.equal(ok.err, null, '1 MiB record delivered');
  t.equal(ok.offset, 0);
  const tooBig = Buffer.alloc(2 * 1024 * 1024, 0x62);
  let queued: Promise<any> | null = null;
  t.doesNotThrow(() => { queued = p.produce('rd-large', 0, tooBig, 'too-big'); }, 'the client accepts it locally');
  const rejected = await queued!;
  t.ok(rejected.err, 'delivery report carries an error');
  // node-rdkafka's delivery-report errors carry librdkafka's message and origin (code is -1 there).
  t.equal(rejected.err?.origin, 'broker', 'the error comes from the broker, not a local check');
  t.match(rejected.err?.message ?? '', /message size too large/i, 'Broker: Message size too large (MESSAGE_TOO_LARGE, 10)');
  const after = await p.produce('rd-large', 0, Buffer.from('small'), 'small');
  t.equal(after.offset, 1, 'the rejected record took no offset');
  const consumed = await rdConsume(g.bootstrap, 'rd-large', 2, { from: [{ partition: 0, offset: 0 }] });
  t.equal(consumed[0].value?.length, mib.length);
  t.ok(consumed[0].value?.equals(mib), '1 MiB value intact');
  t.equal(consumed[1].value?.toString(), 'small');
});

t.test('node-rdkafka: consume from an offset in the middle of a batch', async (t) => {
  const p = await new RdProducer(g.bootstrap, { 'linger.ms': 200, 'compression.codec': 'zstd' }).connect();
  t.teardown(() => p.disconnect());
  const records = makeRecords(10, { source: 'rdkafka', keys: 10 });
  await rdProduceAll(p, 'rd-midbatch', records, 0);
  const batches = storedBatches(data.dir, 'rd-midbatch', 0);
  t.same(batches.map((b) => [b.baseOffset, b.records, b.codec]), [[0, 10, 4]], 'one stored zstd batch of 10 records');
  const consumed = await rdConsume(g.bootstrap, 'rd-midbatch', 4, { from: [{ partition: 0, offset: 6 }] });
  t.same(consumed.map((c) => c.offset), [6, 7, 8, 9], 'starts at offset 6, not at the batch start');
  t.same(consumed.map((c) => c.headers.seq), ['6', '7', '8', '9']);
});

t.test('kafkajs reads node-rdkafka\'s batch from its middle', async (t) => {
  const consumed = await kafkajsConsume(kafka, 'rd-midbatch', 4, { seek: [{ partition: 0, offset: 6 }] });
  t.same(consumed.map((c) => c.offset).filter((o) => o >= 6).slice(0, 4), [6, 7, 8, 9]);
  t.ok(consumed.every((c) => c.offset >= 6) || consumed.length >= 10, 'seek honoured (or the whole partition if seek raced the first fetch)');
});

t.test('node-rdkafka: offsetsForTimes and queryWatermarkOffsets', async (t) => {
  const p = await new RdProducer(g.bootstrap).connect();
  t.teardown(() => p.disconnect());
  const t0 = Date.now() - 3_600_000;
  // partition 0: t0, t0+1000, ..., t0+9000; partition 1: t0+500, t0+1500, ...
  const r0 = makeRecords(10, { source: 'rdkafka' }).map((r, i) => ({ ...r, timestamp: t0 + i * 1000 }));
  const r1 = makeRecords(10, { source: 'rdkafka' }).map((r, i) => ({ ...r, timestamp: t0 + 500 + i * 1000 }));
  await rdProduceAll(p, 'rd-times', r0, 0);
  await rdProduceAll(p, 'rd-times', r1, 1);
  const c = rdConsumer(g.bootstrap);
  await rdConnect(c);
  t.teardown(() => rdDisconnect(c));
  const q = (ts: number) => rdOffsetsForTimes(c, [0, 1, 2].map((partition) => ({ topic: 'rd-times', partition, offset: ts })));
  t.same((await q(t0 + 3500)).map((o) => [o.partition, o.offset]), [[0, 4], [1, 3], [2, -1]], 'first offset with timestamp >= t0+3500; -1 for an empty partition');
  t.same((await q(t0 - 1)).map((o) => o.offset), [0, 0, -1], 'before everything: offset 0');
  t.same((await q(t0 + 60_000)).map((o) => o.offset), [-1, -1, -1], 'after everything: -1 (end)');
  t.same(await rdWatermarks(c, 'rd-times', 0), { lowOffset: 0, highOffset: 10 });
  t.same(await rdWatermarks(c, 'rd-times', 2), { lowOffset: 0, highOffset: 0 });
});
