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
// Files: model.ts (groups, members, config), reconcile.ts (CurrentAssignmentBuilder), classic-members.ts
// (classic-protocol members, upgrade), persistence.ts (records), assignors.ts; this file: heartbeat,
// membership, target assignment, timers, downgrade, offset-commit checks.
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
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import type { Clock } from '../../../storage/clock.ts';
import { KafkaError } from '../../errors.ts';
import { ASSIGNORS, type AssignorMember, DEFAULT_ASSIGNOR, type TopicPartitionsMap } from './assignors.ts';
import type { ConsumerGroupKey } from '../records.ts';
import { ClassicMembers } from './classic-members.ts';
import {
  type ClassicJoinInput, type ClassicJoinOutput, type ClassicMemberInput, ConsumerGroup, type ConsumerGroupConfig, type ConsumerGroupRecord,
  ConsumerMember, DEFAULT_CONSUMER_GROUP_CONFIG, type DowngradedGroup, type HeartbeatInput, type HeartbeatOutput, type OffsetCommitCheck,
  type TopicPartitionsList, type TopicView, cloneMap, compileTopicRegex, isSubset, key, migrationPolicy, pushTo, sameAssignment,
  sameStringMap, toList,
} from './model.ts';
import { ConsumerGroupWriter, replayRecord } from './persistence.ts';
import { reconcile, setOwnership } from './reconcile.ts';

export {
  ConsumerGroup, ConsumerMember, DEFAULT_CONSUMER_GROUP_CONFIG, compileTopicRegex, decodeSubscription, encodeAssignment, migrationPolicy,
} from './model.ts';
export type {
  ClassicJoinInput, ClassicJoinOutput, ClassicMemberInput, ConsumerGroupConfig, ConsumerGroupRecord, ConsumerGroupState, DowngradedGroup,
  HeartbeatInput, HeartbeatOutput, MemberState, OffsetCommitCheck, TopicPartitionsList, TopicView,
} from './model.ts';

export class ConsumerGroupManager {
  readonly groups = new Map<string, ConsumerGroup>();
  readonly config: ConsumerGroupConfig;
  readonly #clock: Clock;
  readonly #topics: TopicView;
  #regexCache = new Map<string, RegExp>();
  readonly #writer: ConsumerGroupWriter;
  readonly #classic: ClassicMembers;

  /**
   * persist: appends a group's records to `__consumer_offsets` (Kafka's ConsumerGroup* records, keys 3-8);
   * without it groups live in memory only.
   */
  constructor(opts: { clock: Clock; topics: TopicView; config?: Partial<ConsumerGroupConfig>; persist?: (groupId: string, records: ConsumerGroupRecord[]) => Promise<void> }) {
    this.#clock = opts.clock;
    this.#topics = opts.topics;
    this.config = { ...DEFAULT_CONSUMER_GROUP_CONFIG, ...opts.config };
    this.#writer = new ConsumerGroupWriter(opts.persist ?? null);
    this.#classic = new ClassicMembers(this.groups, this.config, this.#clock, {
      bumpEpochIf: (g, changed) => this.#bumpEpochIf(g, changed),
      reconcile: (g, m, owned) => this.#reconcile(g, m, owned),
      armSessionTimeout: (g, m) => this.#armSessionTimeout(g, m),
      cancelTimers: (m) => this.#cancelTimers(m),
      fence: (g, m) => this.#fence(g, m),
      sync: (groupId) => this.#sync(groupId),
      subscriptionMetadata: (g) => this.#subscriptionMetadata(g),
      byId: (list) => this.#byId(list),
      byName: (map) => this.#byName(map),
    });
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
        setOwnership(g, member, new Map(), new Map());
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
    setOwnership(g, member, new Map(), new Map());
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

  #reconcile(g: ConsumerGroup, m: ConsumerMember, owned: TopicPartitionsList[] | null): void {
    reconcile(g, m, owned, () => this.#subscribedTopicIds(m));
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
   * at member epoch = group epoch = assignment epoch = the classic generation. Throws on a malformed
   * embedded protocol (the caller answers GROUP_ID_NOT_FOUND, as Kafka).
   */
  upgradeFromClassic(groupId: string, generationId: number, protocolName: string | null, members: ClassicMemberInput[]): void {
    this.#classic.upgrade(groupId, generationId, protocolName, members);
  }

  /** JoinGroup from a classic member into a consumer group with members (classic-members.ts). */
  classicJoin(req: ClassicJoinInput, newMemberId: () => string): ClassicJoinOutput { return this.#classic.join(req, newMemberId); }
  classicSync(req: Parameters<ClassicMembers['sync']>[0]): ReturnType<ClassicMembers['sync']> { return this.#classic.sync(req); }
  classicHeartbeat(groupId: string, memberId: string, instanceId: string | null, generationId: number): number {
    return this.#classic.heartbeat(groupId, memberId, instanceId, generationId);
  }
  classicLeave(groupId: string, leaving: Array<{ memberId: string; groupInstanceId: string | null }>): ReturnType<ClassicMembers['leave']> {
    return this.#classic.leave(groupId, leaving);
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
  written(groupId: string): Promise<void> { return this.#writer.written(groupId); }

  /** Writes what changed in the group since the last write (nothing when persistence is off). */
  #sync(groupId: string): void { this.#writer.sync(groupId, this.groups.get(groupId)); }

  /** Replays one consumer-group record from `__consumer_offsets` at start (later records win). */
  replay(key: ConsumerGroupKey, value: Buffer | null): void { replayRecord(this.groups, key, value); }

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
      this.#writer.loaded(g);
      for (const m of g.members.values()) {
        this.#armSessionTimeout(g, m);
        this.#armRebalanceTimeout(g, m, m.memberEpoch);
      }
    }
  }
}
