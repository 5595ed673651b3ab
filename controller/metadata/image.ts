// The metadata image: what the `__cluster_metadata` log says the cluster is, after replaying it (Kafka's
// MetadataImage). Every collection is read-only; a MetadataDelta builds the next image and shares the
// parts it did not touch (a topic's partitions map is copied only when one of its partitions changes).

/** Kafka's DirectoryId.MIGRATING (the zero UUID): a replica whose directory is not tracked. */
export const DIRECTORY_MIGRATING = 'AAAAAAAAAAAAAAAAAAAAAA';

/** ConfigResource.Type ids as ConfigRecord carries them. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;

export interface Endpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: number;
}

export interface SupportedFeature {
  readonly name: string;
  readonly minSupportedVersion: number;
  readonly maxSupportedVersion: number;
}

export interface BrokerRegistration {
  readonly id: number;
  readonly epoch: bigint;
  readonly incarnationId: string;
  readonly endpoints: readonly Endpoint[];
  readonly features: readonly SupportedFeature[];
  readonly rack: string | null;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  readonly isMigratingZkBroker: boolean;
  readonly logDirs: readonly string[];
  /** null until the broker reports them (RegisterBrokerRecord v4). */
  readonly cordonedLogDirs: readonly string[] | null;
}

export interface ControllerRegistration {
  readonly id: number;
  readonly incarnationId: string;
  readonly zkMigrationReady: boolean;
  readonly endpoints: readonly Endpoint[];
  readonly features: readonly SupportedFeature[];
}

export interface PartitionRegistration {
  readonly replicas: readonly number[];
  /** One per replica (DIRECTORY_MIGRATING when not tracked). */
  readonly directories: readonly string[];
  readonly isr: readonly number[];
  readonly removingReplicas: readonly number[];
  readonly addingReplicas: readonly number[];
  /** -1: no leader. */
  readonly leader: number;
  /** 0 recovered, 1 recovering (after an unclean election). */
  readonly leaderRecoveryState: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly elr: readonly number[];
  readonly lastKnownElr: readonly number[];
}

export interface TopicImage {
  readonly name: string;
  readonly id: string;
  readonly partitions: ReadonlyMap<number, PartitionRegistration>;
}

export interface TopicsImage {
  readonly byId: ReadonlyMap<string, TopicImage>;
  readonly byName: ReadonlyMap<string, TopicImage>;
}

/** One ACL as the metadata log holds it (AccessControlEntryRecord; Kafka's StandardAcl), by its id. */
export interface StandardAcl {
  readonly id: string;
  /** AclResourceType: 2 TOPIC, 3 GROUP, 4 CLUSTER, 5 TRANSACTIONAL_ID, 6 DELEGATION_TOKEN, 7 USER. */
  readonly resourceType: number;
  readonly resourceName: string;
  /** PatternType: 3 LITERAL, 4 PREFIXED. */
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  /** AclOperation code (2 ALL … 15 TWO_PHASE_COMMIT; controller/acls.ts). */
  readonly operation: number;
  /** AclPermissionType: 2 DENY, 3 ALLOW. */
  readonly permissionType: number;
}

/** `${resourceType}:${resourceName}` (see configKey) → config name → value. */
export type ConfigsImage = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface MetadataImage {
  /** Offset and epoch of the last record replayed into this image (-1, -1: none). */
  readonly offset: bigint;
  readonly epoch: number;
  /** Finalized feature levels, metadata.version included. A feature at level 0 is absent. */
  readonly features: ReadonlyMap<string, number>;
  readonly brokers: ReadonlyMap<number, BrokerRegistration>;
  readonly controllers: ReadonlyMap<number, ControllerRegistration>;
  readonly topics: TopicsImage;
  readonly configs: ConfigsImage;
  /** The first producer id of the next block (-1: none allocated yet). */
  readonly nextProducerId: bigint;
  /** ACLs by id. */
  readonly acls: ReadonlyMap<string, StandardAcl>;
}

export const METADATA_VERSION_FEATURE = 'metadata.version';

export const EMPTY_IMAGE: MetadataImage = Object.freeze({
  offset: -1n,
  epoch: -1,
  features: new Map(),
  brokers: new Map(),
  controllers: new Map(),
  topics: Object.freeze({ byId: new Map(), byName: new Map() }),
  configs: new Map(),
  nextProducerId: -1n,
  acls: new Map(),
});

export function configKey(resourceType: number, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}

export function parseConfigKey(key: string): { resourceType: number; resourceName: string } {
  const i = key.indexOf(':');
  return { resourceType: Number(key.slice(0, i)), resourceName: key.slice(i + 1) };
}

/** The config overrides of one resource (empty when it has none). */
export function resourceConfigs(image: MetadataImage, resourceType: number, resourceName: string): ReadonlyMap<string, string> {
  return image.configs.get(configKey(resourceType, resourceName)) ?? new Map();
}
