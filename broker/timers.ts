// Periodic background work on the injected clock.
import type { Clock } from './clock.ts';

export interface Periodic { stop(): void }

/**
 * Runs `fn` every `ms` (re-armed after each run, also when it throws) until stop(). A non-positive or
 * non-numeric interval never runs (Kafka's "disabled" for check intervals).
 */
export function every(clock: Clock, ms: number, fn: () => void): Periodic {
  let stopped = !(ms > 0);
  let handle: unknown = null;
  const tick = () => {
    if (stopped) return;
    try {
      fn();
    } finally {
      if (!stopped) handle = clock.setTimeout(tick, ms);
    }
  };
  if (!stopped) handle = clock.setTimeout(tick, ms);
  return {
    stop() {
      stopped = true;
      if (handle !== null) clock.clearTimeout(handle);
    },
  };
}
