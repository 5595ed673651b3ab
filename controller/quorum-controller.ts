// The active controller (Kafka's QuorumController, reduced to what gregor serves): owns the RaftClient and the
// MetadataImage. Each operation validates against the latest image — committed plus what this controller has
// proposed and not yet seen committed, as Kafka's controller validates against its uncommitted state — turns
// the change into records, proposes them and resolves once they are committed. Validation, the records and the
// proposal happen in one synchronous step, so no two operations interleave between reading and writing the
// image, while several can be in flight (they share log flushes).
//
// Committed records are replayed into `image` and handed to subscribers (the broker applies them: opens and
// removes partitions, applies configs) before the operation resolves.

import type { Clock } from '../storage/clock.ts';
import type { Logger } from '../storage/index.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { type MetadataRecord, MetadataRecordType as T, readMetadataRecord, writeMetadataRecord } from '../protocol/generated/metadata/index.ts';
import { makePartitionRecord } from '../protocol/generated/metadata/partition-record.ts';
import type { BrokerRegistrationRequest } from '../protocol/generated/broker-registration.ts';
import type { BrokerHeartbeatRequest } from '../protocol/generated/broker-heartbeat.ts';
import { ConfigResourceType, configKey, DIRECTORY_MIGRATING, EMPTY_IMAGE, type MetadataImage, METADATA_VERSION_FEATURE, type StandardAcl } from './metadata/image.ts';
import { MetadataDelta, replayAll } from './metadata/delta.ts';
import { imageToRecords } from './metadata/image-writer.ts';
import { isDirectoryAssignmentSupported, MetadataVersion, partitionRecordVersion } from './metadata/metadata-version.ts';
import { BrokerMembership, type HeartbeatReply, MembershipError } from './membership.ts';
import { BOOTSTRAP_FEATURES, type FeatureUpdate, featureUpdateError } from './features.ts';
import { MAX_BATCH_SIZE_BYTES, RaftClient } from './raft/raft-client.ts';
import type { LeaderAndEpoch, QuorumConfig, RaftTransport } from './raft/types.ts';
import type { RaftLog } from './raft/raft-log.ts';
import type { QuorumStateStore } from './raft/quorum-state.ts';
import { NotLeaderError } from './raft/types.ts';
import { type AclBinding, type AclFilter, filterMatches, invalidBinding, invalidFilter, sameBinding } from './acls.ts';
import { randomBytes } from 'node:crypto';

/** A refused operation: `code` is the Kafka error code to answer. */
export class ControllerError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'ControllerError';
    this.code = code;
  }
}

/** What subscribers get for each committed batch. */
export interface CommittedChange {
  readonly before: MetadataImage;
  readonly after: MetadataImage;
  readonly records: readonly MetadataRecord[];
  /** Offset of the batch's last record. */
  readonly offset: number;
}

export interface QuorumControllerOptions {
  nodeId: number;
  clusterId: string;
  clock: Clock;
  log: Logger;
  raftLog: RaftLog & { close?(): Promise<void> };
  store: QuorumStateStore;
  /** metadata.version to bootstrap a new log at (default Kafka 4.4's latest production level). */
  metadataVersion?: number;
  /** `broker.session.timeout.ms` (default 9000): a broker without a heartbeat for this long is fenced. */
  sessionTimeoutMs?: number;
  /** `metadata.log.max.record.bytes.between.snapshots` (default 20 MiB). */
  snapshotMaxBytes?: number;
  /** `metadata.log.max.snapshot.interval.ms` (default 1 h; 0 = no time-based snapshots). */
  snapshotIntervalMs?: number;
  /** Start-up deadline for the election and the replay (single voter: immediate). */
  readyTimeoutMs?: number;
  /**
   * Several voters (controller.quorum.voters): their ids and the network to them (controller/net/). The caller has
   * run loadRaftMessages(). Default: this node alone, no network.
   */
  voters?: number[];
  transport?: RaftTransport & { attach?(core: RaftClient): void };
  /** controller.quorum.* timers (default Kafka's). */
  quorumConfig?: Partial<QuorumConfig>;
}

/** Record bytes per proposed batch; Raft refuses batches over MAX_BATCH_SIZE_BYTES (8 MiB, as Kafka). */
const MAX_PROPOSAL_BYTES = MAX_BATCH_SIZE_BYTES - 64 * 1024;

