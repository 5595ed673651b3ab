// The short simulation run of `npm test` (the soak is `npm run sim -- --seeds 100000`), a replay check, and
// proof that the invariants catch a broken core.

import t from 'tap';
import { runSeed, SimViolation } from './sim.ts';

const votersFor = (seed: number): number => [1, 3, 5][seed % 3]!;

t.test('600 seeds of 1, 3 and 5 voters under faults keep every invariant and recover after healing', async (t) => {
  const failures: string[] = [];
  let acked = 0;
  for (let seed = 0; seed < 600; seed++) {
    try {
      acked += runSeed({ seed, voters: votersFor(seed), steps: 1500 }).acked;
    } catch (e) {
      failures.push(e instanceof SimViolation ? e.message : String((e as Error).stack));
      if (failures.length >= 3) break;
    }
  }
  t.same(failures, []);
  t.ok(acked > 10_000, `proposals acknowledged (${acked})`);
});

t.test('a seed replays exactly', async (t) => {
  const a = runSeed({ seed: 4242, voters: 3, steps: 2000 });
  const b = runSeed({ seed: 4242, voters: 3, steps: 2000 });
  t.same(a, b);
  t.ok(a.snapshots > 0 && a.crashes > 0, 'the seed exercises snapshots and crashes');
});

/** Runs seeds until one fails; returns its message (or null). */
function firstViolation(faults: { grantEveryVote?: boolean; commitWithoutMajority?: boolean }, voters: number): string | null {
  for (let seed = 0; seed < 300; seed++) {
    try {
      runSeed({ seed, voters, steps: 2000, faults });
    } catch (e) {
      if (e instanceof SimViolation) return e.message;
      throw e;
    }
  }
  return null;
}

t.test('a core that votes for every candidate is caught (two leaders in one epoch, or diverging commits)', async (t) => {
  const v = firstViolation({ grantEveryVote: true }, 3);
  t.ok(v !== null, 'a violation is reported');
  t.match(v, /two leaders in epoch|committed|high watermark|differs/);
});

t.test('a leader that commits without a majority is caught (committed data lost or changed)', async (t) => {
  const v = firstViolation({ commitWithoutMajority: true }, 5);
  t.ok(v !== null, 'a violation is reported');
  t.match(v, /committed|high watermark|differs|liveness/);
});
