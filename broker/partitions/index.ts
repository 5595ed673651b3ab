// The partitions this broker hosts (Kafka's ReplicaManager.allPartitions): one Partition per topic
// partition, opened as topics are created or grown and dropped when they are deleted. Storage is reached
// through here only; handlers look partitions up with `get` / `getOrError`.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { nodeFs, type PartitionLog, type Storage } from '../../storage/index.ts';
import type { AppendNotifier } from '../append-notifier.ts';
import { Partition } from './partition.ts';

export { Partition } from './partition.ts';
export type { AppendEffects, PartitionRole } from './partition.ts';

export class PartitionManager {
  readonly #storage: Storage;
  readonly #appends: AppendNotifier;
  readonly #topics = new Map<string, Partition[]>();

  /** Opens a Partition for every partition storage loaded. */
  constructor(storage: Storage, appends: AppendNotifier) {
    this.#storage = storage;
    this.#appends = appends;
    for (const t of storage.topics()) this.open(t.name);
  }

  /**
   * Hosts every partition of `topic` storage has that is not hosted yet (after storage created the
   * topic or added partitions). Synchronous, so no request sees a topic without its partitions.
   */
  open(topic: string): void {
    const meta = this.#storage.getTopic(topic);
    if (!meta) return;
    let list = this.#topics.get(topic);
    if (!list) this.#topics.set(topic, (list = []));
    for (let p = list.length; p < meta.partitions; p++) {
      const log = this.#storage.partition(topic, p);
      if (!log) break;
      list.push(new Partition(log, { topicId: meta.topicId, appends: this.#appends }));
    }
  }

  /** Stops hosting the topic's partitions at once (its data goes with storage.deleteTopic). */
  remove(topic: string): void {
    this.#topics.delete(topic);
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.#topics.get(topic)?.[partition];
  }

  /**
   * Kafka's ReplicaManager.getPartitionOrError for a leader operation: the Partition, or
   * UNKNOWN_TOPIC_OR_PARTITION (not hosted), KAFKA_STORAGE_ERROR (offline), NOT_LEADER_OR_FOLLOWER.
   */
  getOrError(topic: string, partition: number): Partition | number {
    const p = this.get(topic, partition);
    if (!p) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (p.offline) return ErrorCode.KAFKA_STORAGE_ERROR;
    if (!p.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return p;
  }

  /** The hosted partitions of `topic`, by index (empty when unknown). */
  partitionsOf(topic: string): readonly Partition[] {
    return this.#topics.get(topic) ?? [];
  }

  /** How many partitions of `topic` are hosted, or undefined when the topic is not. */
  partitionCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.length;
  }

  /** The hosted topics, in the order they were opened. */
  topicNames(): IterableIterator<string> {
    return this.#topics.keys();
  }

  *all(): Generator<Partition> {
    for (const list of this.#topics.values()) yield* list;
  }

  /** The Partition holding `log`, unless it was deleted (or re-created) meanwhile. */
  ofLog(log: PartitionLog): Partition | undefined {
    const p = this.get(log.topic, log.partition);
    return p?.log === log ? p : undefined;
  }

  /** Calls `fn` after a segment of a hosted partition rolled. */
  onRoll(fn: (p: Partition) => void): void {
    this.#storage.onRoll((log) => {
      const p = this.ofLog(log);
      if (p) fn(p);
    });
  }

  /** Partitions that cannot take appends (corrupt segment at start-up, failed sync). */
  offline(): Partition[] {
    return [...this.all()].filter((p) => p.offline !== null);
  }

  /** The log dir (DescribeLogDirs): its path, and whether it is on the real file system. */
  get logDir(): { path: string; onDisk: boolean } {
    return { path: this.#storage.dataDir, onDisk: this.#storage.fs === nodeFs };
  }
}
