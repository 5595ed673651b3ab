// Shared test helpers: temp dirs that are always removed, reading a whole partition back (ManualClock: ../clock.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartitionLog } from '../partition-log.ts';
import { type ParsedRecord, parseRecords } from './records.ts';

export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'gregor-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
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
