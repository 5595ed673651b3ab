// Round trips of the generated codecs: for every API × version × request/response (and the headers and
// `data` messages), random values valid for that version are encoded, decoded, compared and re-encoded
// (byte-identical). The random values are built from the same type model the generator uses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t, { type Test } from 'tap';
import { javaSkip, readWhole, runJavaCheck } from './testing/java-check.ts';
import { fetchKafkaMessages, messagesDir } from '../scripts/fetch-kafka-messages.ts';
import { type FieldModel, type MessageModel, type StructModel, loadModel } from '../scripts/codegen/model.ts';
import { contains } from '../scripts/codegen/versions.ts';
import { apis, apiByName, messages, removedApis, requestHeaderVersion, responseHeaderVersion } from './generated/index.ts';
import { apiNames, apiVersionRanges } from './generated/api-table.ts';
import { encodeApiVersionsRequest, decodeApiVersionsRequest, makeApiVersionsRequest } from './generated/api-versions.ts';
import { decodeFetchRequest, encodeFetchRequest, makeFetchRequest } from './generated/fetch.ts';
import { decodeMetadataRequest, encodeMetadataRequest, makeMetadataRequest, makeMetadataRequestTopic, makeMetadataResponse, encodeMetadataResponse } from './generated/metadata.ts';
import { decodeProduceRequest, encodeProduceRequest, makeProduceRequest } from './generated/produce.ts';
import { ErrorCode, errorName, errors } from './generated/errors.ts';
import { ProtocolError, Reader } from './reader.ts';
import { Writer } from './writer.ts';

const dir = fs.existsSync(messagesDir()) ? messagesDir() : await fetchKafkaMessages();
const model = loadModel(dir);

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

const STRING_ALPHABET = ['a', 'b', 'Z', '0', '-', '.', '_', ' ', 'é', 'ß', '日', '本', '😀', 'Ω', '\u0000'];

class Gen {
  readonly rnd: () => number;
  constructor(seed: number) {
    this.rnd = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  signed(bits: number): number {
    const edge = [0, -1, 1, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
    if (this.chance(0.3)) return edge[this.int(edge.length)]!;
    return this.int(2 ** bits) - 2 ** (bits - 1);
  }
  int64(): bigint {
    const edge = [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n];
    if (this.chance(0.3)) return edge[this.int(edge.length)]!;
    const hi = BigInt(this.int(2 ** 32));
    const lo = BigInt(this.int(2 ** 32));
    return BigInt.asIntN(64, (hi << 32n) | lo);
  }
  bytes(): Buffer {
    const n = this.chance(0.02) ? 4096 + this.int(2000) : this.int(9);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  string(): string {
    let s = '';
    const n = this.int(8);
    for (let i = 0; i < n; i++) s += STRING_ALPHABET[this.int(STRING_ALPHABET.length)];
    return s;
  }
  uuid(): string {
    const b = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) b[i] = this.int(256);
    return b.toString('base64url');
  }
}

function defaultValue(f: FieldModel): unknown {
  const d = f.default;
  switch (d.kind) {
    case 'null': return null;
    case 'number': case 'bigint': case 'bool': case 'string': case 'uuid': return d.value;
    case 'empty':
      if (f.type.kind === 'array') return [];
      if (f.type.kind === 'struct') return defaultStruct(f.type.struct);
      return Buffer.alloc(0);
  }
}

function defaultStruct(s: StructModel): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const f of s.fields) m[f.name] = defaultValue(f);
  return m;
}

function randomPrim(g: Gen, p: string): unknown {
  switch (p) {
    case 'bool': return g.chance(0.5);
    case 'int8': return g.signed(8);
    case 'int16': return g.signed(16);
    case 'uint16': return g.int(65536);
    case 'int32': return g.signed(32);
    case 'uint32': return g.int(2 ** 32);
    case 'int64': return g.int64();
    case 'float64': return g.chance(0.2) ? [0, -0, NaN, Infinity, -Infinity, Number.MAX_VALUE][g.int(6)] : (g.rnd() - 0.5) * 1e12;
    case 'string': return g.string();
    case 'uuid': return g.uuid();
    case 'bytes': case 'records': return g.bytes();
  }
  throw new Error(p);
}

