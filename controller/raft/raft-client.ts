// The KRaft core (Kafka's KafkaRaftClient + QuorumState + the EpochState classes), transport-agnostic and
// event-driven: it consumes inbound requests/responses (handle), timer wake-ups (poll) and disk completions,
// and emits messages through the injected RaftTransport. No await anywhere: every handler reads and writes the
// state in one synchronous step, so the simulation drives it deterministically.
//
// States (KIP-595 + KIP-996 pre-vote):
//   unattached  epoch known, no leader; may have voted. Election timeout → prospective.
//   prospective pre-vote round (epoch unchanged, nothing persisted). Majority → candidate; loss/timeout → unattached.
//   candidate   epoch+1, voted for itself (persisted). Majority → leader; rejected/timeout → backoff → prospective.
//   leader      appends LeaderChange, replicates by answering Fetch; HW = majority's matched offset once an
//               entry of its epoch is covered; check-quorum: resigns without fetches from a majority in
//               fetch.timeout × 1.5.
//   follower    fetches from the leader; truncates on a diverging epoch; FetchSnapshot below the log start;
//               fetch timeout → prospective.
//   resigned    a former leader (check-quorum or restart): sends EndQuorumEpoch; election timeout → prospective.
// Everything persisted (quorum-state) and every log flush completes before a message that depends on it leaves:
// outbound messages wait while a quorum-state write is in flight; a follower fetches only once its log is
// flushed; the leader counts its own offset only up to what is flushed.

import { buildRecordBatch, records as batchRecords, validateBatch, RecordBatchView } from '../../protocol/records.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { VoteRequest, VoteResponse } from '../../protocol/generated/vote.ts';
import type { BeginQuorumEpochRequest, BeginQuorumEpochResponse } from '../../protocol/generated/begin-quorum-epoch.ts';
import type { EndQuorumEpochRequest, EndQuorumEpochResponse } from '../../protocol/generated/end-quorum-epoch.ts';
import type { FetchRequest, FetchResponse } from '../../protocol/generated/fetch.ts';
import type { FetchSnapshotRequest, FetchSnapshotResponse } from '../../protocol/generated/fetch-snapshot.ts';
import type * as Messages from './messages.ts';
import type { Clock } from '../../storage/clock.ts';
import { leaderChangeBatch, snapshotFooterBatch, snapshotHeaderBatch } from './control-records.ts';
import { splitBatches, type RaftLog } from './raft-log.ts';
import type { ElectionState, QuorumStateStore } from './quorum-state.ts';
import {
  compareOffsetAndEpoch, DEFAULT_QUORUM_CONFIG, METADATA_TOPIC, METADATA_TOPIC_ID, NotLeaderError,
  type LeaderAndEpoch, type OffsetAndEpoch, type QuorumConfig, type RaftApi, type RaftListener, type RaftMessage,
  type RaftRequest, type RaftResponse, type RaftTransport,
} from './types.ts';

/** The network message codecs (messages.ts), once loadRaftMessages() ran. */
let M = null as unknown as typeof Messages;

/** Loads the network message codecs: needed before a RaftClient with peers (or an observer) is built. */
export async function loadRaftMessages(): Promise<void> {
  if (M === null) M = await import('./messages.ts');
}

/** Kafka's KafkaRaftClient.MAX_BATCH_SIZE_BYTES. */
export const MAX_BATCH_SIZE_BYTES = 8 * 1024 * 1024;

export interface RaftClientOptions {
  nodeId: number;
  voters: number[];
  clusterId: string;
  clock: Clock;
  /** Seeded randomness in [0, 1) (election jitter and backoff). */
  random: () => number;
  log: RaftLog;
  store: QuorumStateStore;
  transport: RaftTransport;
  listener: RaftListener;
  config?: Partial<QuorumConfig>;
  logger?: (msg: string) => void;
  /** Test-only fault switches, used to prove the simulation's invariants catch a broken core. */
  faults?: { grantEveryVote?: boolean; commitWithoutMajority?: boolean };
}

/** A condition Kafka treats as fatal for the Raft thread (e.g. a leader asking to truncate below the HW). */
export class RaftFatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RaftFatalError';
  }
}

interface ReplicaProgress { matched: number; lastFetchMs: number; acked: boolean; caughtUpMs?: number }

/** What DescribeQuorum reports of a voter (Kafka's ReplicaState; -1 = unknown). */
export interface ReplicaDescription { replicaId: number; logEndOffset: number; lastFetchTimestamp: number; lastCaughtUpTimestamp: number }

type State =
  | { kind: 'unattached'; epoch: number; votedId: number; electionDeadline: number }
  | { kind: 'prospective'; epoch: number; votedId: number; leaderId: number; granted: Set<number>; rejected: Set<number>; electionDeadline: number }
  | { kind: 'candidate'; epoch: number; granted: Set<number>; rejected: Set<number>; electionDeadline: number; backoffUntil: number; retries: number }
  | { kind: 'leader'; epoch: number; epochStartOffset: number; replicas: Map<number, ReplicaProgress>; checkQuorumDeadline: number; fetchedSince: Set<number>; bqeResendAt: number; granted: number[] }
  | { kind: 'follower'; epoch: number; leaderId: number; fetchDeadline: number; retryAt: number; inflight: number; flushing: boolean; snapshot: SnapshotFetch | null; fetchedOk: boolean }
  | { kind: 'resigned'; epoch: number; electionDeadline: number };

interface SnapshotFetch { id: OffsetAndEpoch; chunks: Buffer[]; received: number; size: number }

interface Inflight { to: number; api: RaftApi; epoch: number; preVote: boolean; sentAt: number }

interface ParkedFetch { from: number; correlationId: number; req: FetchRequest; deadline: number }

interface Pending { lastOffset: number; epoch: number; done: (err: Error | null, offset: number) => void }

const NO_LEADER = -1;

export class RaftClient {
  readonly nodeId: number;
  readonly voters: readonly number[];
  readonly clusterId: string;
  readonly config: QuorumConfig;
  #clock: Clock;
  #random: () => number;
  #log: RaftLog;
  #store: QuorumStateStore;
  #transport: RaftTransport;
  #listener: RaftListener;
  #logger: (msg: string) => void;
  #faults: NonNullable<RaftClientOptions['faults']>;
  #state!: State;
  /** Last persisted election (what quorum-state says once pending writes land). */
  #election!: ElectionState;
  #hw = -1;
  /** Next offset to hand to the listener. */
  #applied = 0;
  #nextCorrelation = 1;
  #inflight = new Map<number, Inflight>();
  #parked: ParkedFetch[] = [];
  #pending: Pending[] = [];
  #pendingPersists = 0;
  #outbox: Array<{ to: number; msg: RaftMessage }> = [];
  #timer: unknown = null;
  #timerAt = Infinity;
  #closed = false;
  #lastLeader: LeaderAndEpoch = { leaderId: -2, epoch: -1 };

