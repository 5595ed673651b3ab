import t from 'tap';
import type { Test } from 'tap';
import { createRequire } from 'node:module';
import { crc32c } from '@node-rs/crc32';
import {
  buildRecordBatch,
  buildEndTxnMarker,
  parseBatchHeader,
  RecordBatchView,
  records,
  validateBatch,
  validateProduceRecords,
  validateBatchRecords,
  iterateBatches,
  scanRecordSet,
  setBaseOffset,
  setPartitionLeaderEpoch,
  setMaxTimestamp,
  setMaxTimestampAndLogAppendTime,
  recomputeCrc,
  computeCrc,
  parseControlRecordKey,
  readInt64Number,
  writeInt64,
  RecordsError,
  CONTROL_TYPE_COMMIT,
  CONTROL_TYPE_ABORT,
  RECORDS_OFFSET,
} from './records.ts';
import type { KafkaRecord, RecordInput } from './records.ts';
import { compress, decompress, codecName } from './compression.ts';
import { VarintCursor, VarintError, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';

const require = createRequire(import.meta.url);

function bytesOrNull(v: string | Buffer | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function all(batch: Buffer | RecordBatchView): KafkaRecord[] {
  return Array.from(records(batch));
}

// ---------------------------------------------------------------------------
// varints

t.test('zig-zag varint/varlong: round trip, sizes and byte-identical to kafkajs', async (t) => {
  const KafkaEncoder = require('kafkajs/src/protocol/encoder');
  const Long = require('kafkajs/src/utils/long');
  const ints = [0, 1, -1, 2, -2, 63, -64, 64, -65, 8191, -8192, 8192, 2 ** 20, -(2 ** 20), 2 ** 31 - 1, -(2 ** 31)];
  for (const v of ints) {
    const b = Buffer.alloc(5);
    const end = writeVarint(b, 0, v);
    t.equal(end, sizeOfVarint(v), `varint size ${v}`);
    const ref = new KafkaEncoder().writeVarInt(v).buffer as Buffer;
    t.ok(b.subarray(0, end).equals(ref), `varint bytes ${v} match kafkajs`);
    t.equal(new VarintCursor(b, 0, end).readVarint(), v, `varint read ${v}`);
  }
  const longs: bigint[] = [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 48n, -(2n ** 48n), 2n ** 52n - 1n, -(2n ** 52n), 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)];
  for (const v of longs) {
    const b = Buffer.alloc(10);
    const end = writeVarlong(b, 0, v);
    t.equal(end, sizeOfVarlong(v), `varlong size ${v}`);
    const ref = new KafkaEncoder().writeVarLong(Long.fromString(v.toString())).buffer as Buffer;
    t.ok(b.subarray(0, end).equals(ref), `varlong bytes ${v} match kafkajs`);
    t.equal(new VarintCursor(b, 0, end).readVarlongBigInt(), v, `varlong bigint read ${v}`);
    t.equal(new VarintCursor(b, 0, end).readVarlong(), Number(v), `varlong number read ${v}`);
    if (Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v) {
      const b2 = Buffer.alloc(10);
      t.equal(writeVarlong(b2, 0, Number(v)), end, `number writer size ${v}`);
      t.ok(b2.equals(b), `number writer bytes ${v}`);
      t.equal(sizeOfVarlong(Number(v)), end);
    }
  }
  t.throws(() => new VarintCursor(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).readVarint(), VarintError, 'varint > 5 bytes');
  t.throws(() => new VarintCursor(Buffer.alloc(11, 0x80)).readVarlong(), VarintError, 'varlong > 10 bytes');
  t.throws(() => new VarintCursor(Buffer.from([0x80])).readVarint(), VarintError, 'truncated varint');
  t.throws(() => new VarintCursor(Buffer.from([0x80, 0x80]), 0, 1).readVarlong(), VarintError, 'respects end');
});

t.test('int64 number helpers', async (t) => {
  const b = Buffer.alloc(8);
  for (const v of [0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1700000000000]) {
    writeInt64(b, 0, v);
    t.equal(b.readBigInt64BE(0), BigInt(v), `write ${v}`);
    t.equal(readInt64Number(b, 0), v, `read ${v}`);
  }
  writeInt64(b, 0, -(2n ** 63n));
  t.equal(b.readBigInt64BE(0), -(2n ** 63n));
  t.throws(() => writeInt64(b, 0, 2 ** 60), RangeError, 'unsafe numbers must be bigints');
});

// ---------------------------------------------------------------------------
// build -> validate -> iterate

const T0 = 1_700_000_000_000;

function sampleRecords(): RecordInput[] {
  return [
    { key: 'k0', value: 'v0', timestamp: T0 },
    { key: null, value: 'value with null key', timestamp: T0 + 5 },
    { key: 'key with null value', value: null, timestamp: T0 - 1000 }, // negative delta
    { key: null, value: null, timestamp: T0 + 2 ** 40 }, // large delta
    {
      key: Buffer.from([0, 1, 2]),
      value: Buffer.alloc(0), // empty, not null
      timestamp: T0,
      headers: [
        { key: 'h1', value: 'one' },
        { key: 'null-valued', value: null },
        { key: 'ünïcødé ключ', value: Buffer.from([0xff, 0x00]) },
        { key: '', value: '' },
      ],
    },
    { key: 'far past', value: 'x', timestamp: 0 }, // delta -T0
    { key: 'huge delta', value: 'y', timestamp: T0 + 8e15 }, // > 2^52: bigint varlong path, 8 bytes
  ];
}

function checkRecords(t: Test, got: KafkaRecord[], input: RecordInput[], baseOffset: number, baseTimestamp: number): void {
  t.equal(got.length, input.length, 'record count');
  for (let i = 0; i < input.length; i++) {
    const r = got[i]!;
    const w = input[i]!;
    t.equal(r.offsetDelta, w.offsetDelta ?? i);
    t.equal(r.offset, baseOffset + (w.offsetDelta ?? i));
    t.equal(r.timestamp, w.timestamp, `timestamp ${i}`);
    t.equal(r.timestampDelta, w.timestamp! - baseTimestamp);
    t.same(r.key, bytesOrNull(w.key as string | Buffer | null), `key ${i}`);
    t.same(r.value, bytesOrNull(w.value as string | Buffer | null), `value ${i}`);
    t.equal(r.attributes, 0);
    t.same(
      r.headers,
      (w.headers ?? []).map((h) => ({ key: h.key, value: bytesOrNull(h.value as string | Buffer | null) })),
      `headers ${i}`,
    );
  }
}

t.test('round trip for each codec', async (t) => {
  for (const codec of [0, 1, 2, 3, 4]) {
    const input = sampleRecords();
    const batch = buildRecordBatch({ baseOffset: 1000, records: input, compression: codec, partitionLeaderEpoch: 3 });
    t.equal(validateBatch(batch), null, `${codecName(codec)} validates`);
    t.equal(validateBatch(batch, 0, { fromClient: true }), null, `${codecName(codec)} validates as client batch`);
    t.equal(validateProduceRecords(batch), null);
    t.equal(validateBatchRecords(batch), null);
    const h = parseBatchHeader(batch);
    t.equal(h.compression, codec);
    t.equal(h.size, batch.length);
    t.equal(h.batchLength, batch.length - 12);
    t.equal(h.magic, 2);
    t.equal(h.crc, crc32c(batch.subarray(21)) >>> 0, 'stored CRC is CRC-32C of bytes 21..end');
    t.equal(h.baseOffset, 1000);
    t.equal(h.partitionLeaderEpoch, 3);
    t.equal(h.recordsCount, input.length);
    t.equal(h.lastOffsetDelta, input.length - 1);
    t.equal(h.baseTimestamp, T0, 'baseTimestamp = first record');
    t.equal(h.maxTimestamp, T0 + 8e15, 'maxTimestamp = max record timestamp');
    t.equal(h.producerId, -1n);
    t.equal(h.producerEpoch, -1);
    t.equal(h.baseSequence, -1);
    t.equal(h.timestampType, 0);
    t.notOk(h.isTransactional || h.isControl || h.hasDeleteHorizon);
    checkRecords(t, all(batch), input, 1000, T0);
    if (codec !== 0) t.ok(batch.length - RECORDS_OFFSET > 0);
  }
});

t.test('many records, uncompressed and zstd', async (t) => {
  const input: RecordInput[] = [];
  for (let i = 0; i < 2000; i++) {
    input.push({
      key: i % 3 === 0 ? null : `key-${i}`,
      value: i % 7 === 0 ? null : Buffer.alloc(i % 300, i & 0xff),
      timestamp: T0 + ((i * 7919) % 10000) - 5000,
      headers: i % 5 === 0 ? [{ key: `h${i}`, value: `${i}` }] : [],
    });
  }
  for (const codec of [0, 4, 2]) {
    const batch = buildRecordBatch({ baseOffset: 2 ** 40, records: input, compression: codec });
    t.equal(validateBatch(batch), null);
    const got = all(batch);
    t.equal(got.length, 2000);
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      const r = got[i]!;
      const w = input[i]!;
      if (r.offset !== 2 ** 40 + i || r.timestamp !== w.timestamp) bad++;
      if (!(r.key === null ? w.key === null : r.key.toString() === w.key)) bad++;
      if (!(r.value === null ? w.value === null : r.value.equals(w.value as Buffer))) bad++;
      if (r.headers.length !== (w.headers ?? []).length) bad++;
    }
    t.equal(bad, 0, `${codecName(codec)}: all 2000 records match`);
  }
});

