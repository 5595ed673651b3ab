// Record-batch compression codecs (attributes bits 0-2).
//
//   0 none   identity
//   1 gzip   node:zlib (gunzip accepts multi-member streams)
//   2 snappy `snappy` package for the raw block format, plus the xerial
//            framing that snappy-java's SnappyOutputStream (the Java client)
//            writes:  "\x82SNAPPY\x00" + int32 version + int32 compatible
//            version, then repeated [int32 BE length][raw snappy block].
//            decompress() accepts both xerial and plain raw snappy (librdkafka
//            and snappy-java's SnappyInputStream both do the same sniffing),
//            and also concatenated xerial streams (a header re-appearing
//            between blocks, as SnappyInputStream allows).
//            compress() writes xerial (version 1, compatible 1, 32 KiB input
//            blocks like snappy-java's default), the form every client
//            reads: Java via SnappyInputStream, librdkafka via its
//            java-framing detection, kafkajs-snappy via its xerial reader.
//   3 lz4    LZ4 *frame* format via lz4-napi compressFrameSync /
//            decompressFrameSync (lz4_flex). Our frames: independent blocks,
//            max block size picked by lz4_flex from the input size (64 KiB
//            up to 4 MiB: clients read every size), no block/content
//            checksums, correct header checksum. Only the first frame of
//            concatenated frames is decoded (lz4_flex). Kafka's broken header-checksum quirk only concerns
//            magic 0/1 message sets, never v2 batches, so no special casing.
//   4 zstd   node:zlib zstdCompressSync / zstdDecompressSync (Node >= 22.15).
//
// Errors are CompressionError with a `kind`:
//   'UNSUPPORTED_CODEC' codec id 5-7 (or anything not 0-4)
//   'CORRUPT'           the compressed bytes could not be decoded
//   'TOO_LARGE'         the output would exceed maxOutputBytes
// Use codecError(codec) to get an error value without throwing.

import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';

// The snappy and lz4 native addons load on first use: each costs ~4 MiB of RSS and some start-up time,
// and many deployments never see a snappy or lz4 batch.
const require = createRequire(import.meta.url);
let snappyLib: typeof import('snappy') | undefined;
let lz4Lib: typeof import('lz4-napi') | undefined;
const snappy = (): typeof import('snappy') => (snappyLib ??= require('snappy') as typeof import('snappy'));
const lz4 = (): typeof import('lz4-napi') => (lz4Lib ??= require('lz4-napi') as typeof import('lz4-napi'));

export const CODEC_NONE = 0;
export const CODEC_GZIP = 1;
export const CODEC_SNAPPY = 2;
export const CODEC_LZ4 = 3;
export const CODEC_ZSTD = 4;

export type CompressionCodec = 0 | 1 | 2 | 3 | 4;

export const CODEC_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export type CompressionErrorKind = 'UNSUPPORTED_CODEC' | 'CORRUPT' | 'TOO_LARGE';

export class CompressionError extends Error {
  readonly kind: CompressionErrorKind;
  readonly codec: number;
  constructor(kind: CompressionErrorKind, codec: number, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CompressionError';
    this.kind = kind;
    this.codec = codec;
  }
}

export function isSupportedCodec(codec: number): codec is CompressionCodec {
  return codec === 0 || codec === 1 || codec === 2 || codec === 3 || codec === 4;
}

/** null when the codec id is supported, else a CompressionError value (not thrown). */
export function codecError(codec: number): CompressionError | null {
  return isSupportedCodec(codec)
    ? null
    : new CompressionError('UNSUPPORTED_CODEC', codec, `Unknown compression codec id ${codec}`);
}

export function codecName(codec: number): string | null {
  return isSupportedCodec(codec) ? CODEC_NAMES[codec]! : null;
}

export interface CompressOptions {
  /** gzip: 0-9 (default zlib's 6); zstd: 1-22 (default 3). Ignored by snappy/lz4. */
  level?: number;
}

export interface DecompressOptions {
  /**
   * Upper bound on the decompressed size (decompression-bomb guard). Enforced
   * while inflating for gzip/zstd, from the declared block lengths for snappy,
   * and for lz4 from an upper bound its block headers give (lz4MaxOutput; it can
   * reject a frame up to one block early). Default: no limit beyond Node's buffer limit.
   */
  maxOutputBytes?: number;
}