  constructor(o: RaftClientOptions) {
    this.nodeId = o.nodeId;
    this.voters = [...o.voters].sort((a, b) => a - b);
    this.clusterId = o.clusterId;
    this.config = { ...DEFAULT_QUORUM_CONFIG, ...o.config };
    this.#clock = o.clock;
    this.#random = o.random;
    this.#log = o.log;
    this.#store = o.store;
    this.#transport = o.transport;
    this.#listener = o.listener;
    this.#logger = o.logger ?? (() => {});
    this.#faults = o.faults ?? {};
    // Only a lone voter never sends or answers a message.
    if (M === null && !(this.voters.length === 1 && this.voters[0] === this.nodeId)) {
      throw new Error('RaftClient with peers: await loadRaftMessages() first');
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Public API

  /** Loads the persisted election and the latest snapshot, and enters the initial state (Kafka's QuorumState.initialize). */
  start(): void {
    const now = this.#clock.now();
    const stored = this.#store.read() ?? { epoch: 0, leaderId: NO_LEADER, votedId: NO_LEADER };
    this.#election = { ...stored };
    const snap = this.#log.latestSnapshot();
    if (snap !== null) this.#loadSnapshot(snap);
    else this.#applied = this.#log.startOffset();
    const logEpoch = this.#log.lastFetchedEpoch();
    if (logEpoch > stored.epoch) {
      this.#toUnattached(logEpoch, NO_LEADER, now);
    } else if (stored.leaderId === this.nodeId) {
      // A leader that restarts cannot resume: it resigns and lets the others elect (Kafka's ResignedState).
      this.#state = { kind: 'resigned', epoch: stored.epoch, electionDeadline: now + this.#randomElectionTimeout() };
      this.#sendEndQuorumEpoch();
    } else if (stored.leaderId !== NO_LEADER && this.#isVoter(stored.leaderId)) {
      this.#toFollower(stored.epoch, stored.leaderId, now, false);
    } else {
      this.#state = { kind: 'unattached', epoch: stored.epoch, votedId: stored.votedId, electionDeadline: now + this.#randomElectionTimeout() };
    }
    if (!this.#isVoter(this.nodeId)) this.#logger(`node ${this.nodeId} is not a voter: it will only follow`);
    this.#notifyLeader();
    this.#maybeSingleVoterElection(now);
    this.#schedule();
  }

  /**
   * A leader about to shut down steps down first (Kafka's graceful shutdown): EndQuorumEpoch tells the voters to
   * elect at once (the best-placed successor first) instead of waiting for their fetch timeout. No-op otherwise.
   */
  resign(): void {
    if (this.#closed || this.#state.kind !== 'leader' || this.voters.length === 1) return;
    this.#logger(`node ${this.nodeId}: resigning leadership of epoch ${this.#state.epoch} (shutting down)`);
    this.#resign(this.#clock.now());
  }

  /** Stops timers and drops in-flight work (a process exit; nothing more is sent). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    for (const p of this.#pending.splice(0)) p.done(new NotLeaderError('raft client closed'), -1);
  }

  get epoch(): number { return this.#state.epoch; }
  get stateKind(): State['kind'] { return this.#state.kind; }
  isLeader(): boolean { return this.#state.kind === 'leader'; }
  leaderAndEpoch(): LeaderAndEpoch {
    const s = this.#state;
    return { leaderId: s.kind === 'leader' ? this.nodeId : s.kind === 'follower' ? s.leaderId : NO_LEADER, epoch: s.epoch };
  }
  /** The high watermark (-1 while unknown, e.g. after a restart until the leader says). */
  highWatermark(): number { return this.#hw; }
  /** The leader's HW as Kafka's LeaderState computes it: known only once an entry of its epoch is committed. */
  leaderHighWatermark(): number {
    const s = this.#state;
    return s.kind === 'leader' && this.#hw > s.epochStartOffset ? this.#hw : -1;
  }
  votedFor(): number { return this.#election.votedId; }

  /**
   * The leader's view for DescribeQuorum (Kafka's LeaderState.describeQuorum), or null on a non-leader (Kafka answers
   * NOT_LEADER_OR_FOLLOWER there). lastCaughtUpTimestamp: the time of a follower's latest fetch that reached the
   * leader's log end offset (Kafka: the leader's append time of the offset fetched; equal when the follower keeps up).
   */
  describeQuorum(): { leaderId: number; epoch: number; highWatermark: number; voters: ReplicaDescription[] } | null {
    const s = this.#state;
    if (s.kind !== 'leader') return null;
    const now = this.#clock.now();
    const voters = this.voters.map((id): ReplicaDescription => {
      if (id === this.nodeId) return { replicaId: id, logEndOffset: this.#log.endOffset(), lastFetchTimestamp: -1, lastCaughtUpTimestamp: now };
      const r = s.replicas.get(id);
      return { replicaId: id, logEndOffset: r?.matched ?? -1, lastFetchTimestamp: r?.acked ? r.lastFetchMs : -1, lastCaughtUpTimestamp: r?.caughtUpMs ?? -1 };
    });
    return { leaderId: this.nodeId, epoch: s.epoch, highWatermark: this.#hw, voters };
  }
  /** The next offset the listener will see. */
  appliedOffset(): number { return this.#applied; }

  /** The offset the next proposed record gets (Kafka's nextWriteOffset: a broker epoch is its registration's). */
  logEndOffset(): number { return this.#log.endOffset(); }

  /**
   * Appends one batch of records as the leader (Kafka's scheduleAppend) and returns its last offset; `done`
   * runs once the batch is committed (err null) or leadership is lost before (NotLeaderError: outcome unknown).
   */
  propose(records: Buffer[], done?: (err: Error | null, offset: number) => void): number {
    const s = this.#state;
    if (s.kind !== 'leader') throw new NotLeaderError(`node ${this.nodeId} is not the leader (epoch ${s.epoch})`);
    const now = this.#clock.now();
    const batch = buildRecordBatch({ records: records.map((value) => ({ value })), now, partitionLeaderEpoch: s.epoch });
    if (batch.length > MAX_BATCH_SIZE_BYTES) throw new RangeError(`batch of ${batch.length} bytes exceeds ${MAX_BATCH_SIZE_BYTES}`);
    const last = this.#log.appendAsLeader(batch, s.epoch);
    if (done) this.#pending.push({ lastOffset: last, epoch: s.epoch, done });
    this.#flushLeader(s.epoch);
    this.#completeParked(now, true);
    this.#schedule();
    return last;
  }

  /** As propose, as a promise of the committed last offset. */
  proposeAsync(records: Buffer[]): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        this.propose(records, (err, off) => (err ? reject(err) : resolve(off)));
      } catch (e) {
        reject(e);
      }
    });
  }

  /**
   * Writes a snapshot (KIP-630) of the state machine at `endOffset` (exclusive; must be committed, delivered to the
   * listener and at a batch boundary) from its records, and optionally deletes the log before it.
   */
  createSnapshot(endOffset: number, records: Buffer[], deleteLogBefore: boolean): OffsetAndEpoch {
    if (endOffset > this.#applied || endOffset > this.#hw) throw new Error(`snapshot at ${endOffset} beyond the committed offset ${Math.min(this.#applied, this.#hw)}`);
    const latest = this.#log.latestSnapshot();
    if (latest !== null && latest.offset >= endOffset) return latest;
    const now = this.#clock.now();
    const id: OffsetAndEpoch = { offset: endOffset, epoch: this.#log.epochAt(endOffset) };
    const parts = [snapshotHeaderBatch(now, now)];
    let off = 1;
    for (let i = 0; i < records.length; i += 100) {
      const chunk = records.slice(i, i + 100);
      parts.push(buildRecordBatch({ baseOffset: off, now, partitionLeaderEpoch: id.epoch, records: chunk.map((value) => ({ value })) }));
      off += chunk.length;
    }
    parts.push(snapshotFooterBatch(now, off));
    this.#log.createSnapshot(id, Buffer.concat(parts));
    if (deleteLogBefore) this.#log.deleteBeforeSnapshot();
    return id;
  }

  /** Timer wake-up (also called by hosts after a clock jump): evaluates every deadline against clock.now(). */
  poll(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const s = this.#state;
    switch (s.kind) {
      case 'unattached':
        if (now >= s.electionDeadline) this.#toProspective(now);
        break;
      case 'prospective':
        if (now >= s.electionDeadline) this.#prospectiveLost(now);
        break;
      case 'candidate':
        if (s.backoffUntil > 0 ? now >= s.backoffUntil : now >= s.electionDeadline) this.#toProspective(now);
        break;
      case 'resigned':
        if (now >= s.electionDeadline) this.#toProspective(now);
        break;
      case 'follower':
        if (now >= s.fetchDeadline) this.#toProspective(now);
        else if (now >= s.retryAt && !s.flushing) this.#sendFetch(now);
        break;
      case 'leader':
        if (this.voters.length > 1 && now >= s.checkQuorumDeadline) {
          this.#logger(`node ${this.nodeId}: no fetch from a majority for ${this.config.fetchTimeoutMs * 1.5} ms in epoch ${s.epoch}: resigning`);
          this.#resign(now);
          break;
        }
        this.#completeParked(now, false);
        if (now >= s.bqeResendAt) this.#sendBeginQuorumEpoch(now);
        break;
    }
    this.#schedule();
  }

  /** An inbound message from `from` (a request to answer or a response to one of ours). */
  handle(from: number, msg: RaftMessage): void {
    if (this.#closed) return;
    if (M === null) throw new Error('RaftClient.handle: await loadRaftMessages() first');
    const now = this.#clock.now();
    if (msg.kind === 'request') this.#handleRequest(from, msg, now);
    else this.#handleResponse(from, msg, now);
    this.#schedule();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Transitions

  #majority(): number { return Math.floor(this.voters.length / 2) + 1; }
  #isVoter(id: number): boolean { return this.voters.includes(id); }
  #randomElectionTimeout(): number { return this.config.electionTimeoutMs + Math.floor(this.#random() * this.config.electionTimeoutMs); }

  #persist(e: ElectionState): void {
    if (e.epoch === this.#election.epoch && e.leaderId === this.#election.leaderId && e.votedId === this.#election.votedId) return;
    if (e.epoch < this.#election.epoch) throw new RaftFatalError(`epoch going back from ${this.#election.epoch} to ${e.epoch}`);
    this.#election = { ...e };
    this.#pendingPersists++;
    this.#store.write(e, () => {
      if (this.#closed) return;
      if (--this.#pendingPersists === 0) {
        for (const { to, msg } of this.#outbox.splice(0)) this.#transport.send(to, msg);
      }
    });
  }

  #send(to: number, msg: RaftMessage): void {
    if (this.#closed) return;
    if (this.#pendingPersists > 0) this.#outbox.push({ to, msg });
    else this.#transport.send(to, msg);
  }

  #leaveState(): void {
    // Proposals of a lost leadership: their outcome is unknown to the caller (they may still commit).
    const s = this.#state;
    if (s !== undefined && s.kind === 'leader') {
      for (const p of this.#pending.splice(0)) p.done(new NotLeaderError(`leadership of epoch ${s.epoch} lost`), p.lastOffset);
      this.#parked = [];
    }
  }

  #toUnattached(epoch: number, votedId: number, now: number): void {
    this.#leaveState();
    this.#state = { kind: 'unattached', epoch, votedId, electionDeadline: now + this.#randomElectionTimeout() };
    this.#persist({ epoch, leaderId: NO_LEADER, votedId });
    this.#notifyLeader();
  }

  #toProspective(now: number): void {
    if (!this.#isVoter(this.nodeId)) {
      const s = this.#state;
      this.#state = { kind: 'unattached', epoch: s.epoch, votedId: NO_LEADER, electionDeadline: now + this.#randomElectionTimeout() };
      return;
    }
    const prev = this.#state;
    this.#leaveState();
    const votedId = prev.kind === 'unattached' || prev.kind === 'prospective' ? prev.votedId : prev.kind === 'candidate' ? this.nodeId : this.#election.votedId;
    const leaderId = prev.kind === 'follower' ? prev.leaderId : NO_LEADER;
    this.#state = { kind: 'prospective', epoch: prev.epoch, votedId, leaderId, granted: new Set([this.nodeId]), rejected: new Set(), electionDeadline: now + this.#randomElectionTimeout() };
    this.#notifyLeader();
    if (this.#maybeSingleVoterElection(now)) return;
    for (const v of this.voters) if (v !== this.nodeId) this.#sendVote(v, true, now);
  }

  #prospectiveLost(now: number): void {
    const s = this.#state;
    if (s.kind !== 'prospective') return;
    // Back to waiting (Kafka: unattached, or follower of the leader it knew) with a fresh randomised timeout.
    if (s.leaderId !== NO_LEADER) this.#toFollower(s.epoch, s.leaderId, now, false);
    else this.#state = { kind: 'unattached', epoch: s.epoch, votedId: s.votedId, electionDeadline: now + this.#randomElectionTimeout() };
  }

  #toCandidate(now: number): void {
    const s = this.#state;
    const epoch = s.epoch + 1;
    this.#leaveState();
    this.#state = { kind: 'candidate', epoch, granted: new Set([this.nodeId]), rejected: new Set(), electionDeadline: now + this.#randomElectionTimeout(), backoffUntil: 0, retries: s.kind === 'candidate' ? s.retries + 1 : 1 };
    this.#persist({ epoch, leaderId: NO_LEADER, votedId: this.nodeId });
    this.#notifyLeader();
    if (this.#maybeBecomeLeader(now)) return;
    for (const v of this.voters) if (v !== this.nodeId) this.#sendVote(v, false, now);
  }

  #maybeSingleVoterElection(now: number): boolean {
    if (this.voters.length !== 1 || this.voters[0] !== this.nodeId) return false;
    const k = this.#state.kind;
    if (k === 'leader') return false;
    if (k !== 'candidate') this.#toCandidate(now);
    return true;
  }

  #maybeBecomeLeader(now: number): boolean {
    const s = this.#state;
    if (s.kind !== 'candidate' || s.granted.size < this.#majority()) return false;
    const epoch = s.epoch;
    const granted = [...s.granted].sort((a, b) => a - b);
    const epochStartOffset = this.#log.endOffset();
    const replicas = new Map<number, ReplicaProgress>();
    for (const v of this.voters) if (v !== this.nodeId) replicas.set(v, { matched: -1, lastFetchMs: -1, acked: false });
    this.#state = { kind: 'leader', epoch, epochStartOffset, replicas, checkQuorumDeadline: now + this.config.fetchTimeoutMs * 1.5, fetchedSince: new Set(), bqeResendAt: 0, granted };
    this.#persist({ epoch, leaderId: this.nodeId, votedId: this.nodeId });
    this.#logger(`node ${this.nodeId}: leader of epoch ${epoch} (votes ${granted.join(',')}), epoch start ${epochStartOffset}`);
    this.#log.appendAsLeader(leaderChangeBatch({ leaderId: this.nodeId, epoch, voters: [...this.voters], grantingVoters: granted, now, baseOffset: epochStartOffset }), epoch);
    this.#flushLeader(epoch);
    this.#sendBeginQuorumEpoch(now);
    this.#notifyLeader();
    return true;
  }

  #toFollower(epoch: number, leaderId: number, now: number, fetchNow = true): void {
    this.#leaveState();
    const votedId = epoch === this.#election.epoch ? this.#election.votedId : NO_LEADER;
    this.#state = { kind: 'follower', epoch, leaderId, fetchDeadline: now + this.config.fetchTimeoutMs, retryAt: now, inflight: 0, flushing: false, snapshot: null, fetchedOk: false };
    this.#persist({ epoch, leaderId, votedId });
    this.#notifyLeader();
    if (fetchNow) this.#sendFetch(now);
  }

  #resign(now: number): void {
    const s = this.#state;
    this.#leaveState();
    this.#state = { kind: 'resigned', epoch: s.epoch, electionDeadline: now + this.#randomElectionTimeout() };
    this.#sendEndQuorumEpoch(s.kind === 'leader' ? s : undefined);
    this.#notifyLeader();
  }

  /**
   * Kafka's maybeTransition: a message shows epoch `epoch` with leader `leaderId` (-1 unknown). A newer epoch moves
   * this node there; the current epoch's leader, when unknown so far, makes it a follower.
   */
  #observe(leaderId: number, epoch: number, now: number): void {
    const s = this.#state;
    if (epoch > s.epoch) {
      if (leaderId !== NO_LEADER && leaderId !== this.nodeId) this.#toFollower(epoch, leaderId, now);
      else this.#toUnattached(epoch, NO_LEADER, now);
    } else if (epoch === s.epoch && leaderId !== NO_LEADER && leaderId !== this.nodeId && (s.kind === 'unattached' || s.kind === 'candidate' || (s.kind === 'prospective' && s.leaderId === NO_LEADER))) {
      // Only a node that knows no leader of its epoch adopts one (Kafka: !quorum.hasLeader()); a prospective node
      // that left a leader it lost keeps its pre-vote going.
      this.#toFollower(epoch, leaderId, now);
    }
  }

  #notifyLeader(): void {
    const l = this.leaderAndEpoch();
    if (l.leaderId === this.#lastLeader.leaderId && l.epoch === this.#lastLeader.epoch) return;
    this.#lastLeader = l;
    this.#listener.handleLeaderChange(l);
  }

  // -------------------------------------------------------------------------------------------------------------
  // High watermark and commits

  #flushLeader(epoch: number): void {
    this.#log.flush(() => {
      if (this.#closed) return;
      const s = this.#state;
      if (s.kind === 'leader' && s.epoch === epoch) {
        this.#maybeAdvanceLeaderHw(this.#clock.now());
        this.#schedule();
      }
    });
  }

  /** Kafka's LeaderState.maybeUpdateHighWatermark: the majority's matched offset, once past the epoch start. */
  #maybeAdvanceLeaderHw(now: number): void {
    const s = this.#state;
    if (s.kind !== 'leader') return;
    const offsets = [this.#log.flushedOffset()];
    for (const r of s.replicas.values()) offsets.push(r.matched);
    offsets.sort((a, b) => b - a);
    // The test-only fault counts the leader's own offset as a majority.
    const candidate = this.#faults.commitWithoutMajority ? offsets[0]! : offsets[this.#majority() - 1]!;
    if (candidate > s.epochStartOffset && candidate > this.#hw) {
      this.#setHw(candidate);
      this.#completeParked(now, true);
    }
  }

  #setHw(hw: number): void {
    if (hw <= this.#hw) return;
    this.#hw = hw;
    this.#log.updateHighWatermark(hw);
    this.#deliverCommits();
    const s = this.#state;
    if (s.kind === 'leader') {
      const still: Pending[] = [];
      for (const p of this.#pending) {
        if (p.lastOffset < hw && p.epoch === s.epoch) p.done(null, p.lastOffset);
        else still.push(p);
      }
      this.#pending = still;
    }
    this.#listener.handleHighWatermark?.(hw);
  }

  #loadSnapshot(id: OffsetAndEpoch): void {
    const bytes = this.#log.readSnapshot(id);
    if (bytes === null) throw new RaftFatalError(`snapshot ${id.offset}-${id.epoch} missing`);
    const out: Buffer[] = [];
    for (const b of splitBatches(bytes, () => true) ?? []) {
      const v = new RecordBatchView(b);
      if (v.isControl) continue;
      for (const r of batchRecords(v)) if (r.value !== null) out.push(Buffer.from(r.value));
    }
    this.#listener.handleLoadSnapshot(id, out);
    this.#applied = id.offset;
  }

  #deliverCommits(): void {
    while (this.#applied < this.#hw) {
      if (this.#applied < this.#log.startOffset()) {
        const snap = this.#log.latestSnapshot();
        if (snap === null) throw new RaftFatalError(`log starts at ${this.#log.startOffset()} without a snapshot`);
        this.#loadSnapshot(snap);
        continue;
      }
      const buf = this.#log.read(this.#applied, 1);
      if (buf.length === 0) return;
      const v = new RecordBatchView(buf);
      if (v.lastOffset >= this.#hw) return; // a batch commits whole
      if (!v.isControl) {
        const recs: Buffer[] = [];
        for (const r of batchRecords(v)) if (r.value !== null) recs.push(r.value);
        this.#listener.handleCommit({ baseOffset: v.baseOffset, lastOffset: v.lastOffset, epoch: v.partitionLeaderEpoch, records: recs, bytes: v.bytes() });
      }
      this.#applied = v.lastOffset + 1;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Timers

  #schedule(): void {
    if (this.#closed) return;
    const s = this.#state;
    let at = Infinity;
    switch (s.kind) {
      case 'unattached':
      case 'prospective':
      case 'resigned':
        at = s.electionDeadline;
        break;
      case 'candidate':
        at = s.backoffUntil > 0 ? s.backoffUntil : s.electionDeadline;
        break;
      case 'follower':
        at = Math.min(s.fetchDeadline, s.flushing ? Infinity : s.retryAt);
        break;
      case 'leader':
        at = Math.min(this.voters.length > 1 ? s.checkQuorumDeadline : Infinity, s.bqeResendAt);
        for (const p of this.#parked) at = Math.min(at, p.deadline);
        break;
    }
    if (at === this.#timerAt && this.#timer !== null) return;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Infinity;
      this.poll();
    }, Math.max(0, at - this.#clock.now()));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Outbound requests

  #request(to: number, api: RaftApi, body: unknown, epoch: number, preVote: boolean, now: number): number {
    const correlationId = this.#nextCorrelation++;
    this.#inflight.set(correlationId, { to, api, epoch, preVote, sentAt: now });
    if (this.#inflight.size > 1000) {
      // Responses that never came: forget the oldest.
      for (const k of this.#inflight.keys()) { this.#inflight.delete(k); if (this.#inflight.size <= 500) break; }
    }
    this.#send(to, { kind: 'request', api, correlationId, body } as RaftRequest);
    return correlationId;
  }

  #sendVote(to: number, preVote: boolean, now: number): void {
    const s = this.#state;
    const body: VoteRequest = M.makeVoteRequest({
      clusterId: this.clusterId,
      voterId: to,
      topics: [M.makeVoteRequestTopicData({
        topicName: METADATA_TOPIC,
        partitions: [M.makeVoteRequestPartitionData({
          partitionIndex: 0,
          replicaEpoch: s.epoch,
          replicaId: this.nodeId,
          lastOffsetEpoch: this.#log.lastFetchedEpoch(),
          lastOffset: BigInt(this.#log.endOffset()),
          preVote,
        })],
      })],
    });
    this.#request(to, 'Vote', body, s.epoch, preVote, now);
  }

  #sendBeginQuorumEpoch(now: number): void {
    const s = this.#state;
    if (s.kind !== 'leader') return;
    for (const [v, r] of s.replicas) {
      if (r.acked) continue;
      const body: BeginQuorumEpochRequest = M.makeBeginQuorumEpochRequest({
        clusterId: this.clusterId,
        voterId: v,
        topics: [M.makeBeginQuorumEpochRequestTopicData({ topicName: METADATA_TOPIC, partitions: [M.makeBeginQuorumEpochRequestPartitionData({ partitionIndex: 0, leaderId: this.nodeId, leaderEpoch: s.epoch })] })],
      });
      this.#request(v, 'BeginQuorumEpoch', body, s.epoch, false, now);
    }
    // Kafka resends to voters that have not acknowledged every fetch.timeout / 2.
    s.bqeResendAt = now + this.config.fetchTimeoutMs / 2;
  }

  #sendEndQuorumEpoch(leader?: Extract<State, { kind: 'leader' }>): void {
    const s = this.#state;
    const now = this.#clock.now();
    const successors = leader ? [...leader.replicas.entries()].sort((a, b) => b[1].matched - a[1].matched).map(([id]) => id) : [];
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      const body: EndQuorumEpochRequest = M.makeEndQuorumEpochRequest({
        clusterId: this.clusterId,
        topics: [M.makeEndQuorumEpochRequestTopicData({ topicName: METADATA_TOPIC, partitions: [M.makeEndQuorumEpochRequestPartitionData({ partitionIndex: 0, leaderId: this.nodeId, leaderEpoch: s.epoch, preferredSuccessors: successors })] })],
      });
      this.#request(v, 'EndQuorumEpoch', body, s.epoch, false, now);
    }
  }

  #sendFetch(now: number): void {
    const s = this.#state;
    if (s.kind !== 'follower') return;
    if (this.#log.flushedOffset() < this.#log.endOffset()) {
      // The fetch offset tells the leader the log is durable up to it: flush first (e.g. batches appended under
      // the previous leader whose flush has not completed).
      this.#flushThenFetch(s);
      return;
    }
    if (s.inflight !== 0) this.#inflight.delete(s.inflight);
    s.retryAt = now + this.config.requestTimeoutMs;
    if (s.snapshot !== null) {
      const snap = s.snapshot;
      const body: FetchSnapshotRequest = M.makeFetchSnapshotRequest({
        clusterId: this.clusterId,
        replicaId: this.nodeId,
        maxBytes: this.config.fetchMaxBytes,
        topics: [M.makeFetchSnapshotRequestTopicSnapshot({
          name: METADATA_TOPIC,
          partitions: [M.makeFetchSnapshotRequestPartitionSnapshot({ partition: 0, currentLeaderEpoch: s.epoch, snapshotId: M.makeFetchSnapshotRequestSnapshotId({ endOffset: BigInt(snap.id.offset), epoch: snap.id.epoch }), position: BigInt(snap.received) })],
        })],
      });
      s.inflight = this.#request(s.leaderId, 'FetchSnapshot', body, s.epoch, false, now);
      return;
    }
    const body: FetchRequest = M.makeFetchRequest({
      clusterId: this.clusterId,
      replicaState: M.makeReplicaState({ replicaId: this.nodeId, replicaEpoch: -1n }),
      maxWaitMs: this.config.fetchMaxWaitMs,
      minBytes: 0,
      maxBytes: this.config.fetchMaxBytes,
      topics: [M.makeFetchTopic({
        topic: METADATA_TOPIC,
        topicId: METADATA_TOPIC_ID,
        partitions: [M.makeFetchPartition({
          partition: 0,
          currentLeaderEpoch: s.epoch,
          fetchOffset: BigInt(this.#log.endOffset()),
          lastFetchedEpoch: this.#log.lastFetchedEpoch(),
          logStartOffset: BigInt(this.#log.startOffset()),
          partitionMaxBytes: this.config.fetchMaxBytes,
        })],
      })],
    });
    s.inflight = this.#request(s.leaderId, 'Fetch', body, s.epoch, false, now);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Inbound requests

  #handleRequest(from: number, msg: RaftRequest, now: number): void {
    const reply = (api: RaftApi, body: unknown) => this.#send(from, { kind: 'response', api, correlationId: msg.correlationId, body } as RaftResponse);
    switch (msg.api) {
      case 'Vote': reply('Vote', this.#onVote(msg.body, now)); break;
      case 'BeginQuorumEpoch': reply('BeginQuorumEpoch', this.#onBeginQuorumEpoch(msg.body, now)); break;
      case 'EndQuorumEpoch': reply('EndQuorumEpoch', this.#onEndQuorumEpoch(msg.body, now)); break;
      case 'Fetch': this.#onFetch(from, msg.correlationId, msg.body, now); break;
      case 'FetchSnapshot': reply('FetchSnapshot', this.#onFetchSnapshot(msg.body, now)); break;
    }
  }

  #validClusterId(id: string | null): boolean {
    // Kafka accepts a request without a cluster id (older clients); a different one is rejected.
    return id === null || id === this.clusterId;
  }

  /** Kafka's validateVoterOnlyRequest. */
  #voterOnlyError(remoteId: number, epoch: number): number {
    if (epoch < this.#state.epoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (!this.#isVoter(remoteId) || !this.#isVoter(this.nodeId)) return ErrorCode.INCONSISTENT_VOTER_SET;
    return ErrorCode.NONE;
  }

  #voteResponse(topError: number, partError: number, granted: boolean): VoteResponse {
    const l = this.leaderAndEpoch();
    return M.makeVoteResponse({
      errorCode: topError,
      topics: topError !== ErrorCode.NONE ? [] : [M.makeVoteResponseTopicData({ topicName: METADATA_TOPIC, partitions: [M.makeVoteResponsePartitionData({ partitionIndex: 0, errorCode: partError, leaderId: l.leaderId, leaderEpoch: l.epoch, voteGranted: granted })] })],
    });
  }

  #onVote(req: VoteRequest, now: number): VoteResponse {
    if (!this.#validClusterId(req.clusterId)) return this.#voteResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, 0, false);
    const p = req.topics[0]?.partitions[0];
    if (req.topics.length !== 1 || req.topics[0]!.topicName !== METADATA_TOPIC || req.topics[0]!.partitions.length !== 1 || p === undefined || p.partitionIndex !== 0) {
      return this.#voteResponse(ErrorCode.INVALID_REQUEST, 0, false);
    }
    const lastOffset = Number(p.lastOffset);
    const illegalEpoch = p.preVote ? p.lastOffsetEpoch > p.replicaEpoch : p.lastOffsetEpoch >= p.replicaEpoch;
    if (lastOffset < 0 || p.lastOffsetEpoch < 0 || illegalEpoch) return this.#voteResponse(ErrorCode.NONE, ErrorCode.INVALID_REQUEST, false);
    const err = this.#voterOnlyError(p.replicaId, p.replicaEpoch);
    if (err !== ErrorCode.NONE) return this.#voteResponse(ErrorCode.NONE, err, false);
    if (p.replicaEpoch > this.#state.epoch) this.#toUnattached(p.replicaEpoch, NO_LEADER, now);
    if (req.voterId >= 0 && req.voterId !== this.nodeId) return this.#voteResponse(ErrorCode.NONE, ErrorCode.INVALID_VOTER_KEY, false);
    const upToDate = compareOffsetAndEpoch({ offset: lastOffset, epoch: p.lastOffsetEpoch }, { offset: this.#log.endOffset(), epoch: this.#log.lastFetchedEpoch() }) >= 0;
    const granted = this.#canGrantVote(p.replicaId, upToDate, p.preVote, now);
    if (granted && !p.preVote) {
      const s = this.#state;
      if ((s.kind === 'unattached' || s.kind === 'prospective') && s.votedId === NO_LEADER) {
        // The vote is persisted before the response leaves (#send waits for the write).
        this.#leaveState();
        this.#state = { kind: 'unattached', epoch: s.epoch, votedId: p.replicaId, electionDeadline: now + this.#randomElectionTimeout() };
        this.#persist({ epoch: s.epoch, leaderId: NO_LEADER, votedId: p.replicaId });
      }
    }
    return this.#voteResponse(ErrorCode.NONE, ErrorCode.NONE, granted);
  }

  /** The EpochState.canGrantVote of each state. */
  #canGrantVote(candidate: number, upToDate: boolean, preVote: boolean, now: number): boolean {
    if (this.#faults.grantEveryVote) return true;
    const s = this.#state;
    switch (s.kind) {
      case 'unattached':
      case 'prospective':
        if (preVote) return upToDate;
        if (s.votedId !== NO_LEADER) return s.votedId === candidate;
        return upToDate;
      case 'candidate':
        return preVote ? upToDate : candidate === this.nodeId;
      case 'follower':
        // KIP-996: a follower that has heard from its leader (a successful fetch in this state) rejects pre-votes;
        // real votes of its epoch too.
        return preVote && upToDate && (!s.fetchedOk || now >= s.fetchDeadline);
      case 'leader':
      case 'resigned':
        return false;
    }
  }

  #bqeResponse(topError: number, partError: number): BeginQuorumEpochResponse {
    const l = this.leaderAndEpoch();
    return M.makeBeginQuorumEpochResponse({
      errorCode: topError,
      topics: topError !== ErrorCode.NONE ? [] : [M.makeBeginQuorumEpochResponseTopicData({ topicName: METADATA_TOPIC, partitions: [M.makeBeginQuorumEpochResponsePartitionData({ partitionIndex: 0, errorCode: partError, leaderId: l.leaderId, leaderEpoch: l.epoch })] })],
    });
  }

  #onBeginQuorumEpoch(req: BeginQuorumEpochRequest, now: number): BeginQuorumEpochResponse {
    if (!this.#validClusterId(req.clusterId)) return this.#bqeResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, 0);
    const p = req.topics[0]?.partitions[0];
    if (req.topics.length !== 1 || req.topics[0]!.topicName !== METADATA_TOPIC || p === undefined || p.partitionIndex !== 0) return this.#bqeResponse(ErrorCode.INVALID_REQUEST, 0);
    const err = this.#voterOnlyError(p.leaderId, p.leaderEpoch);
    if (err !== ErrorCode.NONE) return this.#bqeResponse(ErrorCode.NONE, err);
    if (p.leaderId === this.nodeId) return this.#bqeResponse(ErrorCode.NONE, ErrorCode.INVALID_REQUEST);
    this.#observe(p.leaderId, p.leaderEpoch, now);
    return this.#bqeResponse(ErrorCode.NONE, ErrorCode.NONE);
  }

  #eqeResponse(topError: number, partError: number): EndQuorumEpochResponse {
    const l = this.leaderAndEpoch();
    return M.makeEndQuorumEpochResponse({
      errorCode: topError,
      topics: topError !== ErrorCode.NONE ? [] : [M.makeEndQuorumEpochResponseTopicData({ topicName: METADATA_TOPIC, partitions: [M.makeEndQuorumEpochResponsePartitionData({ partitionIndex: 0, errorCode: partError, leaderId: l.leaderId, leaderEpoch: l.epoch })] })],
    });
  }

  #onEndQuorumEpoch(req: EndQuorumEpochRequest, now: number): EndQuorumEpochResponse {
    if (!this.#validClusterId(req.clusterId)) return this.#eqeResponse(ErrorCode.INCONSISTENT_CLUSTER_ID, 0);
    const p = req.topics[0]?.partitions[0];
    if (req.topics.length !== 1 || req.topics[0]!.topicName !== METADATA_TOPIC || p === undefined || p.partitionIndex !== 0) return this.#eqeResponse(ErrorCode.INVALID_REQUEST, 0);
    const err = this.#voterOnlyError(p.leaderId, p.leaderEpoch);
    if (err !== ErrorCode.NONE) return this.#eqeResponse(ErrorCode.NONE, err);
    this.#observe(p.leaderId, p.leaderEpoch, now);
    const s = this.#state;
    if (s.kind === 'follower' && s.leaderId === p.leaderId && s.epoch === p.leaderEpoch) {
      // The leader is stepping down: start the election sooner, the best-placed successor first (Kafka's
      // strictExponentialElectionBackoffMs).
      const pos = p.preferredSuccessors.indexOf(this.nodeId);
      const n = p.preferredSuccessors.length;
      const max = this.config.electionBackoffMaxMs;
      const backoff = pos === 0 ? 0 : pos < 0 || pos >= n ? max : Math.min(max, (max >> (n - 1)) << (pos - 1));
      s.fetchDeadline = Math.min(s.fetchDeadline, now + backoff);
    }
    return this.#eqeResponse(ErrorCode.NONE, ErrorCode.NONE);
  }

  #fetchResponse(topError: number, fill?: (pd: ReturnType<typeof Messages.makePartitionData>) => void): FetchResponse {
    const l = this.leaderAndEpoch();
    if (topError !== ErrorCode.NONE) return M.makeFetchResponse({ errorCode: topError });
    const pd = M.makePartitionData({ partitionIndex: 0, highWatermark: BigInt(this.#hw), logStartOffset: BigInt(this.#log.startOffset()), currentLeader: M.makeLeaderIdAndEpoch({ leaderId: l.leaderId, leaderEpoch: l.epoch }), records: null });
    fill?.(pd);
    return M.makeFetchResponse({ responses: [M.makeFetchableTopicResponse({ topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partitions: [pd] })] });
  }

  #onFetch(from: number, correlationId: number, req: FetchRequest, now: number): void {
    const reply = (body: FetchResponse) => this.#send(from, { kind: 'response', api: 'Fetch', correlationId, body });
    if (!this.#validClusterId(req.clusterId)) return reply(this.#fetchResponse(ErrorCode.INCONSISTENT_CLUSTER_ID));
    const t = req.topics[0];
    const p = t?.partitions[0];
    if (req.topics.length !== 1 || t === undefined || (t.topicId !== METADATA_TOPIC_ID && t.topic !== METADATA_TOPIC) || t.partitions.length !== 1 || p === undefined || p.partition !== 0) {
      return reply(this.#fetchResponse(ErrorCode.INVALID_REQUEST));
    }
    if (p.fetchOffset < 0n || p.lastFetchedEpoch < 0 || p.lastFetchedEpoch > p.currentLeaderEpoch) {
      return reply(this.#fetchResponse(ErrorCode.NONE, (pd) => { pd.errorCode = ErrorCode.INVALID_REQUEST; }));
    }
    const res = this.#tryFetch(req, now);
    if (res === null) {
      this.#parked.push({ from, correlationId, req, deadline: now + Math.min(req.maxWaitMs, this.config.fetchMaxWaitMs) });
      return;
    }
    reply(res);
  }

  /** Answers a fetch, or null when it should wait for data (long poll). */
  #tryFetch(req: FetchRequest, now: number, force = false): FetchResponse | null {
    const p = req.topics[0]!.partitions[0]!;
    const s = this.#state;
    const replicaId = req.replicaState.replicaId >= 0 ? req.replicaState.replicaId : req.replicaId;
    const epochError = p.currentLeaderEpoch < s.epoch ? ErrorCode.FENCED_LEADER_EPOCH : p.currentLeaderEpoch > s.epoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : s.kind !== 'leader' ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
    if (epochError !== ErrorCode.NONE || s.kind !== 'leader') return this.#fetchResponse(ErrorCode.NONE, (pd) => { pd.errorCode = epochError; });
    const fetchOffset = Number(p.fetchOffset);
    const start = this.#log.startOffset();
    const startEpoch = this.#log.epochAt(start);
    // Kafka's ReplicatedLog.validateOffsetAndEpoch: with a snapshot at the log start, a fetch below it, at it with
    // another epoch, or with an epoch older than it gets the latest snapshot (the epoch history before the log
    // start is gone, so the divergence point cannot be computed).
    if (start > 0 && (fetchOffset < start || (fetchOffset === start && p.lastFetchedEpoch !== startEpoch) || p.lastFetchedEpoch < startEpoch)) {
      const id = this.#log.latestSnapshot();
      if (id === null) throw new RaftFatalError(`log starts at ${start} without a snapshot`);
      this.#recordFetch(replicaId, -1, now, s);
      return this.#fetchResponse(ErrorCode.NONE, (pd) => { pd.snapshotId = M.makeSnapshotId({ endOffset: BigInt(id.offset), epoch: id.epoch }); });
    }
    const end = this.#log.endOffsetForEpoch(p.lastFetchedEpoch);
    if (end.epoch !== p.lastFetchedEpoch || end.offset < fetchOffset) {
      this.#recordFetch(replicaId, -1, now, s);
      return this.#fetchResponse(ErrorCode.NONE, (pd) => { pd.divergingEpoch = M.makeEpochEndOffset({ epoch: end.epoch, endOffset: BigInt(end.offset) }); });
    }
    this.#recordFetch(replicaId, fetchOffset, now, s);
    if (this.#state !== s) return this.#fetchResponse(ErrorCode.NONE, (pd) => { pd.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER; });
    const hasData = fetchOffset < this.#log.endOffset();
    if (!hasData && !force && req.maxWaitMs > 0) return null;
    const records = hasData ? this.#log.read(fetchOffset, Math.min(req.maxBytes, p.partitionMaxBytes > 0 ? p.partitionMaxBytes : req.maxBytes)) : Buffer.alloc(0);
    return this.#fetchResponse(ErrorCode.NONE, (pd) => { pd.records = records; });
  }

  /** A valid fetch from a replica: progress, check-quorum and BeginQuorumEpoch acknowledgement. */
  #recordFetch(replicaId: number, fetchOffset: number, now: number, s: Extract<State, { kind: 'leader' }>): void {
    const r = s.replicas.get(replicaId);
    if (r === undefined) return; // an observer: it does not count
    r.acked = true;
    r.lastFetchMs = now;
    s.fetchedSince.add(replicaId);
    if (s.fetchedSince.size + 1 >= this.#majority()) {
      s.fetchedSince.clear();
      s.checkQuorumDeadline = now + this.config.fetchTimeoutMs * 1.5;
    }
    if (fetchOffset >= 0) {
      r.matched = fetchOffset;
      if (fetchOffset >= this.#log.endOffset()) r.caughtUpMs = now;
      this.#maybeAdvanceLeaderHw(now);
    }
  }

  /** Answers parked fetches: all of them on new data or HW movement, expired ones otherwise. */
  #completeParked(now: number, all: boolean): void {
    if (this.#parked.length === 0) return;
    const keep: ParkedFetch[] = [];
    const parked = this.#parked;
    this.#parked = [];
    for (const f of parked) {
      if (!all && now < f.deadline) { keep.push(f); continue; }
      const res = this.#tryFetch(f.req, now, true)!;
      this.#send(f.from, { kind: 'response', api: 'Fetch', correlationId: f.correlationId, body: res });
    }
    this.#parked.push(...keep);
  }

  #onFetchSnapshot(req: FetchSnapshotRequest, now: number): FetchSnapshotResponse {
    const l = this.leaderAndEpoch();
    const resp = (top: number, fill?: (pd: ReturnType<typeof Messages.makeFetchSnapshotResponsePartitionSnapshot>) => void): FetchSnapshotResponse => {
      if (top !== ErrorCode.NONE) return M.makeFetchSnapshotResponse({ errorCode: top });
      const pd = M.makeFetchSnapshotResponsePartitionSnapshot({ index: 0, unalignedRecords: Buffer.alloc(0), currentLeader: M.makeSnapLeader({ leaderId: l.leaderId, leaderEpoch: l.epoch }) });
      fill?.(pd);
      return M.makeFetchSnapshotResponse({ topics: [M.makeFetchSnapshotResponseTopicSnapshot({ name: METADATA_TOPIC, partitions: [pd] })] });
    };
    if (!this.#validClusterId(req.clusterId)) return resp(ErrorCode.INCONSISTENT_CLUSTER_ID);
    const p = req.topics[0]?.partitions[0];
    if (req.topics.length !== 1 || req.topics[0]!.name !== METADATA_TOPIC || p === undefined || p.partition !== 0) return resp(ErrorCode.INVALID_REQUEST);
    const s = this.#state;
    const epochError = p.currentLeaderEpoch < s.epoch ? ErrorCode.FENCED_LEADER_EPOCH : p.currentLeaderEpoch > s.epoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : s.kind !== 'leader' ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
    if (epochError !== ErrorCode.NONE || s.kind !== 'leader') return resp(ErrorCode.NONE, (pd) => { pd.errorCode = epochError; });
    const id: OffsetAndEpoch = { offset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch };
    const bytes = this.#log.readSnapshot(id);
    if (bytes === null) return resp(ErrorCode.NONE, (pd) => { pd.errorCode = ErrorCode.SNAPSHOT_NOT_FOUND; });
    const pos = Number(p.position);
    if (pos < 0 || pos >= bytes.length) return resp(ErrorCode.NONE, (pd) => { pd.errorCode = ErrorCode.POSITION_OUT_OF_RANGE; });
    this.#recordFetch(req.replicaId, -1, now, s);
    const max = Math.max(1, Math.min(req.maxBytes, this.config.fetchMaxBytes));
    return resp(ErrorCode.NONE, (pd) => {
      pd.snapshotId = M.makeFetchSnapshotResponseSnapshotId({ endOffset: BigInt(id.offset), epoch: id.epoch });
      pd.size = BigInt(bytes.length);
      pd.position = BigInt(pos);
      pd.unalignedRecords = bytes.subarray(pos, pos + max);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Inbound responses

  #handleResponse(from: number, msg: RaftResponse, now: number): void {
    const inf = this.#inflight.get(msg.correlationId);
    if (inf === undefined || inf.to !== from || inf.api !== msg.api) return; // duplicate, stale or unknown
    this.#inflight.delete(msg.correlationId);
    switch (msg.api) {
      case 'Vote': this.#onVoteResponse(from, inf, msg.body, now); break;
      case 'BeginQuorumEpoch': this.#onBqeResponse(from, inf, msg.body, now); break;
      case 'EndQuorumEpoch': {
        const p = msg.body.topics[0]?.partitions[0];
        if (msg.body.errorCode === ErrorCode.NONE && p !== undefined) this.#observe(p.leaderId, p.leaderEpoch, now);
        break;
      }
      case 'Fetch': this.#onFetchResponse(from, inf, msg.body, now); break;
      case 'FetchSnapshot': this.#onFetchSnapshotResponse(from, inf, msg.body, now); break;
    }
  }

  #topLevelError(api: string, from: number, code: number): void {
    this.#logger(`node ${this.nodeId}: ${api} response from ${from} failed with error ${code}`);
  }

  #onVoteResponse(from: number, inf: Inflight, res: VoteResponse, now: number): void {
    if (res.errorCode !== ErrorCode.NONE) return this.#topLevelError('Vote', from, res.errorCode);
    const p = res.topics[0]?.partitions[0];
    if (p === undefined) return;
    this.#observe(p.leaderId, p.leaderEpoch, now);
    if (p.errorCode !== ErrorCode.NONE) return;
    const s = this.#state;
    if (inf.preVote && s.kind === 'prospective' && s.epoch === inf.epoch) {
      if (p.voteGranted) {
        s.granted.add(from);
        if (s.granted.size >= this.#majority()) this.#toCandidate(now);
      } else {
        s.rejected.add(from);
        if (s.rejected.size > this.voters.length - this.#majority()) this.#prospectiveLost(now);
      }
    } else if (!inf.preVote && s.kind === 'candidate' && s.epoch === inf.epoch) {
      if (p.voteGranted) {
        s.granted.add(from);
        this.#maybeBecomeLeader(now);
      } else {
        s.rejected.add(from);
        if (s.rejected.size > this.voters.length - this.#majority() && s.backoffUntil === 0) {
          // Kafka's binaryExponentialElectionBackoffMs.
          const backoff = Math.min(50 * Math.floor(this.#random() * (2 << Math.min(20, s.retries - 1))), this.config.electionBackoffMaxMs);
          s.backoffUntil = now + Math.max(1, backoff);
        }
      }
    }
  }

  #onBqeResponse(from: number, _inf: Inflight, res: BeginQuorumEpochResponse, now: number): void {
    if (res.errorCode !== ErrorCode.NONE) return this.#topLevelError('BeginQuorumEpoch', from, res.errorCode);
    const p = res.topics[0]?.partitions[0];
    if (p === undefined) return;
    this.#observe(p.leaderId, p.leaderEpoch, now);
    const s = this.#state;
    if (p.errorCode === ErrorCode.NONE && s.kind === 'leader' && p.leaderEpoch === s.epoch) {
      const r = s.replicas.get(from);
      if (r) r.acked = true;
    }
  }

  #onFetchResponse(from: number, inf: Inflight, res: FetchResponse, now: number): void {
    const s = this.#state;
    if (s.kind === 'follower' && s.inflight !== 0 && this.#inflight.get(s.inflight) === undefined) s.inflight = 0;
    if (res.errorCode !== ErrorCode.NONE) {
      this.#topLevelError('Fetch', from, res.errorCode);
      if (s.kind === 'follower') s.retryAt = now + this.config.retryBackoffMs;
      return;
    }
    const p = res.responses[0]?.partitions[0];
    if (p === undefined) return;
    this.#observe(p.currentLeader.leaderId, p.currentLeader.leaderEpoch, now);
    const st = this.#state;
    if (st !== s || st.kind !== 'follower' || st.epoch !== inf.epoch || st.leaderId !== from) return;
    if (p.errorCode !== ErrorCode.NONE) {
      st.retryAt = now + this.config.retryBackoffMs;
      return;
    }
    st.fetchDeadline = now + this.config.fetchTimeoutMs;
    st.fetchedOk = true;
    if (p.divergingEpoch.epoch >= 0) {
      const local = this.#log.endOffsetForEpoch(p.divergingEpoch.epoch);
      const to = Math.min(local.offset, Number(p.divergingEpoch.endOffset));
      if (to < this.#hw) throw new RaftFatalError(`node ${this.nodeId}: leader ${from} asks to truncate to ${to} (diverging ${p.divergingEpoch.epoch}/${p.divergingEpoch.endOffset}, local ${local.epoch}/${local.offset}, start ${this.#log.startOffset()}, end ${this.#log.endOffset()}, last epoch ${this.#log.lastFetchedEpoch()}), below the high watermark ${this.#hw}`);
      if (to < this.#log.startOffset()) throw new RaftFatalError(`node ${this.nodeId}: truncation to ${to} below the log start ${this.#log.startOffset()}`);
      this.#log.truncateTo(to);
      this.#sendFetch(now);
      return;
    }
    if (p.snapshotId.epoch >= 0) {
      st.snapshot = { id: { offset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch }, chunks: [], received: 0, size: -1 };
      this.#sendFetch(now);
      return;
    }
    const recs = p.records ?? Buffer.alloc(0);
    if (recs.length > 0) {
      const batches = splitBatches(recs, (b) => validateBatch(b) === null);
      let expect = this.#log.endOffset();
      let epoch = this.#log.lastFetchedEpoch();
      const contiguous = batches !== null && batches.every((b) => {
        const v = new RecordBatchView(b);
        const ok = v.baseOffset === expect && v.partitionLeaderEpoch <= st.epoch && v.partitionLeaderEpoch >= epoch;
        expect = v.lastOffset + 1;
        epoch = v.partitionLeaderEpoch;
        return ok;
      });
      if (batches === null || !contiguous) {
        this.#logger(`node ${this.nodeId}: fetch from ${from} returned corrupt or misplaced batches: discarded`);
        st.retryAt = now + this.config.retryBackoffMs;
        return;
      }
      this.#log.appendAsFollower(batches);
    }
    const hw = Number(p.highWatermark);
    if (hw >= 0) this.#setHw(Math.min(hw, this.#log.endOffset()));
    if (recs.length === 0) {
      this.#sendFetch(now);
      return;
    }
    // Fetch again only once what was appended is durable: the fetch offset tells the leader it is.
    this.#flushThenFetch(st);
  }

  #flushThenFetch(st: Extract<State, { kind: 'follower' }>): void {
    if (st.flushing) return;
    st.flushing = true;
    this.#log.flush(() => {
      if (this.#closed || this.#state !== st) return;
      st.flushing = false;
      this.#sendFetch(this.#clock.now());
      this.#schedule();
    });
  }

  #onFetchSnapshotResponse(from: number, inf: Inflight, res: FetchSnapshotResponse, now: number): void {
    const s = this.#state;
    if (s.kind === 'follower' && s.inflight !== 0 && this.#inflight.get(s.inflight) === undefined) s.inflight = 0;
    if (res.errorCode !== ErrorCode.NONE) {
      this.#topLevelError('FetchSnapshot', from, res.errorCode);
      if (s.kind === 'follower') s.retryAt = now + this.config.retryBackoffMs;
      return;
    }
    const p = res.topics[0]?.partitions[0];
    if (p === undefined) return;
    this.#observe(p.currentLeader.leaderId, p.currentLeader.leaderEpoch, now);
    const st = this.#state;
    if (st !== s || st.kind !== 'follower' || st.epoch !== inf.epoch || st.leaderId !== from || st.snapshot === null) return;
    const snap = st.snapshot;
    if (p.errorCode !== ErrorCode.NONE) {
      // SNAPSHOT_NOT_FOUND / POSITION_OUT_OF_RANGE: start over with a plain fetch.
      st.snapshot = null;
      st.retryAt = now + this.config.retryBackoffMs;
      return;
    }
    st.fetchDeadline = now + this.config.fetchTimeoutMs;
    st.fetchedOk = true;
    const chunk = p.unalignedRecords ?? Buffer.alloc(0);
    if (Number(p.snapshotId.endOffset) !== snap.id.offset || p.snapshotId.epoch !== snap.id.epoch || Number(p.position) !== snap.received || chunk.length === 0) {
      st.snapshot = null;
      st.retryAt = now + this.config.retryBackoffMs;
      return;
    }
    snap.chunks.push(Buffer.from(chunk));
    snap.received += chunk.length;
    snap.size = Number(p.size);
    if (snap.received < snap.size) {
      this.#sendFetch(now);
      return;
    }
    const bytes = Buffer.concat(snap.chunks);
    st.snapshot = null;
    if (snap.received !== snap.size || splitBatches(bytes, (b) => validateBatch(b) === null) === null) {
      this.#logger(`node ${this.nodeId}: snapshot ${snap.id.offset}-${snap.id.epoch} from ${from} failed its CRC: discarded`);
      st.retryAt = now + this.config.retryBackoffMs;
      return;
    }
    if (snap.id.offset < this.#hw) {
      // Already past it (a duplicate): nothing to install.
      this.#sendFetch(now);
      return;
    }
    this.#log.installSnapshot(snap.id, bytes);
    this.#loadSnapshot(snap.id);
    this.#setHw(snap.id.offset);
    this.#sendFetch(now);
  }
}
