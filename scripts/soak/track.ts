// Bookkeeping for the soak's checks: which sequence numbers each producer had acknowledged, how often the
// consumer group delivered each, and the latency percentiles of one interval.

/** A growable per-sequence array. */
class Grow<T extends Uint8Array | Float64Array> {
  a: T;
  readonly #make: (n: number) => T;
  constructor(make: (n: number) => T) { this.#make = make; this.a = make(1024); }
  ensure(i: number): T {
    if (i >= this.a.length) {
      const b = this.#make(Math.max(i + 1, this.a.length * 2));
      b.set(this.a as never);
      this.a = b;
    }
    return this.a;
  }
}

const UNSENT = 0;
const ACKED = 1;
const FAILED = 2;

/**
 * One idempotent producer's records and their deliveries to the group. A duplicate delivery is explained
 * when the group went through a rebalance (a member leaving or joining) after the first delivery.
 */
export class DeliveryLedger {
  readonly #state = new Grow((n) => new Uint8Array(n));
  readonly #count = new Grow((n) => new Uint8Array(n));
  readonly #first = new Grow((n) => new Float64Array(n));
  #next = 0;
  acked = 0;
  failed = 0;
  duplicates = 0;
  unexplained = 0;
  /** Sequence numbers delivered that were never sent (corruption). */
  unknown = 0;

  /** Reserves `n` sequence numbers for one send; returns the first. */
  reserve(n: number): number {
    const first = this.#next;
    this.#next += n;
    this.#state.ensure(this.#next);
    return first;
  }

  settle(first: number, n: number, ok: boolean): void {
    const s = this.#state.ensure(first + n);
    s.fill(ok ? ACKED : FAILED, first, first + n);
    if (ok) this.acked += n; else this.failed += n;
  }

  deliver(seq: number, now: number, lastRebalanceAt: number): void {
    if (seq >= this.#next || seq < 0) { this.unknown++; return; }
    const c = this.#count.ensure(seq);
    const f = this.#first.ensure(seq);
    if (c[seq] === 0) f[seq] = now;
    else {
      this.duplicates++;
      if (!(lastRebalanceAt >= f[seq])) this.unexplained++;
    }
    if (c[seq] < 255) c[seq]++;
  }

  /** Acknowledged sequence numbers never delivered. */
  missing(): number {
    const s = this.#state.a;
    const c = this.#count.ensure(this.#next);
    let n = 0;
    for (let i = 0; i < this.#next; i++) if (s[i] === ACKED && c[i] === 0) n++;
    return n;
  }

  /** Whether every acknowledged record has been delivered. */
  caughtUp(): boolean { return this.missing() === 0; }

  get sent(): number { return this.#next; }
}
void UNSENT;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Latencies of one interval. */
export class LatencyWindow {
  #values: number[] = [];
  add(ms: number): void { this.#values.push(ms); }
  /** Percentiles of the interval so far, then starts a new one. */
  take(): { n: number; p50: number; p99: number; p999: number; max: number } {
    const v = this.#values.sort((a, b) => a - b);
    this.#values = [];
    return { n: v.length, p50: percentile(v, 50), p99: percentile(v, 99), p999: percentile(v, 99.9), max: v.length ? v[v.length - 1] : NaN };
  }
}
