// KRaft metadata record codecs (protocol/generated/metadata/): every record type × version round-trips
// through its log form (frame version, record type, version, record), malformed frames are ProtocolErrors,
// and Kafka's own classes (kafka-metadata 4.4.0) read every sample and write back the same bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { javaSkip, runJavaCheck } from './testing/java-check.ts';
import {
  fetchKafkaMessages, fetchKafkaMetadataRecords, messagesDir, metadataRecordsDir,
} from '../scripts/fetch-kafka-messages.ts';
import { loadMetadataRecords } from '../scripts/codegen/metadata.ts';
import type { FieldModel, StructModel } from '../scripts/codegen/model.ts';
import { contains } from '../scripts/codegen/versions.ts';
import {
  METADATA_FRAME_VERSION, type MetadataRecord, MetadataRecordType, metadataRecords, readMetadataRecord, writeMetadataRecord,
} from './generated/metadata/index.ts';
import { makePartitionChangeRecord } from './generated/metadata/partition-change-record.ts';
import { makeTopicRecord, writeTopicRecord } from './generated/metadata/topic-record.ts';
import { ProtocolError } from './reader.ts';

const recordsDir = fs.existsSync(metadataRecordsDir()) ? metadataRecordsDir() : await fetchKafkaMetadataRecords();
const models = loadMetadataRecords(recordsDir);

/** Seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(rnd: () => number, s: StructModel, v: number): Record<string, unknown> {
  const int = (n: number) => Math.floor(rnd() * n);
  const prim = (p: string): unknown => {
    switch (p) {
      case 'bool': return rnd() < 0.5;
      case 'int8': return int(256) - 128;
      case 'int16': return int(65536) - 32768;
      case 'uint16': return int(65536);
      case 'int32': return int(2 ** 32) - 2 ** 31;
      case 'uint32': return int(2 ** 32);
      case 'int64': return BigInt.asIntN(64, (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32)));
      case 'float64': return rnd() * 1e9;
      case 'string': return ['', 'a', 'topic-1', 'é日😀', 'cleanup.policy'][int(5)];
      case 'uuid': { const b = Buffer.alloc(16); for (let i = 0; i < 16; i++) b[i] = int(256); return b.toString('base64url'); }
      case 'bytes': case 'records': { const b = Buffer.alloc(int(6)); for (let i = 0; i < b.length; i++) b[i] = int(256); return b; }
    }
    throw new Error(p);
  };
  const dflt = (f: FieldModel): unknown => {
    const d = f.default;
    if (d.kind === 'null') return null;
    if (d.kind !== 'empty') return d.value;
    if (f.type.kind === 'array') return [];
    if (f.type.kind === 'struct') return Object.fromEntries(f.type.struct.fields.map((x) => [x.name, dflt(x)]));
    return Buffer.alloc(0);
  };
  const m: Record<string, unknown> = {};
  for (const f of s.fields) {
    if (!contains(f.versions, v) || (contains(f.tagged, v) && rnd() < 0.3)) m[f.name] = dflt(f);
    else if (contains(f.nullable, v) && rnd() < 0.2) m[f.name] = null;
    else if (f.type.kind === 'prim') m[f.name] = prim(f.type.prim);
    else if (f.type.kind === 'struct') m[f.name] = randomValue(rnd, f.type.struct, v);
    else {
      const e = f.type.elem;
      m[f.name] = Array.from({ length: int(4) }, () => (e.kind === 'prim' ? prim(e.prim) : randomValue(rnd, e.struct, v)));
    }
  }
  return m;
}

/** `Name version hex` lines for Kafka's classes. */
const javaCases: string[] = [];

