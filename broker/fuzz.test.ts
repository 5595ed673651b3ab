// Fuzz (scripts/fuzz): a bounded run per seed against an in-process broker — every advertised API and
// version once, well-formed, then generated and mutated frames (bit flips, byte edits, truncation,
// size/length/count edits, splices, version edits, duplicated chunks) over many connections. Checks:
// the broker stays up, a well-behaved client is served throughout, every well-formed request is
// answered with its correlation id and in order, malformed ones get their own answer or a close, memory
// stays bounded. FUZZ_SEEDS=1,2 and FUZZ_FRAMES override; a failure prints the replay command.
// The soak (a child process, 10^6 frames): `npm run fuzz -- --frames 1000000`.
import t from 'tap';
import type { Defect } from '../scripts/fuzz/check.ts';
import { runFuzz } from '../scripts/fuzz/driver.ts';
import { formatDefect, formatStats } from '../scripts/fuzz/report.ts';
import { inProcessTarget } from '../scripts/fuzz/target.ts';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 2500);
const timeSeed = Date.now() % 1_000_000_007;
const SEEDS = process.env.FUZZ_SEEDS ? process.env.FUZZ_SEEDS.split(',').map(Number) : [1, 2, 3, timeSeed];

/**
 * Known failures, owned by other work in progress (issue #12 item 6); remove each once fixed:
 * - Metadata v0–12: a requested topic name the response cannot echo (empty, null, invalid) makes the
 *   response encoder throw and the connection close (broker/handlers/metadata.ts).
 * - closed-pipelined: when a later pipelined frame closes the connection (malformed, or an encoder
 *   throw), answers already owed to earlier requests are dropped (broker/connection.ts close()).
 *   Kafka reads one request at a time per connection, so its earlier answers always go out.
 */
function known(d: Defect): boolean {
  if (d.kind === 'closed-pipelined') return true;
  if (d.apiKey === 3 && d.kind === 'closed-without-answer') return true;
  if (d.kind === 'internal-error' && /MetadataResponseTopic\.name/.test(d.detail)) return true;
  return false;
}
const knownUnanswered = (pair: string) => /^0v[0-2]$/.test(pair) || /^3v/.test(pair); // Produce v0–2 close by design; Metadata as above

for (const seed of SEEDS) {
  t.test(`fuzz seed ${seed}${seed === timeSeed ? ' (time-based)' : ''}: ${FRAMES} frames`, async (t) => {
    const target = await inProcessTarget();
    // Known failure (reported, broker/server.ts + connection.ts): after some fuzz runs (seed 2, 1,700
    // frames) broker.close() never settles — server.close() waits on a connection nobody destroys.
    // Bounded here so the suite goes on; the comment shows when it happens.
    t.teardown(async () => {
      const closed = await Promise.race([target.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (!closed) t.comment(`KNOWN FAILURE: broker.close() did not settle within 5 s after seed ${seed}`);
    });
    const stats = await runFuzz(target, { seed, frames: FRAMES, concurrency: 12, deadlineMs: 5000 });
    t.comment(formatStats(stats));
    const unknown = stats.defects.filter((d) => !known(d));
    t.same(unknown.map((d) => formatDefect(seed, d, stats.defectCounts.get(`${d.kind}`)).split('\n')[0]), [], 'no defect outside the known list');
    for (const d of unknown) t.comment(formatDefect(seed, d));
    t.equal(stats.framesSent, FRAMES, 'every frame sent');
    t.notOk(stats.crashed, 'broker alive');
    t.ok(stats.healthyRounds > 0, `healthy client served ${stats.healthyRounds} rounds during the run`);
    t.same(stats.pairsUnanswered.filter((p) => !knownUnanswered(p)), [], 'every advertised API version got at least one answer');
    t.ok(stats.wellFormed > FRAMES / 4 && stats.closedByBroker > 0, `a mix of well-formed (${stats.wellFormed}) and malformed frames`);
    const growth = (stats.rssPeak - stats.rssStart) / 1048576;
    t.ok(growth < 512, `RSS growth bounded (${growth.toFixed(1)} MiB)`);
  });
}