t.test('keys and values are views into the batch (uncompressed)', async (t) => {
  const batch = buildRecordBatch({ records: [{ key: 'abc', value: 'defg', timestamp: T0 }] });
  const [r] = all(batch);
  t.equal(r!.key!.buffer, batch.buffer);
  const at = r!.key!.byteOffset - batch.byteOffset;
  batch[at] = 0x41;
  t.equal(r!.key!.toString(), 'Abc');
});

t.test('header fields, flags and view getters', async (t) => {
  const batch = buildRecordBatch({
    baseOffset: 2n ** 45n + 7n,
    records: [
      { value: 'a', timestamp: T0 },
      { value: 'b', timestamp: T0 + 1, offsetDelta: 5 },
    ],
    producerId: 2n ** 40n + 3n,
    producerEpoch: 7,
    baseSequence: 99,
    isTransactional: true,
    partitionLeaderEpoch: 12,
    timestampType: 1,
    logAppendTime: T0 + 500,
  });
  const v = new RecordBatchView(batch);
  t.equal(v.baseOffset, 2 ** 45 + 7);
  t.equal(v.size, batch.length);
  t.equal(v.end, batch.length);
  t.equal(v.partitionLeaderEpoch, 12);
  t.equal(v.magic, 2);
  t.equal(v.producerId, 2n ** 40n + 3n);
  t.ok(v.hasProducerId);
  t.equal(v.producerEpoch, 7);
  t.equal(v.baseSequence, 99);
  t.ok(v.isTransactional);
  t.notOk(v.isControl);
  t.equal(v.timestampType, 1);
  t.equal(v.maxTimestamp, T0 + 500);
  t.equal(v.lastOffsetDelta, 5, 'lastOffsetDelta = last record offsetDelta');
  t.equal(v.lastOffset, 2 ** 45 + 12);
  t.equal(v.nextOffset, 2 ** 45 + 13);
  t.equal(v.recordsCount, 2);
  t.equal(v.deleteHorizonMs, null);
  t.same(v.header(), parseBatchHeader(batch));
  t.equal(v.validate(), null);
  t.equal(v.validate({ fromClient: true }), 'INVALID_RECORD', 'offset deltas with a gap are rejected from clients');
  const rs = Array.from(v.records());
  t.same(rs.map((r) => r.timestamp), [T0 + 500, T0 + 500], 'LogAppendTime batches report maxTimestamp for every record');
  t.same(rs.map((r) => r.timestampDelta), [0, 1]);
  t.same(rs.map((r) => r.offset), [2 ** 45 + 7, 2 ** 45 + 12]);
  t.equal(v.bytes().buffer, batch.buffer, 'bytes() is a view');

  const dh = buildRecordBatch({ records: [{ value: 'x', timestamp: T0 }], deleteHorizonMs: T0 + 86400000 });
  const dv = new RecordBatchView(dh);
  t.ok(dv.hasDeleteHorizon);
  t.equal(dv.deleteHorizonMs, T0 + 86400000);
  t.equal(all(dh)[0]!.timestamp, T0, 'deltas relative to the horizon still give the record timestamp');

  t.throws(() => parseBatchHeader(batch.subarray(0, 60)), RecordsError);
});

