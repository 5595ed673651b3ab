// The broker's side of the KRaft metadata log (single-node combined mode, process.roles=broker,controller):
// opens the controller on `<log dir>/__cluster_metadata-0`, migrates an old `gregor-topics.json` once, and
// applies every committed change to storage, the partitions and the topic registry — the only path by which
// topics appear, grow, change configs and go.
import { join } from 'node:path';
import { type FsLike, type Logger, readWholeFile, type Storage, StorageError, type StorageErrorKind, TOPICS_FILE, type TopicMeta } from '../storage/index.ts';
import type { Clock } from '../storage/clock.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { ControllerError, type CommittedChange, QuorumController, type QuorumControllerOptions } from '../controller/quorum-controller.ts';
import { FileQuorumStateStore } from '../controller/raft/quorum-state.ts';
import { StorageRaftLog } from '../controller/raft/storage-raft-log.ts';
import { ConfigResourceType, configKey, type MetadataImage, type TopicImage } from '../controller/metadata/image.ts';
import { topicsFileToRecords } from '../controller/metadata/migrate-topics.ts';
import { KafkaError } from './errors.ts';
import type { PartitionManager } from './partitions/index.ts';
import { isInternalTopic, type TopicRegistry } from './topics.ts';

export interface OpenMetadataOptions {
  fs: FsLike;
  logDir: string;
  nodeId: number;
  clusterId: string;
  clock: Clock;
  log: Logger;
  /** `broker.session.timeout.ms`, `metadata.log.max.record.bytes.between.snapshots`, `metadata.log.max.snapshot.interval.ms`. */
  sessionTimeoutMs?: number;
  snapshotMaxBytes?: number;
  snapshotIntervalMs?: number;
  /** Several voters: their ids and the network to them (broker/raft-net.ts). */
  voters?: number[];
  transport?: QuorumControllerOptions['transport'];
  quorumConfig?: QuorumControllerOptions['quorumConfig'];
}

/** Opens the controller (replaying snapshot + log; elected at once as the single voter) and migrates gregor-topics.json. */
export async function openClusterMetadata(o: OpenMetadataOptions): Promise<QuorumController> {
  let controller: QuorumController | undefined;
  const raftLog = await StorageRaftLog.open({
    fs: o.fs, logDir: o.logDir, clock: o.clock, log: o.log,
    // Kafka stops a node whose metadata log dir failed; here the controller stops: every metadata change is
    // refused (NOT_CONTROLLER) until a restart, never half applied.
    onError: (e) => {
      o.log.error(`metadata log ${join(o.logDir, '__cluster_metadata-0')}: ${e.message}; metadata changes are refused until a restart`);
      controller?.fail();
    },
  });
  const store = new FileQuorumStateStore(o.fs, raftLog.dir, (e) => o.log.error(`writing quorum-state: ${(e as Error).message}`));
  await store.load();
  controller = await QuorumController.start({ nodeId: o.nodeId, clusterId: o.clusterId, clock: o.clock, log: o.log, raftLog, store,
    sessionTimeoutMs: o.sessionTimeoutMs, snapshotMaxBytes: o.snapshotMaxBytes, snapshotIntervalMs: o.snapshotIntervalMs,
    voters: o.voters, transport: o.transport, quorumConfig: o.quorumConfig,
  });
  const file = join(o.logDir, TOPICS_FILE);
  const old = await readWholeFile(o.fs, file);
  if (old !== null) {
    // A crash after the commit and before the rename leaves both: the log wins.
    if (controller.image.topics.byName.size === 0) {
      const recs = topicsFileToRecords(old, { nodeId: o.nodeId, metadataVersion: controller.metadataVersion });
      if (recs.length > 0) await controller.proposeRecords(recs);
    }
    await o.fs.rename(file, `${file}.migrated`);
    o.log.info(`migrated ${controller.image.topics.byName.size} topic(s) from ${file} to the metadata log; the old file is now ${file}.migrated`);
  }
  return controller;
}

/** The image's topics as storage opens them. */
export function topicMetas(image: MetadataImage): TopicMeta[] {
  return [...image.topics.byName.values()].map((t) => ({ name: t.name, topicId: t.id, partitions: t.partitions.size, configs: topicConfigs(image, t.name) }));
}

function topicConfigs(image: MetadataImage, name: string): Record<string, string> {
  return Object.fromEntries(image.configs.get(configKey(ConfigResourceType.TOPIC, name)) ?? []);
}

