// Crash test: a child process appends continuously and is SIGKILLed at random moments; after each
// restart every record it acknowledged is read back with its offset, key and value.
import t from 'tap';
import { spawn } from 'node:child_process';
import { openStorage } from './storage.ts';
import { readAll, tempDir } from './testing/helpers.ts';

const CYCLES = Number(process.env.GREGOR_CRASH_CYCLES ?? 20);
const child = new URL('./testing/crash-child.ts', import.meta.url).pathname;

function runAndKill(dataDir: string, startSeq: number, killAfterMs: number): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dataDir, String(startSeq)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Map<number, number>();
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('child never became ready')); }, 60_000); // generous: a loaded 2-core machine
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          clearTimeout(deadline);
          timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
          continue;
        }
        const [offset, seq] = line.split(' ').map(Number);
        acked.set(offset, seq);
      }
    });
    p.on('exit', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}`));
      else resolve(acked); // a partial last line was never a complete ack
    });
  });
}

t.test(`SIGKILL under continuous append, ${CYCLES} cycles: every acknowledged record survives`, async (t) => {
  const dir = tempDir(t);
  const all = new Map<number, number>();
  let nextSeq = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const acked = await runAndKill(dir, nextSeq, 50 + Math.floor(Math.random() * 250));
    for (const [o, s] of acked) all.set(o, s);
    const s = await openStorage({ dataDir: dir });
    const log = s.partition('crash', 0)!;
    t.equal(log.offline, null, `cycle ${cycle}: online`);
    const recs = await readAll(log);
    const byOffset = new Map(recs.map((r) => [r.offset, r]));
    let missing = 0;
    for (const [o, seq] of all) {
      const r = byOffset.get(o);
      if (!r || r.key !== `k${seq}` || r.value !== `v${seq}-${(seq * 7919) % 10007}`.padEnd(20 + (seq % 50), '.')) missing++;
    }
    t.equal(missing, 0, `cycle ${cycle}: ${acked.size} new acks, all ${all.size} acknowledged records read back`);
    t.same(recs.map((r) => r.offset), Array.from({ length: recs.length }, (_, i) => i), `cycle ${cycle}: offsets dense`);
    // A loop, not Math.max(...spread): over ~100k records the spread overflows the call stack.
    for (const v of acked.values()) nextSeq = Math.max(nextSeq, v);
    for (const r of recs) nextSeq = Math.max(nextSeq, Number(r.key!.slice(1)));
    nextSeq += 1;
    // Close uncleanly half the time (the next child then recovers too); cleanly otherwise.
    if (cycle % 2 === 0) await s.close();
  }
  t.ok(all.size > CYCLES, `${all.size} records acknowledged in total`);
});