t.test('empty batch', async (t) => {
  const batch = buildRecordBatch({ records: [], lastOffsetDelta: 4 });
  const h = parseBatchHeader(batch);
  t.equal(batch.length, 61);
  t.equal(h.recordsCount, 0);
  t.equal(h.baseTimestamp, -1);
  t.equal(h.maxTimestamp, -1);
  t.equal(h.lastOffsetDelta, 4);
  t.equal(validateBatch(batch), null, 'compacted-away batch is fine for replication');
  t.equal(validateBatch(batch, 0, { fromClient: true }), 'INVALID_RECORD');
  t.same(all(batch), []);
});

t.test('end transaction markers', async (t) => {
  for (const commit of [true, false]) {
    const b = buildEndTxnMarker({ baseOffset: 50, producerId: 9, producerEpoch: 2, commit, coordinatorEpoch: 17, timestamp: T0 });
    const v = new RecordBatchView(b);
    t.ok(v.isControl && v.isTransactional);
    t.equal(v.producerId, 9n);
    t.equal(v.baseSequence, -1);
    t.equal(v.validate(), null);
    t.equal(v.validate({ fromClient: true }), 'INVALID_RECORD', 'clients may not write control batches');
    const [r] = all(b);
    t.same(parseControlRecordKey(r!.key), { version: 0, type: commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT });
    t.equal(r!.value!.readInt16BE(0), 0);
    t.equal(r!.value!.readInt32BE(2), 17);
  }
  t.equal(parseControlRecordKey(null), null);
});

// ---------------------------------------------------------------------------
// validation

