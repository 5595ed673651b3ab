// The one Clock of the project: time and timers are injected so background work (retention, flushes, group
// sessions, transaction timeouts) is testable. Here, in storage/, because storage imports nothing of ours and
// the broker imports storage; ManualClock is the test clock for both.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Unref'd: background timers (retention, flush.ms, sessions) must never keep a process alive.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const flush = () => new Promise<void>((r) => setImmediate(r));

/** A clock whose time only moves when told; timers fire on advance(), each at its own time, in order. */
export class ManualClock implements Clock {
  /** Current time; tests may set it directly (no timers fire). */
  t: number;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #next = 0;
  constructor(now = 1_000_000) { this.t = now; }
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = this.#next++; this.#timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown): void { this.#timers = this.#timers.filter((x) => x.id !== h); }

  #fireNext(end: number): boolean {
    const due = this.#timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (!due) return false;
    this.#timers = this.#timers.filter((x) => x !== due);
    this.t = Math.max(this.t, due.at);
    due.fn();
    return true;
  }

  /** Advances time, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const end = this.t + ms;
    while (this.#fireNext(end));
    this.t = end;
  }

  /** As advance, letting promise callbacks run before and between timers. */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      if (!this.#fireNext(end)) break;
    }
    this.t = end;
    await flush();
  }
}
