// Deferred deletes, as Kafka's LogManager/UnifiedLog do them: a segment file leaving the log (retention,
// DeleteRecords, a cleaner swap) is renamed to `*.deleted` at once and unlinked after file.delete.delay.ms;
// a deleted topic's directory is renamed to `<dir>.<id>-delete` and removed after
// log.segment.delete.delay.ms. The unlinks run on timers, off the request path and out of retention
// passes. Reads keep their open file descriptors across the rename (storage reads by fd, never by path).
// A restart finishes whatever was pending: `*.deleted` files (recoverCleaning) and `-delete` directories
// (Storage load) are removed at start.
import type { Clock } from './clock.ts';
import type { FsLike } from './fs.ts';
import type { Logger } from './types.ts';

export const DELETED_SUFFIX = '.deleted';

export class DeferredDeletes {
  readonly #fs: FsLike;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timers = new Set<unknown>();
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  constructor(fs: FsLike, clock: Clock, log: Logger) {
    this.#fs = fs;
    this.#clock = clock;
    this.#log = log;
  }

  /** Deletes waiting for their delay (tests and metrics). */
  get pending(): number { return this.#timers.size; }

  /** Renames `path` to `path.deleted` (nothing when it does not exist) and unlinks that after `delayMs`. */
  async renameAndSchedule(path: string, delayMs: number): Promise<void> {
    const to = path + DELETED_SUFFIX;
    try {
      await this.#fs.rename(path, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    this.schedule(to, delayMs, false);
  }

  /** Removes `path` (a file, or with `dir` a directory tree) after `delayMs`; at once when 0. */
  schedule(path: string, delayMs: number, dir: boolean): void {
    const run = () => {
      const p = (dir ? this.#fs.rm(path) : this.#fs.unlink(path))
        .catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') this.#log.warn(`deleting ${path}: ${e.message} (retried at the next start)`); })
        .finally(() => this.#running.delete(p));
      this.#running.add(p);
    };
    if (this.#closed) return; // the next start removes it
    if (!(delayMs > 0)) {
      run();
      return;
    }
    const t = this.#clock.setTimeout(() => {
      this.#timers.delete(t);
      run();
    }, Math.min(delayMs, 2 ** 31 - 1));
    this.#timers.add(t);
  }

  /** Settles once the unlinks started so far are done (tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  /** Cancels waiting deletes (their files stay for the next start to remove) and waits for running ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers.clear();
    await this.settle();
  }
}
