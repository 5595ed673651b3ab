// The group coordinator: one entry point for every group API, routing each request to the classic
// protocol's groups (./classic/), the KIP-848 consumer groups (./consumer/) or the committed offsets
// (./offsets.ts), and moving a group between the two protocols (group.consumer.migration.policy).
// Single node: this node coordinates every group. Everything runs on the event loop; a method's
// synchronous part is atomic. Every promise a method returns resolves (never rejects, never hangs):
// connections answer in request order, so an abandoned JoinGroup would block its connection forever.
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import { kafkaErrorCode } from '../errors.ts';
import { ClassicGroupCoordinator } from './classic/coordinator.ts';
import {
  type ClassicGroup, type DescribedGroup, type GroupState, type JoinRequest, type JoinResult, type LeaveResult, type SyncRequest,
  type SyncResult, joinError, syncError,
} from './classic/group.ts';
import { type ConsumerGroupConfig, ConsumerGroupManager, type TopicView } from './consumer/group.ts';
import { type CommitRequest, GroupOffsets, type OffsetAndMetadata, type TxnCommitRequest } from './offsets.ts';
import type { ConsumerGroupKey, GroupMetadataValue, OffsetCommitValue } from './records.ts';

export { ClassicGroup } from './classic/group.ts';
export type {
  DescribedGroup, DescribedMember, GroupState, JoinRequest, JoinResult, LeaveResult, Protocol, SyncRequest, SyncResult,
} from './classic/group.ts';
export type { CommitRequest, OffsetAndMetadata, TxnCommitRequest } from './offsets.ts';

import type { CoordinatorConfig, CoordinatorLog, CoordinatorRecord } from './types.ts';
export type { CoordinatorConfig, CoordinatorLog, CoordinatorRecord } from './types.ts';

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

/** A failed append's error code for the response; an error without a Kafka code is UNKNOWN_SERVER_ERROR. */
export function appendErrorCode(err: unknown): number {
  const code = kafkaErrorCode(err);
  return code === undefined ? ErrorCode.UNKNOWN_SERVER_ERROR : appendErrorToResponseError(code);
}

export class GroupCoordinator {
  readonly config: CoordinatorConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store: CoordinatorLog;
  readonly #classic: ClassicGroupCoordinator;
  readonly #offsets: GroupOffsets;
  /** KIP-848 consumer groups (`./consumer/`), created on first use: they need the topic registry. */
  #consumer: ConsumerGroupManager | null = null;
  /** Consumer-group records replayed before the consumer groups were created. */
  #consumerReplay: Array<[ConsumerGroupKey, Buffer | null]> = [];
  #loaded = false;

  constructor(opts: { clock: Clock; log: Logger; store: CoordinatorLog; uuid: () => string; config?: Partial<CoordinatorConfig> }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#store = opts.store;
    this.config = { ...DEFAULT_COORDINATOR_CONFIG, ...opts.config };
    const append = this.#append.bind(this);
    this.#classic = new ClassicGroupCoordinator({ clock: opts.clock, log: opts.log, config: this.config, append, uuid: opts.uuid });
    this.#offsets = new GroupOffsets({ clock: opts.clock, log: opts.log, config: this.config, append, classic: this.#classic, consumer: () => this.#consumer });
  }

