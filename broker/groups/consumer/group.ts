// KIP-848 consumer groups (group.protocol=consumer): the coordinator side of ConsumerGroupHeartbeat,
// following Kafka 4.x GroupMetadataManager.consumerGroupHeartbeat, modern/consumer/ConsumerGroup,
// TargetAssignmentBuilder and CurrentAssignmentBuilder (re-derived from their behaviour, not copied).
//
// Epochs: the group epoch is bumped whenever a member joins, leaves, is fenced or changes its
// subscription, or a subscribed topic changes (created, deleted, partitions added). When the group
// epoch is ahead of the assignment epoch, the next heartbeat computes a new target assignment with
// the server-side assignor and the assignment epoch catches up. Each member then reconciles towards
// its target: partitions it must give up are first revoked (state UNREVOKED_PARTITIONS; the member
// keeps its epoch until its heartbeat's owned partitions no longer list them), and a partition newly
// targeted at a member is only handed out once no other member owns it (UNRELEASED_PARTITIONS until
// then). Partition ownership is tracked per topic-partition with the owner's epoch, and each member
// keeps the epoch at which it was given each partition (KIP-1251 assignment epochs, Kafka 4.3), which
// lets an OffsetCommit at an older member epoch through for partitions held since then.
//
// Migration (`group.consumer.migration.policy`, Kafka 4.x): a classic group is upgraded in place when a
// consumer-protocol member joins (upgradeFromClassic); members using the classic protocol live in the
// group (ConsumerMember.classic) and are served through JoinGroup/SyncGroup/Heartbeat/LeaveGroup
// (classicJoin & co., Kafka's classicGroup*ToConsumerGroup); when the last consumer-protocol member
// goes, the group is handed back to the classic coordinator (onDowngrade).
//
// Timers (injected clock): every heartbeat re-arms the member's session timeout
// (`group.consumer.session.timeout.ms`); a member that must revoke partitions gets its rebalance
// timeout to do so. Either expiry fences the member: it is removed and the group epoch bumped.
//
// Regex subscriptions (v1 `subscribedTopicRegex`): Kafka compiles them with RE2/J and matches whole
// topic names. We compile with JavaScript's RegExp, anchored as `^(?:re)$`. The common subset
// (literals, classes, `.`, `*`, `+`, `?`, `{n,m}`, alternation, groups, `\d\w\s`) behaves the same;
// differences: JS accepts lookaround and backreferences (RE2/J rejects them → INVALID_REGULAR_EXPRESSION
// there), and RE2/J's inline flags `(?i)` and `\pL`-style classes without braces are rejected by JS.
// A leading `(?i)` is translated to the `i` flag. Kafka resolves regexes asynchronously and at most
// every `group.consumer.regex.refresh.interval.ms`; we resolve them on every heartbeat (topics
// appear in the assignment at the first heartbeat after they are created).
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.ts';
import { type ConsumerProtocolSubscription, decodeConsumerProtocolSubscription } from '../../../protocol/generated/consumer-protocol-subscription.ts';
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import { Reader } from '../../../protocol/reader.ts';
import { Writer } from '../../../protocol/writer.ts';
import type { Clock } from '../../../storage/clock.ts';
import { KafkaError } from '../../errors.ts';
import { ASSIGNORS, type AssignorMember, DEFAULT_ASSIGNOR, type TopicPartitionsMap } from './assignors.ts';
import {
  type ClassicMemberMetadata, type ConsumerGroupKey, type TopicPartitionsRecord, decodeCurrentAssignmentValue, decodeEpochValue, decodeMemberValue,
  decodePartitionMetadataValue, decodeTargetMemberValue, encodeConsumerGroupKey, encodeCurrentAssignmentValue, encodeEpochValue,
  encodeMemberValue, encodePartitionMetadataValue, encodeTargetMemberValue,
} from '../records.ts';

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

const key = (topicId: string, p: number): string => `${topicId}:${p}`;

function cloneMap(a: TopicPartitionsMap): TopicPartitionsMap {
  return new Map([...a].map(([t, ps]) => [t, [...ps]]));
}

function sameAssignment(a: TopicPartitionsMap, b: TopicPartitionsMap): boolean {
  const norm = (m: TopicPartitionsMap) => JSON.stringify([...m].filter(([, ps]) => ps.length > 0).map(([t, ps]) => [t, [...ps].sort((x, y) => x - y)]).sort());
  return norm(a) === norm(b);
}

function toList(a: TopicPartitionsMap): TopicPartitionsList[] {
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

/** The encoded values last written for a group; a diff against it gives the records to write. */
interface PersistedGroup {
  epoch: Buffer | null;
  partitions: Buffer | null;
  assignmentEpoch: Buffer | null;
  members: Map<string, { meta: Buffer | null; target: Buffer | null; current: Buffer | null }>;
}

const STATE_CODES: Record<MemberState, number> = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2 };
const STATES_BY_CODE = new Map<number, MemberState>([[0, 'STABLE'], [1, 'UNREVOKED_PARTITIONS'], [2, 'UNRELEASED_PARTITIONS']]);
/** Differs from every encoded value: after a failed write the next change rewrites the group in full. */
const UNKNOWN = Buffer.alloc(0);

