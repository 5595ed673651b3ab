// A manual clock for deterministic tests of timer-driven code (group sessions, rebalance delays).
import type { Clock } from '../context.ts';

const flush = () => new Promise<void>((r) => setImmediate(r));

export class ManualClock implements Clock {
  t = 1_000_000;
  timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #next = 0;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = this.#next++; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown): void { this.timers = this.timers.filter((x) => x.id !== h); }

  #fireNext(end: number): boolean {
    const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (!due) return false;
    this.timers = this.timers.filter((x) => x !== due);
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
