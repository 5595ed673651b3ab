import t from 'tap';
import { FrameDecoder, FrameError, frameSizePrefix, encodeFrame, writeFrameSize, DEFAULT_MAX_FRAME_BYTES } from './frame.ts';

function body(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

// 5 requests of different sizes, including an empty body and sizes whose
// prefix bytes are not all zero (300 -> 00 00 01 2c).
const bodies = [body(7, 1), body(0, 2), body(300, 3), body(1, 4), body(42, 5)];
const stream = Buffer.concat(bodies.map(encodeFrame));

// Decodes; returns [] (a mismatch) if the decoder is not idle at the end.
function decodeChunks(chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const d = new FrameDecoder((f) => out.push(Buffer.from(f)));
  for (const c of chunks) d.push(c);
  if (!d.idle || d.bufferedBytes !== 0) return [];
  return out;
}

function sameFrames(got: Buffer[], want: Buffer[]): boolean {
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) if (!got[i]!.equals(want[i]!)) return false;
  return true;
}

t.test('whole stream in one chunk (packed)', async (t) => {
  const got = decodeChunks([stream]);
  t.equal(got.length, 5);
  t.ok(sameFrames(got, bodies));
});

t.test('every single split point', async (t) => {
  let bad = 0;
  for (let i = 0; i <= stream.length; i++) {
    const got = decodeChunks([stream.subarray(0, i), stream.subarray(i)]);
    if (!sameFrames(got, bodies)) bad++;
  }
  t.equal(bad, 0, `all ${stream.length + 1} split points decode identically`);
});

t.test('every pair of split points (small stream)', async (t) => {
  const small = Buffer.concat([body(3, 1), body(0, 2), body(9, 3), body(130, 4)].map(encodeFrame));
  const want = [body(3, 1), body(0, 2), body(9, 3), body(130, 4)];
  let bad = 0;
  let cases = 0;
  for (let i = 0; i <= small.length; i++) {
    for (let j = i; j <= small.length; j++) {
      cases++;
      const out: Buffer[] = [];
      const d = new FrameDecoder((f) => out.push(Buffer.from(f)));
      d.push(small.subarray(0, i));
      d.push(small.subarray(i, j));
      d.push(small.subarray(j));
      if (!sameFrames(out, want) || !d.idle) bad++;
    }
  }
  t.equal(bad, 0, `all ${cases} split pairs decode identically`);
});

t.test('byte by byte', async (t) => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  t.ok(sameFrames(decodeChunks(chunks), bodies));
});

t.test('decode() returns frames per chunk, in order', async (t) => {
  const d = new FrameDecoder();
  const cut = 4 + 7 + 4 + 4 + 10; // inside the 300-byte frame
  const a = d.decode(stream.subarray(0, cut));
  t.equal(a.length, 2);
  t.equal(d.bufferedBytes, 10);
  t.notOk(d.idle);
  const b = d.decode(stream.subarray(cut));
  t.equal(b.length, 3);
  t.ok(sameFrames([...a, ...b], bodies));
  t.throws(() => d.push(Buffer.alloc(1)), /callback/, 'push without callback is a usage error');
});

t.test('zero copy for a frame within one chunk; one assembled copy across chunks', async (t) => {
  const chunk = Buffer.concat([encodeFrame(body(10, 1)), encodeFrame(body(20, 2)), encodeFrame(body(50, 3)).subarray(0, 30)]);
  const d = new FrameDecoder();
  const frames = d.decode(chunk);
  t.equal(frames.length, 2);
  t.equal(frames[0]!.buffer, chunk.buffer, 'first frame shares the chunk memory');
  t.equal(frames[0]!.byteOffset, chunk.byteOffset + 4);
  t.equal(frames[1]!.byteOffset, chunk.byteOffset + 4 + 10 + 4);
  chunk[4] ^= 0xff;
  t.equal(frames[0]![0], chunk[4], 'it is a view, not a copy');
  const tail = encodeFrame(body(50, 3)).subarray(30);
  const spanning = d.decode(tail);
  t.equal(spanning.length, 1);
  t.ok(spanning[0]!.equals(body(50, 3)));
  const copy = Buffer.from(spanning[0]!);
  chunk.fill(0);
  tail.fill(0);
  t.ok(spanning[0]!.equals(copy), 'a spanning frame is assembled into its own memory (input chunks can be dropped)');
  t.equal(spanning[0]!.length, 50);
});

