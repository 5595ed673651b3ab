// MetadataDelta: records replayed in log order on top of an image, Kafka's MetadataDelta / ClusterDelta /
// TopicsDelta / ConfigurationsDelta / FeaturesDelta semantics. A record that does not fit the image (a
// partition of an unknown topic, a broker epoch that does not match, ...) is a MetadataReplayError: in
// Kafka the same is a fault of the metadata loader, i.e. a corrupt or foreign log, never a client error.
// The record types gregor has no feature for (SCRAM, delegation tokens, client quotas, metadata
// transactions, ZK migration) are refused rather than dropped, so a snapshot never silently loses them.

import { type MetadataRecord, MetadataRecordType as T } from '../../protocol/generated/metadata/index.ts';
import type { BrokerRegistrationChangeRecord } from '../../protocol/generated/metadata/broker-registration-change-record.ts';
import type { PartitionChangeRecord } from '../../protocol/generated/metadata/partition-change-record.ts';
import type { PartitionRecord } from '../../protocol/generated/metadata/partition-record.ts';
import type { RegisterBrokerRecord } from '../../protocol/generated/metadata/register-broker-record.ts';
import {
  type BrokerRegistration, type ControllerRegistration, DIRECTORY_MIGRATING, type MetadataImage, METADATA_VERSION_FEATURE,
  type PartitionRegistration, type StandardAcl, type TopicImage, ConfigResourceType, configKey,
} from './image.ts';

/** PartitionChangeRecord.Leader: -2 means "the leader did not change" (LeaderConstants.NO_LEADER_CHANGE). */
export const NO_LEADER_CHANGE = -2;
export const NO_LEADER = -1;

export class MetadataReplayError extends Error {
  override name = 'MetadataReplayError';
}

/** Directories default to MIGRATING when absent or all MIGRATING (PartitionRegistration.defaultToMigrating). */
function defaultToMigrating(dirs: readonly string[] | null, n: number): readonly string[] {
  if (dirs === null || dirs.every((d) => d === DIRECTORY_MIGRATING)) return Array.from({ length: n }, () => DIRECTORY_MIGRATING);
  return dirs;
}

export function partitionFromRecord(r: PartitionRecord): PartitionRegistration {
  if (r.directories.length > 0 && r.directories.length !== r.replicas.length) {
    throw new MetadataReplayError(`PartitionRecord ${r.topicId}-${r.partitionId}: ${r.directories.length} directories for ${r.replicas.length} replicas`);
  }
  return {
    replicas: [...r.replicas],
    directories: defaultToMigrating(r.directories, r.replicas.length),
    isr: [...r.isr],
    removingReplicas: [...r.removingReplicas],
    addingReplicas: [...r.addingReplicas],
    leader: r.leader,
    leaderRecoveryState: r.leaderRecoveryState,
    leaderEpoch: r.leaderEpoch,
    partitionEpoch: r.partitionEpoch,
    elr: r.eligibleLeaderReplicas ? [...r.eligibleLeaderReplicas] : [],
    lastKnownElr: r.lastKnownElr ? [...r.lastKnownElr] : [],
  };
}

/** PartitionRegistration.merge: null / -2 / -1 fields leave the value as it was; any change bumps the partition epoch. */
export function mergePartitionChange(p: PartitionRegistration, r: PartitionChangeRecord): PartitionRegistration {
  const replicas = r.replicas ?? p.replicas;
  if (r.replicas !== null && r.directories !== null && r.directories.length > 0 && r.directories.length !== r.replicas.length) {
    throw new MetadataReplayError(`PartitionChangeRecord ${r.topicId}-${r.partitionId}: ${r.directories.length} directories for ${r.replicas.length} replicas`);
  }
  const leaderChanged = r.leader !== NO_LEADER_CHANGE;
  return {
    replicas: [...replicas],
    directories: defaultToMigrating(r.directories ?? p.directories, replicas.length),
    isr: r.isr ? [...r.isr] : p.isr,
    removingReplicas: r.removingReplicas ? [...r.removingReplicas] : p.removingReplicas,
    addingReplicas: r.addingReplicas ? [...r.addingReplicas] : p.addingReplicas,
    leader: leaderChanged ? r.leader : p.leader,
    // LeaderRecoveryState.changeTo: -1 keeps the current state.
    leaderRecoveryState: r.leaderRecoveryState === -1 ? p.leaderRecoveryState : r.leaderRecoveryState,
    leaderEpoch: leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
    elr: r.eligibleLeaderReplicas ? [...r.eligibleLeaderReplicas] : p.elr,
    lastKnownElr: r.lastKnownElr ? [...r.lastKnownElr] : p.lastKnownElr,
  };
}

