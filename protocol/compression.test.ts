import t from 'tap';
import zlib from 'node:zlib';
import { compressSync as rawSnappy } from 'snappy';
import { compressFrameSync } from 'lz4-napi';
import {
  compress,
  decompress,
  compressAsync,
  decompressAsync,
  CompressionError,
  codecError,
  codecName,
  isSupportedCodec,
  isXerialSnappy,
  snappyCompressRaw,
  XERIAL_MAGIC,
  lz4MaxOutput,
  snappyCompressXerial,
  CODEC_GZIP,
  CODEC_SNAPPY,
  CODEC_LZ4,
  CODEC_ZSTD,
  SYNC_DECOMPRESS_BYTES,
  decompressSmall,
  zstdContentSize,
} from './compression.ts';
import crypto from 'node:crypto';

async function rejectionKind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof CompressionError ? e.kind : `not a CompressionError: ${e}`;
  }
}

function pseudoRandom(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function compressible(n: number): Buffer {
  const b = Buffer.alloc(n);
  const words = ['kafka ', 'record ', 'batch ', 'offset ', 'gregor '];
  let off = 0;
  for (let i = 0; off < n; i++) off += b.write(words[(i * 7) % 5]!, off);
  return b;
}

const samples: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([42])],
  ['small text', Buffer.from('hello hello hello kafka')],
  ['200 KiB compressible', compressible(200 * 1024)],
  ['100 KiB random', pseudoRandom(100 * 1024)],
];

t.test('round trip every codec, sync and async', async (t) => {
  for (const codec of [0, 1, 2, 3, 4]) {
    for (const [name, data] of samples) {
      const c = compress(codec, data);
      t.ok(decompress(codec, c).equals(data), `${codecName(codec)} sync ${name}`);
      const ca = await compressAsync(codec, data);
      t.ok((await decompressAsync(codec, ca)).equals(data), `${codecName(codec)} async ${name}`);
      t.ok(decompress(codec, ca).equals(data), `${codecName(codec)} async->sync ${name}`);
    }
  }
  t.ok(compress(CODEC_GZIP, compressible(10000), { level: 9 }).length < 10000);
  t.ok(decompress(CODEC_ZSTD, compress(CODEC_ZSTD, compressible(10000), { level: 19 })).equals(compressible(10000)));
});

t.test('codec ids and unknown codecs', async (t) => {
  t.same([0, 1, 2, 3, 4].map(codecName), ['none', 'gzip', 'snappy', 'lz4', 'zstd']);
  t.equal(codecName(5), null);
  t.ok(isSupportedCodec(4));
  t.notOk(isSupportedCodec(7));
  t.equal(codecError(3), null);
  const e = codecError(6);
  t.ok(e instanceof CompressionError);
  t.equal(e!.kind, 'UNSUPPORTED_CODEC');
  t.equal(e!.codec, 6);
  for (const fn of [() => compress(5, Buffer.alloc(1)), () => decompress(7, Buffer.alloc(1))]) {
    const err = t.throws(fn) as CompressionError;
    t.ok(err instanceof CompressionError);
    t.equal(err.kind, 'UNSUPPORTED_CODEC');
  }
  t.equal(await rejectionKind(decompressAsync(5, Buffer.alloc(1))), 'UNSUPPORTED_CODEC');
  const data = Buffer.from('x');
  t.equal(compress(0, data), data, 'none is identity without copy');
  t.equal(decompress(0, data), data);
});

t.test('snappy: written as xerial (snappy-java framing)', async (t) => {
  const data = compressible(100 * 1024);
  const c = compress(CODEC_SNAPPY, data);
  t.ok(isXerialSnappy(c));
  t.ok(c.subarray(0, 8).equals(XERIAL_MAGIC));
  t.equal(c.readInt32BE(8), 1, 'version 1');
  t.equal(c.readInt32BE(12), 1, 'compatible version 1');
  // Walk the blocks: each is a raw snappy block of <= 32 KiB input.
  let pos = 16;
  let blocks = 0;
  let total = 0;
  while (pos < c.length) {
    const n = c.readInt32BE(pos);
    const block = c.subarray(pos + 4, pos + 4 + n);
    const d = decompress(CODEC_SNAPPY, Buffer.from(block)); // a bare block is raw snappy
    t.ok(d.length <= 32 * 1024);
    total += d.length;
    pos += 4 + n;
    blocks++;
  }
  t.equal(pos, c.length);
  t.equal(blocks, 4);
  t.equal(total, data.length);
});