function randomStruct(g: Gen, s: StructModel, v: number, depth: number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const f of s.fields) {
    if (!contains(f.versions, v)) {
      m[f.name] = defaultValue(f);
      continue;
    }
    if (contains(f.tagged, v) && g.chance(0.4)) {
      m[f.name] = defaultValue(f);
      continue;
    }
    if (contains(f.nullable, v) && g.chance(0.2)) {
      m[f.name] = null;
      continue;
    }
    const ty = f.type;
    if (ty.kind === 'prim') m[f.name] = randomPrim(g, ty.prim);
    else if (ty.kind === 'struct') m[f.name] = randomStruct(g, ty.struct, v, depth + 1);
    else {
      const n = g.int(depth < 2 ? 4 : 2);
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(ty.elem.kind === 'prim' ? randomPrim(g, ty.elem.prim) : randomStruct(g, ty.elem.struct, v, depth + 1));
      m[f.name] = a;
    }
  }
  return m;
}

interface Codec {
  encode(w: Writer, v: number, m: unknown): void;
  decode(r: Reader, v: number): unknown;
}

/** Encoded samples (Java class name, version, bytes) for the cross-check against Kafka's own codecs. */
const javaCases: string[] = [];

function roundTrip(codec: Codec, v: number, value: unknown, javaClass: string): string | null {
  const w = new Writer();
  codec.encode(w, v, value);
  const bytes = w.finishBuffer();
  javaCases.push(`${javaClass} ${v} ${bytes.toString('hex')}`);
  const r = new Reader(bytes);
  const decoded = codec.decode(r, v);
  if (r.remaining !== 0) return `${r.remaining} bytes left after decoding`;
  if (!isDeepStrictEqual(decoded, value)) return 'decoded value differs';
  const w2 = new Writer();
  codec.encode(w2, v, decoded);
  if (!w2.finishBuffer().equals(bytes)) return 're-encoded bytes differ';
  return null;
}

const SEEDS = [1, 2, 3, 4];

function checkMessage(t: Test, msg: MessageModel, codec: Codec, label: string): void {
  for (let v = msg.validVersions.lo; v <= msg.validVersions.hi; v++) {
    const failures: string[] = [];
    for (const seed of SEEDS) {
      const g = new Gen(seed * 7919 + v * 31 + (msg.apiKey ?? 0) * 1009 + (msg.type === 'response' ? 17 : 0));
      const value = randomStruct(g, msg.root, v, 0);
      let err: string | null;
      try {
        err = roundTrip(codec, v, value, msg.type === 'data' ? msg.name : `${msg.name}Data`);
      } catch (e) {
        err = `threw ${(e as Error).stack}`;
      }
      if (err) failures.push(`seed ${seed}: ${err}`);
    }
    t.same(failures, [], `${label} v${v}`);
  }
}

t.test('every API × version × request/response', async (t) => {
  t.equal(model.apis.length, apis.filter((a) => a !== undefined).length, 'one descriptor per API');
  for (const api of model.apis) {
    const d = apis[api.apiKey]!;
    t.equal(d.name, api.name);
    t.equal(d.minVersion, api.request.validVersions.lo);
    t.equal(d.maxVersion, api.request.validVersions.hi);
    checkMessage(t, api.request, { encode: d.encodeRequest, decode: d.decodeRequest }, `${api.name}Request`);
    checkMessage(t, api.response, { encode: d.encodeResponse, decode: d.decodeResponse }, `${api.name}Response`);
  }
});

t.test('headers and data messages', async (t) => {
  const byName = new Map(messages.map((m) => [m.name, m]));
  for (const msg of [model.requestHeader, model.responseHeader, ...model.data]) {
    const d = byName.get(msg.name);
    t.ok(d, `${msg.name} descriptor`);
    if (!d) continue;
    checkMessage(t, msg, d, msg.name);
  }
});

