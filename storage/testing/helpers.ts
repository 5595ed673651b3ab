// Shared test helpers: temp dirs that are always removed, a manual clock, reading a whole partition back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartitionLog } from '../partition-log.ts';
import type { Clock } from '../types.ts';
import { type ParsedRecord, parseRecords } from './records.ts';

export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'gregor-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock whose time only moves when told; timers fire on advance(). */
export class ManualClock implements Clock {
  #now: number;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #nextId = 1;
  constructor(now = 1_700_000_000_000) { this.#now = now; }
  now(): number { return this.#now; }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.push({ at: this.#now + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void { this.#timers = this.#timers.filter((x) => x.id !== h); }
  advance(ms: number): void {
    this.#now += ms;
    for (;;) {
      const due = this.#timers.filter((x) => x.at <= this.#now).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((x) => x !== due);
      due.fn();
    }
  }
}

/** Every record from `from` to the high watermark, reading with the given byte budget. */
export async function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 1 << 20): Promise<ParsedRecord[]> {
  const out: ParsedRecord[] = [];
  let next = from;
  while (next < log.highWatermark) {
    const r = await log.read(next, maxBytes);
    if (r.error) throw new Error(`read ${next}: ${r.error} ${r.message}`);
    if (r.batches.length === 0) throw new Error(`read ${next}: no batches below the high watermark ${log.highWatermark}`);
    for (const b of r.batches) for (const rec of parseRecords(b)) if (rec.offset >= next) out.push(rec);
    next = out.length > 0 ? out[out.length - 1].offset + 1 : next;
  }
  return out;
}
