// The classic group coordinator (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) and the committed
// offsets store, following Kafka 4.x's GroupMetadataManager, ClassicGroup and OffsetMetadataManager:
// the same state machine (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead), the same error
// codes in the same order of checks, and the same records written to `__consumer_offsets`.
// Single node: this node coordinates every group. Everything runs on the event loop; a method's
// synchronous part is atomic. Every promise a method returns resolves (never rejects, never hangs):
// connections answer in request order, so an abandoned JoinGroup would block its connection forever.
import { randomBytes } from 'node:crypto';
import { Reader } from '../../protocol/reader.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { decodeConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import {
  type GroupMetadataValue, type OffsetCommitValue,
  encodeGroupMetadataKey, encodeGroupMetadataValue, encodeOffsetCommitKey, encodeOffsetCommitValue,
} from './records.ts';
import { type ConsumerGroupConfig, ConsumerGroupManager, type DowngradedGroup, type TopicView, encodeAssignment } from './consumer/group.ts';
import type { ConsumerGroupKey } from './records.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface CoordinatorRecord { key: Buffer; value: Buffer | null }

/** Where the coordinator's records go; resolves once appended, rejects with an error carrying `code`. */
export interface CoordinatorLog {
  /** `txn`: write the records as a transactional batch of that producer (TxnOffsetCommit). */
  append(groupId: string, records: CoordinatorRecord[], txn?: { producerId: bigint; producerEpoch: number }): Promise<void>;
  /** Resolves once the log can take appends (creates `__consumer_offsets` on first use). */
  ensure?(): Promise<void>;
}

export interface CoordinatorConfig {
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  newMemberJoinTimeoutMs: number;
  offsetMetadataMaxBytes: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
}

export const DEFAULT_COORDINATOR_CONFIG: CoordinatorConfig = {
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1800000,
  maxSize: 2147483647,
  newMemberJoinTimeoutMs: 5 * 60 * 1000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  offsetsRetentionCheckIntervalMs: 600000,
};

export interface Protocol { name: string; metadata: Buffer }

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: Protocol[];
  sessionTimeoutMs: number;
  /** −1 (v0) = the session timeout. */
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** v4+: a first join gets MEMBER_ID_REQUIRED (KIP-394). */
  requireKnownMemberId: boolean;
  /** v9+: a replaced static leader skips the assignment (KIP-814). */
  supportsSkipAssignment: boolean;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export interface SyncRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface SyncResult { errorCode: number; protocolType: string | null; protocolName: string | null; assignment: Buffer }

export interface LeaveResult {
  errorCode: number;
  members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}

export interface OffsetAndMetadata {
  offset: number | bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  expireTimestamp: number;
}

export interface CommitRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  /** v2-4 retention override; −1 = the broker's offsets.retention.minutes. */
  retentionTimeMs: number;
  apiVersion: number;
  /** Partitions to commit; `errorCode` already set (e.g. unknown topic) ones are skipped. */
  partitions: Array<{ topic: string; partition: number; offset: number | bigint; leaderEpoch: number; metadata: string | null; errorCode: number }>;
}

export interface DescribedMember {
  memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer;
}

export interface DescribedGroup {
  groupId: string; state: GroupState; protocolType: string; protocolData: string; members: DescribedMember[]; found: boolean;
}

const EMPTY = Buffer.alloc(0);
const NO_GENERATION = -1;

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  assignment: Buffer;
  awaitingJoin: ((r: JoinResult) => void) | null;
  awaitingSync: ((r: SyncResult) => void) | null;
  isNew: boolean;
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupState = 'Empty';
  previousState: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  currentStateTimestamp: number | null = null;
  readonly members = new Map<string, Member>();
  readonly pendingMembers = new Set<string>();
  readonly pendingSync = new Set<string>();
  readonly staticMembers = new Map<string, string>();
  newMemberAdded = false;
  subscribedTopics: Set<string> | null = null;

  constructor(groupId: string) { this.groupId = groupId; }

  transitionTo(state: GroupState, now: number): void {
    this.previousState = this.state;
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.awaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numAwaitingJoin() && this.pendingMembers.size === 0;
  }

  canRebalance(): boolean {
    return this.state === 'Stable' || this.state === 'CompletingRebalance' || this.state === 'Empty';
  }

  isLeader(memberId: string): boolean { return this.leaderId === memberId; }

  /** Protocols every member supports, in the first member's preference order. */
  candidateProtocols(): string[] {
    const counts = new Map<string, number>();
    for (const m of this.members.values()) for (const p of m.protocols) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    return [...counts].filter(([, c]) => c === this.members.size).map(([n]) => n);
  }

  supportsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.state === 'Empty') return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const candidates = new Set(this.candidateProtocols());
    return protocols.some((p) => candidates.has(p.name));
  }

  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const set = new Set(candidates);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => set.has(p.name))!.name;
      votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    let best = candidates[0]!;
    for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
    return best;
  }

  /** Throws the error code of Kafka's ClassicGroup.validateMember. */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  metadataOf(m: Member, protocol: string): Buffer {
    return m.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== 'consumer') return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const out = new Set<string>();
    try {
      for (const m of this.members.values()) {
        const r = new Reader(this.metadataOf(m, this.protocolName));
        r.int16(); // the consumer protocol version; v0 is the prefix of every version
        for (const t of decodeConsumerProtocolSubscription(r, 0).topics) out.add(t);
      }
    } catch {
      return null;
    }
    return out;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics ? this.subscribedTopics.has(topic) : this.protocolType === 'consumer';
  }
}

/** Kafka's appendGroupMetadataErrorToResponseError: what a failed append is reported as. */
export function appendErrorToResponseError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

function errorCodeOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? appendErrorToResponseError(code) : ErrorCode.UNKNOWN_SERVER_ERROR;
}

function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, generationId: NO_GENERATION, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export interface TxnCommitRequest {
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  partitions: Array<{ topic: string; partition: number; offset: number | bigint; leaderEpoch: number; metadata: string | null; errorCode: number }>;
}

export class GroupCoordinator {
  readonly groups = new Map<string, ClassicGroup>();
  /** group → topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>();
  /**
   * TxnOffsetCommit offsets waiting for their transaction's marker: producer id → group → entries
   * (Kafka's pendingTransactionalOffsetCommits). Written to __consumer_offsets as transactional batches.
   */
  readonly txnOffsets = new Map<bigint, Map<string, Array<{ topic: string; partition: number; value: OffsetAndMetadata }>>>();
  readonly config: CoordinatorConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store: CoordinatorLog;
  readonly #uuid: () => string;
  readonly #timers = new Map<string, unknown>();
  #expiryTimer: unknown = null;
  #closed = false;
  /** KIP-848 consumer groups (`./consumer/`), created on first use: they need the topic registry. */
  #consumer: ConsumerGroupManager | null = null;
  /** Consumer-group records replayed before the consumer groups were created. */
  #consumerReplay: Array<[ConsumerGroupKey, Buffer | null]> = [];
  #loaded = false;

  constructor(opts: { clock: Clock; log: Logger; store: CoordinatorLog; uuid: () => string; config?: Partial<CoordinatorConfig> }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#store = opts.store;
    this.#uuid = opts.uuid;
    this.config = { ...DEFAULT_COORDINATOR_CONFIG, ...opts.config };
  }

