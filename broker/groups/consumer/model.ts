// The KIP-848 consumer group model: groups, members, their configuration and the small helpers on
// topic-partition maps that the heartbeat, reconciliation, migration and persistence code share.
import { encodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.ts';
import { type ConsumerProtocolSubscription, decodeConsumerProtocolSubscription } from '../../../protocol/generated/consumer-protocol-subscription.ts';
import { Reader } from '../../../protocol/reader.ts';
import { Writer } from '../../../protocol/writer.ts';
import { DEFAULT_ASSIGNOR, type TopicPartitionsMap } from './assignors.ts';
import type { ClassicMemberMetadata, TopicPartitionsRecord } from '../records.ts';

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';
export type MemberState = 'STABLE' | 'UNREVOKED_PARTITIONS' | 'UNRELEASED_PARTITIONS';

export interface ConsumerGroupConfig {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxSize: number;
  /** `group.consumer.assignors`: the first is the default. */
  assignors: string[];
  /** `group.consumer.migration.policy`: disabled, upgrade, downgrade or bidirectional (case-insensitive). */
  migrationPolicy: string;
  /** `group.max.size`: a downgrade to a classic group needs the group to fit. */
  classicMaxSize: number;
}

export const DEFAULT_CONSUMER_GROUP_CONFIG: ConsumerGroupConfig = {
  sessionTimeoutMs: 45000,
  heartbeatIntervalMs: 5000,
  maxSize: 2147483647,
  assignors: [DEFAULT_ASSIGNOR, 'range'],
  migrationPolicy: 'bidirectional',
  classicMaxSize: 2147483647,
};

/** Kafka's ConsumerGroupMigrationPolicy: [upgrade enabled, downgrade enabled]; an unknown name is `disabled`. */
export function migrationPolicy(name: string): { upgrade: boolean; downgrade: boolean } {
  switch (name.toLowerCase()) {
    case 'bidirectional': return { upgrade: true, downgrade: true };
    case 'upgrade': return { upgrade: true, downgrade: false };
    case 'downgrade': return { upgrade: false, downgrade: true };
    default: return { upgrade: false, downgrade: false };
  }
}

/** A classic group's member handed over by an upgrade (its last JoinGroup/SyncGroup state). */
export interface ClassicMemberInput {
  memberId: string;
  instanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: Array<{ name: string; metadata: Buffer }>;
  /** The ConsumerProtocolAssignment the member was last given (empty: none). */
  assignment: Buffer;
}

/** What a downgrade hands to the classic coordinator: the members and their target assignment by topic name. */
export interface DowngradedGroup {
  groupId: string;
  groupEpoch: number;
  members: Array<Omit<ClassicMemberInput, 'assignment'> & { assignment: Array<{ topic: string; partitions: number[] }> }>;
}

export interface ClassicJoinInput {
  groupId: string;
  memberId: string;
  instanceId: string | null;
  protocolType: string;
  protocols: Array<{ name: string; metadata: Buffer }>;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  requireKnownMemberId: boolean;
}

export interface ClassicJoinOutput {
  errorCode: number;
  memberId: string;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
}

/** A ConsumerProtocolSubscription from JoinGroup metadata (int16 version prefix; newer versions read as v3). */
export function decodeSubscription(metadata: Buffer): ConsumerProtocolSubscription {
  const r = new Reader(metadata);
  const version = r.int16();
  if (version < 0) throw new Error(`bad subscription version ${version}`);
  return decodeConsumerProtocolSubscription(r, Math.min(version, 3));
}

/** A ConsumerProtocolAssignment at the version of the member's subscription metadata (as Kafka serializes it). */
export function encodeAssignment(assigned: Array<{ topic: string; partitions: number[] }>, subscriptionMetadata: Buffer | undefined): Buffer {
  let version = 0;
  if (subscriptionMetadata && subscriptionMetadata.length >= 2) version = Math.max(0, Math.min(3, subscriptionMetadata.readInt16BE(0)));
  const w = new Writer(64);
  w.int16(version);
  encodeConsumerProtocolAssignment(w, version, { assignedPartitions: assigned, userData: null });
  return w.finishBuffer();
}

/** What the group coordinator needs to know of topics (the broker's TopicRegistry fits). */
export interface TopicView {
  get(name: string): { topicId: string; partitions: number } | undefined;
  getById(id: string): { name: string; partitions: number } | undefined;
  all(): Iterable<{ name: string; topicId: string; partitions: number }>;
}

export interface TopicPartitionsList { topicId: string; partitions: number[] }

export interface HeartbeatInput {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: TopicPartitionsList[] | null;
  clientId: string;
  clientHost: string;
  apiVersion: number;
}

/**
 * The outcome of an offset commit's group checks: a request-wide error, or NONE with, for a member
 * committing at an older epoch, a per-partition check (any failing partition fails the whole request,
 * as Kafka's validator throws).
 */
export interface OffsetCommitCheck {
  errorCode: number;
  check: ((topicName: string, partition: number) => number) | null;
}

export interface HeartbeatOutput {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicPartitionsList[] | null;
}

export class ConsumerMember {
  memberId: string;
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: MemberState = 'STABLE';
  instanceId: string | null = null;
  rackId: string | null = null;
  rebalanceTimeoutMs = -1;
  clientId = '';
  clientHost = '';
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  /** Partitions the member may use (topic id → partitions). */
  assigned: TopicPartitionsMap = new Map();
  /** Partitions the member must give up before it advances. */
  pendingRevocation: TopicPartitionsMap = new Map();
  sessionTimer: unknown = null;
  rebalanceTimer: unknown = null;
  /** The epoch a static member had when it left with −2 (its replacement continues from it). */
  staticEpoch = 0;
  /**
   * KIP-1251 assignment epochs: `topicId:partition` → the member epoch at which the member was given
   * the partition (kept while it keeps it), for every assigned or pending-revocation partition.
   */
  assignmentEpochs = new Map<string, number>();
  /** Set for a member that uses the classic protocol (JoinGroup/SyncGroup/Heartbeat) inside the group. */
  classic: ClassicMemberMetadata | null = null;
  /** Classic members: must rejoin within the rebalance timeout after being told to. */
  joinTimer: unknown = null;
  /** Classic members: must SyncGroup within the rebalance timeout after joining. */
  syncTimer: unknown = null;
  constructor(memberId: string) { this.memberId = memberId; }
}

export class ConsumerGroup {
  readonly groupId: string;
  groupEpoch = 0;
  assignmentEpoch = 0;
  members = new Map<string, ConsumerMember>();
  /** Target assignment of every member (member id → topic id → partitions). */
  target = new Map<string, TopicPartitionsMap>();
  /** Owner epoch of every assigned or pending-revocation partition: `topicId:partition` → epoch. */
  partitionEpochs = new Map<string, number>();
  /** Subscribed topic name → partition count (−1 absent) the target assignment was computed with. */
  subscriptionMetadata = new Map<string, string>();
  /** Set when the group is deleted (DeleteGroups); nothing more happens on it. */
  dead = false;
  constructor(groupId: string) { this.groupId = groupId; }

  get state(): ConsumerGroupState {
    if (this.dead) return 'Dead';
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'STABLE') return 'Reconciling';
    }
    return 'Stable';
  }

  /** The preferred server assignor: the members' most requested one, else the default. */
  preferredAssignor(defaultName: string): string {
    const votes = new Map<string, number>();
    for (const m of this.members.values()) if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best = defaultName;
    let n = 0;
    for (const [name, c] of votes) if (c > n) { best = name; n = c; }
    return best;
  }
}