t.test('a one-byte change anywhere in the CRC-covered region is CORRUPT_MESSAGE', async (t) => {
  for (const codec of [0, 1]) {
    const batch = buildRecordBatch({ records: sampleRecords(), compression: codec, producerId: 5, producerEpoch: 0, baseSequence: 0 });
    let missed = 0;
    let checked = 0;
    for (let i = 17; i < batch.length; i++) {
      // bytes 17-20 are the CRC itself; 21.. are covered by it
      for (const mask of [0x01, 0x80, 0xff]) {
        const b = Buffer.from(batch);
        b[i] ^= mask;
        checked++;
        if (validateBatch(b) !== 'CORRUPT_MESSAGE') missed++;
      }
    }
    t.equal(missed, 0, `${codecName(codec)}: all ${checked} single-byte corruptions detected`);
    // Bytes outside the CRC: baseOffset (0-7) and partitionLeaderEpoch (12-15).
    let falseAlarms = 0;
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]) {
      const b = Buffer.from(batch);
      b[i] ^= 0x5a;
      if (validateBatch(b) !== null) falseAlarms++;
    }
    t.equal(falseAlarms, 0, 'baseOffset and leader epoch are not CRC-covered');
  }
});

t.test('magic, length and codec checks', async (t) => {
  const batch = buildRecordBatch({ records: sampleRecords() });
  for (const magic of [0, 1]) {
    const b = Buffer.from(batch);
    b[16] = magic;
    t.equal(validateBatch(b), 'UNSUPPORTED_FOR_MESSAGE_FORMAT', `magic ${magic}`);
    t.throws(() => all(b), { name: 'RecordsError' });
    try {
      all(b);
    } catch (e) {
      t.equal((e as RecordsError).kind, 'UNSUPPORTED_FOR_MESSAGE_FORMAT');
    }
  }
  const m3 = Buffer.from(batch);
  m3[16] = 3;
  t.equal(validateBatch(m3), 'CORRUPT_MESSAGE', 'unknown future magic');

  const short = Buffer.from(batch);
  short.writeInt32BE(48, 8);
  t.equal(validateBatch(short), 'CORRUPT_MESSAGE', 'batchLength below the 49-byte minimum');
  const neg = Buffer.from(batch);
  neg.writeInt32BE(-5, 8);
  t.equal(validateBatch(neg), 'CORRUPT_MESSAGE', 'negative batchLength');
  t.equal(validateBatch(batch.subarray(0, batch.length - 1)), 'CORRUPT_MESSAGE', 'truncated batch');
  t.equal(validateBatch(batch.subarray(0, 10)), 'CORRUPT_MESSAGE', 'too short to hold a magic byte');
  const longer = Buffer.from(batch);
  longer.writeInt32BE(batch.length, 8);
  t.equal(validateBatch(longer), 'CORRUPT_MESSAGE', 'batchLength past the buffer');

  const codec7 = Buffer.from(batch);
  codec7.writeInt16BE(codec7.readInt16BE(21) | 7, 21);
  recomputeCrc(codec7, 0);
  t.equal(validateBatch(codec7), 'UNSUPPORTED_COMPRESSION_TYPE');
  t.throws(() => all(codec7), { kind: 'UNSUPPORTED_COMPRESSION_TYPE' } as unknown as Error);

  const negCount = Buffer.from(batch);
  negCount.writeInt32BE(-1, 57);
  recomputeCrc(negCount, 0);
  t.equal(validateBatch(negCount), 'INVALID_RECORD');

  // A batch in the middle of a larger buffer.
  const set = Buffer.concat([Buffer.alloc(3), batch, Buffer.alloc(5)]);
  t.equal(validateBatch(set, 3), null);
  t.equal(computeCrc(set, 3), parseBatchHeader(batch).crc);
});

t.test('client-batch checks (fromClient)', async (t) => {
  const ok = buildRecordBatch({ records: [{ value: 'a' }, { value: 'b' }], producerId: 1, producerEpoch: 0, baseSequence: 0 });
  t.equal(validateBatch(ok, 0, { fromClient: true }), null);
  const noSeq = buildRecordBatch({ records: [{ value: 'a' }], producerId: 1, producerEpoch: 0, baseSequence: -1 });
  t.equal(validateBatch(noSeq), null);
  t.equal(validateBatch(noSeq, 0, { fromClient: true }), 'INVALID_RECORD', 'producer id without a sequence');
  const txNoPid = buildRecordBatch({ records: [{ value: 'a' }], isTransactional: true });
  t.equal(validateBatch(txNoPid, 0, { fromClient: true }), 'INVALID_RECORD', 'transactional without producer id');
  const wrongDelta = buildRecordBatch({ records: [{ value: 'a' }, { value: 'b' }], lastOffsetDelta: 5 });
  t.equal(validateBatch(wrongDelta, 0, { fromClient: true }), 'INVALID_RECORD', 'lastOffsetDelta inconsistent with count');
  t.equal(validateBatch(wrongDelta), null, 'allowed for compacted data');
});