export function brokerFromRecord(r: RegisterBrokerRecord): BrokerRegistration {
  return {
    id: r.brokerId,
    epoch: r.brokerEpoch,
    incarnationId: r.incarnationId,
    endpoints: r.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
    features: r.features.map((f) => ({ name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion })),
    rack: r.rack,
    fenced: r.fenced,
    inControlledShutdown: r.inControlledShutdown,
    isMigratingZkBroker: r.isMigratingZkBroker,
    logDirs: [...r.logDirs],
    cordonedLogDirs: r.cordonedLogDirs ? [...r.cordonedLogDirs] : null,
  };
}

/** Copy-on-write map: the image's map until the first write. */
class Cow<K, V> {
  #map: ReadonlyMap<K, V>;
  #owned = false;
  constructor(map: ReadonlyMap<K, V>) {
    this.#map = map;
  }
  get(k: K): V | undefined {
    return this.#map.get(k);
  }
  has(k: K): boolean {
    return this.#map.has(k);
  }
  #own(): Map<K, V> {
    if (!this.#owned) {
      this.#map = new Map(this.#map);
      this.#owned = true;
    }
    return this.#map as Map<K, V>;
  }
  set(k: K, v: V): void {
    this.#own().set(k, v);
  }
  delete(k: K): void {
    if (this.#map.has(k)) this.#own().delete(k);
  }
  values(): IterableIterator<V> {
    return this.#map.values();
  }
  get map(): ReadonlyMap<K, V> {
    return this.#map;
  }
}

/**
 * Replays records on top of `base`; `apply()` returns the new image (the base is never modified).
 * A MetadataReplayError leaves the delta in an undefined state: drop it. `apply()` ends the delta.
 */
export class MetadataDelta {
  readonly base: MetadataImage;
  #offset: bigint;
  #epoch: number;
  readonly #features: Cow<string, number>;
  readonly #brokers: Cow<number, BrokerRegistration>;
  readonly #controllers: Cow<number, ControllerRegistration>;
  readonly #topicsById: Cow<string, TopicImage>;
  readonly #topicsByName: Cow<string, TopicImage>;
  /** Partitions maps this delta owns (copied from the base topic), by topic id. */
  readonly #ownedPartitions = new Map<string, Map<number, PartitionRegistration>>();
  readonly #configs: Cow<string, ReadonlyMap<string, string>>;
  readonly #ownedConfigs = new Set<string>();
  #nextProducerId: bigint;
  readonly #acls: Cow<string, StandardAcl>;
  #applied = false;

  constructor(base: MetadataImage) {
    this.base = base;
    this.#offset = base.offset;
    this.#epoch = base.epoch;
    this.#features = new Cow(base.features);
    this.#brokers = new Cow(base.brokers);
    this.#controllers = new Cow(base.controllers);
    this.#topicsById = new Cow(base.topics.byId);
    this.#topicsByName = new Cow(base.topics.byName);
    this.#configs = new Cow(base.configs);
    this.#nextProducerId = base.nextProducerId;
    this.#acls = new Cow(base.acls);
  }

