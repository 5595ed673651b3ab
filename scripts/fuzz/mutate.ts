// Mutators over size-prefixed request frames. All but `size` keep the size prefix consistent with the
// bytes, so the broker parses the mutated frame as one frame.
import type { Rng } from './rng.ts';

const fixSize = (b: Buffer): Buffer => { b.writeInt32BE(b.length - 4, 0); return b; };
const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];

/** Positions of likely string length prefixes: int16 or uvarint n(+1) followed by n printable bytes. */
function stringLengths(b: Buffer): Array<{ at: number; width: 1 | 2; n: number }> {
  const out: Array<{ at: number; width: 1 | 2; n: number }> = [];
  const printable = (from: number, n: number) => {
    if (from + n > b.length) return false;
    for (let i = from; i < from + n; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
    return true;
  };
  for (let p = 4; p + 2 < b.length; p++) {
    const n16 = b.readInt16BE(p);
    if (n16 > 0 && n16 < 300 && printable(p + 2, n16)) out.push({ at: p, width: 2, n: n16 });
    const c = b[p]!;
    if (c > 1 && c < 128 && printable(p + 1, c - 1)) out.push({ at: p, width: 1, n: c - 1 });
  }
  return out;
}

export const MUTATORS: Record<string, (b: Buffer, rng: Rng, other: () => Buffer) => Buffer> = {
  bitflip(b, rng) {
    for (let i = rng.range(1, 4); i > 0; i--) { const p = 4 + rng.int(b.length - 4); b[p]! ^= 1 << rng.int(8); }
    return b;
  },
  byteset(b, rng) {
    for (let i = rng.range(1, 4); i > 0; i--) b[4 + rng.int(b.length - 4)] = rng.pick(INTERESTING);
    return b;
  },
  truncate(b, rng) { return fixSize(Buffer.from(b.subarray(0, 4 + rng.int(b.length - 3)))); },
  /** The frame size prefix lies: the broker reads a different frame boundary (or waits for bytes). */
  size(b, rng) {
    const len = b.length - 4;
    b.writeInt32BE(rng.pick([len - 1, len + 1, len - rng.range(1, 16), len + rng.range(2, 1 << 16), -1, 0, 0x7fffffff, 1 << 27, rng.int(8)]), 0);
    return b;
  },
  /** A string length prefix (classic int16 or compact uvarint) set to null, 0, off by one or huge. */
  strlen(b, rng) {
    const c = stringLengths(b);
    if (c.length === 0) return MUTATORS.byteset!(b, rng, () => b);
    const { at, width, n } = rng.pick(c);
    if (width === 2) b.writeInt16BE(rng.pick([-1, -2, 0, n - 1, n + 1, 0x7fff]), at);
    else b[at] = rng.pick([0, 1, n, n + 2, 0x7f, 0x80, 0xff]);
    return b;
  },
  /** An int32 or one-byte count (array length, partition, etc.) edited to an edge value. */
  count(b, rng) {
    if (b.length < 12) return b;
    const p = 8 + rng.int(b.length - 8);
    if (p + 4 <= b.length && rng.chance(0.5)) b.writeInt32BE(rng.pick([-1, -2, 0, 1, 2, 0x7fffffff, -0x80000000, 1 << 20]), p);
    else b[p] = rng.pick([0, 1, 2, 0x7f, 0x80, 0xff]);
    return b;
  },
  /** Varint continuation games: a byte gets or loses its high bit. */
  varint(b, rng) { const p = 4 + rng.int(b.length - 4); b[p]! ^= 0x80; return b; },
  splice(b, rng, other) {
    const o = other();
    return fixSize(Buffer.concat([b.subarray(0, 4 + rng.int(b.length - 3)), o.subarray(4 + rng.int(o.length - 3))]));
  },
  version(b, rng) {
    if (b.length < 8) return b;
    if (rng.chance(0.2)) b.writeInt16BE(rng.pick([-1, 4, 17, 27, 29, 36, 50, 67, 80, 1000]), 4);
    const v = b.readInt16BE(6);
    b.writeUInt16BE(rng.pick([-1, 0, v - 1, v + 1, v + 2, rng.int(20), 0x7fff]) & 0xffff, 6);
    return b;
  },
  duplicate(b, rng) {
    const a = 4 + rng.int(b.length - 4), e = Math.min(b.length, a + rng.range(1, 64)), at = 4 + rng.int(b.length - 3);
    return fixSize(Buffer.concat([b.subarray(0, at), b.subarray(a, e), b.subarray(at)]));
  },
  erase(b, rng) {
    const a = 4 + rng.int(b.length - 4), e = Math.min(b.length, a + rng.range(1, 16));
    return fixSize(Buffer.concat([b.subarray(0, a), b.subarray(e)]));
  },
  insert(b, rng) {
    const at = 4 + rng.int(b.length - 3);
    return fixSize(Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 32)), b.subarray(at)]));
  },
  append(b, rng) { return fixSize(Buffer.concat([b, rng.bytes(rng.range(1, 64))])); },
};

const NAMES = Object.keys(MUTATORS);
const WEIGHTS: Record<string, number> = { size: 0.4, splice: 1.5, strlen: 2, count: 1.5 };

/** One to three mutations; returns the frame and the mutators applied (for the failure report). */
export function mutate(frame: Buffer, rng: Rng, other: () => Buffer): { frame: Buffer; ops: string[] } {
  let b: Buffer = Buffer.from(frame);
  const ops: string[] = [];
  for (let i = rng.chance(0.7) ? 1 : rng.range(2, 3); i > 0; i--) {
    let total = 0;
    for (const n of NAMES) total += WEIGHTS[n] ?? 1;
    let x = rng.next() * total, name = NAMES[0]!;
    for (const n of NAMES) { x -= WEIGHTS[n] ?? 1; if (x < 0) { name = n; break; } }
    if (b.length <= 4) break;
    b = MUTATORS[name]!(b, rng, other);
    ops.push(name);
  }
  return { frame: b, ops };
}