  /** The KIP-848 consumer groups, created on first call (later calls ignore the arguments). */
  consumerGroups(topics: TopicView, config?: Partial<ConsumerGroupConfig>): ConsumerGroupManager {
    if (!this.#consumer) {
      const mgr = new ConsumerGroupManager({ clock: this.#clock, topics, config, persist: (groupId, records) => this.#store.append(groupId, records) });
      mgr.onDowngrade = (d) => this.#downgraded(d);
      for (const [key, value] of this.#consumerReplay) mgr.replay(key, value);
      this.#consumerReplay = [];
      this.#consumer = mgr;
      if (this.#loaded) {
        mgr.finishLoading();
        this.#dropShadowedClassicGroups();
      }
    }
    return this.#consumer;
  }

  /**
   * Replaying a consumer group's offsets creates an empty classic group of that id (offsets come first);
   * the live path keeps none, so ListGroups/DescribeGroups would show the id twice.
   */
  #dropShadowedClassicGroups(): void {
    for (const id of this.#consumer?.groups.keys() ?? []) {
      const g = this.groups.get(id);
      if (g && g.members.size === 0 && g.protocolType === null && g.state === 'Empty') this.groups.delete(id);
    }
  }

  /** Replays a KIP-848 consumer-group record (kept until the consumer groups exist). */
  replayConsumerRecord(key: ConsumerGroupKey, value: Buffer | null): void {
    if (this.#consumer) this.#consumer.replay(key, value);
    else this.#consumerReplay.push([key, value]);
  }

  /** The KIP-848 consumer groups if any heartbeat created them, else null. */
  get consumer(): ConsumerGroupManager | null { return this.#consumer; }

  /**
   * Before a ConsumerGroupHeartbeat: an Empty classic group gives way (its offsets stay), as Kafka
   * converts it. A classic group with members is upgraded in place when the heartbeat is a join (epoch
   * 0) and Kafka's validateOnlineUpgrade holds (`group.consumer.migration.policy` upgrade or
   * bidirectional, protocol type `consumer`, at most `group.consumer.max.size` members): pending
   * JoinGroup/SyncGroup calls are answered REBALANCE_IN_PROGRESS, the classic group is tombstoned and
   * its members carry on as classic members of the consumer group. Otherwise → GROUP_ID_NOT_FOUND.
   */
  claimForConsumerGroup(groupId: string, memberEpoch = 0): number {
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead') return ErrorCode.NONE;
    if (g.state === 'Empty') {
      this.groups.delete(groupId);
      return ErrorCode.NONE;
    }
    const mgr = this.#consumer;
    if (memberEpoch !== 0 || !mgr || !mgr.canUpgrade(g.protocolType, g.members.size)) return ErrorCode.GROUP_ID_NOT_FOUND;
    const members = [...g.members.values()].map((m) => ({
      memberId: m.memberId, instanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs, sessionTimeoutMs: m.sessionTimeoutMs, protocols: m.protocols, assignment: m.assignment,
    }));
    try {
      mgr.upgradeFromClassic(groupId, g.generationId, g.protocolName, members);
    } catch (err) {
      this.#log.warn(`group ${groupId}: cannot upgrade the classic group to a consumer group: ${(err as Error).message}`);
      return ErrorCode.GROUP_ID_NOT_FOUND;
    }
    for (const m of g.members.values()) {
      this.#completeJoin(m, joinError(m.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
      this.#completeSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      this.#cancel(this.#heartbeatKey(groupId, m.memberId));
    }
    for (const id of g.pendingMembers) this.#cancel(this.#heartbeatKey(groupId, id));
    this.#cancel(this.#joinKey(groupId));
    this.#cancel(this.#syncKey(groupId));
    g.transitionTo('Dead', this.#clock.now());
    this.groups.delete(groupId);
    void this.#append(groupId, [{ key: encodeGroupMetadataKey(groupId), value: null }]);
    this.#log.info(`group ${groupId}: upgraded from a classic group to a consumer group (generation ${g.generationId})`);
    return ErrorCode.NONE;
  }

  /**
   * A consumer group whose last consumer-protocol member went, downgraded (Kafka's
   * ClassicGroup.fromConsumerGroup): a classic group at generation = group epoch with the remaining
   * members and their target assignments, written, then rebalanced.
   */
  #downgraded(d: DowngradedGroup): void {
    const g = new ClassicGroup(d.groupId);
    g.generationId = d.groupEpoch;
    g.protocolType = 'consumer';
    g.transitionTo('Stable', this.#clock.now());
    for (const dm of d.members) {
      const m: Member = {
        memberId: dm.memberId, groupInstanceId: dm.instanceId, clientId: dm.clientId, clientHost: dm.clientHost,
        rebalanceTimeoutMs: dm.rebalanceTimeoutMs, sessionTimeoutMs: dm.sessionTimeoutMs, protocolType: 'consumer',
        protocols: dm.protocols, assignment: EMPTY, awaitingJoin: null, awaitingSync: null, isNew: false,
      };
      this.#addMember(g, m);
    }
    g.protocolName = g.selectProtocol();
    g.leaderId = g.members.keys().next().value ?? null;
    g.subscribedTopics = g.computeSubscribedTopics();
    const assignments = new Map<string, Buffer>();
    for (const dm of d.members) {
      const m = g.members.get(dm.memberId)!;
      m.assignment = encodeAssignment(dm.assignment, g.metadataOf(m, g.protocolName));
      assignments.set(m.memberId, m.assignment);
    }
    this.groups.set(g.groupId, g);
    void this.#append(g.groupId, [this.#groupMetadataRecord(g, assignments)]);
    for (const m of g.members.values()) this.#rescheduleHeartbeat(g, m);
    this.#log.info(`group ${g.groupId}: downgraded from a consumer group to a classic group (generation ${g.generationId})`);
    this.#prepareRebalance(g);
  }

  /** Resolves with an error code once the coordinator can serve (its log exists). */
  ready(): Promise<number> {
    return (this.#store.ensure?.() ?? Promise.resolve()).then(() => ErrorCode.NONE, (err) => errorCodeOf(err));
  }

  // ---------------------------------------------------------------- timers

  #schedule(key: string, ms: number, fn: () => void): void {
    this.#cancel(key);
    if (this.#closed) return;
    const h = this.#clock.setTimeout(() => {
      if (this.#timers.get(key) !== h) return;
      this.#timers.delete(key);
      try {
        fn();
      } catch (err) {
        this.#log.error(`group coordinator timer ${key}: ${(err as Error).stack ?? err}`);
      }
    }, Math.max(0, ms));
    this.#timers.set(key, h);
  }

  #cancel(key: string): void {
    const h = this.#timers.get(key);
    if (h !== undefined) {
      this.#clock.clearTimeout(h);
      this.#timers.delete(key);
    }
  }

  /** Starts the periodic offset expiration (offsets.retention.check.interval.ms). */
  startExpiration(): void {
    const tick = () => {
      this.#expiryTimer = null;
      if (this.#closed) return;
      void this.expireOffsets().finally(() => {
        if (!this.#closed) this.#expiryTimer = this.#clock.setTimeout(tick, this.config.offsetsRetentionCheckIntervalMs);
      });
    };
    this.#expiryTimer = this.#clock.setTimeout(tick, this.config.offsetsRetentionCheckIntervalMs);
  }

  /** Cancels every timer and answers every waiting JoinGroup/SyncGroup with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    this.#closed = true;
    this.#consumer?.close();
    for (const h of this.#timers.values()) this.#clock.clearTimeout(h);
    this.#timers.clear();
    if (this.#expiryTimer !== null) this.#clock.clearTimeout(this.#expiryTimer);
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        this.#completeJoin(m, joinError(m.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
        this.#completeSync(m, syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
    }
  }

  #heartbeatKey(groupId: string, memberId: string): string { return `hb\u0000${groupId}\u0000${memberId}`; }
  #joinKey(groupId: string): string { return `join\u0000${groupId}`; }
  #syncKey(groupId: string): string { return `sync\u0000${groupId}`; }

  #rescheduleHeartbeat(g: ClassicGroup, m: Member, timeoutMs = m.sessionTimeoutMs): void {
    const memberId = m.memberId;
    this.#schedule(this.#heartbeatKey(g.groupId, memberId), timeoutMs, () => this.#expireHeartbeat(g.groupId, memberId));
  }

  // ---------------------------------------------------------------- membership helpers

  #completeJoin(m: Member, r: JoinResult): boolean {
    const f = m.awaitingJoin;
    if (!f) return false;
    m.awaitingJoin = null;
    f(r);
    return true;
  }

  #completeSync(m: Member, r: SyncResult): boolean {
    const f = m.awaitingSync;
    if (!f) return false;
    m.awaitingSync = null;
    f(r);
    return true;
  }

  #addMember(g: ClassicGroup, m: Member): void {
    if (g.members.size === 0) g.protocolType = m.protocolType;
    if (g.leaderId === null) g.leaderId = m.memberId;
    g.members.set(m.memberId, m);
    if (m.groupInstanceId !== null) g.staticMembers.set(m.groupInstanceId, m.memberId);
    g.pendingMembers.delete(m.memberId);
  }

  #removeMember(g: ClassicGroup, memberId: string): void {
    const m = g.members.get(memberId);
    g.pendingMembers.delete(memberId);
    g.pendingSync.delete(memberId);
    if (!m) return;
    g.members.delete(memberId);
    if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === memberId) g.staticMembers.delete(m.groupInstanceId);
    if (g.leaderId === memberId) g.leaderId = g.members.keys().next().value ?? null;
    // Whoever waits on this member's requests hears about it (Kafka leaves them to the request timeout).
    this.#completeSync(m, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  #updateMember(m: Member, req: JoinRequest, resolve: ((r: JoinResult) => void) | null): void {
    m.protocols = req.protocols;
    m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    m.sessionTimeoutMs = req.sessionTimeoutMs;
    // A second JoinGroup while one is pending replaces it; the first is answered so its connection moves on.
    if (m.awaitingJoin && resolve) this.#completeJoin(m, joinError(m.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    if (resolve) m.awaitingJoin = resolve;
  }

  #membersForJoin(g: ClassicGroup): JoinResult['members'] {
    return [...g.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: g.metadataOf(m, g.protocolName!) }));
  }

  #generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${this.#uuid()}`;
  }

  #groupMetadataRecord(g: ClassicGroup, assignment: Map<string, Buffer>): CoordinatorRecord {
    const value: GroupMetadataValue = {
      protocolType: g.protocolType ?? '',
      generation: g.generationId,
      protocol: g.protocolName,
      leader: g.leaderId,
      currentStateTimestamp: g.currentStateTimestamp ?? -1,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs, sessionTimeout: m.sessionTimeoutMs,
        subscription: g.protocolName === null ? EMPTY : g.metadataOf(m, g.protocolName),
        assignment: assignment.get(m.memberId) ?? EMPTY,
      })),
    };
    return { key: encodeGroupMetadataKey(g.groupId), value: encodeGroupMetadataValue(value) };
  }

  /** Appends; failures are logged and reported as the mapped error code (0 = appended). */
  #append(groupId: string, records: CoordinatorRecord[], txn?: { producerId: bigint; producerEpoch: number }): Promise<number> {
    return this.#store.append(groupId, records, txn).then(() => ErrorCode.NONE, (err) => {
      this.#log.warn(`group ${groupId}: writing to __consumer_offsets failed: ${(err as Error).message}`);
      return errorCodeOf(err);
    });
  }

  // ---------------------------------------------------------------- JoinGroup

  join(req: JoinRequest): Promise<JoinResult> {
    return new Promise((resolve) => this.#join(req, resolve));
  }

  #join(req: JoinRequest, resolve: (r: JoinResult) => void): void {
    if (req.groupId === '') return resolve(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID));
    if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return resolve(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    if (req.rebalanceTimeoutMs < 0) req = { ...req, rebalanceTimeoutMs: req.sessionTimeoutMs };
    if (this.#consumer?.hasMembers(req.groupId)) {
      // A classic member in a consumer group (Kafka's classicGroupJoinToConsumerGroup), whatever the
      // migration policy; answered once the group's records are written.
      const mgr = this.#consumer;
      const r = mgr.classicJoin({
        groupId: req.groupId, memberId: req.memberId, instanceId: req.groupInstanceId, protocolType: req.protocolType, protocols: req.protocols,
        sessionTimeoutMs: req.sessionTimeoutMs, rebalanceTimeoutMs: req.rebalanceTimeoutMs, clientId: req.clientId, clientHost: req.clientHost,
        requireKnownMemberId: req.requireKnownMemberId,
      }, () => randomBytes(16).toString('base64url'));
      const result: JoinResult = { ...r, leader: '', skipAssignment: false, members: [] };
      if (r.errorCode !== ErrorCode.NONE) return resolve(result);
      void mgr.written(req.groupId).then(() => resolve(result), (e: unknown) => resolve(joinError(r.memberId, appendErrorToResponseError(errorCodeOf(e)))));
      return;
    }
    if (this.#consumer?.has(req.groupId)) this.#consumer.delete(req.groupId); // an empty consumer group gives way
    const isUnknownMember = req.memberId === '';
    let g = this.groups.get(req.groupId);
    let isNewGroup = false;
    if (!g) {
      if (!isUnknownMember) return resolve(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      g = new ClassicGroup(req.groupId);
      this.groups.set(req.groupId, g);
      isNewGroup = true;
    }
    if (!this.#acceptJoiningMember(g, req.memberId)) {
      if (g.members.has(req.memberId) || g.pendingMembers.has(req.memberId)) {
        this.#cancel(this.#heartbeatKey(g.groupId, req.memberId));
        this.#removeMember(g, req.memberId);
      }
      resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.#joinNewMember(g, req, resolve);
    } else {
      this.#joinExistingMember(g, req, resolve);
    }
    if (isNewGroup && g.state === 'Empty' && g.members.size === 0) {
      // Kafka commits a newly created group with an empty GroupMetadata record.
      void this.#append(g.groupId, [this.#groupMetadataRecord(g, new Map())]);
    }
  }

  #acceptJoiningMember(g: ClassicGroup, memberId: string): boolean {
    switch (g.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (g.members.get(memberId)?.awaitingJoin != null) || g.numAwaitingJoin() < this.config.maxSize;
      default:
        return g.members.has(memberId) || g.members.size < this.config.maxSize;
    }
  }

  #joinNewMember(g: ClassicGroup, req: JoinRequest, resolve: (r: JoinResult) => void): void {
    if (g.state === 'Dead') return resolve(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return resolve(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const newMemberId = this.#generateMemberId(req.clientId, req.groupInstanceId);
    if (req.groupInstanceId !== null) {
      const existing = g.staticMembers.get(req.groupInstanceId);
      if (existing !== undefined) return this.#updateStaticMember(g, req, existing, newMemberId, resolve);
      return this.#addMemberThenRebalance(g, req, newMemberId, resolve);
    }
    if (req.requireKnownMemberId) {
      g.pendingMembers.add(newMemberId);
      this.#schedule(this.#heartbeatKey(g.groupId, newMemberId), req.sessionTimeoutMs, () => this.#expireHeartbeat(g.groupId, newMemberId));
      return resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.#addMemberThenRebalance(g, req, newMemberId, resolve);
  }

  #joinExistingMember(g: ClassicGroup, req: JoinRequest, resolve: (r: JoinResult) => void): void {
    const memberId = req.memberId;
    if (g.state === 'Dead') return resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (g.pendingMembers.has(memberId)) return this.#addMemberThenRebalance(g, req, memberId, resolve);
    const err = g.validateMember(memberId, req.groupInstanceId);
    if (err !== ErrorCode.NONE) return resolve(joinError(memberId, err));
    const m = g.members.get(memberId)!;
    const current = (members: JoinResult['members']): JoinResult => ({
      errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
      leader: g.leaderId ?? '', memberId, skipAssignment: false, members,
    });
    switch (g.state) {
      case 'PreparingRebalance':
        return this.#updateMemberThenRebalance(g, m, req, resolve);
      case 'CompletingRebalance':
        if (this.#sameProtocols(m, req.protocols)) return resolve(current(g.isLeader(memberId) ? this.#membersForJoin(g) : []));
        return this.#updateMemberThenRebalance(g, m, req, resolve);
      case 'Stable':
        if (g.isLeader(memberId) || !this.#sameProtocols(m, req.protocols)) return this.#updateMemberThenRebalance(g, m, req, resolve);
        return resolve(current([]));
      default:
        return resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  #sameProtocols(m: Member, protocols: Protocol[]): boolean {
    return m.protocols.length === protocols.length &&
      m.protocols.every((p, i) => p.name === protocols[i]!.name && Buffer.compare(p.metadata, protocols[i]!.metadata) === 0);
  }

  #addMemberThenRebalance(g: ClassicGroup, req: JoinRequest, memberId: string, resolve: (r: JoinResult) => void): void {
    const m: Member = {
      memberId, groupInstanceId: req.groupInstanceId, clientId: req.clientId, clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs, sessionTimeoutMs: req.sessionTimeoutMs, protocolType: req.protocolType,
      protocols: req.protocols, assignment: EMPTY, awaitingJoin: resolve, awaitingSync: null, isNew: true,
    };
    if (g.state === 'PreparingRebalance' && g.previousState === 'Empty') g.newMemberAdded = true;
    this.#addMember(g, m);
    this.#rescheduleHeartbeat(g, m, this.config.newMemberJoinTimeoutMs);
    this.#maybePrepareRebalanceOrCompleteJoin(g);
  }

  #updateMemberThenRebalance(g: ClassicGroup, m: Member, req: JoinRequest, resolve: (r: JoinResult) => void): void {
    this.#updateMember(m, req, resolve);
    this.#maybePrepareRebalanceOrCompleteJoin(g);
  }

  #updateStaticMember(g: ClassicGroup, req: JoinRequest, oldMemberId: string, newMemberId: string, resolve: (r: JoinResult) => void): void {
    const currentLeader = g.leaderId;
    const old = g.members.get(oldMemberId)!;
    // Fence the previous incarnation at once if it waits on a JoinGroup or SyncGroup.
    this.#completeJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.#completeSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.#cancel(this.#heartbeatKey(g.groupId, oldMemberId));
    g.members.delete(oldMemberId);
    g.pendingSync.delete(oldMemberId);
    const m: Member = { ...old, memberId: newMemberId, awaitingJoin: null, awaitingSync: null };
    g.members.set(newMemberId, m);
    if (g.leaderId === oldMemberId) g.leaderId = newMemberId;
    g.staticMembers.set(req.groupInstanceId!, newMemberId);
    this.#rescheduleHeartbeat(g, m);
    const oldProtocols = m.protocols;
    const oldRebalance = m.rebalanceTimeoutMs;
    const oldSession = m.sessionTimeoutMs;
    this.#updateMember(m, req, resolve);

    if (g.state === 'Stable') {
      if (g.protocolName === g.selectProtocol()) {
        const assignment = new Map([...g.members.values()].map((x) => [x.memberId, x.assignment]));
        void this.#append(g.groupId, [this.#groupMetadataRecord(g, assignment)]).then((err) => {
          if (err !== ErrorCode.NONE) {
            // Revert to the old member id, as Kafka does.
            m.protocols = oldProtocols;
            m.rebalanceTimeoutMs = oldRebalance;
            m.sessionTimeoutMs = oldSession;
            const f = m.awaitingJoin;
            m.awaitingJoin = null;
            g.members.delete(newMemberId);
            m.memberId = oldMemberId;
            g.members.set(oldMemberId, m);
            if (g.leaderId === newMemberId) g.leaderId = oldMemberId;
            g.staticMembers.set(req.groupInstanceId!, oldMemberId);
            this.#cancel(this.#heartbeatKey(g.groupId, newMemberId));
            this.#rescheduleHeartbeat(g, m);
            f?.({ ...joinError('', err), generationId: g.generationId, protocolName: g.protocolName, protocolType: g.protocolType, leader: currentLeader ?? '' });
            return;
          }
          const isLeader = g.isLeader(newMemberId);
          if (req.supportsSkipAssignment) {
            this.#completeJoin(m, {
              errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
              leader: g.leaderId ?? '', memberId: newMemberId, skipAssignment: isLeader, members: isLeader ? this.#membersForJoin(g) : [],
            });
          } else {
            this.#completeJoin(m, {
              errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
              leader: currentLeader ?? '', memberId: newMemberId, skipAssignment: false, members: [],
            });
          }
        });
        return;
      }
      return this.#maybePrepareRebalanceOrCompleteJoin(g);
    }
    if (g.state === 'CompletingRebalance') return this.#prepareRebalance(g);
    this.#maybeCompleteJoinPhase(g);
  }

  #maybePrepareRebalanceOrCompleteJoin(g: ClassicGroup): void {
    if (g.canRebalance()) this.#prepareRebalance(g);
    else this.#maybeCompleteJoinPhase(g);
  }

  #maybeCompleteJoinPhase(g: ClassicGroup): void {
    if (g.state !== 'PreparingRebalance') return;
    if (g.previousState === 'Empty') return; // the initial delayed join decides
    if (!g.hasAllMembersJoined()) return;
    this.#completeGroupJoin(g);
  }

  #prepareRebalance(g: ClassicGroup): void {
    if (g.state === 'CompletingRebalance') {
      for (const m of g.members.values()) m.assignment = EMPTY;
      this.#propagateAssignment(g, ErrorCode.REBALANCE_IN_PROGRESS);
    }
    g.pendingSync.clear();
    this.#cancel(this.#syncKey(g.groupId));
    const initial = g.state === 'Empty';
    if (initial) {
      const delay = this.config.initialRebalanceDelayMs;
      const remaining = Math.max(g.rebalanceTimeoutMs - delay, 0);
      this.#schedule(this.#joinKey(g.groupId), delay, () => this.#tryCompleteInitialRebalance(g.groupId, delay, remaining));
    }
    g.transitionTo('PreparingRebalance', this.#clock.now());
    this.#log.info(`group ${g.groupId}: preparing to rebalance (generation ${g.generationId})`);
    if (!initial) {
      if (g.hasAllMembersJoined()) this.#completeGroupJoin(g);
      else this.#schedule(this.#joinKey(g.groupId), g.rebalanceTimeoutMs, () => this.#completeGroupJoinById(g.groupId));
    }
  }

  #tryCompleteInitialRebalance(groupId: string, delay: number, remaining: number): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    if (g.newMemberAdded && remaining !== 0) {
      g.newMemberAdded = false;
      const newDelay = Math.min(this.config.initialRebalanceDelayMs, remaining);
      const newRemaining = Math.max(remaining - delay, 0);
      this.#schedule(this.#joinKey(groupId), newDelay, () => this.#tryCompleteInitialRebalance(groupId, newDelay, newRemaining));
    } else {
      this.#completeGroupJoin(g);
    }
  }

  #completeGroupJoinById(groupId: string): void {
    const g = this.groups.get(groupId);
    if (g) this.#completeGroupJoin(g);
  }

  #completeGroupJoin(g: ClassicGroup): void {
    this.#cancel(this.#joinKey(g.groupId));
    for (const m of [...g.members.values()]) {
      if (!m.awaitingJoin && m.groupInstanceId === null) {
        this.#cancel(this.#heartbeatKey(g.groupId, m.memberId));
        this.#removeMember(g, m.memberId);
      }
    }
    if (g.state === 'Dead') return;
    if (!this.#maybeElectNewJoinedLeader(g) && g.members.size > 0) {
      this.#log.error(`group ${g.groupId} could not complete rebalance because no members rejoined`);
      this.#schedule(this.#joinKey(g.groupId), g.rebalanceTimeoutMs, () => this.#completeGroupJoinById(g.groupId));
      return;
    }
    this.#initNextGeneration(g);
    if (g.state === 'Empty') {
      void this.#append(g.groupId, [this.#groupMetadataRecord(g, new Map())]);
      return;
    }
    this.#log.info(`group ${g.groupId}: generation ${g.generationId} (${g.protocolType}/${g.protocolName}) with ${g.members.size} member(s)`);
    for (const m of g.members.values()) {
      this.#completeJoin(m, {
        errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
        leader: g.leaderId ?? '', memberId: m.memberId, skipAssignment: false,
        members: g.isLeader(m.memberId) ? this.#membersForJoin(g) : [],
      });
      this.#rescheduleHeartbeat(g, m);
      m.isNew = false;
      g.pendingSync.add(m.memberId);
    }
    const generation = g.generationId;
    this.#schedule(this.#syncKey(g.groupId), g.rebalanceTimeoutMs, () => this.#expirePendingSync(g.groupId, generation));
  }

  #maybeElectNewJoinedLeader(g: ClassicGroup): boolean {
    if (g.leaderId === null) return false;
    const leader = g.members.get(g.leaderId);
    if (leader && leader.awaitingJoin) return true;
    for (const m of g.members.values()) {
      if (m.awaitingJoin) {
        g.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  #initNextGeneration(g: ClassicGroup): void {
    g.generationId++;
    const now = this.#clock.now();
    if (g.members.size > 0) {
      g.protocolName = g.selectProtocol();
      g.subscribedTopics = g.computeSubscribedTopics();
      g.transitionTo('CompletingRebalance', now);
    } else {
      g.protocolName = null;
      g.subscribedTopics = g.computeSubscribedTopics();
      g.transitionTo('Empty', now);
    }
    g.pendingSync.clear();
  }

  #expirePendingSync(groupId: string, generation: number): void {
    const g = this.groups.get(groupId);
    if (!g || g.generationId !== generation) return;
    if ((g.state === 'CompletingRebalance' || g.state === 'Stable') && g.pendingSync.size > 0) {
      const pending = [...g.pendingSync];
      for (const id of pending) {
        this.#cancel(this.#heartbeatKey(groupId, id));
        this.#removeMember(g, id);
      }
      this.#log.info(`group ${groupId}: removed ${pending.join(', ')} on pending sync expiration`);
      this.#prepareRebalance(g);
    }
  }

  #expireHeartbeat(groupId: string, memberId: string): void {
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead') return;
    if (g.pendingMembers.has(memberId)) {
      g.pendingMembers.delete(memberId);
      if (g.state === 'PreparingRebalance' && g.hasAllMembersJoined()) this.#completeGroupJoin(g);
      return;
    }
    const m = g.members.get(memberId);
    if (!m) return;
    const satisfied = m.isNew ? false : m.awaitingJoin !== null || m.awaitingSync !== null;
    if (satisfied) return;
    this.#log.info(`group ${groupId}: member ${memberId} expired (no heartbeat within its session timeout)`);
    this.#removeMemberAndUpdateGroup(g, m);
  }

  #removeMemberAndUpdateGroup(g: ClassicGroup, m: Member): void {
    this.#completeJoin(m, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    this.#removeMember(g, m.memberId);
    if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.#maybePrepareRebalanceOrCompleteJoin(g);
    else if (g.state === 'PreparingRebalance' && g.hasAllMembersJoined()) this.#completeGroupJoin(g);
  }

  // ---------------------------------------------------------------- SyncGroup

  sync(req: SyncRequest): Promise<SyncResult> {
    return new Promise((resolve) => this.#sync(req, resolve));
  }

  #sync(req: SyncRequest, resolve: (r: SyncResult) => void): void {
    if (req.groupId === '') return resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    if (this.#consumer?.has(req.groupId)) {
      return resolve(this.#consumer.classicSync({
        groupId: req.groupId, memberId: req.memberId, instanceId: req.groupInstanceId, generationId: req.generationId,
        protocolType: req.protocolType, protocolName: req.protocolName,
      }));
    }
    const g = this.groups.get(req.groupId);
    if (!g || g.state === 'Empty') return resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (g.state === 'Dead') return resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const err = g.validateMember(req.memberId, req.groupInstanceId);
    if (err !== ErrorCode.NONE) return resolve(syncError(err));
    if (req.generationId !== g.generationId) return resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    const inconsistent = (a: string | null, b: string | null) => a !== null && a !== b;
    if (inconsistent(req.protocolType, g.protocolType) || inconsistent(req.protocolName, g.protocolName)) {
      return resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (g.state === 'PreparingRebalance') return resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    const m = g.members.get(req.memberId)!;
    if (g.state === 'Stable') {
      this.#removePendingSync(g, req.memberId);
      return resolve({ errorCode: ErrorCode.NONE, protocolType: g.protocolType, protocolName: g.protocolName, assignment: m.assignment });
    }
    // CompletingRebalance
    if (m.awaitingSync) this.#completeSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    m.awaitingSync = resolve;
    this.#removePendingSync(g, req.memberId);
    if (!g.isLeader(req.memberId)) return;
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) assignment.set(a.memberId, a.assignment);
    for (const id of g.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY);
    const generation = g.generationId;
    void this.#append(g.groupId, [this.#groupMetadataRecord(g, assignment)]).then((code) => {
      if (g.state !== 'CompletingRebalance' || generation !== g.generationId) return;
      if (code !== ErrorCode.NONE) {
        for (const x of g.members.values()) x.assignment = EMPTY;
        this.#propagateAssignment(g, code);
        this.#maybePrepareRebalanceOrCompleteJoin(g);
        return;
      }
      for (const x of g.members.values()) x.assignment = assignment.get(x.memberId) ?? EMPTY;
      this.#propagateAssignment(g, ErrorCode.NONE);
      g.transitionTo('Stable', this.#clock.now());
      this.#log.info(`group ${g.groupId}: stable at generation ${g.generationId}`);
    });
  }

  #removePendingSync(g: ClassicGroup, memberId: string): void {
    g.pendingSync.delete(memberId);
    if (g.pendingSync.size === 0) this.#cancel(this.#syncKey(g.groupId));
  }

  #propagateAssignment(g: ClassicGroup, errorCode: number): void {
    for (const m of g.members.values()) {
      const ok = errorCode === ErrorCode.NONE;
      if (this.#completeSync(m, { errorCode, protocolType: ok ? g.protocolType : null, protocolName: ok ? g.protocolName : null, assignment: m.assignment })) {
        this.#rescheduleHeartbeat(g, m);
      }
    }
  }

  // ---------------------------------------------------------------- Heartbeat

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.#consumer?.has(groupId)) return this.#consumer.classicHeartbeat(groupId, memberId, groupInstanceId, generationId);
    const g = this.groups.get(groupId);
    if (!g) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (g.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const err = g.validateMember(memberId, groupInstanceId);
    if (err !== ErrorCode.NONE) return err;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (g.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.#rescheduleHeartbeat(g, g.members.get(memberId)!);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.#rescheduleHeartbeat(g, g.members.get(memberId)!);
        return ErrorCode.NONE;
    }
  }

  // ---------------------------------------------------------------- LeaveGroup

  leave(groupId: string, leaving: Array<{ memberId: string; groupInstanceId: string | null }>): LeaveResult {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    if (this.#consumer?.has(groupId)) return { errorCode: ErrorCode.NONE, members: this.#consumer.classicLeave(groupId, leaving) };
    const g = this.groups.get(groupId);
    if (!g) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] };
    if (g.state === 'Dead') return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const out: LeaveResult['members'] = [];
    let removed = 0;
    for (const lm of leaving) {
      let errorCode: number = ErrorCode.NONE;
      if (lm.memberId === '') {
        const id = lm.groupInstanceId !== null ? g.staticMembers.get(lm.groupInstanceId) : undefined;
        if (id !== undefined) this.#removeCurrentMember(g, id);
        else errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
      } else if (g.pendingMembers.has(lm.memberId)) {
        g.pendingMembers.delete(lm.memberId);
        this.#cancel(this.#heartbeatKey(groupId, lm.memberId));
      } else {
        errorCode = g.validateMember(lm.memberId, lm.groupInstanceId);
        if (errorCode === ErrorCode.NONE) this.#removeCurrentMember(g, lm.memberId);
      }
      if (errorCode === ErrorCode.NONE) removed++;
      out.push({ memberId: lm.memberId, groupInstanceId: lm.groupInstanceId, errorCode });
    }
    if (removed > 0) {
      if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.#maybePrepareRebalanceOrCompleteJoin(g);
      else if (g.state === 'PreparingRebalance') this.#maybeCompleteJoinPhase(g);
    }
    return { errorCode: ErrorCode.NONE, members: out };
  }

  #removeCurrentMember(g: ClassicGroup, memberId: string): void {
    const m = g.members.get(memberId);
    if (!m) return;
    this.#cancel(this.#heartbeatKey(g.groupId, memberId));
    this.#completeJoin(m, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    this.#removeMember(g, memberId);
  }

  // ---------------------------------------------------------------- offsets

  /** Validates and writes an OffsetCommit; resolves with one error code per request partition. */
  async commitOffsets(req: CommitRequest): Promise<number[]> {
    const fail = (code: number) => req.partitions.map((p) => (p.errorCode !== ErrorCode.NONE ? p.errorCode : code));
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (this.#consumer?.has(req.groupId)) {
      const v = this.#consumer.validateOffsetCommit(req.groupId, req.memberId, req.generationId, req.apiVersion);
      const err = v.errorCode !== ErrorCode.NONE ? v.errorCode : this.#checkPartitions(req.partitions, v.check);
      if (err !== ErrorCode.NONE) return fail(err);
      return this.#writeOffsets(req);
    }
    let g = this.groups.get(req.groupId);
    if (!g) {
      if (req.generationId < 0) {
        // A "simple" group: a standalone consumer or an admin client committing without coordination.
        g = new ClassicGroup(req.groupId);
        this.groups.set(req.groupId, g);
      } else {
        return fail(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
    }
    const err = this.#validateOffsetCommit(g, req);
    if (err !== ErrorCode.NONE) return fail(err);
    if (g.state === 'Stable' || g.state === 'PreparingRebalance') {
      const m = g.members.get(req.memberId);
      if (m) this.#rescheduleHeartbeat(g, m);
    }
    return this.#writeOffsets(req);
  }

  #writeOffsets(req: CommitRequest): Promise<number[]> {
    // Capped: a retention near Int64 max would push the timestamp past Int64 (Kafka's long wraps negative).
    const expireTimestamp = req.retentionTimeMs === -1 ? -1 : Math.min(this.#clock.now() + req.retentionTimeMs, Number.MAX_SAFE_INTEGER);
    return this.#writeOffsetRecords(req.groupId, req.partitions, expireTimestamp, undefined, (topic, partition, value) => this.#putOffset(req.groupId, topic, partition, value));
  }

  /**
   * Checks each partition's metadata size, writes the commits (as a transactional batch with `txn`) and,
   * once written, hands each to `apply`. Resolves with one error code per partition.
   */
  async #writeOffsetRecords(groupId: string, partitions: CommitRequest['partitions'], expireTimestamp: number, txn: { producerId: bigint; producerEpoch: number } | undefined,
    apply: (topic: string, partition: number, value: OffsetAndMetadata) => void): Promise<number[]> {
    const now = this.#clock.now();
    const codes: number[] = [];
    const records: CoordinatorRecord[] = [];
    const applied: Array<{ topic: string; partition: number; value: OffsetAndMetadata }> = [];
    for (const p of partitions) {
      if (p.errorCode !== ErrorCode.NONE) {
        codes.push(p.errorCode);
      } else if (p.metadata !== null && p.metadata.length > this.config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
      } else {
        codes.push(ErrorCode.NONE);
        const value: OffsetCommitValue = { offset: p.offset, leaderEpoch: p.leaderEpoch, metadata: p.metadata ?? '', commitTimestamp: now, expireTimestamp };
        records.push({ key: encodeOffsetCommitKey(groupId, p.topic, p.partition), value: encodeOffsetCommitValue(value) });
        applied.push({ topic: p.topic, partition: p.partition, value });
      }
    }
    if (records.length === 0) return codes;
    const appendErr = await this.#append(groupId, records, txn);
    if (appendErr !== ErrorCode.NONE) return codes.map((c) => (c === ErrorCode.NONE ? appendErr : c));
    for (const a of applied) apply(a.topic, a.partition, a.value);
    return codes;
  }

  /**
   * TxnOffsetCommit (the handler verified the transaction): member checks as Kafka makes them for
   * transactional commits (none without member id and generation), then a transactional batch of the
   * producer; the offsets become committed when the transaction's commit marker is written.
   */
  async commitTxnOffsets(req: TxnCommitRequest): Promise<number[]> {
    const fail = (code: number) => req.partitions.map((p) => (p.errorCode !== ErrorCode.NONE ? p.errorCode : code));
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      let err: number;
      if (this.#consumer?.has(req.groupId)) {
        const v = this.#consumer.validateOffsetCommit(req.groupId, req.memberId, req.generationId, 0, true); // version: unused for transactional commits
        err = v.errorCode !== ErrorCode.NONE ? v.errorCode : this.#checkPartitions(req.partitions, v.check);
        // Kafka answers a transactional commit's stale member epoch with ILLEGAL_GENERATION.
        if (err === ErrorCode.STALE_MEMBER_EPOCH) err = ErrorCode.ILLEGAL_GENERATION;
      } else {
        const g = this.groups.get(req.groupId);
        if (!g || g.state === 'Dead') err = ErrorCode.ILLEGAL_GENERATION;
        else {
          err = g.validateMember(req.memberId, req.groupInstanceId);
          if (err === ErrorCode.NONE && req.generationId !== g.generationId) err = ErrorCode.ILLEGAL_GENERATION;
        }
      }
      if (err !== ErrorCode.NONE) return fail(err);
    }
    return this.#writeOffsetRecords(req.groupId, req.partitions, -1, { producerId: req.producerId, producerEpoch: req.producerEpoch },
      (topic, partition, value) => this.replayTxnOffset(req.producerId, req.groupId, topic, partition, value));
  }

  /** A transactional offset commit read back (or just written): pending until its marker. */
  replayTxnOffset(producerId: bigint, groupId: string, topic: string, partition: number, value: OffsetAndMetadata): void {
    let byGroup = this.txnOffsets.get(producerId);
    if (!byGroup) this.txnOffsets.set(producerId, byGroup = new Map());
    let list = byGroup.get(groupId);
    if (!list) byGroup.set(groupId, list = []);
    const i = list.findIndex((e) => e.topic === topic && e.partition === partition);
    if (i >= 0) list.splice(i, 1);
    list.push({ topic, partition, value });
  }

  /** The producer's transaction ended: its pending offsets become committed (commit) or are dropped (abort). */
  completeTxnOffsets(producerId: bigint, commit: boolean): void {
    const byGroup = this.txnOffsets.get(producerId);
    if (!byGroup) return;
    this.txnOffsets.delete(producerId);
    if (!commit) return;
    for (const [groupId, list] of byGroup) {
      if (!this.groups.has(groupId) && !this.#consumer?.has(groupId)) this.groups.set(groupId, new ClassicGroup(groupId));
      for (const e of list) this.#putOffset(groupId, e.topic, e.partition, e.value);
    }
  }

  /** OffsetFetch require_stable: a transaction holds an uncommitted offset for this partition. */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    for (const byGroup of this.txnOffsets.values()) {
      if (byGroup.get(groupId)?.some((e) => e.topic === topic && e.partition === partition)) return true;
    }
    return false;
  }

  /**
   * A consumer group's per-partition commit check (KIP-1251), applied as Kafka applies it: to the
   * partitions that would be written (not those already failed, nor those whose metadata is too
   * large); the first failing partition fails the whole request.
   */
  #checkPartitions(partitions: CommitRequest['partitions'], check: ((topic: string, partition: number) => number) | null): number {
    if (!check) return ErrorCode.NONE;
    for (const p of partitions) {
      if (p.errorCode !== ErrorCode.NONE) continue;
      if (p.metadata !== null && p.metadata.length > this.config.offsetMetadataMaxBytes) continue;
      const err = check(p.topic, p.partition);
      if (err !== ErrorCode.NONE) return err;
    }
    return ErrorCode.NONE;
  }

  #validateOffsetCommit(g: ClassicGroup, req: CommitRequest): number {
    if (g.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (req.generationId < 0 && g.state === 'Empty') return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      const err = g.validateMember(req.memberId, req.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (req.generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (g.state !== 'Empty') {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (g.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  #putOffset(groupId: string, topic: string, partition: number, value: OffsetAndMetadata): void {
    let byTopic = this.offsets.get(groupId);
    if (!byTopic) this.offsets.set(groupId, byTopic = new Map());
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, byPartition = new Map());
    byPartition.set(partition, value);
  }

  #deleteOffset(groupId: string, topic: string, partition: number): void {
    const byTopic = this.offsets.get(groupId);
    const byPartition = byTopic?.get(topic);
    if (!byPartition) return;
    byPartition.delete(partition);
    if (byPartition.size === 0) byTopic!.delete(topic);
    if (byTopic!.size === 0) this.offsets.delete(groupId);
  }

  /** The committed offset, or undefined. A Dead or unknown group has none. */
  committedOffset(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.offsets.get(groupId)?.get(topic)?.get(partition);
  }

  /** Every committed offset of the group, by topic (empty for an unknown group). */
  allOffsets(groupId: string): Map<string, Map<number, OffsetAndMetadata>> {
    return this.offsets.get(groupId) ?? new Map();
  }

  /** OffsetDelete: group-level error, or one code per partition. */
  async deleteOffsets(groupId: string, partitions: Array<{ topic: string; partition: number }>): Promise<{ errorCode: number; codes: number[] }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, codes: [] };
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead') return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, codes: [] };
    if (g.state !== 'Empty' && g.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, codes: [] };
    const codes: number[] = [];
    const records: CoordinatorRecord[] = [];
    const deleted: Array<{ topic: string; partition: number }> = [];
    for (const p of partitions) {
      if (g.state !== 'Empty' && g.isSubscribedToTopic(p.topic)) {
        codes.push(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
        continue;
      }
      codes.push(ErrorCode.NONE);
      if (this.committedOffset(groupId, p.topic, p.partition)) {
        records.push({ key: encodeOffsetCommitKey(groupId, p.topic, p.partition), value: null });
        deleted.push(p);
      }
    }
    if (records.length > 0) {
      const err = await this.#append(groupId, records);
      if (err !== ErrorCode.NONE) return { errorCode: err, codes: [] };
      for (const d of deleted) this.#deleteOffset(groupId, d.topic, d.partition);
    }
    return { errorCode: ErrorCode.NONE, codes };
  }

  /** DeleteGroups for one group. */
  async deleteGroup(groupId: string): Promise<number> {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.#consumer?.has(groupId)) {
      const err = this.#consumer.delete(groupId);
      if (err !== ErrorCode.NONE) return err;
      const tombstones: CoordinatorRecord[] = [];
      for (const [topic, parts] of this.allOffsets(groupId)) {
        for (const p of parts.keys()) tombstones.push({ key: encodeOffsetCommitKey(groupId, topic, p), value: null });
      }
      const appendErr = tombstones.length > 0 ? await this.#append(groupId, tombstones) : ErrorCode.NONE;
      if (appendErr === ErrorCode.NONE) this.offsets.delete(groupId);
      return appendErr;
    }
    const g = this.groups.get(groupId);
    if (!g || g.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    const records: CoordinatorRecord[] = [];
    for (const [topic, parts] of this.allOffsets(groupId)) {
      for (const p of parts.keys()) records.push({ key: encodeOffsetCommitKey(groupId, topic, p), value: null });
    }
    records.push({ key: encodeGroupMetadataKey(groupId), value: null });
    // Dead at once, so nothing joins or commits while the tombstones are written.
    g.transitionTo('Dead', this.#clock.now());
    const err = await this.#append(groupId, records);
    if (err !== ErrorCode.NONE) {
      g.transitionTo('Empty', this.#clock.now());
      return err;
    }
    this.groups.delete(groupId);
    this.offsets.delete(groupId);
    return ErrorCode.NONE;
  }

  /** offsets.retention.minutes: tombstones for expired offsets; an Empty group left without offsets is deleted. */
  async expireOffsets(): Promise<number> {
    const now = this.#clock.now();
    let expired = 0;
    for (const [groupId, byTopic] of [...this.offsets]) {
      const g = this.groups.get(groupId);
      let base: ((o: OffsetAndMetadata) => number) | null = null;
      let stableConsumer = false;
      const cg = this.#consumer?.groups.get(groupId);
      if (cg && cg.members.size > 0) {
        // A KIP-848 group with members: offsets of topics it subscribes to never expire (Kafka's rule).
        const subscribed = this.#consumer!.subscribedTopicNames(groupId);
        const records: CoordinatorRecord[] = [];
        const gone: Array<[string, number]> = [];
        for (const [topic, parts] of byTopic) {
          if (subscribed.has(topic)) continue;
          for (const [p, o] of parts) {
            if (o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - o.commitTimestamp >= this.config.offsetsRetentionMs) {
              records.push({ key: encodeOffsetCommitKey(groupId, topic, p), value: null });
              gone.push([topic, p]);
            }
          }
        }
        if (records.length > 0 && await this.#append(groupId, records) === ErrorCode.NONE) {
          for (const [topic, p] of gone) this.#deleteOffset(groupId, topic, p);
          expired += gone.length;
        }
        continue;
      }
      if (!g || g.protocolType === null) base = (o) => o.commitTimestamp;
      else if (g.state === 'Empty') base = (o) => g.currentStateTimestamp ?? o.commitTimestamp;
      else if (g.protocolType === 'consumer' && g.subscribedTopics && g.state === 'Stable') {
        base = (o) => o.commitTimestamp;
        stableConsumer = true;
      }
      if (!base) continue;
      const records: CoordinatorRecord[] = [];
      const gone: Array<[string, number]> = [];
      for (const [topic, parts] of byTopic) {
        if (stableConsumer && g!.isSubscribedToTopic(topic)) continue;
        for (const [p, o] of parts) {
          const isExpired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= this.config.offsetsRetentionMs;
          if (isExpired) {
            records.push({ key: encodeOffsetCommitKey(groupId, topic, p), value: null });
            gone.push([topic, p]);
          }
        }
      }
      if (records.length === 0) continue;
      let total = 0;
      for (const parts of byTopic.values()) total += parts.size;
      const deleteGroup = g !== undefined && g.state === 'Empty' && gone.length === total;
      if (deleteGroup) {
        records.push({ key: encodeGroupMetadataKey(groupId), value: null });
        g!.transitionTo('Dead', now);
      }
      const err = await this.#append(groupId, records);
      if (err !== ErrorCode.NONE) {
        if (deleteGroup) g!.transitionTo('Empty', now);
        continue;
      }
      for (const [topic, p] of gone) this.#deleteOffset(groupId, topic, p);
      if (deleteGroup) this.groups.delete(groupId);
      expired += gone.length;
      this.#log.info(`group ${groupId}: expired ${gone.length} offset(s)${deleteGroup ? ', group removed' : ''}`);
    }
    return expired;
  }

  // ---------------------------------------------------------------- admin reads

  listGroups(): Array<{ groupId: string; protocolType: string; state: GroupState }> {
    return [...this.groups.values()].filter((g) => g.state !== 'Dead')
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  describeGroup(groupId: string): DescribedGroup {
    const g = this.groups.get(groupId);
    if (!g) return { groupId, state: 'Dead', protocolType: '', protocolData: '', members: [], found: false };
    const stable = g.state === 'Stable';
    return {
      groupId, state: g.state, protocolType: g.protocolType ?? '', protocolData: stable ? g.protocolName ?? '' : '', found: true,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        metadata: stable ? g.metadataOf(m, g.protocolName!) : EMPTY, assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  // ---------------------------------------------------------------- loading

  /** Replays one record read from `__consumer_offsets` at start (later records win). */
  replayOffset(groupId: string, topic: string, partition: number, value: OffsetCommitValue | null): void {
    if (value === null) {
      this.#deleteOffset(groupId, topic, partition);
      return;
    }
    if (!this.groups.has(groupId)) this.groups.set(groupId, new ClassicGroup(groupId));
    this.#putOffset(groupId, topic, partition, { ...value });
  }

  replayGroup(groupId: string, value: GroupMetadataValue | null): void {
    if (value === null) {
      this.groups.delete(groupId);
      return;
    }
    const g = new ClassicGroup(groupId);
    g.protocolType = value.protocolType === '' ? null : value.protocolType;
    g.generationId = value.generation;
    g.protocolName = value.protocol;
    g.leaderId = value.leader;
    g.currentStateTimestamp = value.currentStateTimestamp >= 0 ? value.currentStateTimestamp : null;
    for (const mm of value.members) {
      const m: Member = {
        memberId: mm.memberId, groupInstanceId: mm.groupInstanceId, clientId: mm.clientId, clientHost: mm.clientHost,
        rebalanceTimeoutMs: mm.rebalanceTimeout, sessionTimeoutMs: mm.sessionTimeout, protocolType: value.protocolType,
        protocols: [{ name: value.protocol ?? '', metadata: mm.subscription }], assignment: mm.assignment,
        awaitingJoin: null, awaitingSync: null, isNew: false,
      };
      g.members.set(m.memberId, m);
      if (m.groupInstanceId !== null) g.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    g.state = g.members.size === 0 ? 'Empty' : 'Stable';
    g.subscribedTopics = g.computeSubscribedTopics();
    this.groups.set(groupId, g);
  }

  /** After loading: members of loaded Stable groups must heartbeat within their session timeout. */
  finishLoading(): void {
    for (const g of this.groups.values()) for (const m of g.members.values()) this.#rescheduleHeartbeat(g, m);
    this.#loaded = true;
    this.#consumer?.finishLoading();
    this.#dropShadowedClassicGroups();
  }
}
