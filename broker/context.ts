// What handlers see of the broker. Time and randomness are injected so tests are deterministic.
import type { Clock } from '../storage/clock.ts';
import type { Storage } from '../storage/index.ts';
import type { QuorumController } from '../controller/quorum-controller.ts';
import type { AppendNotifier } from './append-notifier.ts';
import type { BrokerConfig } from './config.ts';
import type { FetchSessionCache } from './fetch-sessions.ts';
import type { GroupCoordinator } from './groups/coordinator.ts';
import type { Logger } from './log.ts';
import type { BrokerMetrics } from './metrics/counters.ts';
import type { PartitionManager } from './partitions/index.ts';
import type { ProducerRegistry } from './producers/index.ts';
import type { TopicInfo, TopicRegistry } from './topics.ts';
import type { TransactionCoordinator } from './transactions/index.ts';
import type { ScramStore } from './security/scram-store.ts';
import type { Authorizer } from './security/authorizer.ts';

export interface AdvertisedAddress {
  host: string;
  port: number;
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly rack: string | null;
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly log: Logger;
  readonly clock: Clock;
  readonly randomBytes: (n: number) => Buffer;
  /** What ApiVersions advertises: the served version range of each API (the handler table's, as data). */
  readonly apiVersions: ReadonlyArray<{ readonly apiKey: number; readonly minVersion: number; readonly maxVersion: number }>;
  /** Metric counters, only when gregor.http.listener is on (metrics/counters.ts); one call per event. */
  readonly metrics?: BrokerMetrics;
  /** The address clients should use for the given listener. */
  advertisedAddress(listenerName: string): AdvertisedAddress | undefined;
  /** The hosted partitions: handlers reach a partition's log, epoch and producer state only through these. */
  readonly partitions: PartitionManager;
  /** The metadata quorum's controller (single voter: this node); every topic change is committed through it. */
  readonly controller: QuorumController;
  /** Storage-wide operations (topic metadata, tests); partition data goes through `partitions`. */
  readonly storage: Storage;
  /** Long-polling fetches subscribe here; every successful append notifies. */
  readonly appends: AppendNotifier;
  readonly fetchSessions: FetchSessionCache;
  /** The group coordinator (this node coordinates every group); its state lives in __consumer_offsets. */
  readonly groups: GroupCoordinator;
  /** Producer ids (InitProducerId) and per-partition producer state (idempotent Produce). */
  readonly producers: ProducerRegistry;
  /** The transaction coordinator (this node coordinates every transactional id); state in __transaction_state. */
  readonly transactions: TransactionCoordinator;
  /** The ACL authorizer (`authorizer.class.name`); null: none, everything is allowed (security/authorizer.ts). */
  readonly authorizer: Authorizer | null;
  /** SCRAM credentials (security/scram-store.ts), opened on first use. */
  scramCredentials(): Promise<ScramStore>;
  /** The pending creation of this topic, if one is under way. */
  pendingCreation(name: string): Promise<TopicInfo> | undefined;
  /**
   * Creates a topic (the caller has validated name, counts and configs). The name is reserved at once
   * (isCreating) and the topic enters the registry once its partitions exist in storage.
   */
  createTopic(name: string, partitions: number, configs?: Map<string, string>): Promise<TopicInfo>;
  /** A creation of this topic is under way: Metadata answers LEADER_NOT_AVAILABLE meanwhile. */
  isCreating(name: string): boolean;
  /** Removes the topic from the registry at once (no new appends) and its data from storage. */
  deleteTopic(name: string): Promise<void>;
  /** Grows the topic to `total` partitions. */
  addPartitions(name: string, total: number): Promise<void>;
  /** Replaces the topic's config overrides. */
  alterTopicConfigs(name: string, configs: Map<string, string>): Promise<void>;
}
