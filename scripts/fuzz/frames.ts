// Frame i of a run, rebuilt from (seed, i) alone: the first frames sweep every advertised API and
// version once, unmutated; after that a mix of fresh generated requests and mutated seeds.
import { generateFrame } from './generate.ts';
import { mutate } from './mutate.ts';
import { Rng } from './rng.ts';
import type { ServedApi } from './corpus.ts';

export interface Plan {
  seed: number;
  apis: ServedApi[];
  pairs: Array<{ apiKey: number; version: number }>;
  fixtures: Buffer[];
}

export interface BuiltFrame {
  index: number;
  frame: Buffer;
  /** Where the bytes came from: gen:<api>v<version> or fixture#<n>, then the mutators applied. */
  origin: string;
  ops: string[];
}

const corrOf = (i: number) => i & 0x7fffffff;

function randomGenerated(plan: Plan, i: number, rng: Rng): { frame: Buffer; origin: string } {
  const a = rng.pick(plan.apis);
  const v = rng.range(a.advertisedMin, a.max);
  return { frame: generateFrame(a.apiKey, v, corrOf(i), rng), origin: `gen:${a.name}v${v}` };
}

export function buildFrame(plan: Plan, i: number): BuiltFrame {
  if (i < plan.pairs.length) {
    const { apiKey, version } = plan.pairs[i]!;
    const rng = Rng.for(plan.seed, 1, i);
    return { index: i, frame: generateFrame(apiKey, version, corrOf(i), rng, true), origin: `sweep:${apiKey}v${version}`, ops: [] };
  }
  const rng = Rng.for(plan.seed, 1, i);
  if (rng.chance(0.3)) return { index: i, ...randomGenerated(plan, i, rng), ops: [] };
  let base: { frame: Buffer; origin: string };
  if (plan.fixtures.length > 0 && rng.chance(0.35)) {
    const k = rng.int(plan.fixtures.length);
    base = { frame: Buffer.from(plan.fixtures[k]!), origin: `fixture#${k}` };
    base.frame.writeInt32BE(corrOf(i), 8);
  } else {
    base = randomGenerated(plan, i, rng);
  }
  const other = () => (plan.fixtures.length > 0 && rng.chance(0.5) ? plan.fixtures[rng.int(plan.fixtures.length)]! : randomGenerated(plan, i, rng).frame);
  const { frame, ops } = mutate(base.frame, rng, other);
  return { index: i, frame, origin: base.origin, ops };
}

/** Frames for connection c, whose first frame is `first`: the sweep gets one connection per frame. */
export function connectionSize(plan: Plan, c: number, first: number, max: number): number {
  return first < plan.pairs.length ? 1 : 1 + Rng.for(plan.seed, 2, c).int(max);
}

/** Whether connection c sends all its frames at once (else one owed answer at a time). */
export function connectionPipelined(seed: number, c: number): boolean {
  return Rng.for(seed, 3, c).chance(0.3);
}
