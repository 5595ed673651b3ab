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
import { makeRegisterBrokerRecord, makeBrokerEndpoint } from '../protocol/generated/metadata/register-broker-record.ts';
import { ConfigResourceType, configKey, DIRECTORY_MIGRATING, EMPTY_IMAGE, type MetadataImage, METADATA_VERSION_FEATURE } from './metadata/image.ts';
import { MetadataDelta, replayAll } from './metadata/delta.ts';
import { isDirectoryAssignmentSupported, MetadataVersion, partitionRecordVersion, registerBrokerRecordVersion } from './metadata/metadata-version.ts';
import { RaftClient } from './raft/raft-client.ts';
import type { LeaderAndEpoch, QuorumConfig, RaftTransport } from './raft/types.ts';
import type { RaftLog } from './raft/raft-log.ts';
import type { QuorumStateStore } from './raft/quorum-state.ts';
import { NotLeaderError } from './raft/types.ts';

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
  /** This broker's listeners, for its registration. */
  endpoints?: ReadonlyArray<{ name: string; host: string; port: number }>;
  rack?: string | null;
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

/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export class QuorumController {
  readonly nodeId: number;
  readonly raft: RaftClient;
  /** The committed image. */
  image: MetadataImage = EMPTY_IMAGE;
  /** Committed plus proposed-but-not-committed records (what operations validate against). */
  #latest: MetadataImage = EMPTY_IMAGE;
  #inFlight = 0;
  #closed = false;
  /** Set while start() waits for the first commit of this node's epoch. */
  #onReady: (() => void) | null = null;
  readonly #subscribers: Array<(c: CommittedChange) => void> = [];
  readonly #leaderListeners: Array<(l: LeaderAndEpoch) => void> = [];
  /** A newly elected leader bootstraps metadata.version and registers itself once its HW is known. */
  #bootstrapPending = false;
  readonly #opts: QuorumControllerOptions;
  readonly #mv: number;

  private constructor(o: QuorumControllerOptions) {
    this.nodeId = o.nodeId;
    this.#opts = o;
    this.#mv = o.metadataVersion ?? MetadataVersion.LATEST_PRODUCTION;
    this.raft = new RaftClient({
      nodeId: o.nodeId, voters: o.voters ?? [o.nodeId], clusterId: o.clusterId, clock: o.clock, random: Math.random,
      log: o.raftLog, store: o.store, transport: o.transport ?? { send() {} }, config: o.quorumConfig,
      logger: (m) => o.log.info(`raft: ${m}`),
      listener: {
        handleCommit: (b) => this.#commit(b.records, b.lastOffset, b.epoch),
        handleLoadSnapshot: (id, recs) => {
          const before = this.image;
          const records = recs.map((r) => readMetadataRecord(r));
          this.image = replayAll(EMPTY_IMAGE, records);
          if (this.#inFlight === 0) this.#latest = this.image;
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
          if (l.leaderId !== o.nodeId) { this.#latest = this.image; this.#inFlight = 0; }
          this.#bootstrapPending = l.leaderId === o.nodeId;
          for (const f of this.#leaderListeners) f(l);
        },
      },
    });
  }

  /**
   * Opens the controller: the snapshot and log are replayed into the image, this node (the single voter) is
   * elected, and a new log is bootstrapped (metadata.version) and this broker registered.
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
    c.#latest = c.image;
    if (c.raft.isLeader()) {
      c.#bootstrapPending = false;
      await c.#bootstrap();
    }
    return c;
  }

  /** As the leader: metadata.version on a new log, this node's registration when absent. */
  async #bootstrap(): Promise<void> {
    const boot: MetadataRecord[] = [];
    if (!this.#latest.features.has(METADATA_VERSION_FEATURE)) {
      boot.push({ type: T.FeatureLevel, version: 0, data: { name: METADATA_VERSION_FEATURE, featureLevel: this.#mv } });
    }
    if (!this.#latest.brokers.has(this.nodeId)) boot.push(this.#registration());
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

  /** The log failed: in-flight operations fail (NOT_CONTROLLER, outcome unknown) and new ones are refused. */
  fail(): void {
    this.#closed = true;
    this.raft.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.raft.close();
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

  #registration(): MetadataRecord {
    const o = this.#opts;
    const incarnation = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) incarnation[i] = Math.floor(Math.random() * 256);
    incarnation[6] = (incarnation[6]! & 0x0f) | 0x40;
    incarnation[8] = (incarnation[8]! & 0x3f) | 0x80;
    return {
      type: T.RegisterBroker,
      version: registerBrokerRecordVersion(this.#mv),
      data: makeRegisterBrokerRecord({
        brokerId: o.nodeId,
        incarnationId: incarnation.toString('base64url'),
        // Kafka's broker epoch is the offset of the registration record.
        brokerEpoch: BigInt(this.raft.appliedOffset()),
        endPoints: (o.endpoints ?? []).map((e) => makeBrokerEndpoint({ name: e.name, host: e.host, port: e.port, securityProtocol: 0 })),
        rack: o.rack ?? null,
        fenced: false,
        logDirs: [],
      }),
    };
  }

  /** Replays the records on the latest image (they were validated) and proposes them as one batch. */
  #propose(recs: MetadataRecord[]): Promise<number> {
    if (this.#closed) return reject(ErrorCode.NOT_CONTROLLER, 'the controller is closed');
    let next: MetadataImage;
    try {
      const delta = new MetadataDelta(this.#latest);
      for (const r of recs) delta.replay(r);
      next = delta.apply();
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<number>((resolve, rej) => {
      const prev = this.#latest;
      this.#latest = next;
      this.#inFlight++;
      try {
        // `done` runs after the commit was replayed into `image` and handed to subscribers.
        this.raft.propose(recs.map((r) => writeMetadataRecord(r)), (err, offset) => {
          if (err === null) return resolve(offset);
          this.#latest = this.image;
          this.#inFlight = 0;
          rej(err instanceof NotLeaderError ? new ControllerError(ErrorCode.NOT_CONTROLLER, err.message) : err);
        });
      } catch (e) {
        this.#latest = prev;
        this.#inFlight--;
        rej(e instanceof NotLeaderError ? new ControllerError(ErrorCode.NOT_CONTROLLER, e.message) : e);
      }
    });
  }

  #commit(values: Buffer[], lastOffset: number, epoch: number): void {
    const before = this.image;
    const records = values.map((v) => readMetadataRecord(v));
    const delta = new MetadataDelta(before);
    let off = BigInt(lastOffset - values.length + 1);
    for (const r of records) delta.replay(r, off++, epoch);
    this.image = delta.apply();
    if (this.#inFlight > 0) this.#inFlight--;
    if (this.#inFlight === 0) this.#latest = this.image;
    for (const s of this.#subscribers) s({ before, after: this.image, records, offset: lastOffset });
  }
}

function reject(code: number, message: string): Promise<never> {
  return Promise.reject(new ControllerError(code, message));
}