t.test('validateProduceRecords', async (t) => {
  const a = buildRecordBatch({ records: [{ value: 'a' }] });
  const z = buildRecordBatch({ records: [{ value: 'a' }], compression: 4 });
  t.equal(validateProduceRecords(a, 3), null);
  t.equal(validateProduceRecords(Buffer.alloc(0)), 'INVALID_RECORD', 'no batch');
  t.equal(validateProduceRecords(Buffer.concat([a, a])), 'INVALID_RECORD', 'two batches');
  t.equal(validateProduceRecords(Buffer.concat([a, Buffer.alloc(3)])), 'CORRUPT_MESSAGE', 'trailing garbage');
  t.equal(validateProduceRecords(a.subarray(0, 8)), 'CORRUPT_MESSAGE');
  t.equal(validateProduceRecords(z, 6), 'UNSUPPORTED_COMPRESSION_TYPE', 'zstd needs Produce v7');
  t.equal(validateProduceRecords(z, 7), null);
});

// ---------------------------------------------------------------------------
// patching

t.test('patching base offset and leader epoch keeps the CRC valid', async (t) => {
  const batch = buildRecordBatch({ records: sampleRecords(), compression: 3 });
  const crc = parseBatchHeader(batch).crc;
  setBaseOffset(batch, 0, 123456789012);
  setPartitionLeaderEpoch(batch, 0, 42);
  const h = parseBatchHeader(batch);
  t.equal(h.baseOffset, 123456789012);
  t.equal(h.partitionLeaderEpoch, 42);
  t.equal(h.crc, crc, 'CRC untouched');
  t.equal(validateBatch(batch), null);
  t.same(all(batch).map((r) => r.offset), sampleRecords().map((_, i) => 123456789012 + i));
  setBaseOffset(batch, 0, 2n ** 50n);
  t.equal(new RecordBatchView(batch).baseOffset, 2 ** 50);
  // in a record set, at an offset
  const b2 = buildRecordBatch({ records: [{ value: 'x' }] });
  const set = Buffer.concat([batch, b2]);
  setBaseOffset(set, batch.length, 77);
  setPartitionLeaderEpoch(set, batch.length, 8);
  t.equal(validateBatch(set, batch.length), null);
  t.equal(new RecordBatchView(set, batch.length).baseOffset, 77);
});

t.test('setMaxTimestampAndLogAppendTime / setMaxTimestamp recompute the CRC', async (t) => {
  const input = sampleRecords();
  const batch = buildRecordBatch({ records: input, compression: 1 });
  const before = parseBatchHeader(batch);
  setMaxTimestampAndLogAppendTime(batch, 0, T0 + 999);
  const h = parseBatchHeader(batch);
  t.equal(h.timestampType, 1);
  t.equal(h.maxTimestamp, T0 + 999);
  t.equal(h.compression, 1, 'other attribute bits kept');
  t.not(h.crc, before.crc);
  t.equal(validateBatch(batch), null);
  t.ok(all(batch).every((r) => r.timestamp === T0 + 999));
  // Back to CreateTime with the original max.
  setMaxTimestamp(batch, 0, 0, before.maxTimestamp);
  t.same(parseBatchHeader(batch), before, 'restores the original header bytes including CRC');
  // No-op when nothing changes (no CRC work: a deliberately wrong CRC stays).
  batch.writeUInt32BE(0xdeadbeef, 17);
  setMaxTimestamp(batch, 0, 0, before.maxTimestamp);
  t.equal(batch.readUInt32BE(17), 0xdeadbeef);
  t.equal(recomputeCrc(batch, 0), before.crc);
  t.equal(validateBatch(batch), null);
});

// ---------------------------------------------------------------------------
// record sets

