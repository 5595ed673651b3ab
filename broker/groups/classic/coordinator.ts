// The classic group protocol (JoinGroup / SyncGroup / Heartbeat / LeaveGroup), following Kafka 4.x's
// GroupMetadataManager and ClassicGroup: the same state machine, the same error codes in the same order
// of checks, and the same GroupMetadata records written to `__consumer_offsets`. The coordinator
// (../coordinator.ts) checks requests and routes those for KIP-848 consumer groups elsewhere.
// Everything runs on the event loop; a method's synchronous part is atomic. Every JoinGroup/SyncGroup
// is answered (never abandoned): connections answer in request order.
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import type { Clock } from '../../../storage/clock.ts';
import type { Logger } from '../../log.ts';
import type { CoordinatorConfig, CoordinatorRecord } from '../types.ts';
import { type ClassicMemberInput, type DowngradedGroup, encodeAssignment } from '../consumer/group.ts';
import { type GroupMetadataValue, encodeGroupMetadataKey } from '../records.ts';
import {
  ClassicGroup, type DescribedGroup, EMPTY, type GroupState, type JoinRequest, type JoinResult, type LeaveResult, type Member,
  type Protocol, type SyncRequest, type SyncResult, classicGroupFromRecord, completeJoin, completeSync, updateMember, describeClassicGroup, groupMetadataRecord, joinError, syncError,
} from './group.ts';
import { KeyedTimers } from './timers.ts';

/** Appends a group's records; resolves with the response error code (NONE = written). */
export type AppendFn = (groupId: string, records: CoordinatorRecord[], txn?: { producerId: bigint; producerEpoch: number }) => Promise<number>;

export class ClassicGroupCoordinator {
  readonly groups = new Map<string, ClassicGroup>();
  readonly config: CoordinatorConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #append: AppendFn;
  readonly #uuid: () => string;
  readonly #timers: KeyedTimers;

  constructor(opts: { clock: Clock; log: Logger; config: CoordinatorConfig; append: AppendFn; uuid: () => string }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.config = opts.config;
    this.#append = opts.append;
    this.#uuid = opts.uuid;
    this.#timers = new KeyedTimers(opts.clock, (key, err) => this.#log.error(`group coordinator timer ${key}: ${(err as Error).stack ?? err}`));
  }

  /** Cancels every timer and answers every waiting JoinGroup/SyncGroup with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    this.#timers.close();
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        completeJoin(m, joinError(m.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
        completeSync(m, syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
    }
  }

  #heartbeatKey(groupId: string, memberId: string): string { return `hb\u0000${groupId}\u0000${memberId}`; }
  #joinKey(groupId: string): string { return `join\u0000${groupId}`; }
  #syncKey(groupId: string): string { return `sync\u0000${groupId}`; }

  /** An offset commit from a member of a Stable or rebalancing group counts as its heartbeat. */
  touchMember(g: ClassicGroup, memberId: string): void {
    const m = g.members.get(memberId);
    if (m) this.#rescheduleHeartbeat(g, m);
  }