t.test('snappy: reads xerial built by hand (as snappy-java writes), raw, and concatenated xerial', async (t) => {
  const parts = [compressible(5000), pseudoRandom(3000, 7), Buffer.from('tail')];
  const header = Buffer.alloc(16);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const chunkBufs: Buffer[] = [];
  for (const p of parts) {
    const raw = rawSnappy(p);
    const len = Buffer.alloc(4);
    len.writeInt32BE(raw.length, 0);
    chunkBufs.push(len, raw);
  }
  const xerial = Buffer.concat([header, ...chunkBufs]);
  const want = Buffer.concat(parts);
  t.ok(decompress(CODEC_SNAPPY, xerial).equals(want), 'xerial');
  t.ok((await decompressAsync(CODEC_SNAPPY, xerial)).equals(want), 'xerial async');

  const raw = rawSnappy(want);
  t.notOk(isXerialSnappy(raw));
  t.ok(decompress(CODEC_SNAPPY, raw).equals(want), 'raw (librdkafka style)');
  t.ok((await decompressAsync(CODEC_SNAPPY, raw)).equals(want), 'raw async');
  t.ok(decompress(CODEC_SNAPPY, snappyCompressRaw(want)).equals(want));

  // Old snappy-java versions wrote version 1 / compatible 1; others may differ — only the magic matters.
  const v2 = Buffer.from(xerial);
  v2.writeInt32BE(2, 8);
  t.ok(decompress(CODEC_SNAPPY, v2).equals(want), 'version field not enforced');

  const twice = Buffer.concat([xerial, xerial]);
  t.ok(decompress(CODEC_SNAPPY, twice).equals(Buffer.concat([want, want])), 'concatenated streams');

  const headerOnly = header;
  t.equal(decompress(CODEC_SNAPPY, headerOnly).length, 0, 'header with no blocks is empty');
});

t.test('snappy: corrupt input is CompressionError CORRUPT', async (t) => {
  const xerial = compress(CODEC_SNAPPY, compressible(1000));
  const cases: [string, Buffer][] = [
    ['block length past end', Buffer.concat([xerial.subarray(0, 16), Buffer.from([0, 0, 1, 0, 1, 2])])],
    ['negative block length', Buffer.concat([xerial.subarray(0, 16), Buffer.from([0xff, 0, 0, 0])])],
    ['truncated block length', Buffer.concat([xerial.subarray(0, 16), Buffer.from([0, 0])])],
    ['truncated stream', xerial.subarray(0, xerial.length - 3)],
    ['garbage raw', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ];
  for (const [name, buf] of cases) {
    const e = t.throws(() => decompress(CODEC_SNAPPY, buf), name) as CompressionError;
    t.ok(e instanceof CompressionError, name);
    t.equal(e.kind, 'CORRUPT', name);
  }
});

t.test('lz4: frame format details', async (t) => {
  const data = compressible(150 * 1024);
  const c = compress(CODEC_LZ4, data);
  t.equal(c.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
  const flg = c[4]!;
  t.equal(flg >> 6, 1, 'frame version 01');
  t.ok(flg & 0x20, 'independent blocks (what Kafka Java writes/expects)');
  // Frames with block and content checksums (other writers) are read too.
  const withSums = compressFrameSync(data, { blockChecksums: true, contentChecksum: true });
  t.ok(decompress(CODEC_LZ4, withSums).equals(data));
  // Hand-built frame with a stored (uncompressed) block, as Java's
  // KafkaLZ4BlockOutputStream emits when a block does not compress.
  const ref = compressFrameSync(Buffer.from('x')); // reuse its 7-byte header (FLG/BD/HC)
  const payload = Buffer.from('stored block, not compressed');
  const blk = Buffer.alloc(4);
  blk.writeUInt32LE((payload.length | 0x80000000) >>> 0, 0);
  const stored = Buffer.concat([ref.subarray(0, 7), blk, payload, Buffer.alloc(4)]);
  t.ok(decompress(CODEC_LZ4, stored).equals(payload));
  const e = t.throws(() => decompress(CODEC_LZ4, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))) as CompressionError;
  t.equal(e.kind, 'CORRUPT');
  t.equal(await rejectionKind(decompressAsync(CODEC_LZ4, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))), 'CORRUPT');
});

t.test('gzip: multi-member streams and corrupt input', async (t) => {
  const a = Buffer.from('first member ');
  const b = Buffer.from('second member');
  t.ok(decompress(CODEC_GZIP, Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)])).equals(Buffer.concat([a, b])));
  const e = t.throws(() => decompress(CODEC_GZIP, Buffer.from('not gzip at all'))) as CompressionError;
  t.ok(e instanceof CompressionError);
  t.equal(e.kind, 'CORRUPT');
  t.equal(e.codec, CODEC_GZIP);
  const ez = t.throws(() => decompress(CODEC_ZSTD, Buffer.from('not zstd at all'))) as CompressionError;
  t.equal(ez.kind, 'CORRUPT');
  t.equal(await rejectionKind(decompressAsync(CODEC_ZSTD, Buffer.from('nope'))), 'CORRUPT');
});