t.test('iterateBatches / scanRecordSet with a truncated tail', async (t) => {
  const batches = [
    buildRecordBatch({ baseOffset: 0, records: [{ value: 'a' }, { value: 'b' }] }),
    buildRecordBatch({ baseOffset: 2, records: sampleRecords(), compression: 2 }),
    buildRecordBatch({ baseOffset: 9, records: [{ key: 'k', value: 'c' }] }),
  ];
  const full = Buffer.concat(batches);
  const spans = Array.from(iterateBatches(full));
  t.same(spans.map((s) => s.size), batches.map((b) => b.length));
  t.same(spans.map((s) => s.offset), [0, batches[0]!.length, batches[0]!.length + batches[1]!.length]);
  t.ok(spans.every((s) => validateBatch(full, s.offset) === null));
  const fullScan = scanRecordSet(full);
  t.same({ end: fullScan.end, truncated: fullScan.truncated, corrupt: fullScan.corrupt }, { end: full.length, truncated: false, corrupt: false });

  const lastStart = full.length - batches[2]!.length;
  let bad = 0;
  for (let cut = lastStart + 1; cut < full.length; cut++) {
    const s = scanRecordSet(full.subarray(0, cut));
    if (s.batches.length !== 2 || !s.truncated || s.corrupt || s.end !== lastStart) bad++;
  }
  t.equal(bad, 0, 'every truncation of the last batch yields the two complete batches and truncated=true');

  // Offsets of the set's records across batches.
  const offs: number[] = [];
  for (const s of iterateBatches(full)) for (const r of records(new RecordBatchView(full, s.offset))) offs.push(r.offset);
  t.same(offs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  t.same(scanRecordSet(Buffer.alloc(0)), { batches: [], end: 0, truncated: false, corrupt: false });
  const garbage = Buffer.concat([batches[0]!, Buffer.alloc(20)]);
  const g = scanRecordSet(garbage);
  t.equal(g.batches.length, 1);
  t.ok(g.corrupt, 'zero batchLength is reported as corrupt, not looped on');
  // Sub-range
  const sub = scanRecordSet(full, batches[0]!.length, lastStart);
  t.equal(sub.batches.length, 1);
  t.equal(sub.batches[0]!.offset, batches[0]!.length);
  // Generator return value
  const it = iterateBatches(full.subarray(0, full.length - 1));
  let r = it.next();
  while (!r.done) r = it.next();
  t.same(r.value, { end: lastStart, truncated: true, corrupt: false });
});

// ---------------------------------------------------------------------------
// malformed records

function kindOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof RecordsError ? e.kind : `non-RecordsError ${(e as Error).name}: ${(e as Error).message}`;
  }
}

t.test('malformed records throw RecordsError', async (t) => {
  const batch = buildRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: T0 }, { key: 'k2', value: 'v2', timestamp: T0 }] });
  const more = Buffer.from(batch);
  more.writeInt32BE(3, 57);
  t.equal(kindOf(() => all(more)), 'INVALID_RECORD', 'count larger than the records present');
  const fewer = Buffer.from(batch);
  fewer.writeInt32BE(1, 57);
  t.equal(kindOf(() => all(fewer)), 'INVALID_RECORD', 'bytes left after the declared count');
  const badLen = Buffer.from(batch);
  badLen[RECORDS_OFFSET] = 0x7e; // record length varint 63: past the batch end
  t.equal(kindOf(() => all(badLen)), 'INVALID_RECORD');
  const shortLen = Buffer.from(batch);
  shortLen[RECORDS_OFFSET] -= 2; // length one smaller than the record (zig-zag: -2 = -1 in value)
  t.equal(kindOf(() => all(shortLen)), 'INVALID_RECORD');
  t.equal(validateBatchRecords(shortLen), 'INVALID_RECORD');

  const negHeaders = buildRecordBatch({ records: [{ value: 'v', timestamp: T0 }] });
  negHeaders[negHeaders.length - 1] = 0x01; // headers count varint -1
  t.equal(kindOf(() => all(negHeaders)), 'INVALID_RECORD');

  const badZ = buildRecordBatch({ records: [{ value: 'v'.repeat(100) }], compression: 4 });
  badZ[RECORDS_OFFSET + 10] ^= 0xff;
  badZ[RECORDS_OFFSET + 11] ^= 0xff;
  recomputeCrc(badZ, 0);
  t.equal(validateBatch(badZ), null, 'CRC is fine, content is not');
  const k = kindOf(() => all(badZ));
  t.ok(k === 'CORRUPT_MESSAGE' || k === 'INVALID_RECORD', `corrupt compressed section -> ${k}`);
  const garbageZ = Buffer.from(buildRecordBatch({ records: [{ value: 'v' }], compression: 1 }));
  garbageZ.fill(0x33, RECORDS_OFFSET);
  t.equal(kindOf(() => all(garbageZ)), 'CORRUPT_MESSAGE', 'undecodable gzip');
  t.equal(kindOf(() => all(batch.subarray(0, batch.length - 1))), 'CORRUPT_MESSAGE', 'truncated batch');
  t.equal(kindOf(() => all(batch.subarray(0, 30))), 'CORRUPT_MESSAGE', 'truncated header');

  // Custom decompressor is used, and its errors are wrapped.
  const gz = buildRecordBatch({ records: [{ value: 'v' }], compression: 1 });
  let calls = 0;
  const n = Array.from(records(gz, (c, d) => (calls++, decompress(c, d)))).length;
  t.equal(n, 1);
  t.equal(calls, 1);
  t.equal(kindOf(() => Array.from(records(gz, () => { throw new Error('nope'); }))), 'CORRUPT_MESSAGE');
});