  /** Replays one record; `offset`/`epoch` (of the log entry) become the image's provenance. */
  replay(rec: MetadataRecord, offset?: bigint, epoch?: number): void {
    if (this.#applied) throw new Error('MetadataDelta.replay after apply()');
    switch (rec.type) {
      case T.FeatureLevel: {
        const { name, featureLevel } = rec.data;
        if (featureLevel === 0) {
          if (name === METADATA_VERSION_FEATURE) throw new MetadataReplayError('metadata.version cannot be removed');
          this.#features.delete(name);
        } else this.#features.set(name, featureLevel);
        break;
      }
      case T.RegisterBroker:
        this.#brokers.set(rec.data.brokerId, brokerFromRecord(rec.data));
        break;
      case T.UnregisterBroker:
        this.#brokerOrThrow(rec.data.brokerId, rec.data.brokerEpoch, 'unregister');
        this.#brokers.delete(rec.data.brokerId);
        break;
      case T.FenceBroker:
        this.#changeBroker(rec.data.id, rec.data.epoch, 'fence', { fenced: true });
        break;
      case T.UnfenceBroker:
        this.#changeBroker(rec.data.id, rec.data.epoch, 'unfence', { fenced: false });
        break;
      case T.BrokerRegistrationChange:
        this.#replayRegistrationChange(rec.data);
        break;
      case T.RegisterController: {
        const r = rec.data;
        this.#controllers.set(r.controllerId, {
          id: r.controllerId,
          incarnationId: r.incarnationId,
          zkMigrationReady: r.zkMigrationReady,
          endpoints: r.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
          features: r.features.map((f) => ({ name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion })),
        });
        break;
      }
      case T.UnregisterController:
        if (!this.#controllers.has(rec.data.controllerId)) throw new MetadataReplayError(`unregister of unknown controller ${rec.data.controllerId}`);
        this.#controllers.delete(rec.data.controllerId);
        break;
      case T.Topic: {
        const { name, topicId } = rec.data;
        if (this.#topicsById.has(topicId)) throw new MetadataReplayError(`TopicRecord ${name}: topic id ${topicId} already exists`);
        if (this.#topicsByName.has(name)) throw new MetadataReplayError(`TopicRecord ${name}: a topic with this name already exists`);
        const partitions = new Map<number, PartitionRegistration>();
        this.#ownedPartitions.set(topicId, partitions);
        const t: TopicImage = { name, id: topicId, partitions };
        this.#topicsById.set(topicId, t);
        this.#topicsByName.set(name, t);
        break;
      }
      case T.Partition:
        this.#partitionsOf(rec.data.topicId, 'PartitionRecord').set(rec.data.partitionId, partitionFromRecord(rec.data));
        break;
      case T.PartitionChange: {
        const parts = this.#partitionsOf(rec.data.topicId, 'PartitionChangeRecord');
        const p = parts.get(rec.data.partitionId);
        if (!p) throw new MetadataReplayError(`PartitionChangeRecord: unknown partition ${rec.data.topicId}-${rec.data.partitionId}`);
        parts.set(rec.data.partitionId, mergePartitionChange(p, rec.data));
        break;
      }
      case T.RemoveTopic: {
        const t = this.#topicsById.get(rec.data.topicId);
        if (!t) throw new MetadataReplayError(`RemoveTopicRecord: unknown topic id ${rec.data.topicId}`);
        this.#topicsById.delete(t.id);
        this.#topicsByName.delete(t.name);
        this.#ownedPartitions.delete(t.id);
        // MetadataDelta.replay(RemoveTopicRecord): the topic's config overrides go with it.
        this.#configs.delete(configKey(ConfigResourceType.TOPIC, t.name));
        break;
      }
      case T.ClearElr:
        this.#clearElr(rec.data.topicName);
        break;
      case T.Config: {
        const { resourceType, resourceName, name, value } = rec.data;
        const key = configKey(resourceType, resourceName);
        let m = this.#configs.get(key);
        if (value === null && !m?.has(name)) break;
        if (!this.#ownedConfigs.has(key)) {
          m = new Map(m ?? []);
          this.#ownedConfigs.add(key);
          this.#configs.set(key, m);
        }
        const own = m as Map<string, string>;
        if (value === null) own.delete(name);
        else own.set(name, value);
        if (own.size === 0) {
          this.#configs.delete(key);
          this.#ownedConfigs.delete(key);
        }
        break;
      }
      case T.ProducerIds:
        // ProducerIdsDelta takes the record as is (the controller checked it when it wrote it).
        this.#nextProducerId = rec.data.nextProducerId;
        break;
      case T.AccessControlEntry: {
        // AclControlManager.replay: ids are unique; the controller never writes an ACL twice.
        const a = rec.data;
        if (this.#acls.has(a.id)) throw new MetadataReplayError(`AccessControlEntryRecord: an ACL with id ${a.id} already exists`);
        this.#acls.set(a.id, {
          id: a.id, resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType,
          principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType,
        });
        break;
      }
      case T.RemoveAccessControlEntry:
        if (!this.#acls.has(rec.data.id)) throw new MetadataReplayError(`RemoveAccessControlEntryRecord: no ACL with id ${rec.data.id}`);
        this.#acls.delete(rec.data.id);
        break;
      case T.NoOp:
        break;
      default:
        throw new MetadataReplayError(`metadata record type ${rec.type} is not supported by gregor`);
    }
    if (offset !== undefined) this.#offset = offset;
    if (epoch !== undefined) this.#epoch = epoch;
  }

  #brokerOrThrow(id: number, epoch: bigint, what: string): BrokerRegistration {
    const b = this.#brokers.get(id);
    if (!b) throw new MetadataReplayError(`tried to ${what} broker ${id}, which is not registered`);
    if (b.epoch !== epoch) throw new MetadataReplayError(`tried to ${what} broker ${id} at epoch ${epoch}, but its epoch is ${b.epoch}`);
    return b;
  }

  #changeBroker(id: number, epoch: bigint, what: string, change: Partial<BrokerRegistration>): void {
    this.#brokers.set(id, { ...this.#brokerOrThrow(id, epoch, what), ...change });
  }