  #rescheduleHeartbeat(g: ClassicGroup, m: Member, timeoutMs = m.sessionTimeoutMs): void {
    const memberId = m.memberId;
    this.#timers.schedule(this.#heartbeatKey(g.groupId, memberId), timeoutMs, () => this.#expireHeartbeat(g.groupId, memberId));
  }

  #generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${this.#uuid()}`;
  }

  // ---------------------------------------------------------------- JoinGroup

  /** JoinGroup for a classic group (the coordinator checked the request and routed it here). */
  join(req: JoinRequest, resolve: (r: JoinResult) => void): void {
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
        this.#timers.cancel(this.#heartbeatKey(g.groupId, req.memberId));
        g.removeMember(req.memberId);
      }
      resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.#joinNewMember(g, req, resolve);
    } else {
      this.#joinExistingMember(g, req, resolve);
    }
    if (isNewGroup && g.state === 'Empty' && g.members.size === 0) {
      // Kafka commits a newly created group with an empty GroupMetadata record.
      void this.#append(g.groupId, [groupMetadataRecord(g, new Map())]);
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
      this.#timers.schedule(this.#heartbeatKey(g.groupId, newMemberId), req.sessionTimeoutMs, () => this.#expireHeartbeat(g.groupId, newMemberId));
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
        if (this.#sameProtocols(m, req.protocols)) return resolve(current(g.isLeader(memberId) ? g.membersForJoin() : []));
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
    g.addMember(m);
    this.#rescheduleHeartbeat(g, m, this.config.newMemberJoinTimeoutMs);
    this.#maybePrepareRebalanceOrCompleteJoin(g);
  }

  #updateMemberThenRebalance(g: ClassicGroup, m: Member, req: JoinRequest, resolve: (r: JoinResult) => void): void {
    updateMember(m, req, resolve);
    this.#maybePrepareRebalanceOrCompleteJoin(g);
  }

  #updateStaticMember(g: ClassicGroup, req: JoinRequest, oldMemberId: string, newMemberId: string, resolve: (r: JoinResult) => void): void {
    const currentLeader = g.leaderId;
    const old = g.members.get(oldMemberId)!;
    // Fence the previous incarnation at once if it waits on a JoinGroup or SyncGroup.
    completeJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    completeSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.#timers.cancel(this.#heartbeatKey(g.groupId, oldMemberId));
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
    updateMember(m, req, resolve);

    if (g.state === 'Stable') {
      if (g.protocolName === g.selectProtocol()) {
        const assignment = new Map([...g.members.values()].map((x) => [x.memberId, x.assignment]));
        void this.#append(g.groupId, [groupMetadataRecord(g, assignment)]).then((err) => {
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
            this.#timers.cancel(this.#heartbeatKey(g.groupId, newMemberId));
            this.#rescheduleHeartbeat(g, m);
            f?.({ ...joinError('', err), generationId: g.generationId, protocolName: g.protocolName, protocolType: g.protocolType, leader: currentLeader ?? '' });
            return;
          }
          const isLeader = g.isLeader(newMemberId);
          if (req.supportsSkipAssignment) {
            completeJoin(m, {
              errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
              leader: g.leaderId ?? '', memberId: newMemberId, skipAssignment: isLeader, members: isLeader ? g.membersForJoin() : [],
            });
          } else {
            completeJoin(m, {
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
    this.#timers.cancel(this.#syncKey(g.groupId));
    const initial = g.state === 'Empty';
    if (initial) {
      const delay = this.config.initialRebalanceDelayMs;
      const remaining = Math.max(g.rebalanceTimeoutMs - delay, 0);
      this.#timers.schedule(this.#joinKey(g.groupId), delay, () => this.#tryCompleteInitialRebalance(g.groupId, delay, remaining));
    }
    g.transitionTo('PreparingRebalance', this.#clock.now());
    this.#log.info(`group ${g.groupId}: preparing to rebalance (generation ${g.generationId})`);
    if (!initial) {
      if (g.hasAllMembersJoined()) this.#completeGroupJoin(g);
      else this.#timers.schedule(this.#joinKey(g.groupId), g.rebalanceTimeoutMs, () => this.#completeGroupJoinById(g.groupId));
    }
  }

  #tryCompleteInitialRebalance(groupId: string, delay: number, remaining: number): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    if (g.newMemberAdded && remaining !== 0) {
      g.newMemberAdded = false;
      const newDelay = Math.min(this.config.initialRebalanceDelayMs, remaining);
      const newRemaining = Math.max(remaining - delay, 0);
      this.#timers.schedule(this.#joinKey(groupId), newDelay, () => this.#tryCompleteInitialRebalance(groupId, newDelay, newRemaining));
    } else {
      this.#completeGroupJoin(g);
    }
  }

  #completeGroupJoinById(groupId: string): void {
    const g = this.groups.get(groupId);
    if (g) this.#completeGroupJoin(g);
  }

  #completeGroupJoin(g: ClassicGroup): void {
    this.#timers.cancel(this.#joinKey(g.groupId));
    for (const m of [...g.members.values()]) {
      if (!m.awaitingJoin && m.groupInstanceId === null) {
        this.#timers.cancel(this.#heartbeatKey(g.groupId, m.memberId));
        g.removeMember(m.memberId);
      }
    }
    if (g.state === 'Dead') return;
    if (!this.#maybeElectNewJoinedLeader(g) && g.members.size > 0) {
      this.#log.error(`group ${g.groupId} could not complete rebalance because no members rejoined`);
      this.#timers.schedule(this.#joinKey(g.groupId), g.rebalanceTimeoutMs, () => this.#completeGroupJoinById(g.groupId));
      return;
    }
    this.#initNextGeneration(g);
    if (g.state === 'Empty') {
      void this.#append(g.groupId, [groupMetadataRecord(g, new Map())]);
      return;
    }
    this.#log.info(`group ${g.groupId}: generation ${g.generationId} (${g.protocolType}/${g.protocolName}) with ${g.members.size} member(s)`);
    for (const m of g.members.values()) {
      completeJoin(m, {
        errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
        leader: g.leaderId ?? '', memberId: m.memberId, skipAssignment: false,
        members: g.isLeader(m.memberId) ? g.membersForJoin() : [],
      });
      this.#rescheduleHeartbeat(g, m);
      m.isNew = false;
      g.pendingSync.add(m.memberId);
    }
    const generation = g.generationId;
    this.#timers.schedule(this.#syncKey(g.groupId), g.rebalanceTimeoutMs, () => this.#expirePendingSync(g.groupId, generation));
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
        this.#timers.cancel(this.#heartbeatKey(groupId, id));
        g.removeMember(id);
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
    completeJoin(m, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    g.removeMember(m.memberId);
    if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.#maybePrepareRebalanceOrCompleteJoin(g);
    else if (g.state === 'PreparingRebalance' && g.hasAllMembersJoined()) this.#completeGroupJoin(g);
  }

  // ---------------------------------------------------------------- SyncGroup

  /** SyncGroup for a classic group (routed here by the coordinator). */
  sync(req: SyncRequest, resolve: (r: SyncResult) => void): void {
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
    if (m.awaitingSync) completeSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    m.awaitingSync = resolve;
    this.#removePendingSync(g, req.memberId);
    if (!g.isLeader(req.memberId)) return;
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) assignment.set(a.memberId, a.assignment);
    for (const id of g.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY);
    const generation = g.generationId;
    void this.#append(g.groupId, [groupMetadataRecord(g, assignment)]).then((code) => {
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
    if (g.pendingSync.size === 0) this.#timers.cancel(this.#syncKey(g.groupId));
  }

  #propagateAssignment(g: ClassicGroup, errorCode: number): void {
    for (const m of g.members.values()) {
      const ok = errorCode === ErrorCode.NONE;
      if (completeSync(m, { errorCode, protocolType: ok ? g.protocolType : null, protocolName: ok ? g.protocolName : null, assignment: m.assignment })) {
        this.#rescheduleHeartbeat(g, m);
      }
    }
  }

  // ---------------------------------------------------------------- Heartbeat

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
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
        this.#timers.cancel(this.#heartbeatKey(groupId, lm.memberId));
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
    this.#timers.cancel(this.#heartbeatKey(g.groupId, memberId));
    completeJoin(m, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    g.removeMember(memberId);
  }

  // ---------------------------------------------------------------- admin reads

  listGroups(): Array<{ groupId: string; protocolType: string; state: GroupState }> {
    return [...this.groups.values()].filter((g) => g.state !== 'Dead')
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  describeGroup(groupId: string): DescribedGroup {
    const g = this.groups.get(groupId);
    return g ? describeClassicGroup(g) : { groupId, state: 'Dead', protocolType: '', protocolData: '', members: [], found: false };
  }

  // ---------------------------------------------------------------- loading

  /** Replays a GroupMetadata record (later records win; null = tombstone). */
  replayGroup(groupId: string, value: GroupMetadataValue | null): void {
    if (value === null) this.groups.delete(groupId);
    else this.groups.set(groupId, classicGroupFromRecord(groupId, value));
  }

  /** After loading: members of loaded Stable groups must heartbeat within their session timeout. */
  finishLoading(): void {
    for (const g of this.groups.values()) for (const m of g.members.values()) this.#rescheduleHeartbeat(g, m);
  }

  // ---------------------------------------------------------------- migration to and from consumer groups

  /** The members a consumer group takes over when this group is upgraded. */
  static membersForUpgrade(g: ClassicGroup): ClassicMemberInput[] {
    return [...g.members.values()].map((m) => ({
      memberId: m.memberId, instanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs, sessionTimeoutMs: m.sessionTimeoutMs, protocols: m.protocols, assignment: m.assignment,
    }));
  }

  /**
   * The group was upgraded to a consumer group: pending JoinGroup/SyncGroup calls are answered
   * REBALANCE_IN_PROGRESS, its timers stop and it is tombstoned.
   */
  retireUpgraded(g: ClassicGroup): void {
    const groupId = g.groupId;
    for (const m of g.members.values()) {
      completeJoin(m, joinError(m.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
      completeSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      this.#timers.cancel(this.#heartbeatKey(groupId, m.memberId));
    }
    for (const id of g.pendingMembers) this.#timers.cancel(this.#heartbeatKey(groupId, id));
    this.#timers.cancel(this.#joinKey(groupId));
    this.#timers.cancel(this.#syncKey(groupId));
    g.transitionTo('Dead', this.#clock.now());
    this.groups.delete(groupId);
    void this.#append(groupId, [{ key: encodeGroupMetadataKey(groupId), value: null }]);
    this.#log.info(`group ${groupId}: upgraded from a classic group to a consumer group (generation ${g.generationId})`);
  }

  /**
   * A consumer group whose last consumer-protocol member went, downgraded (Kafka's
   * ClassicGroup.fromConsumerGroup): a classic group at generation = group epoch with the remaining
   * members and their target assignments, written, then rebalanced.
   */
  adoptDowngraded(d: DowngradedGroup): void {
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
      g.addMember(m);
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
    void this.#append(g.groupId, [groupMetadataRecord(g, assignments)]);
    for (const m of g.members.values()) this.#rescheduleHeartbeat(g, m);
    this.#log.info(`group ${g.groupId}: downgraded from a consumer group to a classic group (generation ${g.generationId})`);
    this.#prepareRebalance(g);
  }
}
