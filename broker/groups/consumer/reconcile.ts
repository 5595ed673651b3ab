// Reconciliation of a KIP-848 member towards its target assignment, and the partition ownership
// bookkeeping (owner epochs, KIP-1251 assignment epochs) it relies on.
import type { TopicPartitionsMap } from './assignors.ts';
import { type ConsumerGroup, type ConsumerMember, type TopicPartitionsList, key, ownsAny, pushTo } from './model.ts';

/**
 * Moves a member towards its target assignment (Kafka's CurrentAssignmentBuilder): partitions to give
 * up are revoked first; a partition newly targeted at it is handed out once no other member owns it.
 * `subscribedTopicIds`: the topic ids the member subscribes to now (only computed when needed).
 */
export function reconcile(g: ConsumerGroup, m: ConsumerMember, owned: TopicPartitionsList[] | null, subscribedTopicIds: () => Set<string>): void {
  const targetEpoch = g.assignmentEpoch;
  const target = g.target.get(m.memberId) ?? new Map<string, number[]>();
  if (m.state === 'STABLE' && m.memberEpoch === targetEpoch) return;
  if (m.state === 'UNREVOKED_PARTITIONS' && ownsAny(owned, m.pendingRevocation)) return;

  const subscribed = subscribedTopicIds();
  const newAssigned: TopicPartitionsMap = new Map();
  const newRevoke: TopicPartitionsMap = new Map();
  const pendingAssign: Array<[string, number]> = [];
  const topics = new Set([...target.keys(), ...m.assigned.keys()]);
  for (const t of topics) {
    const tgt = new Set(subscribed.has(t) ? target.get(t) ?? [] : []);
    const cur = new Set(m.assigned.get(t) ?? []);
    for (const p of cur) (tgt.has(p) ? pushTo(newAssigned, t, p) : pushTo(newRevoke, t, p));
    for (const p of tgt) if (!cur.has(p)) pendingAssign.push([t, p]);
  }

  if (newRevoke.size > 0 && ownsAny(owned, newRevoke)) {
    // Revoke first; the member keeps its epoch until it reports the partitions gone.
    setOwnership(g, m, newAssigned, newRevoke);
    m.state = 'UNREVOKED_PARTITIONS';
    return;
  }
  let unreleased = false;
  for (const [t, p] of pendingAssign) {
    const owner = g.partitionEpochs.get(key(t, p));
    if (owner === undefined || ownedBy(g, m, t, p)) pushTo(newAssigned, t, p);
    else unreleased = true;
  }
  setOwnership(g, m, newAssigned, new Map(), targetEpoch);
  if (m.memberEpoch !== targetEpoch) {
    m.previousMemberEpoch = m.memberEpoch;
    m.memberEpoch = targetEpoch;
    // The member's partitions now carry its new epoch.
    for (const [t, ps] of m.assigned) for (const p of ps) g.partitionEpochs.set(key(t, p), targetEpoch);
  }
  m.state = unreleased ? 'UNRELEASED_PARTITIONS' : 'STABLE';
}

function ownedBy(g: ConsumerGroup, m: ConsumerMember, t: string, p: number): boolean {
  return (m.assigned.get(t)?.includes(p) ?? false) || (m.pendingRevocation.get(t)?.includes(p) ?? false);
}

/**
 * Replaces a member's assigned and pending-revocation partitions, keeping partitionEpochs in step.
 * Assignment epochs (KIP-1251): a partition the member already had keeps its epoch; a partition new
 * to it gets `newEpoch` (the epoch the member moves to with it).
 */
export function setOwnership(g: ConsumerGroup, m: ConsumerMember, assigned: TopicPartitionsMap, revoke: TopicPartitionsMap, newEpoch = m.memberEpoch): void {
  for (const map of [m.assigned, m.pendingRevocation]) for (const [t, ps] of map) for (const p of ps) g.partitionEpochs.delete(key(t, p));
  const had = new Set<string>();
  for (const [t, ps] of m.assigned) for (const p of ps) had.add(key(t, p));
  const old = m.assignmentEpochs;
  m.assignmentEpochs = new Map();
  for (const [t, ps] of assigned) for (const p of ps) m.assignmentEpochs.set(key(t, p), had.has(key(t, p)) ? old.get(key(t, p)) ?? newEpoch : newEpoch);
  for (const [t, ps] of revoke) for (const p of ps) m.assignmentEpochs.set(key(t, p), old.get(key(t, p)) ?? newEpoch);
  m.assigned = assigned;
  m.pendingRevocation = revoke;
  for (const map of [assigned, revoke]) for (const [t, ps] of map) for (const p of ps) g.partitionEpochs.set(key(t, p), m.memberEpoch);
}

/** A member in UNRELEASED_PARTITIONS still waits for a partition another member owns. */
export function waitingOnUnreleased(g: ConsumerGroup, m: ConsumerMember): boolean {
  for (const [t, ps] of g.target.get(m.memberId) ?? new Map<string, number[]>()) {
    for (const p of ps) if (!(m.assigned.get(t)?.includes(p) ?? false) && g.partitionEpochs.has(key(t, p))) return true;
  }
  return false;
}