  #replayRegistrationChange(r: BrokerRegistrationChangeRecord): void {
    const change: { fenced?: boolean; inControlledShutdown?: boolean; logDirs?: readonly string[]; cordonedLogDirs?: readonly string[] } = {};
    // BrokerRegistrationFencingChange: 1 fence, -1 unfence, 0 none.
    if (r.fenced === 1) change.fenced = true;
    else if (r.fenced === -1) change.fenced = false;
    else if (r.fenced !== 0) throw new MetadataReplayError(`BrokerRegistrationChangeRecord: bad fenced value ${r.fenced}`);
    // BrokerRegistrationInControlledShutdownChange: 1 in controlled shutdown, 0 none.
    if (r.inControlledShutdown === 1) change.inControlledShutdown = true;
    else if (r.inControlledShutdown !== 0) throw new MetadataReplayError(`BrokerRegistrationChangeRecord: bad inControlledShutdown value ${r.inControlledShutdown}`);
    if (r.logDirs.length > 0) change.logDirs = [...r.logDirs];
    if (r.cordonedLogDirs !== null) change.cordonedLogDirs = [...r.cordonedLogDirs];
    this.#changeBroker(r.brokerId, r.brokerEpoch, 'change', change);
  }

  #partitionsOf(topicId: string, what: string): Map<number, PartitionRegistration> {
    const owned = this.#ownedPartitions.get(topicId);
    if (owned) return owned;
    const t = this.#topicsById.get(topicId);
    if (!t) throw new MetadataReplayError(`${what}: unknown topic id ${topicId}`);
    const partitions = new Map(t.partitions);
    const next: TopicImage = { name: t.name, id: t.id, partitions };
    this.#ownedPartitions.set(topicId, partitions);
    this.#topicsById.set(topicId, next);
    this.#topicsByName.set(t.name, next);
    return partitions;
  }

  /** ClearElrRecord: empty topic name = every topic; each partition with an ELR gets an empty one (a partition change). */
  #clearElr(topicName: string): void {
    let topics: TopicImage[];
    if (topicName === '') topics = [...this.#topicsById.values()];
    else {
      const t = this.#topicsByName.get(topicName);
      if (!t) throw new MetadataReplayError(`ClearElrRecord: unknown topic ${topicName}`);
      topics = [t];
    }
    for (const t of topics) {
      for (const [id, p] of t.partitions) {
        if (p.elr.length === 0 && p.lastKnownElr.length === 0) continue;
        const parts = this.#partitionsOf(t.id, 'ClearElrRecord');
        parts.set(id, { ...p, elr: [], lastKnownElr: [], partitionEpoch: p.partitionEpoch + 1 });
      }
    }
  }

  /**
   * The image so far, without ending the delta: its maps are the delta's own and change with later replays, so
   * read it at once (the controller validates operations against it) and never keep it.
   */
  view(): MetadataImage {
    return {
      offset: this.#offset,
      epoch: this.#epoch,
      features: this.#features.map,
      brokers: this.#brokers.map,
      controllers: this.#controllers.map,
      topics: { byId: this.#topicsById.map, byName: this.#topicsByName.map },
      configs: this.#configs.map,
      acls: this.#acls.map,
      nextProducerId: this.#nextProducerId,
    };
  }

  /** The new image; the delta hands its maps over and cannot replay more. */
  apply(): MetadataImage {
    this.#applied = true;
    return this.view();
  }

}

/** Replays `records` on top of `base` (default: the empty image). */
export function replayAll(base: MetadataImage, records: Iterable<MetadataRecord>): MetadataImage {
  const d = new MetadataDelta(base);
  for (const r of records) d.replay(r);
  return d.apply();
}
