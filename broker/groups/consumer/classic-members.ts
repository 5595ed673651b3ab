// Members using the classic protocol (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) inside a KIP-848
// consumer group, and the upgrade of a classic group into one (Kafka 4.x's classicGroup*ToConsumerGroup
// and ConsumerGroup.fromClassicGroup). `group.consumer.migration.policy` decides when groups migrate.
import { decodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.ts';
import type { ConsumerProtocolSubscription } from '../../../protocol/generated/consumer-protocol-subscription.ts';
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import { Reader } from '../../../protocol/reader.ts';
import type { Clock } from '../../../storage/clock.ts';
import type { TopicPartitionsMap } from './assignors.ts';
import {
  type ClassicJoinInput, type ClassicJoinOutput, type ClassicMemberInput, ConsumerGroup, type ConsumerGroupConfig, ConsumerMember,
  type TopicPartitionsList, cloneMap, decodeSubscription, encodeAssignment,
} from './model.ts';
import { setOwnership, waitingOnUnreleased } from './reconcile.ts';

/** What the classic members need of the consumer group manager. */
export interface GroupOps {
  bumpEpochIf(g: ConsumerGroup, changed: boolean): void;
  reconcile(g: ConsumerGroup, m: ConsumerMember, owned: TopicPartitionsList[] | null): void;
  armSessionTimeout(g: ConsumerGroup, m: ConsumerMember): void;
  cancelTimers(m: ConsumerMember): void;
  /** Fences a member (or downgrades the group) and writes the change. */
  fence(g: ConsumerGroup, m: ConsumerMember): void;
  /** Writes what changed in the group. */
  sync(groupId: string): void;
  subscriptionMetadata(g: ConsumerGroup): Map<string, string>;
  byId(list: Array<{ topic: string; partitions: number[] }>): TopicPartitionsMap;
  byName(map: TopicPartitionsMap): Array<{ topic: string; partitions: number[] }>;
}

export class ClassicMembers {
  readonly #groups: Map<string, ConsumerGroup>;
  readonly #config: ConsumerGroupConfig;
  readonly #clock: Clock;
  readonly #ops: GroupOps;

  constructor(groups: Map<string, ConsumerGroup>, config: ConsumerGroupConfig, clock: Clock, ops: GroupOps) {
    this.#groups = groups;
    this.#config = config;
    this.#clock = clock;
    this.#ops = ops;
  }

  /**
   * Kafka's ConsumerGroup.fromClassicGroup: every member keeps its last assignment (also its target),
   * at member epoch = group epoch = assignment epoch = the classic generation, Stable. Throws on a
   * malformed embedded protocol (the caller answers GROUP_ID_NOT_FOUND, as Kafka).
   */
  upgrade(groupId: string, generationId: number, protocolName: string | null, members: ClassicMemberInput[]): void {
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
        assigned = this.#ops.byId(decodeConsumerProtocolAssignment(r, Math.max(0, Math.min(3, v))).assignedPartitions);
      }
      const m = new ConsumerMember(cm.memberId);
      Object.assign(m, {
        memberEpoch: generationId, previousMemberEpoch: generationId, state: 'STABLE', instanceId: cm.instanceId, rackId: sub.rackId,
        rebalanceTimeoutMs: cm.rebalanceTimeoutMs, clientId: cm.clientId, clientHost: cm.clientHost,
        subscribedTopicNames: [...new Set(sub.topics)].sort(), classic: { sessionTimeoutMs: cm.sessionTimeoutMs, protocols: cm.protocols },
      });
      g.members.set(m.memberId, m);
      setOwnership(g, m, assigned, new Map(), generationId);
      g.target.set(m.memberId, cloneMap(assigned));
    }
    g.subscriptionMetadata = this.#ops.subscriptionMetadata(g);
    this.#groups.set(groupId, g);
    for (const m of g.members.values()) this.#ops.armSessionTimeout(g, m);
    this.#ops.sync(groupId);
  }

  #member(g: ConsumerGroup, memberId: string, instanceId: string | null): ConsumerMember | number {
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

  #armTimer(g: ConsumerGroup, m: ConsumerMember, which: 'joinTimer' | 'syncTimer', ifAbsent: boolean): void {
    if (m[which] !== null) {
      if (ifAbsent) return;
      this.#clock.clearTimeout(m[which]);
    }
    m[which] = this.#clock.setTimeout(() => {
      m[which] = null;
      if (g.members.get(m.memberId) === m) this.#ops.fence(g, m);
    }, Math.max(0, m.rebalanceTimeoutMs));
  }

  #clearTimer(m: ConsumerMember, which: 'joinTimer' | 'syncTimer'): void {
    if (m[which] !== null) this.#clock.clearTimeout(m[which]);
    m[which] = null;
  }

  /**
   * JoinGroup from a classic member into a consumer group with members (Kafka's
   * classicGroupJoinToConsumerGroup): answered at once with the member epoch as generation and the
   * member's first protocol; its partitions come with SyncGroup. The owned partitions of the embedded
   * subscription (v1+) drive the reconciliation (an eager client owns nothing when it rejoins).
   */
  join(req: ClassicJoinInput, newMemberId: () => string): ClassicJoinOutput {
    const err = (errorCode: number, memberId = req.memberId): ClassicJoinOutput => ({ errorCode, memberId, generationId: -1, protocolType: null, protocolName: null });
    const g = this.#groups.get(req.groupId);
    if (!g || g.dead) return err(ErrorCode.UNKNOWN_MEMBER_ID);
    try {
      const isUnknown = req.memberId === '';
      const memberId = isUnknown ? newMemberId() : req.memberId;
      let member = g.members.get(memberId);
      if (!member && g.members.size >= this.#config.maxSize) return err(ErrorCode.GROUP_MAX_SIZE_REACHED, '');
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
          this.#ops.cancelTimers(old);
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
      this.#ops.bumpEpochIf(g, bump);
      const owned: TopicPartitionsList[] = [...this.#ops.byId(sub.ownedPartitions ?? [])].map(([topicId, partitions]) => ({ topicId, partitions }));
      this.#ops.reconcile(g, member, owned);
      this.#clearTimer(member, 'joinTimer');
      this.#ops.armSessionTimeout(g, member);
      this.#armTimer(g, member, 'syncTimer', false);
      return { errorCode: ErrorCode.NONE, memberId, generationId: member.memberEpoch, protocolType: 'consumer', protocolName: req.protocols[0]!.name };
    } finally {
      this.#ops.sync(req.groupId);
    }
  }

  /** Kafka's classicGroupSyncToConsumerGroup: the member's assigned partitions, in the consumer protocol. */
  sync(req: { groupId: string; memberId: string; instanceId: string | null; generationId: number; protocolType: string | null; protocolName: string | null }): { errorCode: number; protocolType: string | null; protocolName: string | null; assignment: Buffer } {
    const fail = (errorCode: number) => ({ errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    const g = this.#groups.get(req.groupId);
    if (!g || g.dead) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    const m = this.#member(g, req.memberId, req.instanceId);
    if (typeof m === 'number') return fail(m);
    if (req.generationId !== m.memberEpoch) return fail(ErrorCode.ILLEGAL_GENERATION);
    const protocol = m.classic!.protocols[0]!;
    if ((req.protocolType !== null && req.protocolType !== 'consumer') || (req.protocolName !== null && req.protocolName !== protocol.name)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (g.groupEpoch > m.memberEpoch && m.state !== 'UNREVOKED_PARTITIONS') {
      this.#armTimer(g, m, 'joinTimer', true);
      return fail(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    this.#clearTimer(m, 'syncTimer');
    this.#ops.armSessionTimeout(g, m);
    return { errorCode: ErrorCode.NONE, protocolType: req.protocolType, protocolName: req.protocolName, assignment: encodeAssignment(this.#ops.byName(m.assigned), protocol.metadata) };
  }

  /**
   * Kafka's classicGroupHeartbeatToConsumerGroup: REBALANCE_IN_PROGRESS when the member must rejoin (the
   * group epoch moved on, it has partitions to revoke, or partitions it waits for were released).
   */
  heartbeat(groupId: string, memberId: string, instanceId: string | null, generationId: number): number {
    const g = this.#groups.get(groupId);
    if (!g || g.dead) return ErrorCode.UNKNOWN_MEMBER_ID;
    const m = this.#member(g, memberId, instanceId);
    if (typeof m === 'number') return m;
    if (generationId !== m.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
    this.#ops.armSessionTimeout(g, m);
    if (m.memberEpoch < g.groupEpoch || m.state === 'UNREVOKED_PARTITIONS' || (m.state === 'UNRELEASED_PARTITIONS' && !waitingOnUnreleased(g, m))) {
      this.#armTimer(g, m, 'joinTimer', true);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    return ErrorCode.NONE;
  }

  /** Kafka's classicGroupLeaveToConsumerGroup: per-member errors, one group epoch bump. */
  leave(groupId: string, leaving: Array<{ memberId: string; groupInstanceId: string | null }>): Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }> {
    const g = this.#groups.get(groupId);
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
      this.#ops.cancelTimers(m!);
      setOwnership(g, m!, new Map(), new Map());
      g.members.delete(m!.memberId);
      g.target.delete(m!.memberId);
      removed++;
      out.push({ memberId: m!.memberId, groupInstanceId: l.groupInstanceId, errorCode: ErrorCode.NONE });
    }
    if (g && removed > 0) {
      g.groupEpoch++;
      g.subscriptionMetadata = this.#ops.subscriptionMetadata(g);
      this.#ops.sync(groupId);
    }
    return out;
  }
}