/** Bytes a record adds to a batch besides its value (length, attributes, deltas, key, headers: ≤ 20). */
const RECORD_OVERHEAD = 20;

interface QueuedOp {
  readonly values: Buffer[];
  /** Values plus per-record overhead. */
  readonly bytes: number;
  resolve(offset: number): void;
  reject(e: Error): void;
}

/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export { MembershipError };

export class QuorumController {
  readonly nodeId: number;
  readonly raft: RaftClient;
  /** The committed image. */
  image: MetadataImage = EMPTY_IMAGE;
  /** Raft batches proposed and not yet committed. */
  #inFlight = 0;
  /** Operations waiting for the batch in flight to commit (then proposed together). */
  readonly #queue: QueuedOp[] = [];
  /**
   * The queued operations replayed on the proposed image, one delta for all of them: an operation costs its own
   * records, not a copy of the image's maps (which made creating N topics O(N²)).
   */
  #live: MetadataDelta | null = null;
  /** The image after the last batch handed to Raft (the committed one when nothing is in flight). */
  #proposed: MetadataImage = EMPTY_IMAGE;
  #closed = false;
  /** Set while start() waits for the first commit of this node's epoch. */
  #onReady: (() => void) | null = null;
  readonly #subscribers: Array<(c: CommittedChange) => void> = [];
  readonly #leaderListeners: Array<(l: LeaderAndEpoch) => void> = [];
  /** A newly elected leader bootstraps metadata.version and registers itself once its HW is known. */
  #bootstrapPending = false;
  readonly #opts: QuorumControllerOptions;
  readonly #mv: number;
  readonly #membership: BrokerMembership;
  #fenceTimer: unknown = null;
  #snapshotTimer: unknown = null;
  /** Bytes of records committed since the last snapshot (Kafka's SnapshotGenerator counts batch bytes). */
  #bytesSinceSnapshot = 0;
  #snapshotting = false;
  /** start() has returned: later leader changes re-activate broker sessions. */
  #started = false;

