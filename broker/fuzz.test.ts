// Fuzz (scripts/fuzz): a bounded run per seed against an in-process broker — every advertised API and
// version once, well-formed, then generated and mutated frames (bit flips, byte edits, truncation,
// size/length/count edits, splices, version edits, duplicated chunks) over many connections. Checks:
// the broker stays up, a well-behaved client is served throughout, every well-formed request is
// answered with its correlation id and in order, malformed ones get their own answer or a close, memory
// stays bounded. FUZZ_SEEDS=1,2 and FUZZ_FRAMES override; a failure prints the replay command.
// The soak (a child process, 10^6 frames): `npm run fuzz -- --frames 1000000`.
import t from 'tap';
import type { Defect } from '../scripts/fuzz/check.ts';
import { defectKey, runFuzz } from '../scripts/fuzz/driver.ts';
import { formatDefect, formatStats } from '../scripts/fuzz/report.ts';
import { inProcessTarget } from '../scripts/fuzz/target.ts';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 2500);
const timeSeed = Date.now() % 1_000_000_007;
const SEEDS = process.env.FUZZ_SEEDS ? process.env.FUZZ_SEEDS.split(',').map(Number) : [1, 2, 3, timeSeed];

/** Produce v0–2 are advertised but not served (broker/handler.ts advertisedMinVersion): they close by design. */
const closesByDesign = (pair: string) => /^0v[0-2]$/.test(pair);
/** broker.close() must settle: a socket nobody destroys makes server.close() wait forever. */
const CLOSE_DEADLINE_MS = 10_000;

for (const seed of SEEDS) {
  t.test(`fuzz seed ${seed}${seed === timeSeed ? ' (time-based)' : ''}: ${FRAMES} frames`, async (t) => {
    const target = await inProcessTarget();
    let stopped = false;
    t.teardown(() => stopped || target.stop());
    const stats = await runFuzz(target, { seed, frames: FRAMES, concurrency: 12, deadlineMs: 5000 });
    t.comment(formatStats(stats));
    t.same(stats.defects.map((d) => formatDefect(seed, d, stats.defectCounts.get(defectKey(d))).split('\n')[0]), [], 'no defect');
    for (const d of stats.defects) t.comment(formatDefect(seed, d));
    t.equal(stats.framesSent, FRAMES, 'every frame sent');
    t.notOk(stats.crashed, 'broker alive');
    t.ok(stats.healthyRounds > 0, `healthy client served ${stats.healthyRounds} rounds during the run`);
    t.same(stats.pairsUnanswered.filter((p) => !closesByDesign(p)), [], 'every advertised API version got at least one answer');
    t.ok(stats.wellFormed > FRAMES / 4 && stats.closedByBroker > 0, `a mix of well-formed (${stats.wellFormed}) and malformed frames`);
    const growth = (stats.rssPeak - stats.rssStart) / 1048576;
    t.ok(growth < 512, `RSS growth bounded (${growth.toFixed(1)} MiB)`);
    stopped = true; // a hang fails below; the teardown must not wait on it again
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      target.stop().then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), CLOSE_DEADLINE_MS); }),
    ]);
    clearTimeout(timer);
    t.ok(settled, `broker.close() settled within ${CLOSE_DEADLINE_MS / 1000} s after the run`);
  });
}
