// Growable big-endian writer for the Kafka wire protocol.
//
// Small values go into a scratch buffer that starts small and doubles. Byte payloads of at least
// ZERO_COPY_THRESHOLD bytes are not copied: the length prefix goes into scratch, the caller's Buffer
// is appended as a chunk of its own, and writing continues in a fresh scratch segment. finish()
// returns the chunks in order (scratch subarrays and referenced buffers), ready for socket.writev /
// cork+write; finishBuffer() concatenates them.

/** Byte payloads at least this large are referenced, not copied. */
export const ZERO_COPY_THRESHOLD = 4096;

const INITIAL_SIZE = 256;

/** The error thrown when a caller writes null into a field that is not nullable in that version. */
export function nullError(field: string, version: number): Error {
  return new Error(`${field}: null is not allowed in version ${version} (non-nullable field)`);
}

/** Kafka's UnsupportedVersionException: a non-default value in a field the version does not have. */
export function unsupportedFieldError(field: string, version: number): Error {
  return new Error(`${field}: a non-default value cannot be written in version ${version} (field not present, not ignorable)`);
}

export class Writer {
  #buf: Buffer;
  /** Write position in #buf. */
  #pos = 0;
  /** Start of the segment of #buf not yet emitted as a chunk. */
  #start = 0;
  #chunks: Buffer[] = [];
  /** Bytes in #chunks. */
  #chunked = 0;

  constructor(initialSize = INITIAL_SIZE) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Total bytes written so far. */
  get byteLength(): number {
    return this.#chunked + (this.#pos - this.#start);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    // The pending segment moves to a new, larger buffer; chunks already emitted keep pointing at the
    // old one, which is never written again.
    const pending = this.#pos - this.#start;
    let size = this.#buf.length * 2;
    while (size < pending + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, this.#start, this.#pos);
    this.#buf = next;
    this.#start = 0;
    this.#pos = pending;
  }

  int8(v: number): void {
    this.#ensure(1);
    this.#buf.writeInt8(v, this.#pos);
    this.#pos += 1;
  }

  bool(v: boolean): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.#ensure(2);
    this.#buf.writeInt16BE(v, this.#pos);
    this.#pos += 2;
  }

  uint16(v: number): void {
    this.#ensure(2);
    this.#buf.writeUInt16BE(v, this.#pos);
    this.#pos += 2;
  }

  int32(v: number): void {
    this.#ensure(4);
    this.#buf.writeInt32BE(v, this.#pos);
    this.#pos += 4;
  }

  uint32(v: number): void {
    this.#ensure(4);
    this.#buf.writeUInt32BE(v, this.#pos);
    this.#pos += 4;
  }

  int64(v: bigint): void {
    this.#ensure(8);
    this.#buf.writeBigInt64BE(v, this.#pos);
    this.#pos += 8;
  }

  float64(v: number): void {
    this.#ensure(8);
    this.#buf.writeDoubleBE(v, this.#pos);
    this.#pos += 8;
  }

  /** A UUID in Kafka's textual form (22 characters of URL-safe base64) as 16 raw bytes. */
  uuid(v: string): void {
    if (typeof v !== 'string' || v.length !== 22 || !/^[A-Za-z0-9_-]{21}[AQgw]$/.test(v)) {
      throw new Error(`invalid UUID ${JSON.stringify(v)}: expected 22 characters of URL-safe base64`);
    }
    this.#ensure(16);
    this.#buf.write(v, this.#pos, 16, 'base64url');
    this.#pos += 16;
  }

  /** Unsigned LEB128 of a value in 0 .. 2^32-1. */
  uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`uvarint out of range: ${v}`);
    this.#ensure(5);
    const b = this.#buf;
    let p = this.#pos;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.#pos = p;
  }

  /** Zig-zag signed varint (int32). */
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zig-zag signed varlong (int64). */
  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (BigInt.asIntN(64, v) << 1n) ^ (BigInt.asIntN(64, v) >> 63n));
    this.#ensure(10);
    const b = this.#buf;
    let p = this.#pos;
    while (u >= 0x80n) {
      b[p++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    b[p++] = Number(u);
    this.#pos = p;
  }

  #utf8(s: string, len: number): void {
    this.#ensure(len);
    this.#buf.write(s, this.#pos, len, 'utf8');
    this.#pos += len;
  }

  /** Classic string: int16 length + UTF-8. */
  string(s: string): void {
    if (s === null || s === undefined) throw new Error('null written as a non-nullable string');
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new Error(`string of ${len} bytes is too long for an int16 length`);
    this.int16(len);
    this.#utf8(s, len);
  }

  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }

  /** Compact string: uvarint(length + 1) + UTF-8. */
  compactString(s: string): void {
    if (s === null || s === undefined) throw new Error('null written as a non-nullable compact string');
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new Error(`string of ${len} bytes is too long (max 32767)`);
    this.uvarint(len + 1);
    this.#utf8(s, len);
  }

  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }

  /**
   * Appends raw bytes without a length prefix. At least ZERO_COPY_THRESHOLD bytes: the buffer itself
   * becomes a chunk (not copied; the caller must not modify it until the output is written).
   */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (n >= ZERO_COPY_THRESHOLD) {
      if (this.#pos > this.#start) {
        this.#chunks.push(this.#buf.subarray(this.#start, this.#pos));
        this.#chunked += this.#pos - this.#start;
        this.#start = this.#pos;
      }
      this.#chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.#chunked += n;
      return;
    }
    this.#ensure(n);
    this.#buf.set(b, this.#pos);
    this.#pos += n;
  }

  /** Classic bytes: int32 length + data. */
  bytes(b: Uint8Array): void {
    if (b === null || b === undefined) throw new Error('null written as non-nullable bytes');
    this.int32(b.length);
    this.raw(b);
  }

  nullableBytes(b: Uint8Array | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }

  compactBytes(b: Uint8Array): void {
    if (b === null || b === undefined) throw new Error('null written as non-nullable compact bytes');
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  /** Record set (opaque bytes, int32 length, -1 = null). Same as nullableBytes. */
  records(b: Uint8Array | null): void {
    this.nullableBytes(b);
  }

  compactRecords(b: Uint8Array | null): void {
    this.compactNullableBytes(b);
  }

  /** Classic array count (int32); -1 = null. */
  arrayLength(n: number): void {
    this.int32(n);
  }

  /** Compact array count: uvarint(n + 1); -1 = null. */
  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }

  /** An (unknown) tagged field as read from the wire: uvarint tag, uvarint size, data. */
  rawTaggedField(tag: number, data: Uint8Array): void {
    this.uvarint(tag);
    this.uvarint(data.length);
    this.raw(data);
  }

  /** Appends everything another writer has written (its large chunks are referenced, not copied). */
  append(other: Writer): void {
    for (const c of other.finish()) this.raw(c);
  }

  /** The output so far as a list of chunks, in order. The writer may keep being used afterwards. */
  finish(): Buffer[] {
    if (this.#pos > this.#start) {
      this.#chunks.push(this.#buf.subarray(this.#start, this.#pos));
      this.#chunked += this.#pos - this.#start;
      this.#start = this.#pos;
    }
    return this.#chunks.slice();
  }

  /** The output so far as one Buffer. */
  finishBuffer(): Buffer {
    const chunks = this.finish();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, this.#chunked);
  }
}
