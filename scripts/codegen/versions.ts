// Version ranges of the message definitions: "3", "1-4", "9+", "none". Always absolute versions.

/** Highest version an open range ("N+") reaches (Kafka uses Short.MAX_VALUE). */
export const MAX_VERSION = 0x7fff;

export interface Range {
  readonly lo: number;
  readonly hi: number;
}

export const NONE: Range = { lo: 0, hi: -1 };
export const ALL: Range = { lo: 0, hi: MAX_VERSION };

export function parseRange(text: unknown, what = 'version range'): Range {
  if (typeof text !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(text)}`);
  const s = text.trim();
  if (s === 'none') return NONE;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: MAX_VERSION };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) {
    const r = { lo: Number(m[1]), hi: Number(m[2]) };
    if (r.lo > r.hi) throw new Error(`${what}: invalid range ${JSON.stringify(text)}`);
    return r;
  }
  m = /^(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`${what}: invalid range ${JSON.stringify(text)}`);
}

export function isEmpty(r: Range): boolean {
  return r.lo > r.hi;
}

export function intersect(a: Range, b: Range): Range {
  const r = { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
  return isEmpty(r) ? NONE : r;
}

export function contains(r: Range, v: number): boolean {
  return v >= r.lo && v <= r.hi;
}

/** a ⊆ b */
export function within(a: Range, b: Range): boolean {
  return isEmpty(a) || (a.lo >= b.lo && a.hi <= b.hi);
}

export function sameRange(a: Range, b: Range): boolean {
  return (isEmpty(a) && isEmpty(b)) || (a.lo === b.lo && a.hi === b.hi);
}

/** a minus b, when the result is a single interval (b is a prefix or suffix of a, or disjoint). */
export function subtract(a: Range, b: Range): Range {
  const i = intersect(a, b);
  if (isEmpty(i)) return a;
  if (i.lo === a.lo && i.hi === a.hi) return NONE;
  if (i.lo === a.lo) return { lo: i.hi + 1, hi: a.hi };
  if (i.hi === a.hi) return { lo: a.lo, hi: i.lo - 1 };
  throw new Error(`range subtraction leaves two intervals: ${format(a)} - ${format(b)}`);
}

export function format(r: Range): string {
  if (isEmpty(r)) return 'none';
  if (r.hi === MAX_VERSION) return `${r.lo}+`;
  if (r.lo === r.hi) return `${r.lo}`;
  return `${r.lo}-${r.hi}`;
}

/**
 * A TypeScript condition on `version` that is true exactly for versions in `r`, assuming `version`
 * is already known to lie in `ctx`. Returns 'true' / 'false' when constant.
 */
export function condition(r: Range, ctx: Range, v = 'version'): string {
  const i = intersect(r, ctx);
  if (isEmpty(i)) return 'false';
  const parts: string[] = [];
  if (i.lo > ctx.lo) parts.push(`${v} >= ${i.lo}`);
  if (i.hi < ctx.hi) parts.push(`${v} <= ${i.hi}`);
  if (parts.length === 0) return 'true';
  if (parts.length === 2 && i.lo === i.hi) return `${v} === ${i.lo}`;
  return parts.join(' && ');
}
