// Structurally valid requests with semi-random field values, for any API and version.
//
// The generated decoders already know every field's type, nullability and version range, so instead
// of a second schema walker we run a decoder over a reader that invents each value it is asked for
// (GenReader): the result is a request object of exactly the right shape, which the generated encoder
// then writes. Strings come from a small pool (edge cases plus a few names that exist), so a run
// touches the same topics and groups again instead of creating unbounded state.
import { apis, requestHeaderVersion } from '../../protocol/generated/index.ts';
import { encodeRequestHeader } from '../../protocol/generated/request-header.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import { ProtocolError, Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import type { Rng } from './rng.ts';

export const TOPIC_POOL = ['fuzz-a', 'fuzz-b', 'fuzz-c'];
const STRINGS = [
  ...TOPIC_POOL, '', ' ', '.', '..', 'a'.repeat(249), 'b'.repeat(250), 'fuzz/x', 'fuzz\u00e9\u{1F600}', '__consumer_offsets', '__transaction_state',
  'fuzz-group', 'fuzz-txn', 'consumer', 'range', 'uniform', 'roundrobin', 'retention.ms', 'cleanup.policy', 'compact', 'delete',
  'compression.type', 'max.message.bytes', 'segment.bytes', '-1', '0', '1', '9999999999999', 'x'.repeat(1000), '.*', '(', '0', 'fuzz-.*',
];
const INT32 = [0, 1, -1, 2, 3, 100, 1000, 30000, 0x7fffffff, -0x80000000, 0x7ffffffe];
const INT16 = [0, 1, -1, 2, 3, 0x7fff, -0x8000];
const INT64 = [0n, 1n, -1n, -2n, 100n, 0x7fffffffffffffffn, -0x8000000000000000n, 1_700_000_000_000n];

/** A Reader whose every read invents a value; decoders run on it build a random well-shaped request. */
class GenReader extends Reader {
  #rng: Rng;
  /** Array elements left to hand out, so nested arrays stay small. */
  #budget: number;
  #allowNull: boolean;

  constructor(rng: Rng, allowNull: boolean) {
    super(Buffer.alloc(0));
    this.#rng = rng;
    this.#budget = rng.chance(0.1) ? 400 : 24;
    this.#allowNull = allowNull;
  }