t.test('zero copy when the prefix ended the previous chunk and the body is whole in the next', async (t) => {
  const d = new FrameDecoder();
  t.same(d.decode(frameSizePrefix(5)), []);
  t.notOk(d.idle);
  const next = Buffer.concat([body(5, 9), frameSizePrefix(1)]);
  const f = d.decode(next);
  t.equal(f.length, 1);
  t.equal(f[0]!.buffer, next.buffer);
  t.ok(f[0]!.equals(body(5, 9)));
  t.same(d.decode(Buffer.from([7])).map((b) => [...b]), [[7]]);
  t.ok(d.idle);
});

t.test('oversize frame is a FrameError, and the decoder stays failed', async (t) => {
  const d = new FrameDecoder(() => {}, { maxFrameBytes: 100 });
  d.push(encodeFrame(body(100, 1))); // exactly the limit is fine
  const err = t.throws(() => d.push(frameSizePrefix(101))) as FrameError;
  t.ok(err instanceof FrameError);
  t.equal(err.size, 101);
  t.equal(err.maxFrameBytes, 100);
  t.equal(d.error, err);
  t.throws(() => d.push(encodeFrame(body(1, 1))), FrameError, 'later pushes fail too');
});

t.test('oversize detected from a split prefix, before the body arrives', async (t) => {
  const d = new FrameDecoder(() => {}, { maxFrameBytes: 1000 });
  const p = frameSizePrefix(5000);
  d.push(p.subarray(0, 2));
  t.throws(() => d.push(p.subarray(2)), FrameError);
});

t.test('negative size is a FrameError', async (t) => {
  const d = new FrameDecoder(() => {});
  const err = t.throws(() => d.push(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3]))) as FrameError;
  t.ok(err instanceof FrameError);
  t.equal(err.size, -2);
  t.match(err.message, /Invalid receive/);
  // Also after valid frames in the same chunk: those are delivered first.
  const seen: Buffer[] = [];
  const d2 = new FrameDecoder((f) => seen.push(f));
  t.throws(() => d2.push(Buffer.concat([encodeFrame(body(3, 1)), Buffer.from([0x80, 0, 0, 0])])), FrameError);
  t.equal(seen.length, 1);
});

t.test('default max is Kafka socket.request.max.bytes', async (t) => {
  const d = new FrameDecoder(() => {});
  t.equal(d.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  t.equal(DEFAULT_MAX_FRAME_BYTES, 104857600);
  d.push(frameSizePrefix(104857600)); // accepted; nothing is allocated until body bytes arrive
  t.equal(d.bufferedBytes, 0);
  t.notOk(d.idle);
  const d2 = new FrameDecoder(() => {});
  t.throws(() => d2.push(frameSizePrefix(104857601)), FrameError);
  t.throws(() => new FrameDecoder(() => {}, { maxFrameBytes: -1 }), RangeError);
});

t.test('write helpers', async (t) => {
  t.same([...frameSizePrefix(258)], [0, 0, 1, 2]);
  const b = Buffer.alloc(6);
  t.equal(writeFrameSize(b, 1, 0x01020304), 5);
  t.same([...b], [0, 1, 2, 3, 4, 0]);
  t.same([...encodeFrame(Buffer.from([9, 8]))], [0, 0, 0, 2, 9, 8]);
});

t.test('constructor/push call forms', async (t) => {
  const frames = Buffer.concat([encodeFrame(body(3, 1)), encodeFrame(body(4, 2))]);
  const a: Buffer[] = [];
  const d1 = new FrameDecoder({ maxFrameBytes: 10 });
  d1.push(frames, (f) => a.push(f));
  t.same(a, [body(3, 1), body(4, 2)], 'options-only constructor + push(chunk, cb)');
  t.throws(() => d1.push(frameSizePrefix(11), () => {}), FrameError, 'options honoured');
  const b: Buffer[] = [];
  const c: Buffer[] = [];
  const d2 = new FrameDecoder((f) => b.push(f));
  d2.push(frames);
  d2.push(frames, (f) => c.push(f));
  t.equal(b.length, 2, 'constructor callback');
  t.equal(c.length, 2, 'per-call callback overrides it');
  t.equal(new FrameDecoder(null, { maxFrameBytes: 5 }).maxFrameBytes, 5);
  t.equal(new FrameDecoder().maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
});

t.test('callback exceptions propagate out of push', async (t) => {
  const d = new FrameDecoder(() => {
    throw new Error('boom');
  });
  t.throws(() => d.push(encodeFrame(body(2, 1))), /boom/);
});
