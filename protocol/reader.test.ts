import t from 'tap';
import { ProtocolError, Reader } from './reader.ts';
import { Writer } from './writer.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('fixed-width integers, bool, float64', (t) => {
  const r = new Reader(hex('ff 8000 ffff 80000000 ffffffff 8000000000000000 00 02 3ff8000000000000'));
  t.equal(r.int8(), -1);
  t.equal(r.int16(), -32768);
  t.equal(r.uint16(), 65535);
  t.equal(r.int32(), -(2 ** 31));
  t.equal(r.uint32(), 2 ** 32 - 1);
  t.equal(r.int64(), -(2n ** 63n));
  t.equal(r.bool(), false);
  t.equal(r.bool(), true);
  t.equal(r.float64(), 1.5);
  t.equal(r.remaining, 0);
  t.throws(() => r.int8(), ProtocolError);
  t.end();
});

t.test('every read past the end throws ProtocolError, never RangeError', (t) => {
  const reads: Array<[string, (r: Reader) => unknown]> = [
    ['int8', (r) => r.int8()], ['int16', (r) => r.int16()], ['uint16', (r) => r.uint16()], ['int32', (r) => r.int32()],
    ['uint32', (r) => r.uint32()], ['int64', (r) => r.int64()], ['float64', (r) => r.float64()], ['bool', (r) => r.bool()],
    ['uuid', (r) => r.uuid()], ['uvarint', (r) => r.uvarint()], ['varint', (r) => r.varint()], ['varlong', (r) => r.varlong()],
    ['string', (r) => r.string()], ['compactString', (r) => r.compactString()], ['bytes', (r) => r.bytes()],
    ['compactBytes', (r) => r.compactBytes()], ['arrayLength', (r) => r.arrayLength()], ['compactArrayLength', (r) => r.compactArrayLength()],
  ];
  for (const [name, fn] of reads) {
    t.throws(() => fn(new Reader(Buffer.alloc(0))), ProtocolError, `${name} on empty input`);
    // A bounded reader over a larger buffer must respect its own end.
    t.throws(() => fn(new Reader(Buffer.from([0x80, 0x80, 0x80]), 2, 2)), ProtocolError, `${name} at the end of a window`);
  }
  t.end();
});

t.test('uvarint edge values', (t) => {
  const cases: Array<[number, string]> = [
    [0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16383, 'ff7f'], [16384, '808001'],
    [2 ** 28, '8080808001'], [2 ** 31, '8080808008'], [2 ** 32 - 1, 'ffffffff0f'],
  ];
  for (const [v, h] of cases) {
    const w = new Writer();
    w.uvarint(v);
    t.equal(w.finishBuffer().toString('hex'), h, `encode ${v}`);
    const r = new Reader(hex(h));
    t.equal(r.uvarint(), v, `decode ${v}`);
    t.equal(r.remaining, 0);
  }
  t.throws(() => new Reader(hex('ffffffff10')).uvarint(), ProtocolError, 'more than 32 bits');
  t.throws(() => new Reader(hex('8080808080 01')).uvarint(), ProtocolError, 'more than 5 bytes');
  t.throws(() => new Reader(hex('8080')).uvarint(), ProtocolError, 'truncated');
  t.end();
});

t.test('zig-zag varint / varlong', (t) => {
  const ints: Array<[number, string]> = [[0, '00'], [-1, '01'], [1, '02'], [-2, '03'], [63, '7e'], [-64, '7f'], [64, '8001'],
    [2 ** 31 - 1, 'feffffff0f'], [-(2 ** 31), 'ffffffff0f']];
  for (const [v, h] of ints) {
    const w = new Writer();
    w.varint(v);
    t.equal(w.finishBuffer().toString('hex'), h, `varint ${v}`);
    t.equal(new Reader(hex(h)).varint(), v);
  }
  const longs: bigint[] = [0n, -1n, 1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)];
  for (const v of longs) {
    const w = new Writer();
    w.varlong(v);
    const b = w.finishBuffer();
    t.equal(new Reader(b).varlong(), v, `varlong ${v}`);
  }
  const w = new Writer();
  w.varlong(-(2n ** 63n));
  t.equal(w.finishBuffer().toString('hex'), 'ffffffffffffffffff01');
  t.throws(() => new Reader(hex('ffffffffffffffffff02')).varlong(), ProtocolError);
  t.throws(() => new Reader(hex('ffffffffffffffffffff01')).varlong(), ProtocolError);
  t.end();
});