t.test('maxOutputBytes guards against decompression bombs', async (t) => {
  const data = Buffer.alloc(1 << 20); // 1 MiB of zeros
  for (const codec of [1, 2, 3, 4]) {
    const c = compress(codec, data);
    t.ok(c.length < data.length / 10, `${codecName(codec)} compresses zeros`);
    const e = t.throws(() => decompress(codec, c, { maxOutputBytes: 1000 })) as CompressionError;
    t.equal(e.kind, 'TOO_LARGE', `${codecName(codec)} sync`);
    t.equal(await rejectionKind(decompressAsync(codec, c, { maxOutputBytes: 1000 })), 'TOO_LARGE', `${codecName(codec)} async`);
    // lz4 is bounded from its block headers, up to one block early (lz4MaxOutput).
    const exact = codec === CODEC_LZ4 ? lz4MaxOutput(c) : data.length;
    t.equal(decompress(codec, c, { maxOutputBytes: exact }).length, data.length, 'exact limit ok');
    t.equal((await decompressAsync(codec, c, { maxOutputBytes: exact })).length, data.length, 'exact limit ok (async)');
  }
  const raw = rawSnappy(data);
  t.equal((t.throws(() => decompress(CODEC_SNAPPY, raw, { maxOutputBytes: 10 })) as CompressionError).kind, 'TOO_LARGE', 'raw snappy too');
});

t.test('lz4: the bound from block headers rejects a bomb before it is inflated', async (t) => {
  const data = Buffer.alloc(8 << 20); // 8 MiB of zeros: a few KiB of lz4
  const c = compress(CODEC_LZ4, data);
  t.ok(lz4MaxOutput(c) >= data.length, 'the bound is an upper bound');
  t.ok(lz4MaxOutput(c) <= data.length + 4 * 1024 * 1024, 'at most one block above');
  t.equal(await rejectionKind(decompressAsync(CODEC_LZ4, c, { maxOutputBytes: 1 << 20 })), 'TOO_LARGE');
  t.equal(lz4MaxOutput(Buffer.from('not lz4 at all')), -1);
});

t.test('xerial snappy above the sync threshold decompresses off the JS thread, same bytes', async (t) => {
  const data = Buffer.alloc(3 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const x = snappyCompressXerial(data);
  t.ok((await decompressAsync(CODEC_SNAPPY, x)).equals(data));
  t.equal(await rejectionKind(decompressAsync(CODEC_SNAPPY, x, { maxOutputBytes: 1 << 20 })), 'TOO_LARGE');
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

t.test('decompressSmall: output up to the codec cap inflated here, beyond it null (the async path), same bytes', async (t) => {
  for (const codec of [CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD]) {
    const cap = SYNC_DECOMPRESS_BYTES[codec]!;
    // Half random, half zeros: every codec halves it (the input stays under the cap too), and lz4's bound
    // from block headers is exact for full 64 KiB blocks.
    const data = crypto.randomBytes(cap + 1);
    for (let i = 0; i + 32 < data.length; i += 64) data.fill(0, i + 32, Math.min(i + 64, data.length));
    for (const [n, inflates] of [[cap - 1, true], [cap, true], [cap + 1, false]] as const) {
      const z = (codec === 3 ? lz4Frame64k : (b: Buffer) => compress(codec, b))(data.subarray(0, n));
      const out = decompressSmall(codec, z, cap);
      if (inflates) t.same(out, data.subarray(0, n), `codec ${codec}: ${n} bytes inflated on the JS thread`);
      else t.equal(out, null, `codec ${codec}: ${n} bytes left to the async path`);
    }
    // Compressible data over the cap (small input): the headers or the cap while inflating say no.
    t.equal(decompressSmall(codec, compress(codec, Buffer.alloc(cap + 1)), cap), null, `codec ${codec}: zeros over the cap`);
    // Undecodable: CORRUPT here, or (lz4 framing not LZ4's: no bound) left to the async path, which reports it.
    const garbage = await rejectionKind((async () => decompressSmall(codec, Buffer.from('garbage'), cap))());
    t.equal(garbage, codec === CODEC_LZ4 ? 'resolved' : 'CORRUPT', `codec ${codec}: corrupt`);
    if (codec === CODEC_LZ4) t.equal(decompressSmall(codec, Buffer.from('garbage'), cap), null);
  }
  t.equal(await rejectionKind((async () => decompressSmall(7, Buffer.alloc(4), 1 << 20))()), 'UNSUPPORTED_CODEC');
});

t.test('decompressSmall: size hints that lie cannot make it inflate beyond the cap', async (t) => {
  const cap = 64 * 1024;
  // gzip: ISIZE trailer patched to claim 10 bytes; zstd without a content size in its header.
  const gz = compress(CODEC_GZIP, Buffer.alloc(10 * cap));
  gz.writeUInt32LE(10, gz.length - 4);
  t.equal(decompressSmall(CODEC_GZIP, gz, cap), null, 'gzip: stopped at the cap');
  const zs = zlib.zstdCompressSync(Buffer.alloc(10 * cap), { params: { [zlib.constants.ZSTD_c_contentSizeFlag]: 0 } });
  t.equal(zstdContentSize(zs), -1, 'no content size in this zstd frame');
  t.equal(decompressSmall(CODEC_ZSTD, zs, cap), null, 'zstd: stopped at the cap');
  // zstd content size is read from every field width.
  for (const n of [0, 200, 300, 70_000, 5_000_000]) t.equal(zstdContentSize(compress(CODEC_ZSTD, Buffer.alloc(n))), n, `zstd content size ${n}`);
  t.equal(zstdContentSize(Buffer.from('not zstd')), -1);
});
