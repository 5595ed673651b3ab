// Bounds-checked big-endian reader for the Kafka wire protocol.
//
// Every read checks the remaining bytes first and throws ProtocolError on malformed input (never a
// RangeError from Buffer, never an allocation sized by an unchecked length from the wire).
// bytes()/records come back as views (subarray) into the input buffer: nothing is copied.

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** A shared empty buffer (default of bytes fields; never written to). */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
const EMPTY = EMPTY_BUFFER;

/** A tagged field this version of the definitions does not know, kept as raw bytes. */
export interface UnknownTaggedField {
  tag: number;
  data: Buffer;
}

export class Reader {
  /** The underlying buffer (views returned by bytes() point into it). */
  readonly buf: Buffer;
  /** Current read position (absolute index into buf). */
  offset: number;
  /** End of the readable region (exclusive, absolute index into buf). */
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (!Number.isInteger(offset) || !Number.isInteger(end) || offset < 0 || end > buf.length || offset > end) {
      throw new ProtocolError(`invalid reader bounds ${offset}..${end} for a buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  #need(n: number, what: string): void {
    if (this.end - this.offset < n) {
      throw new ProtocolError(`truncated input: ${what} needs ${n} bytes, ${this.end - this.offset} remaining`);
    }
  }

  skip(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new ProtocolError(`invalid skip length ${n}`);
    this.#need(n, 'skip');
    this.offset += n;
  }

  int8(): number {
    this.#need(1, 'int8');
    return this.buf.readInt8(this.offset++);
  }

  bool(): boolean {
    this.#need(1, 'bool');
    // Kafka reads any non-zero byte as true.
    return this.buf[this.offset++] !== 0;
  }

  int16(): number {
    this.#need(2, 'int16');
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.#need(2, 'uint16');
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.#need(4, 'int32');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.#need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int64(): bigint {
    this.#need(8, 'int64');
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  float64(): number {
    this.#need(8, 'float64');
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  /** A 16-byte UUID in Kafka's textual form (URL-safe base64 without padding, 22 characters). */
  uuid(): string {
    this.#need(16, 'uuid');
    const s = this.buf.toString('base64url', this.offset, this.offset + 16);
    this.offset += 16;
    return s;
  }

  /** Unsigned LEB128, at most 5 bytes (a 32-bit value), as used by flexible versions. */
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.offset >= this.end) throw new ProtocolError('truncated input: unsigned varint');
      const b = this.buf[this.offset++]!;
      if (i === 4 && b > 0x0f) throw new ProtocolError('unsigned varint does not fit in 32 bits');
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
    throw new ProtocolError('unsigned varint is longer than 5 bytes');
  }

  /** Zig-zag signed varint (int32), as inside record batches. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag signed varlong (int64, at most 10 bytes). */
  varlong(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) throw new ProtocolError('truncated input: varlong');
      const b = this.buf[this.offset++]!;
      if (i === 9 && b > 0x01) throw new ProtocolError('varlong does not fit in 64 bits');
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (value >> 1n) ^ -(value & 1n);
      shift += 7n;
    }
    throw new ProtocolError('varlong is longer than 10 bytes');
  }

  #utf8(len: number, what: string): string {
    this.#need(len, what);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  #view(len: number, what: string): Buffer {
    this.#need(len, what);
    if (len === 0) return EMPTY;
    const b = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return b;
  }

  /** Classic string: int16 length + UTF-8. Null (length -1) is an error. */
  string(): string {
    const len = this.int16();
    if (len < 0) throw new ProtocolError(len === -1 ? 'null in a non-nullable string' : `invalid string length ${len}`);
    return this.#utf8(len, 'string');
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError(`invalid string length ${len}`);
    return this.#utf8(len, 'string');
  }

  /** Compact string: uvarint(length + 1) + UTF-8. Null (0) is an error. */
  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('null in a non-nullable compact string');
    return this.#utf8(n - 1, 'compact string');
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.#utf8(n - 1, 'compact string');
  }

  /** Classic bytes: int32 length + data, returned as a view into the input. */
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new ProtocolError(len === -1 ? 'null in non-nullable bytes' : `invalid bytes length ${len}`);
    return this.#view(len, 'bytes');
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError(`invalid bytes length ${len}`);
    return this.#view(len, 'bytes');
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('null in non-nullable compact bytes');
    return this.#view(n - 1, 'compact bytes');
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.#view(n - 1, 'compact bytes');
  }

  /** A view of the next n bytes (no length prefix). */
  rawBytes(n: number): Buffer {
    if (!Number.isInteger(n) || n < 0) throw new ProtocolError(`invalid length ${n}`);
    return this.#view(n, 'raw bytes');
  }

  /**
   * A reader over the next n bytes (for a tagged field's payload); this reader moves past them.
   */
  sub(n: number): Reader {
    if (!Number.isInteger(n) || n < 0) throw new ProtocolError(`invalid length ${n}`);
    this.#need(n, 'sub-reader');
    const r = new Reader(this.buf, this.offset, this.offset + n);
    this.offset += n;
    return r;
  }

  #checkCount(count: number): number {
    // Every element takes at least one byte, so a count beyond the remaining bytes is malformed
    // (this is also what bounds the allocation of the decoded array).
    if (count > this.end - this.offset) {
      throw new ProtocolError(`array of ${count} elements but only ${this.end - this.offset} bytes remaining`);
    }
    return count;
  }

  /** Classic array count: int32; -1 = null (returned as -1). */
  arrayLength(): number {
    const n = this.int32();
    if (n === -1) return -1;
    if (n < 0) throw new ProtocolError(`invalid array length ${n}`);
    return this.#checkCount(n);
  }

  /** Compact array count: uvarint(count + 1); 0 = null (returned as -1). */
  compactArrayLength(): number {
    const n = this.uvarint();
    if (n === 0) return -1;
    return this.#checkCount(n - 1);
  }
}
