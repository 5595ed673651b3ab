// KIP-848 server-side assignors `uniform` and `range` as pure functions (Kafka 4.x
// group-coordinator `assignor/UniformAssignor` and `assignor/RangeAssignor`, re-derived, not copied).
// Input: every member's subscribed topic ids and current target assignment, and the partition count of
// each subscribed topic. Output: a new target assignment for every member (topic id → sorted partitions).
//
// uniform: balances the partition *count* across members. Every member keeps as many of its current
// partitions as its quota allows (stickiness), the rest go to the least-loaded subscribed members.
// With identical subscriptions (Kafka's homogeneous case) every member ends with ⌊P/M⌋ or ⌈P/M⌉
// partitions, exactly as Kafka. With different subscriptions (heterogeneous) a partition goes to the
// least-loaded member subscribed to its topic; Kafka additionally moves partitions between members
// afterwards to even out the counts, which we do not do (balance may be looser than Kafka's there).
//
// range: per topic, the subscribed members sorted by member id get contiguous ranges; the first
// `P mod M` members get one extra partition. Co-partitioned topics therefore land on the same member.
// Kafka's server-side range additionally keeps a member's previous partitions when the range
// quotas allow it; ours recomputes the ranges (same partition counts per member, maybe other partitions).

export type TopicPartitionsMap = Map<string, number[]>;

export interface AssignorMember {
  memberId: string;
  /** Topic ids the member subscribes to (already resolved from names / regex). */
  subscribedTopicIds: ReadonlySet<string>;
  /** The member's current target assignment (topic id → partitions). */
  current: TopicPartitionsMap;
}

export interface AssignorInput {
  members: AssignorMember[];
  /** Partition count of every topic that exists (topic id → count). */
  partitionCounts: ReadonlyMap<string, number>;
}

export type AssignorOutput = Map<string, TopicPartitionsMap>;

export interface Assignor { name: string; assign(input: AssignorInput): AssignorOutput }

function emptyOutput(members: AssignorMember[]): AssignorOutput {
  const out: AssignorOutput = new Map();
  for (const m of members) out.set(m.memberId, new Map());
  return out;
}

function add(map: TopicPartitionsMap, topicId: string, p: number): void {
  let l = map.get(topicId);
  if (!l) map.set(topicId, (l = []));
  l.push(p);
}

function sortAll(out: AssignorOutput): AssignorOutput {
  for (const a of out.values()) {
    for (const l of a.values()) l.sort((x, y) => x - y);
  }
  return out;
}

export function countPartitions(a: TopicPartitionsMap): number {
  let n = 0;
  for (const l of a.values()) n += l.length;
  return n;
}

export function uniformAssign(input: AssignorInput): AssignorOutput {
  const members = [...input.members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const out = emptyOutput(members);
  const topics = [...new Set(members.flatMap((m) => [...m.subscribedTopicIds]))]
    .filter((t) => (input.partitionCounts.get(t) ?? 0) > 0)
    .sort();
  if (members.length === 0 || topics.length === 0) return out;
  const total = topics.reduce((n, t) => n + input.partitionCounts.get(t)!, 0);

  // Quota: in the homogeneous case, ⌊P/M⌋ and the first P mod M members (by retained count, so that
  // members that keep more stay above) get one more. Heterogeneous: a member's quota is bounded by its
  // subscribed partitions; we use the same ⌈P/M⌉ cap for retention.
  const minQuota = Math.floor(total / members.length);
  let extra = total % members.length;
  const load = new Map<string, number>();
  const taken = new Set<string>();
  const key = (t: string, p: number): string => `${t}:${p}`;

  // 1. Stickiness: keep current partitions that are still valid, up to the quota.
  const retained = members.map((m) => {
    const keep: Array<[string, number]> = [];
    for (const [t, ps] of [...m.current.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!m.subscribedTopicIds.has(t)) continue;
      const count = input.partitionCounts.get(t) ?? 0;
      for (const p of [...ps].sort((a, b) => a - b)) if (p < count && !taken.has(key(t, p))) keep.push([t, p]);
    }
    return { m, keep };
  });
  // Members holding more than the minimum get the extra slots first (fewer moves).
  retained.sort((a, b) => b.keep.length - a.keep.length);
  for (const { m, keep } of retained) {
    let quota = minQuota;
    if (extra > 0 && keep.length > minQuota) { quota++; extra--; }
    const a = out.get(m.memberId)!;
    let n = 0;
    for (const [t, p] of keep) {
      if (n >= quota) break;
      if (taken.has(key(t, p))) continue;
      add(a, t, p); taken.add(key(t, p)); n++;
    }
    load.set(m.memberId, n);
  }

  // 2. Unassigned partitions, topic by topic, to the least-loaded subscribed member (ties: member id).
  for (const t of topics) {
    const subscribers = members.filter((m) => m.subscribedTopicIds.has(t));
    const count = input.partitionCounts.get(t)!;
    for (let p = 0; p < count; p++) {
      if (taken.has(key(t, p))) continue;
      let best: AssignorMember | undefined;
      for (const m of subscribers) if (!best || load.get(m.memberId)! < load.get(best.memberId)!) best = m;
      add(out.get(best!.memberId)!, t, p); taken.add(key(t, p));
      load.set(best!.memberId, load.get(best!.memberId)! + 1);
    }
  }
  return sortAll(out);
}

export function rangeAssign(input: AssignorInput): AssignorOutput {
  const members = [...input.members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const out = emptyOutput(members);
  const topics = [...new Set(members.flatMap((m) => [...m.subscribedTopicIds]))].sort();
  for (const t of topics) {
    const count = input.partitionCounts.get(t) ?? 0;
    const subscribers = members.filter((m) => m.subscribedTopicIds.has(t));
    if (count === 0 || subscribers.length === 0) continue;
    const per = Math.floor(count / subscribers.length);
    const rem = count % subscribers.length;
    let p = 0;
    subscribers.forEach((m, i) => {
      const n = per + (i < rem ? 1 : 0);
      for (let k = 0; k < n; k++) add(out.get(m.memberId)!, t, p++);
    });
  }
  return sortAll(out);
}

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  ['uniform', { name: 'uniform', assign: uniformAssign }],
  ['range', { name: 'range', assign: rangeAssign }],
]);

/** `group.consumer.assignors` default: uniform first (the default assignor), then range. */
export const DEFAULT_ASSIGNOR = 'uniform';
