import t from 'tap';
import { type AssignorMember, countPartitions, rangeAssign, uniformAssign } from './assignors.ts';

function member(memberId: string, topics: string[], current: Record<string, number[]> = {}): AssignorMember {
  return { memberId, subscribedTopicIds: new Set(topics), current: new Map(Object.entries(current)) };
}

function flat(out: Map<string, Map<string, number[]>>): string[] {
  const all: string[] = [];
  for (const a of out.values()) for (const [tid, ps] of a) for (const p of ps) all.push(`${tid}:${p}`);
  return all.sort();
}

t.test('uniform: homogeneous, every partition once, counts differ by at most one', async (t) => {
  const counts = new Map([['A', 12]]);
  const out = uniformAssign({ members: [member('m1', ['A']), member('m2', ['A']), member('m3', ['A'])], partitionCounts: counts });
  t.equal(flat(out).length, 12);
  t.equal(new Set(flat(out)).size, 12);
  t.same([...out.values()].map(countPartitions), [4, 4, 4]);
  const five = uniformAssign({ members: ['a', 'b', 'c', 'd', 'e'].map((m) => member(m, ['A'])), partitionCounts: new Map([['A', 7]]) });
  const sizes = [...five.values()].map(countPartitions).sort();
  t.same(sizes, [1, 1, 1, 2, 2]);
});

t.test('uniform: sticky when a member joins and when one leaves', async (t) => {
  const counts = new Map([['A', 12]]);
  const first = uniformAssign({ members: [member('m1', ['A']), member('m2', ['A']), member('m3', ['A'])], partitionCounts: counts });
  const cur = (id: string): Record<string, number[]> => Object.fromEntries(first.get(id)!);
  // m4 joins: each of m1..m3 keeps 3 of its 4 partitions, m4 gets the three released.
  const joined = uniformAssign({ members: [member('m1', ['A'], cur('m1')), member('m2', ['A'], cur('m2')), member('m3', ['A'], cur('m3')), member('m4', ['A'])], partitionCounts: counts });
  for (const id of ['m1', 'm2', 'm3']) {
    const kept = joined.get(id)!.get('A')!.filter((p) => first.get(id)!.get('A')!.includes(p));
    t.equal(kept.length, 3, `${id} keeps 3`);
  }
  t.equal(countPartitions(joined.get('m4')!), 3);
  t.equal(new Set(flat(joined)).size, 12);
  // m2 leaves: m1 and m3 keep all of theirs.
  const left = uniformAssign({ members: [member('m1', ['A'], cur('m1')), member('m3', ['A'], cur('m3'))], partitionCounts: counts });
  t.ok(first.get('m1')!.get('A')!.every((p) => left.get('m1')!.get('A')!.includes(p)));
  t.ok(first.get('m3')!.get('A')!.every((p) => left.get('m3')!.get('A')!.includes(p)));
  t.same([...left.values()].map(countPartitions), [6, 6]);
});

t.test('uniform: heterogeneous subscriptions, partitions only go to subscribers; deleted topics and shrunk counts dropped', async (t) => {
  const out = uniformAssign({
    members: [member('m1', ['A', 'B'], { A: [0, 1, 2], Z: [0] }), member('m2', ['B'])],
    partitionCounts: new Map([['A', 2], ['B', 4]]),
  });
  t.same(out.get('m1')!.get('A'), [0, 1]);
  t.notOk(out.get('m1')!.has('Z'));
  t.notOk(out.get('m2')!.has('A'));
  t.equal(flat(out).length, 6);
  t.same(flat(out), ['A:0', 'A:1', 'B:0', 'B:1', 'B:2', 'B:3']);
  t.equal(countPartitions(out.get('m2')!), 3);
  t.same(uniformAssign({ members: [], partitionCounts: new Map([['A', 3]]) }), new Map());
  t.same(uniformAssign({ members: [member('m1', ['X'])], partitionCounts: new Map() }).get('m1'), new Map());
});

t.test('range: contiguous ranges by member id, extras to the first members, co-partitioning', async (t) => {
  const out = rangeAssign({
    members: [member('c', ['A', 'B']), member('a', ['A', 'B']), member('b', ['A', 'B'])],
    partitionCounts: new Map([['A', 7], ['B', 7]]),
  });
  t.same(out.get('a')!.get('A'), [0, 1, 2]);
  t.same(out.get('b')!.get('A'), [3, 4]);
  t.same(out.get('c')!.get('A'), [5, 6]);
  for (const id of ['a', 'b', 'c']) t.same(out.get(id)!.get('A'), out.get(id)!.get('B'));
  const het = rangeAssign({ members: [member('a', ['A']), member('b', ['A', 'B'])], partitionCounts: new Map([['A', 2], ['B', 3]]) });
  t.same(het.get('a')!.get('A'), [0]);
  t.same(het.get('b')!.get('A'), [1]);
  t.same(het.get('b')!.get('B'), [0, 1, 2]);
});