/** A controller refusal as the error storage would have thrown (handlers map StorageError kinds and codes). */
export function asBrokerError(e: unknown): Error {
  if (!(e instanceof ControllerError)) return e as Error;
  const kinds: Partial<Record<number, StorageErrorKind>> = {
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: 'UNKNOWN_TOPIC_OR_PARTITION',
    [ErrorCode.TOPIC_ALREADY_EXISTS]: 'TOPIC_ALREADY_EXISTS',
    [ErrorCode.INVALID_PARTITIONS]: 'INVALID_PARTITIONS',
    [ErrorCode.INVALID_CONFIG]: 'INVALID_CONFIG',
  };
  if (e.code === ErrorCode.NOT_CONTROLLER) return new KafkaError(e.code, e.message);
  const kind = kinds[e.code];
  return kind ? new StorageError(kind, e.message) : e;
}

/**
 * Applies committed changes in commit order (storage calls are async; one at a time). `applied(offset)` is the
 * application of the change committed at `offset` (an operation awaits it before it answers).
 */
export class MetadataApplier {
  #chain: Promise<void> = Promise.resolve();
  readonly #byOffset = new Map<number, Promise<void>>();
  readonly #o: { storage: Storage; partitions: PartitionManager; topics: TopicRegistry; log: Logger };

  constructor(controller: QuorumController, o: { storage: Storage; partitions: PartitionManager; topics: TopicRegistry; log: Logger }) {
    this.#o = o;
    controller.subscribe((c) => {
      const p = this.#chain.then(() => this.#apply(c));
      this.#chain = p.catch((e: Error) => o.log.error(`applying metadata at offset ${c.offset}: ${e.message}`));
      // Kept until it settles: several operations committed in one batch share its offset and all wait for it.
      this.#byOffset.set(c.offset, p);
      void this.#chain.then(() => { if (this.#byOffset.get(c.offset) === p) this.#byOffset.delete(c.offset); });
    });
  }

  /** The application of the change committed at `offset` (resolved when there was none). */
  applied(offset: number): Promise<void> {
    return this.#byOffset.get(offset) ?? Promise.resolve();
  }

  /** Waits for every queued application (close). */
  async idle(): Promise<void> {
    await this.#chain;
    this.#byOffset.clear();
  }

  async #apply(c: CommittedChange): Promise<void> {
    const { storage, partitions, topics, log } = this.#o;
    // The topics the batch touches (by id), and topic config resources (by name).
    const ids = new Set<string>();
    const names = new Set<string>();
    for (const r of c.records) {
      if (r.type === T.Topic || r.type === T.Partition || r.type === T.RemoveTopic) ids.add(r.data.topicId);
      else if (r.type === T.Config && r.data.resourceType === ConfigResourceType.TOPIC) names.add(r.data.resourceName);
    }
    if (c.records.length === 0) { // a loaded snapshot: everything may have changed
      for (const id of c.before.topics.byId.keys()) ids.add(id);
      for (const id of c.after.topics.byId.keys()) ids.add(id);
    }
    for (const id of ids) {
      const was: TopicImage | undefined = c.before.topics.byId.get(id);
      const now: TopicImage | undefined = c.after.topics.byId.get(id);
      if (was && !now) {
        topics.remove(was.name);
        partitions.remove(was.name);
        // Absent after a creation storage could not complete (then rolled back by this removal).
        if (storage.getTopic(was.name)) await storage.deleteTopic(was.name);
        log.info(`deleted topic ${was.name}`);
      } else if (!was && now) {
        const configs = topicConfigs(c.after, now.name);
        // The broker creates a topic's logs before it proposes it (all or nothing, see server.ts); a snapshot or
        // another path may not have.
        if (storage.getTopic(now.name)?.topicId !== now.id) await storage.createTopic(now.name, { partitions: now.partitions.size, topicId: now.id, configs });
        partitions.open(now.name);
        topics.add({ name: now.name, topicId: now.id, partitions: now.partitions.size, configs: new Map(Object.entries(configs)), internal: isInternalTopic(now.name) });
        names.delete(now.name);
        log.info(`created topic ${now.name} with ${now.partitions.size} partition(s), id ${now.id}`);
      } else if (was && now && now.partitions.size > was.partitions.size) {
        if ((storage.getTopic(now.name)?.partitions ?? 0) < now.partitions.size) await storage.addPartitions(now.name, now.partitions.size);
        partitions.open(now.name);
        const t = topics.get(now.name);
        if (t) t.partitions = now.partitions.size;
      }
    }
    for (const name of names) {
      const t = topics.get(name);
      if (!t || !c.after.topics.byName.has(name)) continue;
      const configs = topicConfigs(c.after, name);
      await storage.alterTopicConfigs(name, configs);
      t.configs = new Map(Object.entries(configs));
    }
  }
}