t.test('fuzz: random corruption of the records section only ever throws RecordsError', async (t) => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let other = 0;
  let ok = 0;
  let errs = 0;
  for (const codec of [0, 2]) {
    const base = buildRecordBatch({ records: sampleRecords(), compression: codec });
    for (let iter = 0; iter < 1500; iter++) {
      const b = Buffer.from(base);
      const flips = 1 + rnd(4);
      for (let f = 0; f < flips; f++) b[RECORDS_OFFSET + rnd(b.length - RECORDS_OFFSET)] = rnd(256);
      if (rnd(4) === 0) b.writeInt32BE(rnd(20) - 2, 57); // count
      recomputeCrc(b, 0);
      const k = kindOf(() => all(b));
      if (k === 'ok') ok++;
      else if (k.startsWith('non-RecordsError')) {
        other++;
        if (other < 3) t.fail(k);
      } else errs++;
    }
  }
  t.equal(other, 0, `only RecordsError (ok ${ok}, RecordsError ${errs})`);
});

// ---------------------------------------------------------------------------
// cross-implementation: kafkajs

t.test('kafkajs-encoded batches parse, iterate and pass the CRC check', async (t) => {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
  const Long = require('kafkajs/src/utils/long');
  const { Codecs } = require('kafkajs/src/protocol/message/compression');

  // kafkajs ships gzip only; plug our codecs in so it frames snappy/lz4/zstd batches with its own encoder.
  const saved = { 2: Codecs[2], 3: Codecs[3], 4: Codecs[4] };
  for (const c of [2, 3, 4]) {
    Codecs[c] = () => ({
      compress: async (enc: { buffer: Buffer }) => compress(c, enc.buffer),
      decompress: async (buf: Buffer) => decompress(c, buf),
    });
  }
  t.teardown(() => Object.assign(Codecs, saved));

  const recs = [
    Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('key-0'), value: Buffer.from('value-0'), headers: { a: Buffer.from('1'), b: [Buffer.from('x'), Buffer.from('y')] } }),
    Record({ offsetDelta: 1, timestampDelta: -37, key: null, value: Buffer.from('value-1') }),
    Record({ offsetDelta: 2, timestampDelta: Long.fromString('5000000000000'), key: Buffer.from('k2'), value: null }),
  ];
  for (const compression of [0, 1, 2, 3, 4]) {
    const enc = await RecordBatch({
      compression,
      firstOffset: Long.fromInt(0),
      firstTimestamp: T0,
      maxTimestamp: T0 + 5000000000000,
      partitionLeaderEpoch: 0,
      lastOffsetDelta: 2,
      producerId: Long.fromValue(-1),
      producerEpoch: 0,
      firstSequence: 0,
      records: recs,
    });
    const buf: Buffer = enc.buffer;
    t.equal(validateBatch(buf), null, `kafkajs ${codecName(compression)} batch validates (CRC-32C)`);
    t.equal(validateProduceRecords(buf), null);
    const h = parseBatchHeader(buf);
    t.equal(h.compression, compression);
    t.equal(h.size, buf.length);
    t.equal(h.recordsCount, 3);
    t.equal(h.producerEpoch, 0, 'kafkajs sends epoch 0 with pid -1');
    const got = all(buf);
    t.same(got.map((r) => r.offset), [0, 1, 2]);
    t.same(got.map((r) => r.timestamp), [T0, T0 - 37, T0 + 5000000000000]);
    t.same(got.map((r) => r.key && r.key.toString()), ['key-0', null, 'k2']);
    t.same(got.map((r) => r.value && r.value.toString()), ['value-0', 'value-1', null]);
    t.same(got[0]!.headers.map((hh) => [hh.key, hh.value!.toString()]), [['a', '1'], ['b', 'x'], ['b', 'y']]);
    // Patch like the broker does on append; still valid.
    setBaseOffset(buf, 0, 500);
    setPartitionLeaderEpoch(buf, 0, 3);
    t.equal(validateBatch(buf), null);
  }
});

t.test('our batches decode with kafkajs', async (t) => {
  const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder');
  const Decoder = require('kafkajs/src/protocol/decoder');
  const input = sampleRecords();
  for (const codec of [0, 1]) {
    const batch = buildRecordBatch({ baseOffset: 77, records: input, compression: codec, producerId: 4, producerEpoch: 1, baseSequence: 10 });
    const d = await RecordBatchDecoder(new Decoder(batch));
    t.equal(d.firstOffset, '77');
    t.equal(d.producerId, '4');
    t.equal(d.firstSequence, 10);
    t.equal(d.records.length, input.length);
    t.same(d.records.map((r: { offset: string }) => r.offset), input.map((_, i) => String(77 + i)));
    t.same(d.records.map((r: { timestamp: string }) => r.timestamp), input.map((r) => String(r.timestamp)));
    t.same(d.records.map((r: { key: Buffer | null }) => r.key), input.map((r) => bytesOrNull(r.key as string | Buffer | null)));
    t.same(d.records[4].headers.h1, Buffer.from('one'));
  }
});