t.test('uuid text form', (t) => {
  t.equal(new Reader(Buffer.alloc(16)).uuid(), 'AAAAAAAAAAAAAAAAAAAAAA');
  const raw = hex('fb ff 00 01 02 03 04 05 06 07 08 09 0a 0b 0c fe');
  const s = new Reader(raw).uuid();
  t.equal(s.length, 22);
  t.match(s, /^[A-Za-z0-9_-]{22}$/);
  const w = new Writer();
  w.uuid(s);
  t.same(w.finishBuffer(), raw);
  t.end();
});

t.test('strings: classic and compact, null vs empty', (t) => {
  t.equal(new Reader(hex('0000')).string(), '');
  t.equal(new Reader(hex('ffff')).nullableString(), null);
  t.equal(new Reader(hex('0000')).nullableString(), '');
  t.equal(new Reader(hex('0003 616263')).string(), 'abc');
  t.equal(new Reader(hex('01')).compactString(), '');
  t.equal(new Reader(hex('00')).compactNullableString(), null);
  t.equal(new Reader(hex('04 616263')).compactNullableString(), 'abc');
  t.equal(new Reader(Buffer.concat([hex('0005'), Buffer.from('héé')])).string(), 'héé', 'length in UTF-8 bytes');
  t.throws(() => new Reader(hex('ffff')).string(), ProtocolError, 'null in non-nullable');
  t.throws(() => new Reader(hex('fffe')).nullableString(), ProtocolError, 'negative length other than -1');
  t.throws(() => new Reader(hex('0004 616263')).string(), ProtocolError, 'length beyond the input');
  t.throws(() => new Reader(hex('00')).compactString(), ProtocolError, 'compact null in non-nullable');
  t.throws(() => new Reader(hex('ffffffff0f')).compactNullableString(), ProtocolError, 'huge compact length');
  t.end();
});

t.test('bytes are views, never copies', (t) => {
  const input = hex('00000003 010203 04 aabbcc ffffffff 00');
  const r = new Reader(input);
  const b = r.bytes();
  t.same([...b], [1, 2, 3]);
  t.equal(b.buffer, input.buffer, 'same backing memory');
  t.equal(b.byteOffset, input.byteOffset + 4);
  const c = r.compactBytes();
  t.same([...c], [0xaa, 0xbb, 0xcc]);
  t.equal(c.buffer, input.buffer);
  t.equal(r.nullableBytes(), null);
  t.equal(r.compactNullableBytes(), null);
  t.throws(() => new Reader(hex('ffffffff')).bytes(), ProtocolError);
  t.throws(() => new Reader(hex('fffffffe')).nullableBytes(), ProtocolError);
  t.throws(() => new Reader(hex('7fffffff 00')).bytes(), ProtocolError, 'length beyond the input, no allocation');
  t.throws(() => new Reader(hex('80000000')).nullableBytes(), ProtocolError);
  t.end();
});

t.test('array lengths: null, sanity-checked counts', (t) => {
  t.equal(new Reader(hex('ffffffff')).arrayLength(), -1);
  t.equal(new Reader(hex('00')).compactArrayLength(), -1);
  t.equal(new Reader(hex('00000000')).arrayLength(), 0);
  t.equal(new Reader(hex('01')).compactArrayLength(), 0);
  t.equal(new Reader(hex('00000002 0000')).arrayLength(), 2);
  t.throws(() => new Reader(hex('fffffffe')).arrayLength(), ProtocolError, 'negative count');
  t.throws(() => new Reader(hex('7fffffff 00')).arrayLength(), ProtocolError, 'count beyond remaining bytes');
  t.throws(() => new Reader(hex('00000003 0000')).arrayLength(), ProtocolError);
  t.throws(() => new Reader(hex('ffffffff0f')).compactArrayLength(), ProtocolError);
  t.end();
});

t.test('skip, sub, offsets and windows', (t) => {
  const r = new Reader(hex('0102030405060708'), 1, 6);
  t.equal(r.offset, 1);
  t.equal(r.remaining, 5);
  r.skip(2);
  t.equal(r.int8(), 4);
  const s = r.sub(2);
  t.equal(r.remaining, 0);
  t.equal(s.int16(), 0x0506);
  t.throws(() => s.int8(), ProtocolError);
  t.throws(() => r.skip(1), ProtocolError);
  t.throws(() => r.skip(-1), ProtocolError);
  t.throws(() => new Reader(Buffer.alloc(2), 0, 3), ProtocolError);
  t.end();
});
