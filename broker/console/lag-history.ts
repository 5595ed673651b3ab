// Consumer-group lag over time for the console's charts: a small ring of samples per group, taken every
// gregor.console.lag.sample.interval.ms while the console is on (nothing is sampled otherwise). Memory is
// bounded: at most MAX_GROUPS groups × CAPACITY samples; a group that is no longer listed is forgotten.
import type { Clock } from '../../storage/clock.ts';
import { every, type Periodic } from '../timers.ts';
import type { Logger } from '../log.ts';

export const CAPACITY = 360; // 30 minutes at the default 5 s
export const MAX_GROUPS = 500;

export interface LagSample { t: number; lag: number }

/** A fixed-size ring of samples, oldest overwritten first. */
export class LagRing {
  readonly #t: Float64Array;
  readonly #lag: Float64Array;
  #next = 0;
  #size = 0;

  constructor(capacity = CAPACITY) {
    this.#t = new Float64Array(capacity);
    this.#lag = new Float64Array(capacity);
  }

  push(t: number, lag: number): void {
    this.#t[this.#next] = t;
    this.#lag[this.#next] = lag;
    this.#next = (this.#next + 1) % this.#t.length;
    this.#size = Math.min(this.#size + 1, this.#t.length);
  }

  /** Oldest first. */
  samples(): LagSample[] {
    const out: LagSample[] = [];
    const cap = this.#t.length;
    for (let i = 0; i < this.#size; i++) {
      const j = (this.#next - this.#size + i + cap) % cap;
      out.push({ t: this.#t[j], lag: this.#lag[j] });
    }
    return out;
  }
}

export interface LagSource {
  groupList(): Promise<Array<{ groupId: string }>>;
  groupOffsets(groupIds: readonly string[]): Promise<Map<string, Array<{ lag: number | null }>>>;
}

export class LagHistory {
  readonly #rings = new Map<string, LagRing>();
  readonly #source: LagSource;
  readonly #clock: Clock;
  readonly #log: Logger;
  #running = false;
  #timer: Periodic | null = null;

  constructor(source: LagSource, clock: Clock, log: Logger) {
    this.#source = source;
    this.#clock = clock;
    this.#log = log;
  }

  /** Samples every `intervalMs` until stop(); the first sample is taken at once. */
  start(intervalMs: number): void {
    void this.sample();
    this.#timer = every(this.#clock, intervalMs, () => { void this.sample(); });
  }

  stop(): void {
    this.#timer?.stop();
    this.#timer = null;
  }

  /** One sample of every listed group's total lag (skipped while the previous one still runs). */
  async sample(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const groups = (await this.#source.groupList()).slice(0, MAX_GROUPS).map((g) => g.groupId);
      const offsets = await this.#source.groupOffsets(groups);
      const t = this.#clock.now();
      const listed = new Set(groups);
      for (const id of this.#rings.keys()) if (!listed.has(id)) this.#rings.delete(id);
      for (const id of groups) {
        let ring = this.#rings.get(id);
        if (!ring) this.#rings.set(id, (ring = new LagRing()));
        ring.push(t, (offsets.get(id) ?? []).reduce((a, r) => a + (r.lag ?? 0), 0));
      }
    } catch (err) {
      this.#log.debug(`console: lag sample failed: ${(err as Error)?.message ?? err}`);
    } finally {
      this.#running = false;
    }
  }

  samples(groupId: string): LagSample[] {
    return this.#rings.get(groupId)?.samples() ?? [];
  }
}