export class ConsumerGroupManager {
  readonly groups = new Map<string, ConsumerGroup>();
  readonly config: ConsumerGroupConfig;
  readonly #clock: Clock;
  readonly #topics: TopicView;
  #regexCache = new Map<string, RegExp>();
  readonly #persist: ((groupId: string, records: ConsumerGroupRecord[]) => Promise<void>) | null;
  readonly #persisted = new Map<string, PersistedGroup>();
  /** The last write of each group still in flight. */
  readonly #writes = new Map<string, Promise<void>>();

  /**
   * persist: appends a group's records to `__consumer_offsets` (Kafka's ConsumerGroup* records, keys 3-8);
   * without it groups live in memory only.
   */
  constructor(opts: { clock: Clock; topics: TopicView; config?: Partial<ConsumerGroupConfig>; persist?: (groupId: string, records: ConsumerGroupRecord[]) => Promise<void> }) {
    this.#clock = opts.clock;
    this.#topics = opts.topics;
    this.config = { ...DEFAULT_CONSUMER_GROUP_CONFIG, ...opts.config };
    this.#persist = opts.persist ?? null;
  }

  close(): void {
    for (const g of this.groups.values()) for (const m of g.members.values()) this.#cancelTimers(m);
  }

  // ---------------------------------------------------------------- heartbeat