t.test('every metadata record type × version round-trips in its log form', async (t) => {
  t.equal(models.length, metadataRecords.filter((d) => d !== undefined).length, 'one descriptor per record JSON');
  for (const m of models) {
    const d = metadataRecords[m.apiKey!];
    t.equal(d?.name, m.name, `${m.name} at record type ${m.apiKey}`);
    if (!d) continue;
    for (let v = m.validVersions.lo; v <= m.validVersions.hi; v++) {
      for (let seed = 1; seed <= 5; seed++) {
        const value = randomValue(prng(seed * 7919 + v * 31 + m.apiKey! * 1009), m.root, v);
        const rec = { type: m.apiKey!, version: v, data: value } as MetadataRecord;
        const bytes = writeMetadataRecord(rec);
        t.same([...bytes.subarray(0, 3)], [METADATA_FRAME_VERSION, m.apiKey!, v], `${m.name} v${v}: frame prefix`);
        javaCases.push(`${m.name} ${v} ${bytes.toString('hex')}`);
        const back = readMetadataRecord(bytes);
        if (!isDeepStrictEqual(back, rec)) t.fail(`${m.name} v${v} seed ${seed}: decoded value differs`);
        if (!writeMetadataRecord(back).equals(bytes)) t.fail(`${m.name} v${v} seed ${seed}: re-encoded bytes differ`);
      }
    }
  }
});

t.test('MetadataRecordType names the apiKeys of Kafka\'s JSON', async (t) => {
  t.equal(MetadataRecordType.RegisterBroker, 0);
  t.equal(MetadataRecordType.Topic, 2);
  t.equal(MetadataRecordType.Partition, 3);
  t.equal(MetadataRecordType.Config, 4);
  t.equal(MetadataRecordType.PartitionChange, 5);
  t.equal(MetadataRecordType.RemoveTopic, 9);
  t.equal(MetadataRecordType.FeatureLevel, 12);
  t.equal(MetadataRecordType.ProducerIds, 15);
  t.equal(MetadataRecordType.BrokerRegistrationChange, 17);
  t.equal(makePartitionChangeRecord().leader, -2, 'PartitionChangeRecord.Leader defaults to -2 (no change)');
});

t.test('malformed frames are ProtocolErrors', async (t) => {
  const good = writeTopicRecord(0, makeTopicRecord({ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }));
  t.same(readMetadataRecord(good), { type: 2, version: 0, data: { name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' } });
  const frame0 = Buffer.from(good);
  frame0[0] = 0;
  t.throws(() => readMetadataRecord(frame0), ProtocolError, 'frame version 0 (control records only)');
  const unknownType = Buffer.from(good);
  unknownType[1] = 6;
  t.throws(() => readMetadataRecord(unknownType), ProtocolError, 'record type 6 is not defined');
  const badVersion = Buffer.from(good);
  badVersion[2] = 1;
  t.throws(() => readMetadataRecord(badVersion), ProtocolError, 'TopicRecord has no version 1');
  t.throws(() => readMetadataRecord(Buffer.concat([good, Buffer.from([0])])), ProtocolError, 'trailing bytes');
  t.throws(() => readMetadataRecord(good.subarray(0, good.length - 1)), ProtocolError, 'truncated');
  t.throws(() => readMetadataRecord(Buffer.alloc(0)), ProtocolError, 'empty');
});

// Kafka's generated classes read each sample after the 3-varint frame (whose record type must be the class's
// apiKey) and must write back exactly the same bytes (the record after the frame).
const READ_FRAMED = `
        ByteBuffer buf = ByteBuffer.wrap(in);
        ByteBufferAccessor acc = new ByteBufferAccessor(buf);
        int frame = acc.readUnsignedVarint(), type = acc.readUnsignedVarint(), ver = acc.readUnsignedVarint();
        int bodyStart = buf.position();
        Class<?> c = Class.forName("org.apache.kafka.common.metadata." + p[0]);
        ApiMessage m = (ApiMessage) c.getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class).newInstance(acc, v);
        if (frame != 1 || type != m.apiKey() || ver != v || buf.remaining() != 0) { bad.add(p[0] + " v" + v + ": frame " + frame + " type " + type + " left " + buf.remaining()); continue; }
        byte[] want = Arrays.copyOfRange(in, bodyStart, in.length);`;

const metadataJar = path.join(recordsDir, '..', '..', 'kafka-metadata-4.4.0.jar');
const clientsJar = path.join(fs.existsSync(messagesDir()) ? messagesDir() : await fetchKafkaMessages(), '..', '..', 'kafka-clients-4.4.0.jar');
t.test('Kafka 4.4.0 (Java) reads every sample and writes the same bytes', { skip: javaSkip([metadataJar, clientsJar], 'npm run gen fetches it') }, async (t) => {
  runJavaCheck(t, { jars: [metadataJar, clientsJar], cases: javaCases, read: READ_FRAMED, minCases: 100 });
});