export const key = (topicId: string, p: number): string => `${topicId}:${p}`;

export function cloneMap(a: TopicPartitionsMap): TopicPartitionsMap {
  return new Map([...a].map(([t, ps]) => [t, [...ps]]));
}

export function sameAssignment(a: TopicPartitionsMap, b: TopicPartitionsMap): boolean {
  const norm = (m: TopicPartitionsMap) => JSON.stringify([...m].filter(([, ps]) => ps.length > 0).map(([t, ps]) => [t, [...ps].sort((x, y) => x - y)]).sort());
  return norm(a) === norm(b);
}

export function toList(a: TopicPartitionsMap): TopicPartitionsList[] {
  return [...a].filter(([, ps]) => ps.length > 0).map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}

/** JS RegExp for a RE2/J-style pattern, matched against the whole name. Throws on a bad pattern. */
export function compileTopicRegex(re: string): RegExp {
  let flags = '';
  let body = re;
  if (body.startsWith('(?i)')) { flags = 'i'; body = body.slice(4); }
  return new RegExp(`^(?:${body})$`, flags);
}

/** A record for `__consumer_offsets` (key and value already encoded; null value = tombstone). */
export interface ConsumerGroupRecord { key: Buffer; value: Buffer | null }

export function fromList(list: TopicPartitionsRecord[]): TopicPartitionsMap {
  const out: TopicPartitionsMap = new Map();
  for (const tp of list) out.set(tp.topicId, [...(out.get(tp.topicId) ?? []), ...tp.partitions]);
  return out;
}

export function pushTo(map: TopicPartitionsMap, t: string, p: number): void {
  let l = map.get(t);
  if (!l) map.set(t, (l = []));
  l.push(p);
}

/** True if `owned` is null (unknown: assume still owned) or lists any partition of `set`. */
export function ownsAny(owned: TopicPartitionsList[] | null, set: TopicPartitionsMap): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const s = set.get(tp.topicId);
    if (s && tp.partitions.some((p) => s.includes(p))) return true;
  }
  return false;
}

export function isSubset(owned: TopicPartitionsList[] | null, assigned: TopicPartitionsMap): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const a = assigned.get(tp.topicId) ?? [];
    if (!tp.partitions.every((p) => a.includes(p))) return false;
  }
  return true;
}

export function sameStringMap(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
