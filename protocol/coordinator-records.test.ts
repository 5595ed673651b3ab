// Round trips of the generated coordinator record codecs (protocol/generated/coordinator/): for every
// key and value × version, random values valid for that version are encoded, decoded, compared and
// re-encoded byte-identically, also in their log form (int16 record type / version + body). When a Java
// 17+ runtime and Kafka 4.4.0's coordinator jars are in the cache, Kafka's own generated classes re-read
// every sample and must write the same bytes.
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { javaSkip, readWhole, runJavaCheck } from './testing/java-check.ts';
import { loadCoordinatorRecords } from '../scripts/codegen/coordinator.ts';
import { DEFAULT_COORDINATOR_RECORDS, REPO_ROOT } from '../scripts/codegen/main.ts';
import type { FieldModel, StructModel } from '../scripts/codegen/model.ts';
import { contains } from '../scripts/codegen/versions.ts';
import { type CoordinatorMessageDescriptor, groupCoordinatorRecords, transactionCoordinatorRecords } from './generated/coordinator/index.ts';
import { makeConsumerGroupMemberMetadataValue, writeConsumerGroupMemberMetadataValueRecord } from './generated/coordinator/consumer-group-member-metadata-value.ts';
import { readOffsetCommitKeyRecord, writeOffsetCommitKeyRecord } from './generated/coordinator/offset-commit-key.ts';
import { readTransactionLogValueRecord, writeTransactionLogValueRecord, makeTransactionLogValue } from './generated/coordinator/transaction-log-value.ts';
import { ProtocolError, Reader } from './reader.ts';
import { Writer } from './writer.ts';

const models = loadCoordinatorRecords(DEFAULT_COORDINATOR_RECORDS);
const tables: Record<string, ReadonlyArray<{ recordType: number; name: string; key: CoordinatorMessageDescriptor<any>; value: CoordinatorMessageDescriptor<any> } | undefined>> = {
  'group-coordinator': groupCoordinatorRecords,
  'transaction-coordinator': transactionCoordinatorRecords,
};
const JAVA_PACKAGE: Record<string, string> = {
  'group-coordinator': 'org.apache.kafka.coordinator.group.generated',
  'transaction-coordinator': 'org.apache.kafka.coordinator.transaction.generated',
};

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

const ALPHABET = ['a', 'Z', '0', '-', '.', ' ', 'é', '日', '😀', '\u0000'];

function randomValue(rnd: () => number, s: StructModel, v: number, depth: number): Record<string, unknown> {
  const int = (n: number) => Math.floor(rnd() * n);
  const signed = (bits: number) => (rnd() < 0.3 ? [0, -1, 1, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1][int(5)]! : int(2 ** bits) - 2 ** (bits - 1));
  const prim = (p: string): unknown => {
    switch (p) {
      case 'bool': return rnd() < 0.5;
      case 'int8': return signed(8);
      case 'int16': return signed(16);
      case 'int32': return signed(32);
      case 'int64': return rnd() < 0.3 ? [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)][int(4)]! : BigInt.asIntN(64, (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32)));
      case 'string': { let x = ''; for (let i = int(8); i > 0; i--) x += ALPHABET[int(ALPHABET.length)]; return x; }
      case 'uuid': return Buffer.from(Array.from({ length: 16 }, () => int(256))).toString('base64url');
      case 'bytes': return Buffer.from(Array.from({ length: rnd() < 0.05 ? 300 : int(9) }, () => int(256)));
    }
    throw new Error(`type ${p} not used by coordinator records`);
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
    const ty = f.type;
    if (!contains(f.versions, v) || (contains(f.tagged, v) && rnd() < 0.4)) m[f.name] = dflt(f);
    else if (contains(f.nullable, v) && rnd() < 0.2) m[f.name] = null;
    else if (ty.kind === 'prim') m[f.name] = prim(ty.prim);
    else if (ty.kind === 'struct') m[f.name] = randomValue(rnd, ty.struct, v, depth + 1);
    else m[f.name] = Array.from({ length: int(depth < 2 ? 4 : 2) }, () => (ty.elem.kind === 'prim' ? prim(ty.elem.prim) : randomValue(rnd, ty.elem.struct, v, depth + 1)));
  }
  return m;
}

/** Samples for the Java cross-check: Java class, version, body bytes. */
const javaCases: string[] = [];

