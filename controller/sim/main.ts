// npm run sim -- --seeds N [--start S] [--voters 1|3|5] [--steps K]
// Runs seeds start..start+N-1 (voters cycling 1, 3, 5 unless given); a violation prints the seed and the
// command that replays it exactly, and the exit code is 1.

import { runSeed, SimViolation } from './sim.ts';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

export function votersFor(seed: number, fixed: number): number {
  return fixed > 0 ? fixed : [1, 3, 5][seed % 3]!;
}

const seeds = arg('seeds', 100);
const start = arg('start', 0);
const fixedVoters = arg('voters', 0);
const steps = arg('steps', 2000);
const verbose = process.argv.includes('--verbose');
if (fixedVoters !== 0 && ![1, 3, 5].includes(fixedVoters)) throw new Error('--voters must be 1, 3 or 5');

const t0 = performance.now();
let failures = 0;
let events = 0;
let acked = 0;
for (let seed = start; seed < start + seeds; seed++) {
  const voters = votersFor(seed, fixedVoters);
  try {
    const r = runSeed({ seed, voters, steps, ...(verbose ? { log: (l: string) => console.log(`  [${seed}] ${l}`) } : {}) });
    events += r.events;
    acked += r.acked;
    if (verbose) console.log(JSON.stringify(r));
  } catch (e) {
    failures++;
    console.error(e instanceof SimViolation ? e.message : (e as Error).stack);
    console.error(`replay: npm run sim -- --start ${seed} --seeds 1 --voters ${voters} --steps ${steps}`);
    if (failures >= 10) break;
  }
  if ((seed - start + 1) % 1000 === 0) console.log(`${seed - start + 1} seeds, ${failures} failures, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const secs = (performance.now() - t0) / 1000;
console.log(`sim: ${seeds} seeds from ${start}, ${failures} failures, ${events} events, ${acked} acknowledged proposals, ${secs.toFixed(1)} s`);
process.exitCode = failures > 0 ? 1 : 0;
