// Persistence of KIP-848 consumer groups in `__consumer_offsets` (Kafka's ConsumerGroup* records, keys
// 3-8): after each change the group is encoded, diffed against what was last written and only the
// changed records are appended, in Kafka's order; at start the records are replayed into groups.
import type { ConsumerGroupKey } from '../records.ts';
import {
  decodeCurrentAssignmentValue, decodeEpochValue, decodeMemberValue, decodePartitionMetadataValue, decodeTargetMemberValue,
  encodeConsumerGroupKey, encodeCurrentAssignmentValue, encodeEpochValue, encodeMemberValue, encodePartitionMetadataValue,
  encodeTargetMemberValue,
} from '../records.ts';
import { ConsumerGroup, type ConsumerGroupRecord, ConsumerMember, type MemberState, fromList, toList } from './model.ts';

/** The encoded values last written for a group; a diff against it gives the records to write. */
interface PersistedGroup {
  epoch: Buffer | null;
  partitions: Buffer | null;
  assignmentEpoch: Buffer | null;
  members: Map<string, { meta: Buffer | null; target: Buffer | null; current: Buffer | null }>;
}

export const STATE_CODES: Record<MemberState, number> = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2 };
const STATES_BY_CODE = new Map<number, MemberState>([[0, 'STABLE'], [1, 'UNREVOKED_PARTITIONS'], [2, 'UNRELEASED_PARTITIONS']]);
/** Differs from every encoded value: after a failed write the next change rewrites the group in full. */
const UNKNOWN = Buffer.alloc(0);

/** Writes each group's changes through `persist` and remembers what was written. */
export class ConsumerGroupWriter {
  readonly #persist: ((groupId: string, records: ConsumerGroupRecord[]) => Promise<void>) | null;
  readonly #persisted = new Map<string, PersistedGroup>();
  /** The last write of each group still in flight. */
  readonly #writes = new Map<string, Promise<void>>();