  override get remaining(): number { return 1 << 20; }
  override skip(): void {}
  override int8(): number { return this.#rng.pick([0, 1, -1, 2, 3, 127, -128]); }
  override bool(): boolean { return this.#rng.chance(0.5); }
  override int16(): number { return this.#rng.chance(0.7) ? this.#rng.pick(INT16) : this.#rng.range(-5, 50); }
  override uint16(): number { return this.#rng.pick([0, 1, 65535, 9092]); }
  override int32(): number { return this.#rng.chance(0.6) ? this.#rng.pick(INT32) : this.#rng.range(-5, 50); }
  override uint32(): number { return this.#rng.pick([0, 1, 0xffffffff]); }
  override int64(): bigint { return this.#rng.chance(0.7) ? this.#rng.pick(INT64) : BigInt(this.#rng.range(-5, 1000)); }
  override float64(): number { return this.#rng.pick([0, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]); }
  override uuid(): string { return this.#rng.chance(0.5) ? 'AAAAAAAAAAAAAAAAAAAAAA' : this.#rng.bytes(16).toString('base64url'); }
  // Only tagged-field counts/tags/sizes are uvarints in the decoders: no tagged fields.
  override uvarint(): number { return 0; }
  override varint(): number { return 0; }
  override varlong(): bigint { return 0n; }
  #str(): string { return this.#rng.chance(0.9) ? this.#rng.pick(STRINGS) : this.#rng.bytes(this.#rng.int(12)).toString('latin1'); }
  #null(): boolean { return this.#allowNull && this.#rng.chance(0.1); }
  override string(): string { return this.#str(); }
  override nullableString(): string | null { return this.#null() ? null : this.#str(); }
  override compactString(): string { return this.#str(); }
  override compactNullableString(): string | null { return this.#null() ? null : this.#str(); }
  #bytes(): Buffer { return this.#rng.bytes(this.#rng.pick([0, 1, 8, 70])); }
  override bytes(): Buffer { return this.#bytes(); }
  override nullableBytes(): Buffer | null { return this.#null() ? null : this.#bytes(); }
  override compactBytes(): Buffer { return this.#bytes(); }
  override compactNullableBytes(): Buffer | null { return this.#null() ? null : this.#bytes(); }
  override rawBytes(n: number): Buffer { return Buffer.alloc(n); }
  override sub(): Reader { return new Reader(Buffer.alloc(0)); }
  #count(): number {
    if (this.#null()) return -1;
    const r = this.#rng.next();
    let n = r < 0.3 ? 0 : r < 0.65 ? 1 : r < 0.9 ? this.#rng.range(2, 3) : this.#rng.range(4, 40);
    n = Math.min(n, this.#budget);
    this.#budget -= n;
    return n;
  }
  override arrayLength(): number { return this.#count(); }
  override compactArrayLength(): number { return this.#count(); }
}

/** Field names whose values make the broker wait; mostly kept short so answers come within the deadline. */
const WAIT_FIELD = /timeout|wait|delay/i;

function postProcess(apiKey: number, m: any, rng: Rng, answered: boolean): void {
  const walk = (o: any): void => {
    if (o === null || typeof o !== 'object' || Buffer.isBuffer(o)) return;
    if (Array.isArray(o)) { for (const x of o) walk(x); return; }
    for (const k of Object.keys(o)) {
      if (typeof o[k] === 'number' && WAIT_FIELD.test(k) && rng.chance(0.9)) o[k] = rng.pick([0, 1, 50, 200, -1]);
      else walk(o[k]);
    }
  };
  walk(m);
  if (apiKey === 0) {
    if (answered && m.acks === 0) m.acks = -1;
    // Produce: real record batches most of the time, so appends (not only CRC errors) are exercised.
    for (const t of m.topicData ?? []) for (const p of t.partitionData ?? []) {
      if (rng.chance(0.7)) {
        const n = rng.range(1, 3);
        const records = [];
        for (let i = 0; i < n; i++) records.push({ key: rng.chance(0.2) ? null : `k${i}`, value: rng.chance(0.1) ? null : `v${i}`, timestamp: 1_700_000_000_000 + i });
        p.records = buildRecordBatch({ records, now: 1_700_000_000_000, compression: rng.pick([0, 0, 1, 2, 3, 4]) });
      }
    }
  }
}

/** A random, structurally valid request body for `apiKey` at `version` (decodes with the generated codec). */
/** `answered`: never a request that gets no answer by design (Produce acks=0). */
export function generateRequest(apiKey: number, version: number, rng: Rng, answered = false): unknown {
  const api = apis[apiKey]!;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const m = api.decodeRequest(new GenReader(rng, attempt < 15), version);
      postProcess(apiKey, m, rng, answered);
      return m;
    } catch (err) {
      // A null drawn for a field that is not nullable at this version: draw again.
      if (!(err instanceof ProtocolError)) throw err;
    }
  }
  return api.makeRequest();
}

/** A size-prefixed request frame. */
export function encodeFrame(apiKey: number, version: number, correlationId: number, body: unknown, clientId: string | null = 'fuzz'): Buffer {
  const api = apis[apiKey]!;
  const w = new Writer();
  w.int32(0);
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId });
  api.encodeRequest(w, version, body);
  const b = w.finishBuffer();
  b.writeInt32BE(b.length - 4, 0);
  return b;
}

/** A generated, well-formed frame (falls back to the defaults when the random body cannot be encoded). */
export function generateFrame(apiKey: number, version: number, correlationId: number, rng: Rng, answered = false): Buffer {
  const codecMin = apis[apiKey]!.minVersion;
  if (version < codecMin) {
    // Advertised below what the codec knows (Produce v0–2): a newer body under the old version number.
    const b = generateFrame(apiKey, codecMin, correlationId, rng, answered);
    b.writeInt16BE(version, 6);
    return b;
  }
  const body = generateRequest(apiKey, version, rng, answered);
  const clientId = rng.chance(0.05) ? null : rng.chance(0.8) ? 'fuzz' : rng.pick(STRINGS);
  try {
    return encodeFrame(apiKey, version, correlationId, body, clientId);
  } catch {
    return encodeFrame(apiKey, version, correlationId, apis[apiKey]!.makeRequest(), 'fuzz');
  }
}