t.test('walkRecords: Kafka-clean batches pass, resumable in slices; structural errors and per-record errors', async (t) => {
  const { walkRecords, startRecordWalk, clientBatchError, REC_NO_KEY, RECORDS_OFFSET } = await import('./records.ts');
  const recs = Array.from({ length: 300 }, (_, i) => ({ key: i % 100 === 7 ? null : `k${i}`, value: `v${i}`, headers: i % 2 ? [{ key: 'h', value: 'x' }] : [], timestamp: 1000 + i }));
  const b = buildRecordBatch({ records: recs });
  const whole = startRecordWalk(b, 0, b, RECORDS_OFFSET, b.length, { compacted: true });
  t.equal(walkRecords(whole), true);
  t.equal(whole.error, null);
  t.equal(whole.maxTimestamp, 1299);
  t.ok(whole.consecutive);
  t.same(whole.recordErrors!.filter((_, k) => k % 4 === 0), [7, 107, 207]);
  t.equal(whole.recordErrors![1], REC_NO_KEY);
  const sliced = startRecordWalk(b, 0, b, RECORDS_OFFSET, b.length, { compacted: true });
  let turns = 1;
  while (!walkRecords(sliced, 64)) turns++;
  t.equal(turns, 5, 'five slices of at most 64 records');
  t.same([sliced.index, sliced.maxTimestamp, sliced.recordErrors], [300, 1299, whole.recordErrors]);
  const truncated = Buffer.from(b.subarray(0, b.length - 3));
  const w = startRecordWalk(truncated, 0, truncated, RECORDS_OFFSET, truncated.length);
  walkRecords(w);
  t.equal(w.error?.kind, 'INVALID_RECORD');
  const lying = buildRecordBatch({ records: [{ value: 'a' }] });
  lying.writeInt32BE(1_000_000, 57);
  t.match(clientBatchError(lying)?.message, /Inconsistent batch offset range \[0, 0\] and count of records 1000000/);
  t.equal(clientBatchError(buildRecordBatch({ records: [{ value: 'a' }] })), null);
});

t.test('walkRecords: varints of every length (1-5 bytes, negative, timestamp deltas beyond 3 bytes) and malformed ones', async (t) => {
  const { walkRecords, startRecordWalk, RECORDS_OFFSET, RECORDS_COUNT_OFFSET } = await import('./records.ts');
  // Timestamp deltas up to 2^40 (varlong beyond the inline 3 bytes), keys and values of 1-3 byte lengths, headers.
  const deltas = [0, 63, 64, 8191, 8192, 1_048_575, 1_048_576, 2 ** 31, 2 ** 40];
  const recs = deltas.map((d, i) => ({ key: i % 3 === 0 ? null : 'k'.repeat(i * 40), value: Buffer.alloc(i * 3000), headers: [{ key: 'h'.repeat(i * 20), value: null }], timestamp: T0 + d }));
  const b = buildRecordBatch({ records: recs });
  const w = startRecordWalk(b, 0, b, RECORDS_OFFSET, b.length);
  t.equal(walkRecords(w), true);
  t.equal(w.error, null);
  t.equal(w.maxTimestamp, T0 + 2 ** 40);
  t.same(all(b).map((r) => r.timestamp), deltas.map((d) => T0 + d), 'the reference decoder agrees');
  // Every record's timestamp as the walk reads it, through the range check: exactly those past the bound.
  for (const [k, bound] of deltas.entries()) {
    const r = startRecordWalk(b, 0, b, RECORDS_OFFSET, b.length, { createTime: true, upperTimestamp: T0 + bound });
    walkRecords(r);
    t.same((r.recordErrors ?? []).filter((_, j) => j % 4 === 0), deltas.map((_, i) => i).filter((i) => i > k), `bound +${bound}`);
  }
  // A record whose key length is a 6-byte varint, and one whose varint runs past the record.
  const rec = (keyLen: number[]) => {
    const body = [0, 0, 0, ...keyLen, 2, 0x61, 0]; // attributes, ts delta, offset delta, key length, value "a", no headers
    return Buffer.from([body.length * 2, ...body]);
  };
  for (const [name, keyLen] of [['6-byte varint (of 0)', [0x80, 0x80, 0x80, 0x80, 0x80, 0x00]], ['varint past the record', [0x80, 0x80]]] as const) {
    const s = rec([...keyLen]);
    if (name === 'varint past the record') s[0] = 5 * 2; // length ends inside the key-length varint
    const bad = Buffer.concat([b.subarray(0, RECORDS_OFFSET), s]);
    bad.writeInt32BE(1, RECORDS_COUNT_OFFSET);
    const v = startRecordWalk(bad, 0, bad, RECORDS_OFFSET, bad.length);
    walkRecords(v);
    t.equal(v.error?.kind, 'INVALID_RECORD', name);
  }
});