  /** The classic groups by id (also the empty groups that only hold offsets). */
  get groups(): Map<string, ClassicGroup> { return this.#classic.groups; }
  /** group → topic → partition → committed offset. */
  get offsets(): Map<string, Map<string, Map<number, OffsetAndMetadata>>> { return this.#offsets.offsets; }
  /** TxnOffsetCommit offsets waiting for their transaction's marker, by producer id. */
  get txnOffsets(): GroupOffsets['txnOffsets'] { return this.#offsets.txnOffsets; }

  /** The KIP-848 consumer groups, created on first call (later calls ignore the arguments). */
  consumerGroups(topics: TopicView, config?: Partial<ConsumerGroupConfig>): ConsumerGroupManager {
    if (!this.#consumer) {
      const mgr = new ConsumerGroupManager({ clock: this.#clock, topics, config, persist: (groupId, records) => this.#store.append(groupId, records) });
      mgr.onDowngrade = (d) => this.#classic.adoptDowngraded(d);
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
    try {
      mgr.upgradeFromClassic(groupId, g.generationId, g.protocolName, ClassicGroupCoordinator.membersForUpgrade(g));
    } catch (err) {
      this.#log.warn(`group ${groupId}: cannot upgrade the classic group to a consumer group: ${(err as Error).message}`);
      return ErrorCode.GROUP_ID_NOT_FOUND;
    }
    this.#classic.retireUpgraded(g);
    return ErrorCode.NONE;
  }

  /** Resolves with an error code once the coordinator can serve (its log exists). */
  ready(): Promise<number> {
    return (this.#store.ensure?.() ?? Promise.resolve()).then(() => ErrorCode.NONE, (err) => appendErrorCode(err));
  }

  /** Starts the periodic offset expiration (offsets.retention.check.interval.ms). */
  startExpiration(): void { this.#offsets.startExpiration(); }

  /** Cancels every timer and answers every waiting JoinGroup/SyncGroup with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    this.#consumer?.close();
    this.#offsets.close();
    this.#classic.close();
  }

  /** Appends; failures are logged and reported as the mapped error code (0 = appended). */
  #append(groupId: string, records: CoordinatorRecord[], txn?: { producerId: bigint; producerEpoch: number }): Promise<number> {
    return this.#store.append(groupId, records, txn).then(() => ErrorCode.NONE, (err) => {
      this.#log.warn(`group ${groupId}: writing to __consumer_offsets failed: ${(err as Error).message}`);
      return appendErrorCode(err);
    });
  }

  // ---------------------------------------------------------------- classic protocol, routed

  join(req: JoinRequest): Promise<JoinResult> {
    return new Promise((resolve) => {
      if (req.groupId === '') return resolve(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID));
      if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
        return resolve(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
      }
      if (req.rebalanceTimeoutMs < 0) req = { ...req, rebalanceTimeoutMs: req.sessionTimeoutMs };
      const mgr = this.#consumer;
      if (mgr?.hasMembers(req.groupId)) {
        // A classic member in a consumer group (Kafka's classicGroupJoinToConsumerGroup), whatever the
        // migration policy; answered once the group's records are written.
        const r = mgr.classicJoin({
          groupId: req.groupId, memberId: req.memberId, instanceId: req.groupInstanceId, protocolType: req.protocolType, protocols: req.protocols,
          sessionTimeoutMs: req.sessionTimeoutMs, rebalanceTimeoutMs: req.rebalanceTimeoutMs, clientId: req.clientId, clientHost: req.clientHost,
          requireKnownMemberId: req.requireKnownMemberId,
        }, () => randomBytes(16).toString('base64url'));
        const result: JoinResult = { ...r, leader: '', skipAssignment: false, members: [] };
        if (r.errorCode !== ErrorCode.NONE) return resolve(result);
        void mgr.written(req.groupId).then(() => resolve(result), (e: unknown) => resolve(joinError(r.memberId, appendErrorCode(e))));
        return;
      }
      if (mgr?.has(req.groupId)) mgr.delete(req.groupId); // an empty consumer group gives way
      this.#classic.join(req, resolve);
    });
  }

  sync(req: SyncRequest): Promise<SyncResult> {
    return new Promise((resolve) => {
      if (req.groupId === '') return resolve(syncError(ErrorCode.INVALID_GROUP_ID));
      if (this.#consumer?.has(req.groupId)) {
        return resolve(this.#consumer.classicSync({
          groupId: req.groupId, memberId: req.memberId, instanceId: req.groupInstanceId, generationId: req.generationId,
          protocolType: req.protocolType, protocolName: req.protocolName,
        }));
      }
      this.#classic.sync(req, resolve);
    });
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.#consumer?.has(groupId)) return this.#consumer.classicHeartbeat(groupId, memberId, groupInstanceId, generationId);
    return this.#classic.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, leaving: Array<{ memberId: string; groupInstanceId: string | null }>): LeaveResult {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    if (this.#consumer?.has(groupId)) return { errorCode: ErrorCode.NONE, members: this.#consumer.classicLeave(groupId, leaving) };
    return this.#classic.leave(groupId, leaving);
  }

  listGroups(): Array<{ groupId: string; protocolType: string; state: GroupState }> { return this.#classic.listGroups(); }
  describeGroup(groupId: string): DescribedGroup { return this.#classic.describeGroup(groupId); }

  // ---------------------------------------------------------------- offsets

  /** Validates and writes an OffsetCommit; resolves with one error code per request partition. */
  commitOffsets(req: CommitRequest): Promise<number[]> { return this.#offsets.commitOffsets(req); }
  /** TxnOffsetCommit (the handler verified the transaction). */
  commitTxnOffsets(req: TxnCommitRequest): Promise<number[]> { return this.#offsets.commitTxnOffsets(req); }
  /** The producer's transaction ended: its pending offsets become committed (commit) or are dropped (abort). */
  completeTxnOffsets(producerId: bigint, commit: boolean): void { this.#offsets.completeTxnOffsets(producerId, commit); }
  /** OffsetFetch require_stable: a transaction holds an uncommitted offset for this partition. */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean { return this.#offsets.hasPendingTxnOffset(groupId, topic, partition); }
  /** The committed offset, or undefined. A Dead or unknown group has none. */
  committedOffset(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined { return this.#offsets.committedOffset(groupId, topic, partition); }
  /** Every committed offset of the group, by topic (empty for an unknown group). */
  allOffsets(groupId: string): Map<string, Map<number, OffsetAndMetadata>> { return this.#offsets.allOffsets(groupId); }
  /** OffsetDelete: group-level error, or one code per partition. */
  deleteOffsets(groupId: string, partitions: Array<{ topic: string; partition: number }>): Promise<{ errorCode: number; codes: number[] }> { return this.#offsets.deleteOffsets(groupId, partitions); }
  /** DeleteGroups for one group. */
  deleteGroup(groupId: string): Promise<number> { return this.#offsets.deleteGroup(groupId); }
  /** offsets.retention.minutes: tombstones for expired offsets; an Empty group left without offsets is deleted. */
  expireOffsets(): Promise<number> { return this.#offsets.expireOffsets(); }

  // ---------------------------------------------------------------- loading

  /** Replays an OffsetCommit record read from `__consumer_offsets` at start (later records win). */
  replayOffset(groupId: string, topic: string, partition: number, value: OffsetCommitValue | null): void { this.#offsets.replayOffset(groupId, topic, partition, value); }
  /** A transactional offset commit read back: pending until its marker. */
  replayTxnOffset(producerId: bigint, groupId: string, topic: string, partition: number, value: OffsetAndMetadata): void { this.#offsets.replayTxnOffset(producerId, groupId, topic, partition, value); }
  replayGroup(groupId: string, value: GroupMetadataValue | null): void { this.#classic.replayGroup(groupId, value); }

  /** After loading: members of loaded groups must heartbeat within their session timeout. */
  finishLoading(): void {
    this.#classic.finishLoading();
    this.#loaded = true;
    this.#consumer?.finishLoading();
    this.#dropShadowedClassicGroups();
  }
}