// ---------------------------------------------------------------------------
// snappy (raw + xerial)

/** "\x82SNAPPY\x00" */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_LEN = 16;
const XERIAL_BLOCK = 32 * 1024;

function hasXerialMagicAt(buf: Buffer, off: number): boolean {
  if (buf.length - off < XERIAL_HEADER_LEN) return false;
  for (let i = 0; i < 8; i++) if (buf[off + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** True when `buf` starts with the xerial/snappy-java stream header. */
export function isXerialSnappy(buf: Buffer): boolean {
  return hasXerialMagicAt(buf, 0);
}

/** Uncompressed length declared at the head of a raw snappy block (uvarint), or -1 if malformed. */
function snappyDeclaredLength(buf: Buffer, off: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 5 && off < end; i++, off++) {
    const b = buf[off]!;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return v;
    mul *= 128;
  }
  return -1;
}

function snappyRaw(block: Buffer): Buffer {
  return snappy().uncompressSync(block, { asBuffer: true }) as Buffer;
}

/** Splits a xerial stream into its raw snappy blocks (throws CompressionError('CORRUPT')). */
function xerialBlocks(buf: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (hasXerialMagicAt(buf, pos)) {
      // Header (at the start, or of a concatenated stream). Version fields are
      // not checked beyond the magic, as in snappy-java.
      pos += XERIAL_HEADER_LEN;
      continue;
    }
    if (buf.length - pos < 4) throw new CompressionError('CORRUPT', CODEC_SNAPPY, 'truncated xerial snappy block length');
    const n = buf.readInt32BE(pos);
    pos += 4;
    if (n < 0 || n > buf.length - pos) throw new CompressionError('CORRUPT', CODEC_SNAPPY, `bad xerial snappy block length ${n}`);
    blocks.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return blocks;
}

export function snappyDecompress(buf: Buffer, maxOutputBytes = Infinity): Buffer {
  try {
    if (!isXerialSnappy(buf)) {
      const declared = snappyDeclaredLength(buf, 0, buf.length);
      if (declared > maxOutputBytes) throw tooLarge(CODEC_SNAPPY, maxOutputBytes);
      return snappyRaw(buf);
    }
    const blocks = xerialBlocks(buf);
    let total = 0;
    for (const b of blocks) {
      const d = snappyDeclaredLength(b, 0, b.length);
      if (d < 0) throw new CompressionError('CORRUPT', CODEC_SNAPPY, 'bad snappy block header');
      total += d;
    }
    if (total > maxOutputBytes) throw tooLarge(CODEC_SNAPPY, maxOutputBytes);
    if (blocks.length === 1) return snappyRaw(blocks[0]!);
    const out = Buffer.allocUnsafe(total);
    let off = 0;
    for (const b of blocks) {
      const d = snappyRaw(b);
      if (off + d.length > total) throw new CompressionError('CORRUPT', CODEC_SNAPPY, 'snappy block longer than declared');
      d.copy(out, off);
      off += d.length;
    }
    if (off !== total) throw new CompressionError('CORRUPT', CODEC_SNAPPY, 'snappy block shorter than declared');
    return out;
  } catch (e) {
    throw asCorrupt(CODEC_SNAPPY, e);
  }
}

function xerialHeader(out: Buffer): number {
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(1, 8); // version
  out.writeInt32BE(1, 12); // minimum compatible version
  return XERIAL_HEADER_LEN;
}

function assembleXerial(blocks: Buffer[]): Buffer {
  let total = XERIAL_HEADER_LEN;
  for (const b of blocks) total += 4 + b.length;
  const out = Buffer.allocUnsafe(total);
  let off = xerialHeader(out);
  for (const b of blocks) {
    out.writeInt32BE(b.length, off);
    off += 4;
    b.copy(out, off);
    off += b.length;
  }
  return out;
}

/** Xerial-framed snappy, as snappy-java's SnappyOutputStream writes it. */
export function snappyCompressXerial(buf: Buffer): Buffer {
  const blocks: Buffer[] = [];
  for (let off = 0; off < buf.length; off += XERIAL_BLOCK) {
    blocks.push(snappy().compressSync(buf.subarray(off, Math.min(off + XERIAL_BLOCK, buf.length))));
  }
  return assembleXerial(blocks);
}

/** Plain raw snappy (one block), as librdkafka writes it. */
export function snappyCompressRaw(buf: Buffer): Buffer {
  return snappy().compressSync(buf);
}

// ---------------------------------------------------------------------------

function tooLarge(codec: number, max: number): CompressionError {
  return new CompressionError('TOO_LARGE', codec, `decompressed ${CODEC_NAMES[codec]} data exceeds ${max} bytes`);
}

function asCorrupt(codec: number, e: unknown): CompressionError {
  if (e instanceof CompressionError) return e;
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ERR_BUFFER_TOO_LARGE') return new CompressionError('TOO_LARGE', codec, `decompressed ${CODEC_NAMES[codec]} data too large`, e);
  const msg = e instanceof Error ? e.message : String(e);
  return new CompressionError('CORRUPT', codec, `${CODEC_NAMES[codec]} decompression failed: ${msg}`, e);
}

function unsupported(codec: number): CompressionError {
  return new CompressionError('UNSUPPORTED_CODEC', codec, `Unknown compression codec id ${codec}`);
}

function zlibMax(max: number | undefined): { maxOutputLength?: number } {
  return max === undefined || max === Infinity ? {} : { maxOutputLength: Math.max(1, max) };
}

/** Compresses `buf` with `codec`. Codec 0 returns `buf` itself. Throws CompressionError. */
export function compress(codec: number, buf: Buffer, options: CompressOptions = {}): Buffer {
  switch (codec) {
    case CODEC_NONE:
      return buf;
    case CODEC_GZIP:
      return zlib.gzipSync(buf, options.level === undefined ? {} : { level: options.level });
    case CODEC_SNAPPY:
      return snappyCompressXerial(buf);
    case CODEC_LZ4:
      return lz4().compressFrameSync(buf);
    case CODEC_ZSTD:
      return zlib.zstdCompressSync(
        buf,
        options.level === undefined ? {} : { params: { [zlib.constants.ZSTD_c_compressionLevel]: options.level } },
      );
    default:
      throw unsupported(codec);
  }
}

/** Decompresses `buf`. Codec 0 returns `buf` itself. Throws CompressionError. */
export function decompress(codec: number, buf: Buffer, options: DecompressOptions = {}): Buffer {
  const max = options.maxOutputBytes;
  switch (codec) {
    case CODEC_NONE:
      return buf;
    case CODEC_GZIP:
      try {
        return zlib.gunzipSync(buf, zlibMax(max));
      } catch (e) {
        if (max !== undefined && (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(codec, max);
        throw asCorrupt(codec, e);
      }
    case CODEC_SNAPPY:
      return snappyDecompress(buf, max);
    case CODEC_LZ4: {
      lz4CheckBound(buf, max);
      let out: Buffer;
      try {
        out = lz4().decompressFrameSync(buf);
      } catch (e) {
        throw asCorrupt(codec, e);
      }
      if (max !== undefined && out.length > max) throw tooLarge(codec, max);
      return out;
    }
    case CODEC_ZSTD:
      try {
        return zlib.zstdDecompressSync(buf, zlibMax(max));
      } catch (e) {
        if (max !== undefined && (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(codec, max);
        throw asCorrupt(codec, e);
      }
    default:
      throw unsupported(codec);
  }
}

// ---------------------------------------------------------------------------
// Async variants (work off the JS thread for gzip/zstd/snappy/lz4). Same
// formats and errors (rejections) as the sync functions.

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);
const zstdCompressAsync = promisify(zlib.zstdCompress);
const zstdDecompressAsync = promisify(zlib.zstdDecompress);

export async function compressAsync(codec: number, buf: Buffer, options: CompressOptions = {}): Promise<Buffer> {
  switch (codec) {
    case CODEC_NONE:
      return buf;
    case CODEC_GZIP:
      return gzipAsync(buf, options.level === undefined ? {} : { level: options.level });
    case CODEC_SNAPPY: {
      const parts: Promise<Buffer>[] = [];
      for (let off = 0; off < buf.length; off += XERIAL_BLOCK) {
        parts.push(snappy().compress(buf.subarray(off, Math.min(off + XERIAL_BLOCK, buf.length))));
      }
      return assembleXerial(await Promise.all(parts));
    }
    case CODEC_LZ4:
      return lz4().compressFrame(buf);
    case CODEC_ZSTD:
      return zstdCompressAsync(
        buf,
        options.level === undefined ? {} : { params: { [zlib.constants.ZSTD_c_compressionLevel]: options.level } },
      );
    default:
      throw unsupported(codec);
  }
}

/** Below this many output bytes a xerial stream is inflated on the JS thread (well under a millisecond). */
const XERIAL_SYNC_BYTES = 256 * 1024;

/** Xerial snappy off the JS thread: blocks are inflated in parallel on the thread pool, after the bound check. */
async function xerialDecompressAsync(buf: Buffer, max = Infinity): Promise<Buffer> {
  let blocks: Buffer[];
  let total = 0;
  try {
    blocks = xerialBlocks(buf);
    for (const b of blocks) {
      const d = snappyDeclaredLength(b, 0, b.length);
      if (d < 0) throw new CompressionError('CORRUPT', CODEC_SNAPPY, 'bad snappy block header');
      total += d;
    }
  } catch (e) {
    throw asCorrupt(CODEC_SNAPPY, e);
  }
  if (total > max) throw tooLarge(CODEC_SNAPPY, max);
  if (total <= XERIAL_SYNC_BYTES) return snappyDecompress(buf, max);
  let parts: Buffer[];
  try {
    parts = (await Promise.all(blocks.map((b) => snappy().uncompress(b, { asBuffer: true })))) as Buffer[];
  } catch (e) {
    throw asCorrupt(CODEC_SNAPPY, e);
  }
  const out = Buffer.concat(parts);
  if (out.length !== total) throw new CompressionError('CORRUPT', CODEC_SNAPPY, 'snappy blocks differ from their declared lengths');
  return out;
}

// LZ4 frame: magic, FLG, BD (block max size), optional content size / dict id, header checksum; then blocks
// of [uint32 LE size, high bit = stored uncompressed][data][optional checksum], size 0 ends the frame.
const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/**
 * An upper bound of an LZ4 frame sequence's decompressed size from its block headers alone: a
 * compressed block inflates to at most the frame's block maximum. lz4-napi only decompresses whole
 * frames into memory, so this is checked before decompressing. -1 when the framing is not LZ4's
 * (decompression then reports it).
 */
export function lz4MaxOutput(buf: Buffer): number {
  let pos = 0;
  let total = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 7) return -1;
    const magic = buf.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // Skippable frame.
      if (buf.length - pos < 8) return -1;
      pos += 8 + buf.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) return -1;
    const flg = buf[pos + 4]!;
    const blockMax = LZ4_BLOCK_MAX[(buf[pos + 5]! >> 4) & 7]!;
    if (blockMax === 0) return -1;
    pos += 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
    const blockChecksum = flg & 0x10 ? 4 : 0;
    for (;;) {
      if (buf.length - pos < 4) return -1;
      const word = buf.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      // An LZ4 sequence turns each input byte into at most 255 output bytes (match-length runs).
      total += word & 0x80000000 ? size : Math.min(blockMax, size * 255 + 24);
      pos += size + blockChecksum;
    }
    if (flg & 0x04) pos += 4; // content checksum
  }
  return total;
}

function lz4CheckBound(buf: Buffer, max: number | undefined): void {
  if (max === undefined || max === Infinity) return;
  if (lz4MaxOutput(buf) > max) throw tooLarge(CODEC_LZ4, max);
}

// ---------------------------------------------------------------------------
// Synchronous decompression of small sections (the Produce fast path). A thread-pool round trip costs more
// than inflating a few hundred KiB, and serialises a producer's batches behind it; up to 1 MiB of output
// (librdkafka's default batch.size is 1,000,000 bytes) decompression on the JS thread takes well under
// ~2 ms. Wall time for 1 MiB of output on the 2-core dev machine (load ~10, 100 calls, 100-byte records /
// zeros / random): gzip p50 ≤ 0.63 ms, zstd ≤ 0.54 ms, lz4 0.55 ms (p90 0.8–1.9), snappy raw 0.45 ms,
// xerial 0.69 ms (p90 ≤ 1.45).
/** Output cap of decompressSmall per codec id. */
export const SYNC_DECOMPRESS_BYTES: readonly number[] = [Infinity, 1024 * 1024, 1024 * 1024, 1024 * 1024, 1024 * 1024];

/**
 * The Frame_Content_Size of a zstd frame's header, or -1 when absent or not a zstd frame (a hint only: the
 * decoder, not this, bounds the output).
 */
export function zstdContentSize(buf: Buffer): number {
  if (buf.length < 6 || buf.readUInt32LE(0) !== 0xfd2fb528) return -1;
  const fhd = buf[4]!;
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  const size = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
  if (size === 0 || buf.length < at + size) return -1;
  switch (size) {
    case 1: return buf[at]!;
    case 2: return buf.readUInt16LE(at) + 256;
    case 4: return buf.readUInt32LE(at);
    default: return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 2 ** 32;
  }
}

/**
 * Decompresses `buf` on the JS thread when its output is known to stay within `cap` (snappy: declared
 * lengths, which the decoder holds it to; lz4: the block-header bound of lz4MaxOutput) or is held to it
 * while inflating (gzip, zstd: maxOutputLength, after a look at the gzip ISIZE trailer / zstd content size
 * so that an honest larger section is not inflated twice). null when the output may exceed `cap`: the
 * caller takes the asynchronous bounded path (decompressAsync). The compressed input is held to `cap`
 * too (inflating time also grows with it). Throws CompressionError like decompress().
 */
export function decompressSmall(codec: number, buf: Buffer, cap: number): Buffer | null {
  if (buf.length > cap) return null;
  switch (codec) {
    case CODEC_NONE:
      return buf;
    case CODEC_GZIP:
    case CODEC_ZSTD: {
      const hint = codec === CODEC_ZSTD ? zstdContentSize(buf) : buf.length >= 18 ? buf.readUInt32LE(buf.length - 4) : -1;
      if (hint > cap) return null;
      try {
        return codec === CODEC_GZIP ? zlib.gunzipSync(buf, { maxOutputLength: cap }) : zlib.zstdDecompressSync(buf, { maxOutputLength: cap });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return null;
        throw asCorrupt(codec, e);
      }
    }
    case CODEC_SNAPPY: {
      let total: number;
      if (isXerialSnappy(buf)) {
        total = 0;
        try {
          for (const b of xerialBlocks(buf)) total += Math.max(0, snappyDeclaredLength(b, 0, b.length));
        } catch (e) {
          throw asCorrupt(codec, e);
        }
      } else total = snappyDeclaredLength(buf, 0, buf.length);
      return total > cap ? null : snappyDecompress(buf, cap);
    }
    case CODEC_LZ4: {
      const bound = lz4MaxOutput(buf);
      if (bound < 0 || bound > cap) return null;
      return decompress(codec, buf, { maxOutputBytes: cap });
    }
    default:
      throw unsupported(codec);
  }
}

export async function decompressAsync(codec: number, buf: Buffer, options: DecompressOptions = {}): Promise<Buffer> {
  const max = options.maxOutputBytes;
  switch (codec) {
    case CODEC_NONE:
      return buf;
    case CODEC_GZIP:
    case CODEC_ZSTD:
      try {
        // 64 KiB chunks: fewer thread-pool round trips; maxOutputLength stops inflating at the bound.
        return await (codec === CODEC_GZIP ? gunzipAsync : zstdDecompressAsync)(buf, { chunkSize: 64 * 1024, ...zlibMax(max) });
      } catch (e) {
        if (max !== undefined && (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(codec, max);
        throw asCorrupt(codec, e);
      }
    case CODEC_SNAPPY:
      if (isXerialSnappy(buf)) return xerialDecompressAsync(buf, max);
      try {
        const declared = snappyDeclaredLength(buf, 0, buf.length);
        if (max !== undefined && declared > max) throw tooLarge(codec, max);
        return (await snappy().uncompress(buf, { asBuffer: true })) as Buffer;
      } catch (e) {
        throw asCorrupt(codec, e);
      }
    case CODEC_LZ4: {
      lz4CheckBound(buf, max);
      let out: Buffer;
      try {
        out = await lz4().decompressFrame(buf);
      } catch (e) {
        throw asCorrupt(codec, e);
      }
      if (max !== undefined && out.length > max) throw tooLarge(codec, max);
      return out;
    }
    default:
      throw unsupported(codec);
  }
}