  heartbeat(req: HeartbeatInput): HeartbeatOutput {
    try {
      return this.#heartbeat(req);
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
      return { errorCode: e.code, errorMessage: e.message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    } finally {
      this.#sync(req.groupId);
    }
  }

  #validate(req: HeartbeatInput): void {
    const bad = (msg: string) => new KafkaError(ErrorCode.INVALID_REQUEST, msg);
    if (req.groupId === '') throw new KafkaError(ErrorCode.INVALID_GROUP_ID, 'GroupId can\'t be empty.');
    if (req.apiVersion >= 1 && req.memberId === '') throw bad('MemberId can\'t be empty.');
    if (req.instanceId !== null && req.instanceId === '') throw bad('InstanceId can\'t be empty.');
    if (req.rackId !== null && req.rackId === '') throw bad('RackId can\'t be empty.');
    if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) throw bad('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) throw bad('TopicPartitions must be empty when (re-)joining.');
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) throw bad('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
    } else if (req.memberEpoch === -2) {
      if (req.instanceId === null) throw bad('InstanceId can\'t be null.');
    } else if (req.memberEpoch < -2) {
      throw bad(`MemberEpoch is invalid: ${req.memberEpoch}.`);
    }
    if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== '') {
      try { this.#regex(req.subscribedTopicRegex); } catch {
        throw new KafkaError(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression.`);
      }
    }
    if (req.serverAssignor !== null && !this.config.assignors.includes(req.serverAssignor)) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.config.assignors.join(', ')}.`);
    }
  }

  #regex(re: string): RegExp {
    let r = this.#regexCache.get(re);
    if (!r) {
      r = compileTopicRegex(re);
      if (this.#regexCache.size > 1000) this.#regexCache.clear();
      this.#regexCache.set(re, r);
    }
    return r;
  }

  #heartbeat(req: HeartbeatInput): HeartbeatOutput {
    this.#validate(req);
    if (req.memberEpoch === -1 || req.memberEpoch === -2) return this.#leave(req);

    let g = this.groups.get(req.groupId);
    if (!g || g.dead) {
      // Kafka's answer. Consumer-group state is not persisted yet: members see this after our restart.
      if (req.memberEpoch !== 0) throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
      g = new ConsumerGroup(req.groupId);
      this.groups.set(req.groupId, g);
    }

    let member = g.members.get(req.memberId);
    let bump = false;
    if (req.memberEpoch === 0) {
      if (member && (member.memberEpoch !== 0 || member.assigned.size > 0 || member.pendingRevocation.size > 0)) {
        // A known member rejoining from scratch (after an error): it gave up everything.
        this.#setOwnership(g, member, new Map(), new Map());
        member.memberEpoch = 0;
        member.previousMemberEpoch = -1;
        member.state = 'STABLE';
        bump = true;
      }
      if (!member && req.instanceId !== null) member = this.#replaceStaticMember(g, req);
      if (!member) {
        if (g.members.size >= this.config.maxSize) {
          throw new KafkaError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${this.config.maxSize} members.`);
        }
        member = new ConsumerMember(req.memberId === '' ? crypto.randomUUID() : req.memberId);
        g.members.set(member.memberId, member);
        bump = true;
      }
    } else {
      if (!member) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${req.groupId}.`);
      this.#checkEpoch(member, req.memberEpoch, req.topicPartitions);
    }
    const before = cloneMap(member.assigned);
    const epochBefore = member.memberEpoch;

    // Update the member from the (possibly partial) request.
    if (req.instanceId !== null) member.instanceId = req.instanceId;
    if (req.rackId !== null) member.rackId = req.rackId;
    if (req.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.serverAssignor !== null && req.serverAssignor !== member.serverAssignor) member.serverAssignor = req.serverAssignor;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    // Names and regex are independent (the subscription is their union); an empty regex clears it
    // (librdkafka sends "" next to its topic names).
    if (req.subscribedTopicNames !== null) {
      const names = [...new Set(req.subscribedTopicNames)].sort();
      if (JSON.stringify(names) !== JSON.stringify(member.subscribedTopicNames)) bump = true;
      member.subscribedTopicNames = names;
    }
    if (req.subscribedTopicRegex !== null) {
      const re = req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex;
      if (member.subscribedTopicRegex !== re) bump = true;
      member.subscribedTopicRegex = re;
    }

    this.#bumpEpochIf(g, bump);

    this.#reconcile(g, member, req.topicPartitions);
    this.#armSessionTimeout(g, member);
    this.#armRebalanceTimeout(g, member, epochBefore);

    const isFull = req.rebalanceTimeoutMs !== -1 && (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) && req.topicPartitions !== null;
    const changed = !sameAssignment(before, member.assigned);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      assignment: req.memberEpoch === 0 || isFull || changed ? toList(member.assigned) : null,
    };
  }

  #checkEpoch(member: ConsumerMember, received: number, owned: TopicPartitionsList[] | null): void {
    if (received > member.memberEpoch) {
      throw new KafkaError(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
    }
    if (received < member.memberEpoch) {
      // The previous epoch is accepted when the member lost our last answer: it owns a subset of its assignment.
      if (received !== member.previousMemberEpoch || !isSubset(owned, member.assigned)) {
        throw new KafkaError(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
      }
    }
  }

  #leave(req: HeartbeatInput): HeartbeatOutput {
    const g = this.groups.get(req.groupId);
    const member = g?.members.get(req.memberId);
    if (!g || !member) {
      throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${req.groupId}.`);
    }
    if (req.memberEpoch === -2 && member.instanceId !== null) {
      // Static leave: the member stays with its partitions (epoch −2) until its session times out or
      // a new member with the same instance id takes its place.
      if (member.memberEpoch !== -2) member.staticEpoch = member.memberEpoch;
      member.memberEpoch = -2;
      // Kafka 4.3 (KIP-1251) resets the assignment epochs of a static member that leaves.
      for (const k of member.assignmentEpochs.keys()) member.assignmentEpochs.set(k, 0);
      this.#armSessionTimeout(g, member);
    } else if (!this.#maybeDowngrade(g, member)) {
      this.#removeMember(g, member);
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  /**
   * A static member (instance id) joining: if a member with that instance id left with epoch −2, the
   * newcomer takes over its assignment and epoch without a rebalance; if it is still active →
   * UNRELEASED_INSTANCE_ID. Returns the member to continue with, or undefined (a new static member).
   */
  #replaceStaticMember(g: ConsumerGroup, req: HeartbeatInput): ConsumerMember | undefined {
    const old = [...g.members.values()].find((m) => m.instanceId === req.instanceId);
    if (!old) return undefined;
    if (old.memberEpoch !== -2) {
      throw new KafkaError(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member with unknown member id and instance id ${req.instanceId} cannot join the group ${g.groupId} because the previous member has not yet left the group.`);
    }
    this.#cancelTimers(old);
    const m = new ConsumerMember(req.memberId === '' ? crypto.randomUUID() : req.memberId);
    Object.assign(m, {
      memberEpoch: old.staticEpoch, previousMemberEpoch: old.previousMemberEpoch, state: old.state, instanceId: old.instanceId,
      rackId: old.rackId, rebalanceTimeoutMs: old.rebalanceTimeoutMs, subscribedTopicNames: old.subscribedTopicNames,
      subscribedTopicRegex: old.subscribedTopicRegex, serverAssignor: old.serverAssignor,
      assigned: old.assigned, pendingRevocation: old.pendingRevocation, assignmentEpochs: old.assignmentEpochs,
    });
    g.members.delete(old.memberId);
    g.members.set(m.memberId, m);
    const target = g.target.get(old.memberId);
    g.target.delete(old.memberId);
    if (target) g.target.set(m.memberId, target);
    return m;
  }

  /** Fences or removes a member: its partitions are free at once, the group epoch is bumped. */
  #removeMember(g: ConsumerGroup, member: ConsumerMember): void {
    this.#cancelTimers(member);
    this.#setOwnership(g, member, new Map(), new Map());
    g.members.delete(member.memberId);
    g.target.delete(member.memberId);
    g.groupEpoch++;
    g.subscriptionMetadata = this.#subscriptionMetadata(g);
  }

  // ---------------------------------------------------------------- subscriptions and target

  /**
   * A member's subscription changed (`changed`) or the subscribed topics' metadata did (a topic created,
   * deleted or grown): the group epoch goes up and the target assignment is recomputed.
   */
  #bumpEpochIf(g: ConsumerGroup, changed: boolean): void {
    const metadata = this.#subscriptionMetadata(g);
    if (changed || !sameStringMap(metadata, g.subscriptionMetadata)) {
      g.groupEpoch++;
      g.subscriptionMetadata = metadata;
    }
    if (g.groupEpoch > g.assignmentEpoch) this.#computeTargetAssignment(g);
  }

  /** Topic names a member subscribes to that exist now. */
  #subscribedTopicIds(m: ConsumerMember): Set<string> {
    const ids = new Set<string>();
    if (m.subscribedTopicRegex !== null) {
      const re = this.#regex(m.subscribedTopicRegex);
      for (const t of this.#topics.all()) if (re.test(t.name)) ids.add(t.topicId);
    }
    for (const name of m.subscribedTopicNames) {
      const t = this.#topics.get(name);
      if (t) ids.add(t.topicId);
    }
    return ids;
  }

  #subscriptionMetadata(g: ConsumerGroup): Map<string, string> {
    const out = new Map<string, string>();
    for (const m of g.members.values()) {
      if (m.subscribedTopicRegex !== null) {
        const re = this.#regex(m.subscribedTopicRegex);
        for (const t of this.#topics.all()) if (re.test(t.name)) out.set(t.name, `${t.topicId}/${t.partitions}`);
      }
      for (const name of m.subscribedTopicNames) {
        const t = this.#topics.get(name);
        out.set(name, t ? `${t.topicId}/${t.partitions}` : 'absent');
      }
    }
    return out;
  }

  #computeTargetAssignment(g: ConsumerGroup): void {
    const assignor = ASSIGNORS.get(g.preferredAssignor(this.config.assignors[0]!)) ?? ASSIGNORS.get(DEFAULT_ASSIGNOR)!;
    const counts = new Map<string, number>();
    const members: AssignorMember[] = [];
    for (const m of g.members.values()) {
      const ids = this.#subscribedTopicIds(m);
      for (const id of ids) counts.set(id, this.#topics.getById(id)?.partitions ?? 0);
      members.push({ memberId: m.memberId, subscribedTopicIds: ids, current: g.target.get(m.memberId) ?? new Map() });
    }
    g.target = assignor.assign({ members, partitionCounts: counts });
    g.assignmentEpoch = g.groupEpoch;
  }

  // ---------------------------------------------------------------- reconciliation

  #reconcile(g: ConsumerGroup, m: ConsumerMember, owned: TopicPartitionsList[] | null): void {
    const targetEpoch = g.assignmentEpoch;
    const target = g.target.get(m.memberId) ?? new Map<string, number[]>();
    if (m.state === 'STABLE' && m.memberEpoch === targetEpoch) return;
    if (m.state === 'UNREVOKED_PARTITIONS' && ownsAny(owned, m.pendingRevocation)) return;

    const subscribed = this.#subscribedTopicIds(m);
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
      this.#setOwnership(g, m, newAssigned, newRevoke);
      m.state = 'UNREVOKED_PARTITIONS';
      return;
    }
    let unreleased = false;
    for (const [t, p] of pendingAssign) {
      const owner = g.partitionEpochs.get(key(t, p));
      if (owner === undefined || this.#ownedBy(g, m, t, p)) pushTo(newAssigned, t, p);
      else unreleased = true;
    }
    this.#setOwnership(g, m, newAssigned, new Map(), targetEpoch);
    if (m.memberEpoch !== targetEpoch) {
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = targetEpoch;
      // The member's partitions now carry its new epoch.
      for (const [t, ps] of m.assigned) for (const p of ps) g.partitionEpochs.set(key(t, p), targetEpoch);
    }
    m.state = unreleased ? 'UNRELEASED_PARTITIONS' : 'STABLE';
  }

  #ownedBy(g: ConsumerGroup, m: ConsumerMember, t: string, p: number): boolean {
    return (m.assigned.get(t)?.includes(p) ?? false) || (m.pendingRevocation.get(t)?.includes(p) ?? false);
  }

  /**
   * Replaces a member's assigned and pending-revocation partitions, keeping partitionEpochs in step.
   * Assignment epochs (KIP-1251): a partition the member already had keeps its epoch; a partition new
   * to it gets `newEpoch` (the epoch the member moves to with it).
   */
  #setOwnership(g: ConsumerGroup, m: ConsumerMember, assigned: TopicPartitionsMap, revoke: TopicPartitionsMap, newEpoch = m.memberEpoch): void {
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

  // ---------------------------------------------------------------- timers

  #cancelTimers(m: ConsumerMember): void {
    for (const h of [m.sessionTimer, m.rebalanceTimer, m.joinTimer, m.syncTimer]) if (h !== null) this.#clock.clearTimeout(h);
    m.sessionTimer = m.rebalanceTimer = m.joinTimer = m.syncTimer = null;
  }

  #armSessionTimeout(g: ConsumerGroup, m: ConsumerMember): void {
    if (m.sessionTimer !== null) this.#clock.clearTimeout(m.sessionTimer);
    m.sessionTimer = this.#clock.setTimeout(() => {
      m.sessionTimer = null;
      if (g.members.get(m.memberId) === m) this.#fence(g, m);
    }, m.classic?.sessionTimeoutMs ?? this.config.sessionTimeoutMs);
  }

  /** Armed when the member enters UNREVOKED_PARTITIONS; cleared once it leaves that state. */
  #armRebalanceTimeout(g: ConsumerGroup, m: ConsumerMember, _epochBefore: number): void {
    if (m.state !== 'UNREVOKED_PARTITIONS') {
      if (m.rebalanceTimer !== null) this.#clock.clearTimeout(m.rebalanceTimer);
      m.rebalanceTimer = null;
      return;
    }
    if (m.rebalanceTimer !== null) return;
    const epoch = m.memberEpoch;
    m.rebalanceTimer = this.#clock.setTimeout(() => {
      m.rebalanceTimer = null;
      if (g.members.get(m.memberId) === m && m.memberEpoch === epoch && m.state === 'UNREVOKED_PARTITIONS') this.#fence(g, m);
    }, Math.max(0, m.rebalanceTimeoutMs));
  }

  // ---------------------------------------------------------------- migration, classic members

  /**
   * Called when the last consumer-protocol member leaves or is fenced and every other member uses the
   * classic protocol (`group.consumer.migration.policy` allowing a downgrade): the group's records are
   * tombstoned here, the classic coordinator takes the members over.
   */
  onDowngrade: ((g: DowngradedGroup) => void) | null = null;

  /** Fences (removes) a member, or downgrades the group if that leaves classic members only. */
  #fence(g: ConsumerGroup, m: ConsumerMember): void {
    if (!this.#maybeDowngrade(g, m)) {
      this.#removeMember(g, m);
      this.#sync(g.groupId);
    }
  }

  /** Kafka's validateOnlineDowngradeWithFencedMember + convertToClassicGroup. True if the group went. */
  #maybeDowngrade(g: ConsumerGroup, leaving: ConsumerMember): boolean {
    if (!this.onDowngrade || leaving.classic) return false;
    const others = [...g.members.values()].filter((m) => m !== leaving);
    if (others.length === 0 || others.some((m) => !m.classic)) return false;
    if (!migrationPolicy(this.config.migrationPolicy).downgrade) return false;
    if (others.length > this.config.classicMaxSize) return false;
    const down: DowngradedGroup = {
      groupId: g.groupId,
      groupEpoch: g.groupEpoch,
      members: others.map((m) => ({
        memberId: m.memberId, instanceId: m.instanceId, clientId: m.clientId, clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs, sessionTimeoutMs: m.classic!.sessionTimeoutMs, protocols: m.classic!.protocols,
        assignment: this.#byName(g.target.get(m.memberId) ?? new Map()),
      })),
    };
    for (const m of g.members.values()) this.#cancelTimers(m);
    g.dead = true;
    this.groups.delete(g.groupId);
    this.#sync(g.groupId);
    this.onDowngrade(down);
    return true;
  }

  #byName(map: TopicPartitionsMap): Array<{ topic: string; partitions: number[] }> {
    const out: Array<{ topic: string; partitions: number[] }> = [];
    for (const [t, ps] of map) {
      const name = this.#topics.getById(t)?.name;
      if (name !== undefined && ps.length > 0) out.push({ topic: name, partitions: [...ps].sort((a, b) => a - b) });
    }
    return out;
  }

  #byId(list: Array<{ topic: string; partitions: number[] }>): TopicPartitionsMap {
    const out: TopicPartitionsMap = new Map();
    for (const tp of list) {
      const t = this.#topics.get(tp.topic);
      if (t) for (const p of tp.partitions) if (p >= 0 && p < t.partitions) pushTo(out, t.topicId, p);
    }
    return out;
  }

  /** The group exists and has members (classic requests are then served by it). */
  hasMembers(groupId: string): boolean {
    const g = this.groups.get(groupId);
    return g !== undefined && !g.dead && g.members.size > 0;
  }

  /** Kafka's validateOnlineUpgrade, given the classic group's protocol type and size. */
  canUpgrade(protocolType: string | null, size: number): boolean {
    return migrationPolicy(this.config.migrationPolicy).upgrade && protocolType === 'consumer' && size <= this.config.maxSize;
  }

  /**
   * Kafka's ConsumerGroup.fromClassicGroup: every member keeps its last assignment (also its target),
   * at member epoch = group epoch = assignment epoch = the classic generation, Stable. Throws on a
   * malformed embedded protocol (the caller answers GROUP_ID_NOT_FOUND, as Kafka).
   */
  upgradeFromClassic(groupId: string, generationId: number, protocolName: string | null, members: ClassicMemberInput[]): void {
    const g = new ConsumerGroup(groupId);
    g.groupEpoch = generationId;
    g.assignmentEpoch = generationId;
    for (const cm of members) {
      const meta = cm.protocols.find((p) => p.name === protocolName)?.metadata ?? cm.protocols[0]?.metadata;
      if (!meta) throw new Error(`member ${cm.memberId} has no protocol metadata`);
      const sub = decodeSubscription(meta);
      let assigned: TopicPartitionsMap = new Map();
      if (cm.assignment.length > 0) {
        const r = new Reader(cm.assignment);
        const v = r.int16();
        assigned = this.#byId(decodeConsumerProtocolAssignment(r, Math.max(0, Math.min(3, v))).assignedPartitions);
      }
      const m = new ConsumerMember(cm.memberId);
      Object.assign(m, {
        memberEpoch: generationId, previousMemberEpoch: generationId, state: 'STABLE', instanceId: cm.instanceId, rackId: sub.rackId,
        rebalanceTimeoutMs: cm.rebalanceTimeoutMs, clientId: cm.clientId, clientHost: cm.clientHost,
        subscribedTopicNames: [...new Set(sub.topics)].sort(), classic: { sessionTimeoutMs: cm.sessionTimeoutMs, protocols: cm.protocols },
      });
      g.members.set(m.memberId, m);
      this.#setOwnership(g, m, assigned, new Map(), generationId);
      g.target.set(m.memberId, cloneMap(assigned));
    }
    g.subscriptionMetadata = this.#subscriptionMetadata(g);
    this.groups.set(groupId, g);
    for (const m of g.members.values()) this.#armSessionTimeout(g, m);
    this.#sync(groupId);
  }

  #classicMember(g: ConsumerGroup, memberId: string, instanceId: string | null): ConsumerMember | number {
    let m: ConsumerMember | undefined;
    if (instanceId === null) {
      m = g.members.get(memberId);
      if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    } else {
      m = [...g.members.values()].find((x) => x.instanceId === instanceId);
      if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (m.memberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (!m.classic) return ErrorCode.UNKNOWN_MEMBER_ID;
    return m;
  }

  #armClassicTimer(g: ConsumerGroup, m: ConsumerMember, which: 'joinTimer' | 'syncTimer', ifAbsent: boolean): void {
    if (m[which] !== null) {
      if (ifAbsent) return;
      this.#clock.clearTimeout(m[which]);
    }
    m[which] = this.#clock.setTimeout(() => {
      m[which] = null;
      if (g.members.get(m.memberId) === m) this.#fence(g, m);
    }, Math.max(0, m.rebalanceTimeoutMs));
  }

  #clearClassicTimer(m: ConsumerMember, which: 'joinTimer' | 'syncTimer'): void {
    if (m[which] !== null) this.#clock.clearTimeout(m[which]);
    m[which] = null;
  }

  /**
   * JoinGroup from a classic member into a consumer group with members (Kafka's
   * classicGroupJoinToConsumerGroup): answered at once with the member epoch as generation and the
   * member's first protocol; its partitions come with SyncGroup. The owned partitions of the embedded
   * subscription (v1+) drive the reconciliation (an eager client owns nothing when it rejoins).
   */
  classicJoin(req: ClassicJoinInput, newMemberId: () => string): ClassicJoinOutput {
    const err = (errorCode: number, memberId = req.memberId): ClassicJoinOutput => ({ errorCode, memberId, generationId: -1, protocolType: null, protocolName: null });
    const g = this.groups.get(req.groupId);
    if (!g || g.dead) return err(ErrorCode.UNKNOWN_MEMBER_ID);
    try {
      const isUnknown = req.memberId === '';
      const memberId = isUnknown ? newMemberId() : req.memberId;
      let member = g.members.get(memberId);
      if (!member && g.members.size >= this.config.maxSize) return err(ErrorCode.GROUP_MAX_SIZE_REACHED, '');
      // Kafka's ConsumerGroup.supportsClassicProtocols.
      const classicMembers = [...g.members.values()].filter((m) => m.classic);
      const supported = req.protocolType === 'consumer' && req.protocols.length > 0 &&
        req.protocols.some((p) => classicMembers.every((m) => m.classic!.protocols.some((q) => q.name === p.name)));
      if (!supported) return err(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      if (req.requireKnownMemberId && isUnknown) return err(ErrorCode.MEMBER_ID_REQUIRED, memberId);
      let sub: ConsumerProtocolSubscription;
      try {
        sub = decodeSubscription(req.protocols[0]!.metadata);
      } catch {
        return err(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      }

      let bump = false;
      if (req.instanceId !== null) {
        const old = [...g.members.values()].find((m) => m.instanceId === req.instanceId);
        if (old && old.memberId !== memberId) {
          if (!isUnknown) return err(ErrorCode.FENCED_INSTANCE_ID);
          // A static member replaced: the newcomer takes its assignment and epoch.
          this.#cancelTimers(old);
          member = new ConsumerMember(memberId);
          Object.assign(member, {
            memberEpoch: old.memberEpoch < 0 ? old.staticEpoch : old.memberEpoch, previousMemberEpoch: old.previousMemberEpoch, state: old.state,
            subscribedTopicNames: old.subscribedTopicNames, assigned: old.assigned, pendingRevocation: old.pendingRevocation, assignmentEpochs: old.assignmentEpochs,
          });
          g.members.delete(old.memberId);
          g.members.set(memberId, member);
          const target = g.target.get(old.memberId);
          g.target.delete(old.memberId);
          if (target) g.target.set(memberId, target);
        }
      }
      if (member && !member.classic) return err(ErrorCode.UNKNOWN_MEMBER_ID);
      if (!member) {
        member = new ConsumerMember(memberId);
        g.members.set(memberId, member);
        bump = true;
      }
      member.instanceId = req.instanceId;
      if (sub.rackId) member.rackId = sub.rackId;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      member.serverAssignor = null;
      member.subscribedTopicRegex = null;
      member.clientId = req.clientId;
      member.clientHost = req.clientHost;
      member.classic = { sessionTimeoutMs: req.sessionTimeoutMs, protocols: req.protocols };
      const names = [...new Set(sub.topics)].sort();
      if (JSON.stringify(names) !== JSON.stringify(member.subscribedTopicNames)) bump = true;
      member.subscribedTopicNames = names;
      this.#bumpEpochIf(g, bump);
      const owned: TopicPartitionsList[] = [...this.#byId(sub.ownedPartitions ?? [])].map(([topicId, partitions]) => ({ topicId, partitions }));
      this.#reconcile(g, member, owned);
      this.#clearClassicTimer(member, 'joinTimer');
      this.#armSessionTimeout(g, member);
      this.#armClassicTimer(g, member, 'syncTimer', false);
      return { errorCode: ErrorCode.NONE, memberId, generationId: member.memberEpoch, protocolType: 'consumer', protocolName: req.protocols[0]!.name };
    } finally {
      this.#sync(req.groupId);
    }
  }

  /** Kafka's classicGroupSyncToConsumerGroup: the member's assigned partitions, in the consumer protocol. */
  classicSync(req: { groupId: string; memberId: string; instanceId: string | null; generationId: number; protocolType: string | null; protocolName: string | null }): { errorCode: number; protocolType: string | null; protocolName: string | null; assignment: Buffer } {
    const fail = (errorCode: number) => ({ errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    const g = this.groups.get(req.groupId);
    if (!g || g.dead) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    const m = this.#classicMember(g, req.memberId, req.instanceId);
    if (typeof m === 'number') return fail(m);
    if (req.generationId !== m.memberEpoch) return fail(ErrorCode.ILLEGAL_GENERATION);
    const protocol = m.classic!.protocols[0]!;
    if ((req.protocolType !== null && req.protocolType !== 'consumer') || (req.protocolName !== null && req.protocolName !== protocol.name)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (g.groupEpoch > m.memberEpoch && m.state !== 'UNREVOKED_PARTITIONS') {
      this.#armClassicTimer(g, m, 'joinTimer', true);
      return fail(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    this.#clearClassicTimer(m, 'syncTimer');
    this.#armSessionTimeout(g, m);
    return { errorCode: ErrorCode.NONE, protocolType: req.protocolType, protocolName: req.protocolName, assignment: encodeAssignment(this.#byName(m.assigned), protocol.metadata) };
  }

  /**
   * Kafka's classicGroupHeartbeatToConsumerGroup: REBALANCE_IN_PROGRESS when the member must rejoin (the
   * group epoch moved on, it has partitions to revoke, or partitions it waits for were released).
   */
  classicHeartbeat(groupId: string, memberId: string, instanceId: string | null, generationId: number): number {
    const g = this.groups.get(groupId);
    if (!g || g.dead) return ErrorCode.UNKNOWN_MEMBER_ID;
    const m = this.#classicMember(g, memberId, instanceId);
    if (typeof m === 'number') return m;
    if (generationId !== m.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
    this.#armSessionTimeout(g, m);
    if (m.memberEpoch < g.groupEpoch || m.state === 'UNREVOKED_PARTITIONS' || (m.state === 'UNRELEASED_PARTITIONS' && !this.#waitingOnUnreleased(g, m))) {
      this.#armClassicTimer(g, m, 'joinTimer', true);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    return ErrorCode.NONE;
  }

  #waitingOnUnreleased(g: ConsumerGroup, m: ConsumerMember): boolean {
    for (const [t, ps] of g.target.get(m.memberId) ?? new Map<string, number[]>()) {
      for (const p of ps) if (!(m.assigned.get(t)?.includes(p) ?? false) && g.partitionEpochs.has(key(t, p))) return true;
    }
    return false;
  }

  /** Kafka's classicGroupLeaveToConsumerGroup: per-member errors, one group epoch bump. */
  classicLeave(groupId: string, leaving: Array<{ memberId: string; groupInstanceId: string | null }>): Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }> {
    const g = this.groups.get(groupId);
    const out: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }> = [];
    let removed = 0;
    for (const l of leaving) {
      if (!g || g.dead) {
        out.push({ ...l, errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
        continue;
      }
      let m: ConsumerMember | undefined;
      let code: number = ErrorCode.NONE;
      if (l.groupInstanceId === null) {
        m = g.members.get(l.memberId);
      } else {
        m = [...g.members.values()].find((x) => x.instanceId === l.groupInstanceId);
        if (m && l.memberId !== '' && m.memberId !== l.memberId) code = ErrorCode.FENCED_INSTANCE_ID;
      }
      if (code === ErrorCode.NONE && (!m || !m.classic)) code = ErrorCode.UNKNOWN_MEMBER_ID;
      if (code !== ErrorCode.NONE) {
        out.push({ ...l, errorCode: code });
        continue;
      }
      this.#cancelTimers(m!);
      this.#setOwnership(g, m!, new Map(), new Map());
      g.members.delete(m!.memberId);
      g.target.delete(m!.memberId);
      removed++;
      out.push({ memberId: m!.memberId, groupInstanceId: l.groupInstanceId, errorCode: ErrorCode.NONE });
    }
    if (g && removed > 0) {
      g.groupEpoch++;
      g.subscriptionMetadata = this.#subscriptionMetadata(g);
      this.#sync(groupId);
    }
    return out;
  }

  // ---------------------------------------------------------------- offsets, admin

  /**
   * OffsetCommit / TxnOffsetCommit against a consumer group, as Kafka 4.3's ConsumerGroup.validateOffsetCommit
   * (KIP-1251): an admin or standalone commit (epoch < 0) is allowed while the group has no members;
   * otherwise the member must exist (UNKNOWN_MEMBER_ID); a non-transactional commit below v9 carries no
   * member epoch → UNSUPPORTED_VERSION. The member's own epoch is accepted for every partition; a newer
   * one → STALE_MEMBER_EPOCH; an older one is checked per partition (`check`): the partition must be
   * assigned to the member or pending its revocation, and have been given to it at that epoch or
   * before (assignment epoch ≤ received epoch ≤ member epoch), else STALE_MEMBER_EPOCH.
   * Kafka answers a TxnOffsetCommit's STALE_MEMBER_EPOCH with ILLEGAL_GENERATION (the caller maps it).
   */
  validateOffsetCommit(groupId: string, memberId: string, memberEpoch: number, apiVersion: number, isTransactional = false): OffsetCommitCheck {
    const fail = (errorCode: number): OffsetCommitCheck => ({ errorCode, check: null });
    const g = this.groups.get(groupId);
    if (!g || g.dead) return fail(ErrorCode.GROUP_ID_NOT_FOUND);
    if (memberEpoch < 0 && g.members.size === 0) return fail(ErrorCode.NONE);
    const m = g.members.get(memberId);
    if (!m) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    // A classic member: its generation must be its member epoch (ILLEGAL_GENERATION), any version.
    if (m.classic) return fail(memberEpoch === m.memberEpoch ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION);
    if (!isTransactional && apiVersion < 9) return fail(ErrorCode.UNSUPPORTED_VERSION);
    if (memberEpoch === m.memberEpoch) return fail(ErrorCode.NONE);
    if (memberEpoch > m.memberEpoch) return fail(ErrorCode.STALE_MEMBER_EPOCH);
    const epochs = new Map(m.assignmentEpochs);
    return {
      errorCode: ErrorCode.NONE,
      check: (topicName: string, partition: number) => {
        const topicId = this.#topics.get(topicName)?.topicId;
        const assignedAt = topicId === undefined ? undefined : epochs.get(key(topicId, partition));
        if (assignedAt === undefined || memberEpoch < assignedAt) return ErrorCode.STALE_MEMBER_EPOCH;
        return ErrorCode.NONE;
      },
    };
  }

  /** OffsetFetch v9+: no member (null id / epoch −1) reads freely; else member and epoch are checked. */
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    const g = this.groups.get(groupId);
    if (!g || g.dead) return ErrorCode.NONE;
    if (memberEpoch < 0 && (memberId === null || memberId === '')) return ErrorCode.NONE;
    const m = g.members.get(memberId ?? '');
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== m.memberEpoch) return m.classic ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  has(groupId: string): boolean {
    const g = this.groups.get(groupId);
    return g !== undefined && !g.dead;
  }

  /** Subscribed topic names of the group's members (for offset expiry / OffsetDelete checks). */
  subscribedTopicNames(groupId: string): Set<string> {
    const out = new Set<string>();
    const g = this.groups.get(groupId);
    if (!g) return out;
    for (const name of this.#subscriptionMetadata(g).keys()) out.add(name);
    return out;
  }

  /** DeleteGroups: only an empty group can go. */
  delete(groupId: string): number {
    const g = this.groups.get(groupId);
    if (!g || g.dead) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    g.dead = true;
    this.groups.delete(groupId);
    this.#sync(groupId);
    return ErrorCode.NONE;
  }

  /** The member's subscribed topic ids as resolved now (ConsumerGroupDescribe). */
  memberSubscribedTopicIds(m: ConsumerMember): Set<string> { return this.#subscribedTopicIds(m); }

  topicName(topicId: string): string | undefined { return this.#topics.getById(topicId)?.name; }

  // ---------------------------------------------------------------- persistence

  /** Settles when the group's records written so far are appended; rejects (with `code`) if the last write failed. */
  written(groupId: string): Promise<void> { return this.#writes.get(groupId) ?? Promise.resolve(); }

  #snapshot(g: ConsumerGroup): PersistedGroup {
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
  #diff(groupId: string, prev: PersistedGroup | undefined, cur: PersistedGroup | null): ConsumerGroupRecord[] {
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

  /** Writes what changed in the group since the last write (nothing when persistence is off). */
  #sync(groupId: string): void {
    if (!this.#persist) return;
    const g = this.groups.get(groupId);
    const cur = g && !g.dead ? this.#snapshot(g) : null;
    const prev = this.#persisted.get(groupId);
    const records = this.#diff(groupId, prev, cur);
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

  /** Replays one consumer-group record from `__consumer_offsets` at start (later records win). */
  replay(key: ConsumerGroupKey, value: Buffer | null): void {
    let g = this.groups.get(key.group);
    if (key.type === 'cg-metadata' && value === null) {
      this.groups.delete(key.group);
      return;
    }
    if (!g) {
      if (value === null) return;
      g = new ConsumerGroup(key.group);
      this.groups.set(key.group, g);
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

  /**
   * After replay: partition ownership is rebuilt, every loaded member must heartbeat within its session
   * timeout (a member revoking partitions within its rebalance timeout), as Kafka does on load.
   */
  finishLoading(): void {
    for (const g of this.groups.values()) {
      g.partitionEpochs.clear();
      for (const m of g.members.values()) {
        for (const map of [m.assigned, m.pendingRevocation]) for (const [t, ps] of map) for (const p of ps) g.partitionEpochs.set(key(t, p), m.memberEpoch);
        // Subscribed names missing from the stored metadata were absent topics when it was written.
        for (const name of m.subscribedTopicNames) if (!g.subscriptionMetadata.has(name)) g.subscriptionMetadata.set(name, 'absent');
      }
      this.#persisted.set(g.groupId, this.#snapshot(g));
      for (const m of g.members.values()) {
        this.#armSessionTimeout(g, m);
        this.#armRebalanceTimeout(g, m, m.memberEpoch);
      }
    }
  }
}

function fromList(list: TopicPartitionsRecord[]): TopicPartitionsMap {
  const out: TopicPartitionsMap = new Map();
  for (const tp of list) out.set(tp.topicId, [...(out.get(tp.topicId) ?? []), ...tp.partitions]);
  return out;
}

function pushTo(map: TopicPartitionsMap, t: string, p: number): void {
  let l = map.get(t);
  if (!l) map.set(t, (l = []));
  l.push(p);
}

/** True if `owned` is null (unknown: assume still owned) or lists any partition of `set`. */
function ownsAny(owned: TopicPartitionsList[] | null, set: TopicPartitionsMap): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const s = set.get(tp.topicId);
    if (s && tp.partitions.some((p) => s.includes(p))) return true;
  }
  return false;
}

function isSubset(owned: TopicPartitionsList[] | null, assigned: TopicPartitionsMap): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const a = assigned.get(tp.topicId) ?? [];
    if (!tp.partitions.every((p) => a.includes(p))) return false;
  }
  return true;
}

function sameStringMap(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