t.test('unknown tagged fields are skipped on decode and preserved on re-encode', async (t) => {
  const w = new Writer();
  encodeApiVersionsRequest(w, 3, makeApiVersionsRequest({ clientSoftwareName: 'x', clientSoftwareVersion: '1' }));
  const plain = w.finishBuffer();
  t.equal(plain.at(-1), 0, 'empty tagged section at the end');
  // Replace the empty tagged section by one unknown tag 9 with a 2-byte payload.
  const injected = Buffer.concat([plain.subarray(0, -1), Buffer.from([1, 9, 2, 0xab, 0xcd])]);
  const r = new Reader(injected);
  const m = decodeApiVersionsRequest(r, 3);
  t.equal(r.remaining, 0);
  t.equal(m.clientSoftwareName, 'x');
  t.equal(m.clientSoftwareVersion, '1');
  t.same(m._unknownTaggedFields, [{ tag: 9, data: Buffer.from([0xab, 0xcd]) }]);
  const w2 = new Writer();
  encodeApiVersionsRequest(w2, 3, m);
  t.same(w2.finishBuffer(), injected, 'byte-identical with the unknown tag');

  // Known tags and unknown ones merge in ascending tag order (FetchRequest v15: tags 0 and 1 known).
  const f = makeFetchRequest({ clusterId: 'c', _unknownTaggedFields: [{ tag: 2, data: Buffer.from([1]) }, { tag: 40, data: Buffer.alloc(0) }] });
  f.replicaState.replicaId = 5;
  const w3 = new Writer();
  encodeFetchRequest(w3, 15, f);
  const fb = w3.finishBuffer();
  const back = decodeFetchRequest(new Reader(fb), 15);
  t.same(back, f);
  const w4 = new Writer();
  encodeFetchRequest(w4, 15, back);
  t.same(w4.finishBuffer(), fb);
  // The tagged section: count 4, tag 0 (clusterId), tag 1 (replicaState), tag 2, tag 40.
  const tail = fb.subarray(fb.length - 20);
  t.ok(tail.includes(Buffer.from([2, 1, 1, 40, 0])), 'unknown tags after the known ones, in order');

  // A nested flexible struct (MetadataRequestTopic) with an unknown tag.
  const mr = makeMetadataRequest({ topics: [makeMetadataRequestTopic({ name: 't', _unknownTaggedFields: [{ tag: 3, data: Buffer.from('zz') }] })] });
  const w5 = new Writer();
  encodeMetadataRequest(w5, 12, mr);
  const mb = w5.finishBuffer();
  const md = decodeMetadataRequest(new Reader(mb), 12);
  t.same(md.topics![0]!._unknownTaggedFields, [{ tag: 3, data: Buffer.from('zz') }]);
});

t.test('a known tag in a version where it is not tagged is malformed', async (t) => {
  const w = new Writer();
  encodeFetchRequest(w, 12, makeFetchRequest());
  const b = w.finishBuffer();
  t.equal(b.at(-1), 0);
  // FetchRequest.ReplicaState (tag 1) exists from v15 only.
  const bad = Buffer.concat([b.subarray(0, -1), Buffer.from([1, 1, 1, 0])]);
  t.throws(() => decodeFetchRequest(new Reader(bad), 12), ProtocolError);
  // Tagged payload sizes must match what the field consumes.
  const w2 = new Writer();
  encodeFetchRequest(w2, 15, makeFetchRequest());
  const b2 = w2.finishBuffer();
  const bad2 = Buffer.concat([b2.subarray(0, -1), Buffer.from([1, 0, 3, 2, 0x61, 0x62])]); // clusterId "a" + 1 extra byte
  t.throws(() => decodeFetchRequest(new Reader(bad2), 15), ProtocolError);
});

