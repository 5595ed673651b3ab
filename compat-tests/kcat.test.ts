// kcat (Debian package; its own librdkafka) producing and consuming with every codec, and reading what
// kafkajs wrote. kcat -C without -G uses librdkafka's legacy consumer: no consumer group involved.
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import {
  CODECS, CODEC_ID, KAFKAJS_CODEC, kafkajs, kcat, kcatAvailable, makeRecords, storedBatches, tempDir, toKafkajsMessage,
  verifyConsumed, type Consumed,
} from './support/clients.ts';

const PARTITIONS = 12;
const skip = (await kcatAvailable()) ? false : 'kcat is not installed (/usr/bin/kcat; Debian package kcat)';
const data = tempDir('gregor-compat-kcat-');
const g = await startGregor({ dataDir: data.dir, overrides: { 'num.partitions': String(PARTITIONS) } });
t.teardown(async () => { await g.stop(); data.remove(); });
// librdkafka (kcat's too) only compresses with lz4 when FindCoordinator is advertised (its LZ4 probe).

/** kcat -J lines → normalised records ("headers" is [k1, v1, k2, v2, ...]). */
function parseJson(stdout: string): Consumed[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    const m = JSON.parse(l);
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < (m.headers ?? []).length; i += 2) headers[m.headers[i]] = m.headers[i + 1] ?? '';
    return { partition: m.partition, offset: m.offset, key: m.key, value: m.payload === null ? null : Buffer.from(m.payload), headers, timestamp: m.ts };
  });
}

for (const codec of CODECS) {
  t.test(`kcat -P -z ${codec} then kcat -C`, { skip }, async (t) => {
    const topic = `kcat-${codec}`;
    const lines = Array.from({ length: 500 }, (_, i) => `key-${i % 20}\tvalue-${i}-${'y'.repeat(100)}`);
    const p = await kcat(['-b', g.bootstrap, '-P', '-t', topic, '-p', '0', '-z', codec, '-K', '\t', '-H', 'source=kcat', '-X', 'linger.ms=50'], lines.join('\n') + '\n');
    t.equal(p.code, 0, `kcat -P exits 0 ${p.stderr}`);
    const batches = storedBatches(data.dir, topic, 0);
    const expected = CODEC_ID[codec]; // lz4 needs FindCoordinator advertised (librdkafka's LZ4 probe)
    t.ok(batches.length > 0 && batches.every((b) => b.codec === expected),
      `stored batches have codec ${expected}${expected !== CODEC_ID[codec] ? ' (librdkafka sends lz4 uncompressed until FindCoordinator is advertised)' : ''}: ${JSON.stringify(batches.map((b) => b.codec))}`);
    t.equal(batches.reduce((n, b) => n + b.records, 0), 500);
    const c = await kcat(['-b', g.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-J', '-q']);
    t.equal(c.code, 0, `kcat -C exits 0 ${c.stderr}`);
    const got = parseJson(c.stdout);
    t.same(got.map((m) => m.offset), lines.map((_, i) => i), 'offsets 0..499 in order');
    t.same(got.map((m) => `${m.key}\t${m.value}`), lines, 'keys and values');
    t.ok(got.every((m) => m.headers.source === 'kcat'), 'headers');
  });
}

t.test('kcat reads what kafkajs wrote (12 partitions, zstd, headers, timestamps)', { skip }, async (t) => {
  const records = makeRecords(3000, { source: 'kafkajs', keys: 100 });
  const producer = kafkajs(g.bootstrap).producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  for (let i = 0; i < records.length; i += 1000) {
    await producer.send({ topic: 'kcat-from-kafkajs', compression: KAFKAJS_CODEC.zstd, messages: records.slice(i, i + 1000).map((r) => toKafkajsMessage(r)) });
  }
  const c = await kcat(['-b', g.bootstrap, '-C', '-t', 'kcat-from-kafkajs', '-o', 'beginning', '-e', '-J', '-q']);
  t.equal(c.code, 0, `kcat -C exits 0 ${c.stderr}`);
  const v = verifyConsumed(records, parseJson(c.stdout));
  t.same(v.problems, [], 'per-partition order, keys, values, headers, timestamps');
  t.equal(v.perPartition.size, PARTITIONS);
});

t.test('kcat -C -o <offset> starts in the middle of a compressed batch', { skip }, async (t) => {
  const producer = kafkajs(g.bootstrap).producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic: 'kcat-mid', compression: KAFKAJS_CODEC.snappy, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })) });
  t.same(storedBatches(data.dir, 'kcat-mid', 0).map((b) => [b.records, b.codec]), [[10, 2]]);
  const c = await kcat(['-b', g.bootstrap, '-C', '-t', 'kcat-mid', '-p', '0', '-o', '7', '-e', '-J', '-q']);
  t.same(parseJson(c.stdout).map((m) => [m.offset, m.key]), [[7, 'k7'], [8, 'k8'], [9, 'k9']]);
});

t.test('kcat -C decompresses kafkajs batches in every codec (lz4 included)', { skip }, async (t) => {
  const producer = kafkajs(g.bootstrap).producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  for (const codec of CODECS) {
    const topic = `kcat-kjs-${codec}`;
    await producer.send({ topic, compression: KAFKAJS_CODEC[codec], messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `${codec}-${i}`.repeat(10), partition: 0 })) });
    t.same(storedBatches(data.dir, topic, 0).map((b) => b.codec), [CODEC_ID[codec]], `${codec}: one stored batch with that codec`);
    const c = await kcat(['-b', g.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-J', '-q']);
    t.same(parseJson(c.stdout).map((m) => `${m.key}=${m.value}`), Array.from({ length: 50 }, (_, i) => `k${i}=${`${codec}-${i}`.repeat(10)}`), `${codec}: kcat reads all 50`);
  }
});
