// Kafka socket framing: every request/response is `int32 size` + `size` bytes.
//
// FrameDecoder turns a stream of TCP chunks into complete frames (the bytes
// after the size prefix), in order.
//  - A frame that lies entirely inside one pushed chunk is emitted as a
//    subarray of that chunk (zero copy). The frame then aliases the chunk's
//    memory: do not reuse/mutate chunks you pushed while frames are alive
//    (net.Socket never reuses its chunks, so this is fine for sockets).
//    That includes a frame whose size prefix ended the previous chunk and
//    whose body is entirely in the next one.
//  - A frame that spans chunks is assembled once into a buffer allocated at
//    its known size (one copy per byte, no repeated concatenation). The
//    allocation happens when the first body byte arrives, not on the bare
//    size prefix.
//  - A size prefix split across chunks is handled (including byte by byte).
//  - A negative size or one above `maxFrameBytes` (Kafka's
//    socket.request.max.bytes, default 104857600) throws a FrameError from
//    push()/decode(). The decoder is then failed: every later push throws the
//    same error. The caller is expected to close the connection.
//
// The onFrame callback is invoked synchronously from push(). If it throws, the
// exception propagates out of push() and the rest of that chunk is dropped;
// treat that as fatal for the connection. Do not call push() re-entrantly from
// inside onFrame.

export const DEFAULT_MAX_FRAME_BYTES = 104857600;

export class FrameError extends Error {
  /** The offending size field as read from the wire (signed int32). */
  readonly size: number;
  readonly maxFrameBytes: number;
  constructor(size: number, maxFrameBytes: number) {
    super(
      size < 0
        ? `Invalid receive (size = ${size})`
        : `Invalid receive (size = ${size} larger than ${maxFrameBytes})`,
    );
    this.name = 'FrameError';
    this.size = size;
    this.maxFrameBytes = maxFrameBytes;
  }
}

export interface FrameDecoderOptions {
  /** Largest accepted frame body in bytes (default 104857600). */
  maxFrameBytes?: number;
}

export type FrameCallback = (frame: Buffer) => void;

export class FrameDecoder {
  readonly maxFrameBytes: number;
  readonly #onFrame: FrameCallback | null;
  // Partial size prefix.
  #prefix = Buffer.alloc(4);
  #prefixHave = 0;
  // Frame being assembled across chunks.
  #frame: Buffer | null = null;
  #frameHave = 0;
  // Size read, no body byte seen yet (-1: none).
  #pendingSize = -1;
  #error: FrameError | null = null;

  /**
   * new FrameDecoder(options?)            — pass the callback to push(chunk, cb) or use decode()
   * new FrameDecoder(onFrame, options?)   — push(chunk) delivers to onFrame
   */
  constructor(options?: FrameDecoderOptions);
  constructor(onFrame: FrameCallback | null | undefined, options?: FrameDecoderOptions);
  constructor(a?: FrameCallback | FrameDecoderOptions | null, b?: FrameDecoderOptions) {
    let options: FrameDecoderOptions;
    if (typeof a === 'function') {
      this.#onFrame = a;
      options = b ?? {};
    } else if (a === null || a === undefined) {
      this.#onFrame = null;
      options = b ?? {};
    } else {
      this.#onFrame = null;
      options = a;
    }
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${max}`);
    this.maxFrameBytes = max;
  }

  /**
   * Feeds a chunk; each completed frame goes to `onFrame` (or the
   * constructor's callback), in order. Throws FrameError.
   */
  push(chunk: Buffer, onFrame?: FrameCallback): void {
    const cb = onFrame ?? this.#onFrame;
    if (cb === null) throw new Error('FrameDecoder.push() needs an onFrame callback (argument or constructor); or use decode()');
    this.#feed(chunk, cb);
  }

  /** Feeds a chunk and returns the frames it completed, in order. Throws FrameError. */
  decode(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    this.#feed(chunk, (f) => out.push(f));
    return out;
  }

  /** Bytes held by the decoder for an incomplete frame (prefix + partial body). */
  get bufferedBytes(): number {
    return this.#prefixHave + this.#frameHave;
  }

  /** Bytes allocated for the frame being assembled (its whole declared size); 0 between frames. */
  get allocatedBytes(): number {
    return this.#frame === null ? 0 : this.#frame.length;
  }

  /** True when no partial frame is pending (a clean point to close the connection). */
  get idle(): boolean {
    return this.#prefixHave === 0 && this.#frame === null && this.#pendingSize < 0;
  }

  /** The error that failed this decoder, if any. */
  get error(): FrameError | null {
    return this.#error;
  }

  #checkSize(size: number): void {
    if (size < 0 || size > this.maxFrameBytes) {
      this.#error = new FrameError(size, this.maxFrameBytes);
      this.#prefixHave = 0;
      this.#frame = null;
      this.#frameHave = 0;
      this.#pendingSize = -1;
      throw this.#error;
    }
  }

  #feed(chunk: Buffer, emit: FrameCallback): void {
    if (this.#error !== null) throw this.#error;
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      // 1. Continue a frame that spans chunks.
      const frame = this.#frame;
      if (frame !== null) {
        const need = frame.length - this.#frameHave;
        const n = len - pos < need ? len - pos : need;
        chunk.copy(frame, this.#frameHave, pos, pos + n);
        pos += n;
        this.#frameHave += n;
        if (this.#frameHave === frame.length) {
          this.#frame = null;
          this.#frameHave = 0;
          emit(frame);
        }
        continue;
      }

      // 2. The size: known from a previous chunk, read whole, or assembled.
      let size = this.#pendingSize;
      if (size >= 0) {
        this.#pendingSize = -1;
      } else if (this.#prefixHave === 0 && len - pos >= 4) {
        size = chunk.readInt32BE(pos);
        pos += 4;
        this.#checkSize(size);
      } else {
        const n = Math.min(4 - this.#prefixHave, len - pos);
        chunk.copy(this.#prefix, this.#prefixHave, pos, pos + n);
        pos += n;
        this.#prefixHave += n;
        if (this.#prefixHave < 4) return;
        this.#prefixHave = 0;
        size = this.#prefix.readInt32BE(0);
        this.#checkSize(size);
      }

      // 3. Body: zero-copy if it is all in this chunk; otherwise allocate at
      // the known size once body bytes arrive (not on the bare prefix).
      if (len - pos >= size) {
        const f = chunk.subarray(pos, pos + size);
        pos += size;
        emit(f);
      } else if (pos === len) {
        this.#pendingSize = size;
      } else {
        const f = Buffer.allocUnsafe(size);
        const n = len - pos;
        chunk.copy(f, 0, pos, len);
        pos = len;
        this.#frame = f;
        this.#frameHave = n;
      }
    }
  }
}

/** The 4-byte big-endian size prefix for a frame body of `n` bytes. */
export function frameSizePrefix(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

/** Writes the size prefix for an `n`-byte body at buf[off..off+4); returns off + 4. */
export function writeFrameSize(buf: Buffer, off: number, n: number): number {
  buf.writeInt32BE(n, off);
  return off + 4;
}

/** Prefix + body as one buffer (one allocation, one copy). For tests and small messages. */
export function encodeFrame(body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
}
