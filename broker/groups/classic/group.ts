// A classic group (JoinGroup / SyncGroup / Heartbeat / LeaveGroup protocol): its members and the
// state Kafka's ClassicGroup keeps (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead).
import { Reader } from '../../../protocol/reader.ts';
import { ErrorCode } from '../../../protocol/generated/errors.ts';
import { decodeConsumerProtocolSubscription } from '../../../protocol/generated/consumer-protocol-subscription.ts';
import { type GroupMetadataValue, encodeGroupMetadataKey, encodeGroupMetadataValue } from '../records.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

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
export interface DescribedMember {
  memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer;
}

export interface DescribedGroup {
  groupId: string; state: GroupState; protocolType: string; protocolData: string; members: DescribedMember[]; found: boolean;
}

export const EMPTY = Buffer.alloc(0);
const NO_GENERATION = -1;

/** A member as the classic protocol sees it; awaiting*: the pending JoinGroup/SyncGroup answer. */
export interface Member {
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

  /** The error code of Kafka's ClassicGroup.validateMember. */
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

  addMember(m: Member): void {
    if (this.members.size === 0) this.protocolType = m.protocolType;
    if (this.leaderId === null) this.leaderId = m.memberId;
    this.members.set(m.memberId, m);
    if (m.groupInstanceId !== null) this.staticMembers.set(m.groupInstanceId, m.memberId);
    this.pendingMembers.delete(m.memberId);
  }

  removeMember(memberId: string): void {
    const m = this.members.get(memberId);
    this.pendingMembers.delete(memberId);
    this.pendingSync.delete(memberId);
    if (!m) return;
    this.members.delete(memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) this.staticMembers.delete(m.groupInstanceId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    // Whoever waits on this member's requests hears about it (Kafka leaves them to the request timeout).
    completeSync(m, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  /** The members list the leader's JoinGroup answer carries. */
  membersForJoin(): JoinResult['members'] {
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: this.metadataOf(m, this.protocolName!) }));
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics ? this.subscribedTopics.has(topic) : this.protocolType === 'consumer';
  }
}

/** Answers the member's pending JoinGroup, if any. */
export function completeJoin(m: Member, r: JoinResult): boolean {
  const f = m.awaitingJoin;
  if (!f) return false;
  m.awaitingJoin = null;
  f(r);
  return true;
}

/** Answers the member's pending SyncGroup, if any. */
export function completeSync(m: Member, r: SyncResult): boolean {
  const f = m.awaitingSync;
  if (!f) return false;
  m.awaitingSync = null;
  f(r);
  return true;
}

/** A JoinGroup from a known member: its protocols and timeouts; a second pending JoinGroup replaces the first. */
export function updateMember(m: Member, req: JoinRequest, resolve: ((r: JoinResult) => void) | null): void {
  m.protocols = req.protocols;
  m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
  m.sessionTimeoutMs = req.sessionTimeoutMs;
  // The first is answered so its connection moves on.
  if (m.awaitingJoin && resolve) completeJoin(m, joinError(m.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
  if (resolve) m.awaitingJoin = resolve;
}

export function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, generationId: NO_GENERATION, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** The GroupMetadata record of the group with these assignments. */
export function groupMetadataRecord(g: ClassicGroup, assignment: Map<string, Buffer>): { key: Buffer; value: Buffer } {
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

/** DescribeGroups' view: metadata and assignments only while Stable (as Kafka). */
export function describeClassicGroup(g: ClassicGroup): DescribedGroup {
  const stable = g.state === 'Stable';
  return {
    groupId: g.groupId, state: g.state, protocolType: g.protocolType ?? '', protocolData: stable ? g.protocolName ?? '' : '', found: true,
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      metadata: stable ? g.metadataOf(m, g.protocolName!) : EMPTY, assignment: stable ? m.assignment : EMPTY,
    })),
  };
}

/** A group as a GroupMetadata record read at start describes it: Empty without members, else Stable. */
export function classicGroupFromRecord(groupId: string, value: GroupMetadataValue): ClassicGroup {
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
  return g;
}