t.test('version rules on encode: non-ignorable absent fields, nulls, ranges', async (t) => {
  // MetadataRequest.AllowAutoTopicCreation (v4+, not ignorable): default true is fine in v3, false is not.
  const w = new Writer();
  encodeMetadataRequest(w, 3, makeMetadataRequest({ allowAutoTopicCreation: true }));
  t.throws(() => encodeMetadataRequest(new Writer(), 3, makeMetadataRequest({ allowAutoTopicCreation: false })), /allowAutoTopicCreation/);
  // Ignorable fields are dropped silently: MetadataResponse.ThrottleTimeMs (v3+, ignorable).
  const w2 = new Writer();
  encodeMetadataResponse(w2, 2, makeMetadataResponse({ throttleTimeMs: 100 }));
  t.ok(w2.byteLength > 0);
  // Null into a non-nullable field (Topics is nullable from v1 only).
  t.throws(() => encodeMetadataRequest(new Writer(), 0, makeMetadataRequest({ topics: null })), /null/);
  t.doesNotThrow(() => encodeMetadataRequest(new Writer(), 1, makeMetadataRequest({ topics: null })));
  t.throws(() => encodeMetadataRequest(new Writer(), 14, makeMetadataRequest()), /unsupported version/);
  t.throws(() => decodeMetadataRequest(new Reader(Buffer.alloc(8)), 99), ProtocolError);
  // Errors from encode are plain Errors (caller bugs), not ProtocolErrors.
  try {
    encodeMetadataRequest(new Writer(), 3, makeMetadataRequest({ allowAutoTopicCreation: false }));
  } catch (e) {
    t.notOk(e instanceof ProtocolError);
  }
});

t.test('records are decoded as views into the request', async (t) => {
  const records = Buffer.alloc(6000, 0x5a);
  const req = makeProduceRequest({
    acks: -1,
    topicData: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }],
  });
  for (const v of [3, 9, 13]) {
    const w = new Writer();
    encodeProduceRequest(w, v, req);
    t.ok(w.finish().includes(records), `v${v}: encoder references the records buffer`);
    const input = w.finishBuffer();
    const back = decodeProduceRequest(new Reader(input), v);
    const got = back.topicData[0]!.partitionData[0]!.records!;
    t.equal(got.buffer, input.buffer, `v${v}: decoded records share the input's memory`);
    t.same(got, records);
  }
});

t.test('header versions and descriptor table', async (t) => {
  t.equal(requestHeaderVersion(18, 2), 1);
  t.equal(requestHeaderVersion(18, 3), 2);
  t.equal(responseHeaderVersion(18, 3), 0, 'ApiVersions responses always use header v0');
  t.equal(responseHeaderVersion(18, 0), 0);
  t.equal(requestHeaderVersion(3, 8), 1);
  t.equal(requestHeaderVersion(3, 9), 2);
  t.equal(responseHeaderVersion(3, 9), 1);
  t.equal(responseHeaderVersion(3, 8), 0);
  t.throws(() => requestHeaderVersion(7, 0), ProtocolError, 'ControlledShutdown is gone in 4.x');
  t.equal(apiByName.get('Metadata'), apis[3]);
  t.equal(apis[18]!.name, 'ApiVersions');
  for (const [i, a] of apis.entries()) if (a) t.equal(a.apiKey, i);
});

t.test('api-table.ts (no codec imports) agrees with the descriptors', async (t) => {
  const expected: Array<string | undefined> = apis.map((a) => a?.name);
  for (const r of removedApis) expected[r.apiKey] = r.name;
  t.same(apiNames, expected);
  t.same(apiVersionRanges, apis.map((a) => a && { minVersion: a.minVersion, maxVersion: a.maxVersion, latestVersionUnstable: a.latestVersionUnstable }));
  t.notMatch(fs.readFileSync(new URL('./generated/api-table.ts', import.meta.url), 'utf8'), /^import /m, 'imports nothing');
});

t.test('error table', async (t) => {
  t.equal(ErrorCode.NONE, 0);
  t.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
  t.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  t.equal(errorName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
  t.equal(errors.get(3)!.retriable, true);
  t.equal(errorName(9999), 'UNKNOWN_ERROR_CODE_9999');
});

// Kafka's generated Java classes (kafka-clients 4.4.0, the jar fetch-kafka-messages.ts keeps in the
// cache) parse every sample above and must write back exactly the same bytes. Skipped without Java 17+.
const jar = path.join(dir, '..', '..', 'kafka-clients-4.4.0.jar');
t.test('encodings match Kafka 4.4.0 (Java) byte for byte', { skip: javaSkip([jar], 'npm run gen fetches it') }, async (t) => {
  runJavaCheck(t, { jars: [jar], cases: javaCases, read: readWhole('org.apache.kafka.common.message.'), minCases: 1000 });
});