t.test('every coordinator key and value × version round-trips, also in log form', async (t) => {
  t.same(models.map((m) => m.coordinator), Object.keys(tables));
  for (const model of models) {
    const table = tables[model.coordinator]!;
    t.equal(table.filter((x) => x !== undefined).length, model.records.length, `${model.coordinator}: one table entry per record type`);
    for (const rec of model.records) {
      const entry = table[rec.recordType]!;
      t.equal(entry.recordType, rec.recordType);
      t.equal(entry.name, rec.name);
      for (const [msg, d] of [[rec.key, entry.key], [rec.value, entry.value]] as const) {
        t.equal(d.name, msg.name);
        t.equal(d.recordType, rec.recordType);
        const failures: string[] = [];
        for (let v = msg.validVersions.lo; v <= msg.validVersions.hi; v++) {
          for (const seed of [1, 2, 3, 4, 5, 6]) {
            const value = randomValue(prng(seed * 7919 + v * 31 + rec.recordType * 1009 + (msg === rec.key ? 0 : 17)), msg.root, v, 0);
            try {
              const w = new Writer();
              d.encode(w, v, value);
              const bytes = w.finishBuffer();
              javaCases.push(`${JAVA_PACKAGE[model.coordinator]}.${msg.name} ${v} ${bytes.toString('hex')}`);
              const r = new Reader(bytes);
              const back = d.decode(r, v);
              if (r.remaining !== 0 || !isDeepStrictEqual(back, value)) failures.push(`v${v} seed ${seed}: decoded value differs`);
              const w2 = new Writer();
              d.encode(w2, v, back);
              if (!w2.finishBuffer().equals(bytes)) failures.push(`v${v} seed ${seed}: re-encoded bytes differ`);
              // Log form: the int16 prefix is the record type for keys, the version for values.
              const logged = Buffer.concat([Buffer.from([0, msg === rec.key ? rec.recordType : v]), bytes]);
              if (!isDeepStrictEqual(d.read(logged), value)) failures.push(`v${v} seed ${seed}: read() differs`);
            } catch (e) {
              failures.push(`v${v} seed ${seed}: threw ${(e as Error).stack}`);
            }
          }
        }
        t.same(failures, [], `${model.coordinator} ${msg.name}`);
      }
    }
  }
});

t.test('log framing: record type before keys, version before values', async (t) => {
  const key = writeOffsetCommitKeyRecord({ group: 'g', topic: 't', partition: 3 });
  t.equal(key.toString('hex'), '0001' + '000167' + '000174' + '00000003');
  t.same(readOffsetCommitKeyRecord(key), { group: 'g', topic: 't', partition: 3 });
  const wrongType = Buffer.from(key);
  wrongType.writeInt16BE(2, 0);
  t.throws(() => readOffsetCommitKeyRecord(wrongType), ProtocolError);
  t.throws(() => readOffsetCommitKeyRecord(Buffer.from([0])), ProtocolError, 'short input');

  // Tagged fields of TransactionLogValue exist from v1 only; v0 rejects them, v1 writes them.
  const v = makeTransactionLogValue({ producerId: 5n, previousProducerId: 4n, transactionPartitions: null });
  t.throws(() => writeTransactionLogValueRecord(0, v), /previousProducerId/);
  const v1 = writeTransactionLogValueRecord(1, v);
  t.equal(v1.readInt16BE(0), 1);
  t.same(readTransactionLogValueRecord(v1), v);
  const v2 = Buffer.from(v1);
  v2.writeInt16BE(2, 0);
  t.throws(() => readTransactionLogValueRecord(v2), ProtocolError, 'version outside validVersions');

  // A nullable struct in a tagged field (ClassicMemberMetadata, tag 0): omitted when null.
  const none = writeConsumerGroupMemberMetadataValueRecord(0, makeConsumerGroupMemberMetadataValue({ instanceId: null, rackId: null, subscribedTopicRegex: null, serverAssignor: null }));
  t.equal(none.at(-1), 0, 'empty tagged section');
  // `"default": null` (a JSON null) is no default for Kafka's generator: the struct defaults to its
  // all-default members and is omitted then; an explicit null is written (tag 0, size 1, marker 0).
  t.same(makeConsumerGroupMemberMetadataValue().classicMemberMetadata, { sessionTimeoutMs: 0, supportedProtocols: [] });
  const nul = writeConsumerGroupMemberMetadataValueRecord(0, makeConsumerGroupMemberMetadataValue({ classicMemberMetadata: null }));
  t.equal(nul.subarray(-4).toString('hex'), '01000100');
});

const libs = path.join(REPO_ROOT, '.cache', 'kafka', '4.4.0', 'tools-libs');
const jars = ['kafka-clients', 'kafka-group-coordinator', 'kafka-transaction-coordinator'].map((j) => path.join(libs, `${j}-4.4.0.jar`));
t.test('encodings match Kafka 4.4.0 (Java) byte for byte', { skip: javaSkip(jars, 'scripts/kafka-ref.ts fetches it') }, async (t) => {
  runJavaCheck(t, { jars, cases: javaCases, read: readWhole(''), minCases: 100 });
});
