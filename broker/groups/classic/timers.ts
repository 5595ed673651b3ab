// Named one-shot timers on the injected clock: scheduling a key again replaces its timer, so a member's
// session or a group's join/sync deadline has at most one pending timer.
import type { Clock } from '../../../storage/clock.ts';

export class KeyedTimers {
  readonly #clock: Clock;
  readonly #onError: (key: string, err: unknown) => void;
  readonly #timers = new Map<string, unknown>();
  #closed = false;

  /** onError: a throwing callback is a bug; it is reported and the other timers carry on. */
  constructor(clock: Clock, onError: (key: string, err: unknown) => void) {
    this.#clock = clock;
    this.#onError = onError;
  }

  schedule(key: string, ms: number, fn: () => void): void {
    this.cancel(key);
    if (this.#closed) return;
    const h = this.#clock.setTimeout(() => {
      if (this.#timers.get(key) !== h) return;
      this.#timers.delete(key);
      try {
        fn();
      } catch (err) {
        this.#onError(key, err);
      }
    }, Math.max(0, ms));
    this.#timers.set(key, h);
  }

  cancel(key: string): void {
    const h = this.#timers.get(key);
    if (h !== undefined) {
      this.#clock.clearTimeout(h);
      this.#timers.delete(key);
    }
  }

  /** Cancels every timer; later schedules do nothing. */
  close(): void {
    this.#closed = true;
    for (const h of this.#timers.values()) this.#clock.clearTimeout(h);
    this.#timers.clear();
  }
}
