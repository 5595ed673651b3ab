// Zig-zag signed varints / varlongs as used inside Kafka record batches (magic 2).
//
// These are NOT the unsigned LEB128 "uvarint"s of the flexible-version codec
// layer (protocol/reader.ts); here a value v is first zig-zag mapped
// (0,-1,1,-2,... -> 0,1,2,3,...) and then written 7 bits at a time, low group
// first, high bit = continuation.
//
// Limits follow Kafka's ByteUtils: a varint is at most 5 bytes (32-bit value),
// a varlong at most 10 bytes (64-bit value). Longer encodings are an error.
//
// Numbers: varints are exact. Varlongs are returned as JS numbers by
// `readVarlong` (exact when |v| <= 2^53, otherwise rounded to the nearest
// double) and exactly as bigint by `readVarlongBigInt`. Writers accept
// number (must be an integer) or bigint.

export class VarintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VarintError';
  }
}

const TWO_52 = 2 ** 52;

/** Encoded size of a zig-zag varint (value is taken as int32). */
export function sizeOfVarint(value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

/** Encoded size of a zig-zag varlong. */
export function sizeOfVarlong(value: number | bigint): number {
  if (typeof value === 'number' && value > -TWO_52 && value < TWO_52) {
    // Fast path: the zig-zag value is < 2^53, exact in a double.
    let u = value >= 0 ? value * 2 : -value * 2 - 1;
    let n = 1;
    while (u >= 0x80) {
      u = Math.floor(u / 128);
      n++;
    }
    return n;
  }
  let u = zigzag64(value);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

function zigzag64(value: number | bigint): bigint {
  const v = BigInt.asIntN(64, typeof value === 'bigint' ? value : BigInt(value));
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

/** Writes a zig-zag varint at `off`; returns the offset after it. The caller ensures room (sizeOfVarint). */
export function writeVarint(buf: Buffer, off: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[off++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[off++] = u;
  return off;
}

/** Writes a zig-zag varlong at `off`; returns the offset after it. The caller ensures room (sizeOfVarlong). */
export function writeVarlong(buf: Buffer, off: number, value: number | bigint): number {
  if (typeof value === 'number' && value > -TWO_52 && value < TWO_52) {
    let u = value >= 0 ? value * 2 : -value * 2 - 1;
    while (u >= 0x80) {
      buf[off++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    buf[off++] = u;
    return off;
  }
  let u = zigzag64(value);
  while (u >= 0x80n) {
    buf[off++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[off++] = Number(u);
  return off;
}

/**
 * A read cursor over buf[pos, end). Reads throw VarintError when they would run
 * past `end` or when an encoding is too long; `pos` is then unspecified.
 */
export class VarintCursor {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  readVarint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end) throw new VarintError('varint runs past the end of the buffer');
      const b = buf[pos++]!;
      if ((b & 0x80) === 0) {
        value |= b << shift;
        break;
      }
      value |= (b & 0x7f) << shift;
      shift += 7;
      if (shift > 28) throw new VarintError('varint is longer than 5 bytes');
    }
    this.pos = pos;
    return (value >>> 1) ^ -(value & 1);
  }

  /** Reads a zig-zag varlong as a number (exact for |v| <= 2^53). */
  readVarlong(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let u = 0;
    let mul = 1;
    // Up to 7 groups (49 bits) are accumulated exactly in a double.
    for (let i = 0; i < 7; i++) {
      if (pos >= end) throw new VarintError('varlong runs past the end of the buffer');
      const b = buf[pos++]!;
      u += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        this.pos = pos;
        // u < 2^49: zig-zag decode exactly with number math.
        return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      }
      mul *= 128;
    }
    return Number(this.readVarlongBigInt());
  }

  /** Reads a zig-zag varlong exactly as a signed 64-bit bigint. */
  readVarlongBigInt(): bigint {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let u = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= end) throw new VarintError('varlong runs past the end of the buffer');
      const b = buf[pos++]!;
      u |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new VarintError('varlong is longer than 10 bytes');
    }
    this.pos = pos;
    u = BigInt.asUintN(64, u);
    return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
  }
}