  private constructor(o: QuorumControllerOptions) {
    this.nodeId = o.nodeId;
    this.#opts = o;
    this.#mv = o.metadataVersion ?? MetadataVersion.LATEST_PRODUCTION;
    this.#membership = new BrokerMembership({ clock: o.clock, clusterId: o.clusterId, sessionTimeoutMs: o.sessionTimeoutMs });
    this.raft = new RaftClient({
      nodeId: o.nodeId, voters: o.voters ?? [o.nodeId], clusterId: o.clusterId, clock: o.clock, random: Math.random,
      log: o.raftLog, store: o.store, transport: o.transport ?? { send() {} }, config: o.quorumConfig,
      logger: (m) => o.log.info(`raft: ${m}`),
      listener: {
        handleCommit: (b) => this.#commit(b.records, b.lastOffset, b.epoch, b.bytes.length),
        handleLoadSnapshot: (id, recs) => {
          const before = this.image;
          const records = recs.map((r) => readMetadataRecord(r));
          this.image = replayAll(EMPTY_IMAGE, records);
          if (this.#inFlight === 0) this.#proposed = this.image;
          for (const s of this.#subscribers) s({ before, after: this.image, records, offset: id.offset - 1 });
        },
        handleHighWatermark: () => {
          this.#onReady?.();
          if (this.#bootstrapPending && this.#onReady === null && this.raft.leaderHighWatermark() >= 0) {
            this.#bootstrapPending = false;
            this.#bootstrap().catch((e: Error) => o.log.warn(`metadata bootstrap as the new leader: ${e.message}`));
          }
        },
        handleLeaderChange: (l) => {
          // A lost leadership fails the in-flight proposals (NotLeaderError): what they proposed may never commit.
          if (l.leaderId !== o.nodeId) {
            this.#failAll(new NotLeaderError(`node ${o.nodeId} lost the leadership`), []);
            this.#reset();
          }
          this.#bootstrapPending = l.leaderId === o.nodeId;
          for (const f of this.#leaderListeners) f(l);
        },
      },
    });
  }

  /**
   * Opens the controller: the snapshot and log are replayed into the image, this node (the single voter) is
   * elected, and a new log is bootstrapped (metadata.version). Brokers register themselves (registerBroker).
   */
  static async start(o: QuorumControllerOptions): Promise<QuorumController> {
    const c = new QuorumController(o);
    o.transport?.attach?.(c.raft);
    const multi = (o.voters?.length ?? 1) > 1;
    const timeoutMs = o.readyTimeoutMs ?? (multi ? 300_000 : 30_000);
    // The single voter elects itself at once; ready once its epoch's first entry is committed (everything
    // before it has then been replayed). Woken by the high-watermark callback, not by polling.
    const ready = new Promise<void>((resolve, rej) => {
      const timer = o.clock.setTimeout(() => {
        c.#onReady = null;
        c.raft.close();
        rej(new Error(`metadata quorum: not elected within ${timeoutMs} ms`));
      }, timeoutMs);
      c.#onReady = () => {
        // With peers, a follower is ready once it has replayed up to the leader's high watermark.
        const caughtUp = multi && c.raft.stateKind === 'follower' && c.raft.highWatermark() >= 0 && c.raft.appliedOffset() >= c.raft.highWatermark();
        if (c.raft.leaderHighWatermark() < 0 && !caughtUp) return;
        c.#onReady = null;
        o.clock.clearTimeout(timer);
        resolve();
      };
    });
    c.raft.start();
    if (multi) o.log.info(`waiting for the metadata quorum (voters ${o.voters!.join(',')}) to elect a leader and for this node to catch up`);
    c.#onReady?.();
    await ready;
    c.#proposed = c.image;
    if (c.raft.isLeader()) {
      c.#bootstrapPending = false;
      await c.#bootstrap();
    }
    // Sessions start now for the brokers the log knows, except this node's own: the broker that held it before
    // lived in this process, so it is gone (Kafka waits for its session to expire before a new incarnation).
    c.#membership.activate(c.#latest, o.nodeId);
    c.#armFenceTimer();
    c.#armSnapshotTimer();
    c.#started = true;
    return c;
  }

  /**
   * As the leader: metadata.version on a new log and the features a log written before they were finalized lacks
   * (group.version). Brokers register themselves (BrokerRegistration through their ControllerChannel). A node that
   * becomes leader after start gives every registered broker a fresh session, as Kafka's new active controller does.
   */
  async #bootstrap(): Promise<void> {
    const boot: MetadataRecord[] = [];
    if (!this.#latest.features.has(METADATA_VERSION_FEATURE)) {
      boot.push({ type: T.FeatureLevel, version: 0, data: { name: METADATA_VERSION_FEATURE, featureLevel: this.#mv } });
    }
    for (const [name, featureLevel] of BOOTSTRAP_FEATURES) {
      if (!this.#latest.features.has(name)) boot.push({ type: T.FeatureLevel, version: 0, data: { name, featureLevel } });
    }
    if (this.#started) this.#membership.activate(this.#latest, -1);
    if (boot.length > 0) await this.#propose(boot);
  }

  /** The active controller's id (-1 while there is none) and epoch. */
  leaderAndEpoch(): LeaderAndEpoch { return this.raft.leaderAndEpoch(); }

  /** Called on every leader change (after the core's state changed). */
  onLeaderChange(fn: (l: LeaderAndEpoch) => void): void { this.#leaderListeners.push(fn); }

  /** Called for every committed batch, after `image` includes it. */
  subscribe(fn: (c: CommittedChange) => void): void { this.#subscribers.push(fn); }

  /** The image operations validate against (committed + in flight). */
  get latest(): MetadataImage { return this.#latest; }

  /** Committed plus proposed-but-not-committed records (what operations validate against; read it synchronously). */
  get #latest(): MetadataImage { return this.#live !== null ? this.#live.view() : this.#proposed; }

  get metadataVersion(): number { return this.image.features.get(METADATA_VERSION_FEATURE) ?? this.#mv; }

  /** Creates a topic: TopicRecord, its config overrides, one PartitionRecord per partition led by this node. */
  createTopic(name: string, partitions: number, configs: ReadonlyMap<string, string>, topicId: string): Promise<number> {
    const img = this.#latest;
    if (img.topics.byName.has(name)) return reject(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    if (img.topics.byId.has(topicId)) return reject(ErrorCode.INVALID_REQUEST, `topic id ${topicId} is in use`);
    if (!Number.isInteger(partitions) || partitions < 1) return reject(ErrorCode.INVALID_PARTITIONS, `invalid partition count ${partitions}`);
    const recs: MetadataRecord[] = [{ type: T.Topic, version: 0, data: { name, topicId } }];
    for (const [k, v] of configs) {
      recs.push({ type: T.Config, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: name, name: k, value: v } });
    }
    for (let p = 0; p < partitions; p++) recs.push(this.#partitionRecord(topicId, p));
    return this.#propose(recs);
  }

  /** Deletes a topic (RemoveTopicRecord; its config overrides go with it). */
  deleteTopic(name: string): Promise<number> {
    const t = this.#latest.topics.byName.get(name);
    if (!t) return reject(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    return this.#propose([{ type: T.RemoveTopic, version: 0, data: { topicId: t.id } }]);
  }

  /** Grows a topic to `total` partitions. */
  createPartitions(name: string, total: number): Promise<number> {
    const t = this.#latest.topics.byName.get(name);
    if (!t) return reject(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    const have = t.partitions.size;
    if (!Number.isInteger(total) || total <= have) return reject(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${have} partitions, which is higher than the requested ${total}.`);
    const recs: MetadataRecord[] = [];
    for (let p = have; p < total; p++) recs.push(this.#partitionRecord(t.id, p));
    return this.#propose(recs);
  }

  /** Replaces a topic's config overrides: ConfigRecords for what changed, null values for what was removed. */
  alterTopicConfigs(name: string, configs: ReadonlyMap<string, string>): Promise<number> {
    const img = this.#latest;
    if (!img.topics.byName.has(name)) return reject(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`);
    const now = img.configs.get(configKey(ConfigResourceType.TOPIC, name)) ?? new Map<string, string>();
    const recs: MetadataRecord[] = [];
    const rec = (k: string, v: string | null): MetadataRecord => ({ type: T.Config, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: name, name: k, value: v } });
    for (const [k, v] of configs) if (now.get(k) !== v) recs.push(rec(k, v));
    for (const k of now.keys()) if (!configs.has(k)) recs.push(rec(k, null));
    if (recs.length === 0) return Promise.resolve(Number(img.offset));
    return this.#propose(recs);
  }

  /**
   * Allocates the next block of producer ids (Kafka's ProducerIdControlManager): ids are never handed out twice,
   * also across restarts, because the block is a committed ProducerIdsRecord. `floor`: ids below it were used
   * before this log existed (the old gregor-producer-ids.json).
   */
  async allocateProducerIds(floor = 0, size = PRODUCER_ID_BLOCK_SIZE): Promise<{ start: number; size: number }> {
    const next = this.#latest.nextProducerId;
    const start = Math.max(next < 0n ? 0 : Number(next), floor);
    const brokerEpoch = this.#latest.brokers.get(this.nodeId)?.epoch ?? 0n;
    await this.#propose([{ type: T.ProducerIds, version: 0, data: { brokerId: this.nodeId, brokerEpoch, nextProducerId: BigInt(start + size) } }]);
    return { start, size };
  }

  /**
   * Sets finalized feature levels (UpdateFeatures): every update is checked against the latest image first
   * (the first refusal fails them all, INVALID_UPDATE_VERSION, as Kafka), then one FeatureLevelRecord each
   * (level 0 removes the feature). `validateOnly`: checked, nothing written. Resolves with the image offset.
   */
  updateFeatures(updates: readonly FeatureUpdate[], validateOnly = false): Promise<number> {
    const img = this.#latest;
    for (const u of updates) {
      const why = featureUpdateError(u, img.features, this.nodeId);
      if (why !== null) return reject(ErrorCode.INVALID_UPDATE_VERSION, why);
    }
    const recs: MetadataRecord[] = updates
      .filter((u) => (img.features.get(u.feature) ?? 0) !== u.level)
      .map((u) => ({ type: T.FeatureLevel, version: 0, data: { name: u.feature, featureLevel: u.level } }));
    if (validateOnly || recs.length === 0) return Promise.resolve(Number(img.offset));
    return this.#propose(recs);
  }

  /**
   * CreateAcls (Kafka's AclControlManager.createAcls): each binding is validated on its own (INVALID_REQUEST
   * with Kafka's message); one identical to an existing ACL is accepted without a record. The valid ones are
   * committed in one batch; resolves with one result per binding, in order.
   */
  async createAcls(bindings: readonly AclBinding[]): Promise<Array<{ errorCode: number; errorMessage: string | null }>> {
    const existing = [...this.#latest.acls.values()];
    const results: Array<{ errorCode: number; errorMessage: string | null }> = [];
    const recs: MetadataRecord[] = [];
    const added: AclBinding[] = [];
    for (const b of bindings) {
      const why = invalidBinding(b);
      if (why !== null) { results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why }); continue; }
      results.push({ errorCode: ErrorCode.NONE, errorMessage: null });
      if (existing.some((a) => sameBinding(a, b)) || added.some((a) => sameBinding(a, b))) continue;
      added.push(b);
      recs.push({ type: T.AccessControlEntry, version: 0, data: { id: this.#newAclId(), ...b } });
    }
    if (recs.length > 0) await this.#propose(recs);
    return results;
  }

  /**
   * DeleteAcls (AclControlManager.deleteAcls): per filter the ACLs it matches (an ACL matched by several
   * filters is removed once), all removals committed in one batch. A filter Kafka cannot read gets INVALID_REQUEST.
   */
  async deleteAcls(filters: readonly AclFilter[]): Promise<Array<{ errorCode: number; errorMessage: string | null; acls: StandardAcl[] }>> {
    const all = [...this.#latest.acls.values()];
    const removed = new Set<string>();
    const results = filters.map((f) => {
      const why = invalidFilter(f);
      if (why !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why, acls: [] };
      const acls = all.filter((a) => filterMatches(f, a));
      for (const a of acls) removed.add(a.id);
      return { errorCode: ErrorCode.NONE, errorMessage: null, acls };
    });
    if (removed.size > 0) await this.#propose([...removed].map((id) => ({ type: T.RemoveAccessControlEntry, version: 0, data: { id } })));
    return results;
  }

  /** A fresh ACL id (Kafka's Uuid.randomUuid, base64url), unused in the latest image. */
  #newAclId(): string {
    for (;;) {
      const id = randomBytes(16).toString('base64url');
      if (!this.#latest.acls.has(id)) return id;
    }
  }

  /** Proposes already-built records (the one-time migration of gregor-topics.json). */
  proposeRecords(recs: MetadataRecord[]): Promise<number> {
    try {
      const delta = new MetadataDelta(this.#latest);
      for (const r of recs) delta.replay(r);
      delta.apply();
    } catch (e) {
      return reject(ErrorCode.INVALID_REQUEST, (e as Error).message);
    }
    return this.#propose(recs);
  }

  /**
   * BrokerRegistration (Kafka's ClusterControlManager.registerBroker): a RegisterBrokerRecord, fenced, whose
   * offset is the new broker epoch; resolves with the epoch once committed. MembershipError / ControllerError
   * carry the Kafka code to answer.
   */
  async registerBroker(req: BrokerRegistrationRequest): Promise<bigint> {
    if (this.#closed || !this.raft.isLeader()) throw new ControllerError(ErrorCode.NOT_CONTROLLER, 'not the active controller');
    const { record, epoch } = this.#membership.register(req, this.#latest, this.raft.logEndOffset(), this.metadataVersion);
    await this.#propose([record]);
    this.#opts.log.info(`registered broker ${req.brokerId} (incarnation ${req.incarnationId}) at epoch ${epoch}`);
    return epoch;
  }

  /**
   * BrokerHeartbeat (Kafka's processBrokerHeartbeat): renews the broker's session; a state change (unfence once
   * caught up to its registration, controlled shutdown, fence, shutdown) is committed before the reply.
   */
  async brokerHeartbeat(req: BrokerHeartbeatRequest): Promise<HeartbeatReply> {
    if (this.#closed || !this.raft.isLeader()) throw new ControllerError(ErrorCode.NOT_CONTROLLER, 'not the active controller');
    const { records, reply } = this.#membership.heartbeat(req, this.#latest, this.raft.logEndOffset(), this.metadataVersion);
    if (records.length > 0) await this.#propose(records);
    this.#armFenceTimer();
    return reply;
  }

  /** The session timer: fences one expired broker at a time (Kafka's maybeFenceOneStaleBroker), then re-arms. */
  #armFenceTimer(): void {
    const clock = this.#opts.clock;
    if (this.#fenceTimer !== null) clock.clearTimeout(this.#fenceTimer);
    this.#fenceTimer = null;
    if (this.#closed) return;
    const at = this.#membership.nextExpiryMs(this.#latest);
    if (at === null) return;
    this.#fenceTimer = clock.setTimeout(() => {
      this.#fenceTimer = null;
      if (this.#closed) return;
      const stale = this.#membership.fenceOneStale(this.#latest, this.metadataVersion);
      if (stale) {
        this.#opts.log.warn(`fencing broker ${stale.id}: no heartbeat for ${this.#membership.sessionTimeoutMs} ms (broker.session.timeout.ms)`);
        this.#propose(stale.records).catch((e: unknown) => this.#opts.log.error(`fencing broker ${stale.id}: ${(e as Error).message}`));
      }
      this.#armFenceTimer();
    }, Math.max(0, at - clock.now()));
  }

  #armSnapshotTimer(): void {
    const ms = this.#opts.snapshotIntervalMs ?? 3_600_000;
    if (ms <= 0 || this.#closed) return;
    this.#snapshotTimer = this.#opts.clock.setTimeout(() => {
      this.#snapshotTimer = null;
      if (this.#bytesSinceSnapshot > 0) this.#snapshot('metadata.log.max.snapshot.interval.ms');
      this.#armSnapshotTimer();
    }, ms);
  }

  /**
   * Writes a snapshot of the committed image at the applied offset and deletes the log before it (Kafka's
   * SnapshotGenerator + log cleaning); a restart loads it, then the tail. Deferred to a microtask: the Raft
   * client counts a batch as applied only after its commit callback returns.
   */
  #snapshot(reason: string): void {
    if (this.#snapshotting || this.#closed) return;
    this.#snapshotting = true;
    queueMicrotask(() => {
      this.#snapshotting = false;
      if (this.#closed) return;
      const end = this.raft.appliedOffset();
      const latest = this.#opts.raftLog.latestSnapshot();
      if (end <= 0 || (latest !== null && latest.offset >= end)) return;
      try {
        const recs = imageToRecords(this.image, { metadataVersion: this.metadataVersion }).map((r) => writeMetadataRecord(r));
        const id = this.raft.createSnapshot(end, recs, true);
        this.#bytesSinceSnapshot = 0;
        this.#opts.log.info(`metadata snapshot at offset ${id.offset} epoch ${id.epoch} (${reason})`);
      } catch (e) {
        this.#opts.log.error(`metadata snapshot at ${end}: ${(e as Error).message}`);
      }
    });
  }

  /** The log failed: in-flight operations fail (NOT_CONTROLLER, outcome unknown) and new ones are refused. */
  fail(): void {
    this.#closed = true;
    this.#stopTimers();
    this.raft.close();
    this.#failAll(new NotLeaderError('the controller is closed'), []);
  }

  #stopTimers(): void {
    if (this.#fenceTimer !== null) this.#opts.clock.clearTimeout(this.#fenceTimer);
    if (this.#snapshotTimer !== null) this.#opts.clock.clearTimeout(this.#snapshotTimer);
    this.#fenceTimer = this.#snapshotTimer = null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopTimers();
    this.raft.close();
    this.#failAll(new NotLeaderError('the controller is closed'), []);
    await this.#opts.raftLog.close?.();
  }

  #partitionRecord(topicId: string, partitionId: number): MetadataRecord {
    const n = this.nodeId;
    return {
      type: T.Partition,
      version: partitionRecordVersion(this.metadataVersion),
      data: makePartitionRecord({
        partitionId, topicId, replicas: [n], isr: [n], leader: n, leaderEpoch: 0, partitionEpoch: 0,
        directories: isDirectoryAssignmentSupported(this.metadataVersion) ? [DIRECTORY_MIGRATING] : [],
      }),
    };
  }

  /**
   * Replays the records on the latest image (they were validated) and proposes them (Kafka's BatchAccumulator):
   * with nothing in flight at once, as one batch; while a batch is being made durable, operations queue and the
   * next commit proposes all of them as one batch (one append, one sync). An operation's records always stay in
   * one batch. Each resolves with the committed offset of its batch's last record.
   */
  #propose(recs: MetadataRecord[]): Promise<number> {
    if (this.#closed) return reject(ErrorCode.NOT_CONTROLLER, 'the controller is closed');
    let values: Buffer[];
    try {
      values = recs.map((r) => writeMetadataRecord(r));
    } catch (e) {
      return Promise.reject(e);
    }
    const bytes = values.reduce((n, v) => n + v.length + RECORD_OVERHEAD, 0);
    if (bytes > MAX_PROPOSAL_BYTES) return Promise.reject(new RangeError(`${values.length} records of ${bytes} bytes exceed one metadata batch (${MAX_PROPOSAL_BYTES})`));
    const live = (this.#live ??= new MetadataDelta(this.#proposed));
    try {
      for (const r of recs) live.replay(r);
    } catch (e) {
      // The operations validate first, so this is a bug; the shared delta is now undefined: the queue fails too.
      this.#live = null;
      this.#failAll(e as Error, []);
      return Promise.reject(e);
    }
    return new Promise<number>((resolve, rej) => {
      this.#queue.push({ values, bytes, resolve, reject: rej });
      if (this.#inFlight === 0) this.#drain();
    });
  }

  /** Proposes the queued operations, as few batches as the batch size limit allows. */
  #drain(): void {
    if (this.#queue.length === 0 || this.#closed) return;
    const after = this.#live!.apply();
    this.#live = null;
    while (this.#queue.length > 0) {
      let n = 0;
      let bytes = 0;
      for (const op of this.#queue) {
        if (n > 0 && bytes + op.bytes > MAX_PROPOSAL_BYTES) break;
        n++;
        bytes += op.bytes;
      }
      const ops = this.#queue.splice(0, n);
      const values = ops.length === 1 ? ops[0]!.values : ops.flatMap((o) => o.values);
      try {
        // `done` runs after the commit was replayed into `image` and handed to subscribers.
        this.raft.propose(values, (err, offset) => {
          if (err === null) { for (const o of ops) o.resolve(offset); return; }
          // Leadership lost: the outcome is unknown; what queued was validated against it.
          this.#failAll(err, ops);
          this.#reset();
        });
        this.#inFlight++;
      } catch (e) {
        // Not appended (leadership lost); what queued after was validated against these, so it fails too.
        this.#failAll(e as Error, ops);
        this.#reset();
        return;
      }
    }
    this.#proposed = after;
  }

  /** Nothing in flight or queued any more: operations validate against the committed image. */
  #reset(): void {
    this.#live = null;
    this.#inFlight = 0;
    this.#proposed = this.image;
  }

  /** Rejects `ops` and everything queued (NotLeaderError → NOT_CONTROLLER). */
  #failAll(err: Error, ops: QueuedOp[]): void {
    const e = err instanceof NotLeaderError ? new ControllerError(ErrorCode.NOT_CONTROLLER, err.message) : err;
    for (const o of [...ops, ...this.#queue.splice(0)]) o.reject(e);
  }

  #commit(values: Buffer[], lastOffset: number, epoch: number, bytes: number): void {
    const before = this.image;
    const records = values.map((v) => readMetadataRecord(v));
    const delta = new MetadataDelta(before);
    let off = BigInt(lastOffset - values.length + 1);
    for (const r of records) delta.replay(r, off++, epoch);
    this.image = delta.apply();
    if (this.#inFlight > 0) this.#inFlight--;
    if (this.#inFlight === 0 && this.#queue.length === 0) this.#proposed = this.image;
    for (const s of this.#subscribers) s({ before, after: this.image, records, offset: lastOffset });
    this.#bytesSinceSnapshot += bytes;
    if (this.#bytesSinceSnapshot >= (this.#opts.snapshotMaxBytes ?? 20 * 1024 * 1024)) this.#snapshot('metadata.log.max.record.bytes.between.snapshots');
    // What queued while this batch was made durable goes out as the next batch (after this callback: the Raft
    // client is in the middle of its commit step).
    if (this.#inFlight === 0 && this.#queue.length > 0) queueMicrotask(() => { if (this.#inFlight === 0) this.#drain(); });
  }
}

function reject(code: number, message: string): Promise<never> {
  return Promise.reject(new ControllerError(code, message));
}
