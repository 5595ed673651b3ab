// Committed offsets of every group (Kafka's OffsetMetadataManager): OffsetCommit, TxnOffsetCommit (pending
// until the transaction's marker), OffsetFetch reads, OffsetDelete, DeleteGroups' tombstones and
// offsets.retention.minutes expiry. The group checks that gate a commit are the classic group's
// (./classic/) or, for a KIP-848 group, the consumer group's (./consumer/).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import type { AppendFn, ClassicGroupCoordinator } from './classic/coordinator.ts';
import { ClassicGroup } from './classic/group.ts';
import type { ConsumerGroupManager } from './consumer/group.ts';
import type { CoordinatorConfig, CoordinatorRecord } from './types.ts';
import { type OffsetCommitValue, encodeGroupMetadataKey, encodeOffsetCommitKey, encodeOffsetCommitValue } from './records.ts';

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

export interface TxnCommitRequest {
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  partitions: Array<{ topic: string; partition: number; offset: number | bigint; leaderEpoch: number; metadata: string | null; errorCode: number }>;
}

export class GroupOffsets {
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
  readonly #append: AppendFn;
  readonly #classic: ClassicGroupCoordinator;
  readonly #groups: Map<string, ClassicGroup>;
  readonly #consumerGroups: () => ConsumerGroupManager | null;
  #expiryTimer: unknown = null;
  #closed = false;

  constructor(opts: { clock: Clock; log: Logger; config: CoordinatorConfig; append: AppendFn; classic: ClassicGroupCoordinator; consumer: () => ConsumerGroupManager | null }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.config = opts.config;
    this.#append = opts.append;
    this.#classic = opts.classic;
    this.#groups = opts.classic.groups;
    this.#consumerGroups = opts.consumer;
  }

  /** The KIP-848 consumer groups, once created. */
  get #consumer(): ConsumerGroupManager | null { return this.#consumerGroups(); }

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

  close(): void {
    this.#closed = true;
    if (this.#expiryTimer !== null) this.#clock.clearTimeout(this.#expiryTimer);
  }

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
    let g = this.#groups.get(req.groupId);
    if (!g) {
      if (req.generationId < 0) {
        // A "simple" group: a standalone consumer or an admin client committing without coordination.
        g = new ClassicGroup(req.groupId);
        this.#groups.set(req.groupId, g);
      } else {
        return fail(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
    }
    const err = this.#validateOffsetCommit(g, req);
    if (err !== ErrorCode.NONE) return fail(err);
    if (g.state === 'Stable' || g.state === 'PreparingRebalance') this.#classic.touchMember(g, req.memberId);
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
        const g = this.#groups.get(req.groupId);
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
      if (!this.#groups.has(groupId) && !this.#consumer?.has(groupId)) this.#groups.set(groupId, new ClassicGroup(groupId));
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
    const g = this.#groups.get(groupId);
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
    const g = this.#groups.get(groupId);
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
    this.#groups.delete(groupId);
    this.offsets.delete(groupId);
    return ErrorCode.NONE;
  }

  /** offsets.retention.minutes: tombstones for expired offsets; an Empty group left without offsets is deleted. */
  async expireOffsets(): Promise<number> {
    const now = this.#clock.now();
    let expired = 0;
    for (const [groupId, byTopic] of [...this.offsets]) {
      const g = this.#groups.get(groupId);
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
      if (deleteGroup) this.#groups.delete(groupId);
      expired += gone.length;
      this.#log.info(`group ${groupId}: expired ${gone.length} offset(s)${deleteGroup ? ', group removed' : ''}`);
    }
    return expired;
  }

  /** Replays an OffsetCommit record read from `__consumer_offsets` at start (later records win). */
  replayOffset(groupId: string, topic: string, partition: number, value: OffsetCommitValue | null): void {
    if (value === null) {
      this.#deleteOffset(groupId, topic, partition);
      return;
    }
    if (!this.#groups.has(groupId)) this.#groups.set(groupId, new ClassicGroup(groupId));
    this.#putOffset(groupId, topic, partition, { ...value });
  }
}