  /** persist null: groups live in memory only. */
  constructor(persist: ((groupId: string, records: ConsumerGroupRecord[]) => Promise<void>) | null) { this.#persist = persist; }

  /** Settles when the group's records written so far are appended; rejects (with `code`) if the last write failed. */
  written(groupId: string): Promise<void> { return this.#writes.get(groupId) ?? Promise.resolve(); }

  /** A group loaded at start: its records are what is written. */
  loaded(g: ConsumerGroup): void { this.#persisted.set(g.groupId, snapshot(g)); }

  /** Writes what changed in the group since the last write (nothing when persistence is off). */
  sync(groupId: string, g: ConsumerGroup | undefined): void {
    if (!this.#persist) return;
    const cur = g && !g.dead ? snapshot(g) : null;
    const prev = this.#persisted.get(groupId);
    const records = diff(groupId, prev, cur);
    if (records.length === 0) return;
    if (cur) this.#persisted.set(groupId, cur);
    else this.#persisted.delete(groupId);
    const p = this.#persist(groupId, records);
    this.#writes.set(groupId, p);
    p.then(() => {
      if (this.#writes.get(groupId) === p) this.#writes.delete(groupId);
    }, () => {
      // What reached the log is unknown: the next change of this group rewrites it in full, with
      // tombstones for every member known before.
      const ids = new Set([...(prev?.members.keys() ?? []), ...(cur?.members.keys() ?? []), ...(this.#persisted.get(groupId)?.members.keys() ?? [])]);
      this.#persisted.set(groupId, {
        epoch: UNKNOWN, partitions: UNKNOWN, assignmentEpoch: UNKNOWN,
        members: new Map([...ids].map((id) => [id, { meta: UNKNOWN, target: UNKNOWN, current: UNKNOWN }])),
      });
      if (this.#writes.get(groupId) === p) this.#writes.delete(groupId);
    });
  }
}

/** The encoded records describing the group now. */
export function snapshot(g: ConsumerGroup): PersistedGroup {
  const members = new Map<string, { meta: Buffer | null; target: Buffer | null; current: Buffer | null }>();
  for (const id of new Set([...g.members.keys(), ...g.target.keys()])) {
    const m = g.members.get(id);
    const target = g.target.get(id);
    members.set(id, {
      meta: m ? encodeMemberValue({
        instanceId: m.instanceId, rackId: m.rackId, clientId: m.clientId, clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs, serverAssignor: m.serverAssignor, classic: m.classic,
      }) : null,
      target: target ? encodeTargetMemberValue(toList(target)) : null,
      // A static member that left (−2) records the epoch it left with as its previous epoch.
      current: m ? encodeCurrentAssignmentValue({
        memberEpoch: m.memberEpoch, previousMemberEpoch: m.memberEpoch === -2 ? m.staticEpoch : m.previousMemberEpoch,
        state: STATE_CODES[m.state], assigned: toList(m.assigned), pendingRevocation: toList(m.pendingRevocation),
      }) : null,
    });
  }
  const topics = [...g.subscriptionMetadata].filter(([, v]) => v !== 'absent').map(([topicName, v]) => {
    const slash = v.lastIndexOf('/');
    return { topicName, topicId: v.slice(0, slash), numPartitions: Number(v.slice(slash + 1)) };
  });
  return { epoch: encodeEpochValue(g.groupEpoch), partitions: encodePartitionMetadataValue(topics), assignmentEpoch: encodeEpochValue(g.assignmentEpoch), members };
}


/** Records turning `prev` into `cur` (null = the group is gone), in Kafka's order. */
export function diff(groupId: string, prev: PersistedGroup | undefined, cur: PersistedGroup | null): ConsumerGroupRecord[] {
  const out: ConsumerGroupRecord[] = [];
  const changed = (a: Buffer | null | undefined, b: Buffer | null) => (b === null ? a !== null && a !== undefined : a === null || a === undefined || !a.equals(b));
  const put = (key: ConsumerGroupKey, before: Buffer | null | undefined, value: Buffer | null) => {
    if (changed(before, value)) out.push({ key: encodeConsumerGroupKey(key), value });
  };
  const group = groupId;
  // Members that went: current assignment, target, metadata tombstones.
  for (const [member, p] of prev?.members ?? []) {
    const c = cur?.members.get(member);
    put({ type: 'cg-current-assignment', group, member }, p.current, c?.current ?? null);
    put({ type: 'cg-target-member', group, member }, p.target, c?.target ?? null);
    put({ type: 'cg-member', group, member }, p.meta, c?.meta ?? null);
  }
  if (cur === null) {
    put({ type: 'cg-target-metadata', group }, prev?.assignmentEpoch, null);
    put({ type: 'cg-partition-metadata', group }, prev?.partitions, null);
    put({ type: 'cg-metadata', group }, prev?.epoch, null);
    return out;
  }
  const fresh = [...cur.members].filter(([id]) => !prev?.members.has(id));
  for (const [member, c] of fresh) put({ type: 'cg-member', group, member }, undefined, c.meta);
  put({ type: 'cg-metadata', group }, prev?.epoch, cur.epoch);
  put({ type: 'cg-partition-metadata', group }, prev?.partitions, cur.partitions);
  for (const [member, c] of fresh) put({ type: 'cg-target-member', group, member }, undefined, c.target);
  put({ type: 'cg-target-metadata', group }, prev?.assignmentEpoch, cur.assignmentEpoch);
  for (const [member, c] of fresh) put({ type: 'cg-current-assignment', group, member }, undefined, c.current);
  return out;
}


/** Replays one consumer-group record from `__consumer_offsets` at start (later records win). */
export function replayRecord(groups: Map<string, ConsumerGroup>, key: ConsumerGroupKey, value: Buffer | null): void {
  let g = groups.get(key.group);
  if (key.type === 'cg-metadata' && value === null) {
    groups.delete(key.group);
    return;
  }
  if (!g) {
    if (value === null) return;
    g = new ConsumerGroup(key.group);
    groups.set(key.group, g);
  }
  switch (key.type) {
    case 'cg-metadata':
      g.groupEpoch = decodeEpochValue(value!);
      break;
    case 'cg-target-metadata':
      if (value) g.assignmentEpoch = decodeEpochValue(value);
      break;
    case 'cg-partition-metadata':
      g.subscriptionMetadata = new Map((value ? decodePartitionMetadataValue(value) : []).map((t) => [t.topicName, `${t.topicId}/${t.numPartitions}`]));
      break;
    case 'cg-target-member':
      if (value) g.target.set(key.member, fromList(decodeTargetMemberValue(value)));
      else g.target.delete(key.member);
      break;
    case 'cg-member': {
      if (!value) {
        g.members.delete(key.member);
        break;
      }
      const v = decodeMemberValue(value);
      const m = g.members.get(key.member) ?? new ConsumerMember(key.member);
      g.members.set(key.member, m);
      Object.assign(m, {
        instanceId: v.instanceId, rackId: v.rackId, clientId: v.clientId, clientHost: v.clientHost,
        subscribedTopicNames: [...new Set(v.subscribedTopicNames)].sort(), subscribedTopicRegex: v.subscribedTopicRegex,
        rebalanceTimeoutMs: v.rebalanceTimeoutMs, serverAssignor: v.serverAssignor, classic: v.classic ?? null,
      });
      break;
    }
    case 'cg-current-assignment': {
      const m = g.members.get(key.member) ?? (value ? new ConsumerMember(key.member) : undefined);
      if (!m) break;
      g.members.set(key.member, m);
      if (!value) {
        m.assigned = new Map();
        m.pendingRevocation = new Map();
        m.assignmentEpochs = new Map();
        break;
      }
      const v = decodeCurrentAssignmentValue(value);
      m.memberEpoch = v.memberEpoch;
      m.previousMemberEpoch = v.previousMemberEpoch;
      if (v.memberEpoch === -2) {
        m.staticEpoch = Math.max(0, v.previousMemberEpoch);
        m.previousMemberEpoch = -1;
      }
      m.state = STATES_BY_CODE.get(v.state) ?? 'STABLE';
      m.assigned = fromList(v.assigned);
      m.pendingRevocation = fromList(v.pendingRevocation);
      // Assignment epochs are not written (see finishLoading): as Kafka reads a record without them,
      // every partition counts as given at the member epoch (0 for a static member that left).
      m.assignmentEpochs = new Map();
      for (const map of [m.assigned, m.pendingRevocation]) for (const [t, ps] of map) for (const p of ps) m.assignmentEpochs.set(`${t}:${p}`, Math.max(0, v.memberEpoch));
      break;
    }
  }
}
