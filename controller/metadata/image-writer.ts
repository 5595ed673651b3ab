// An image as a sequence of records (a snapshot's content), in Kafka's MetadataImage.write order: features
// (metadata.version first), cluster (brokers, then controllers), topics (each TopicRecord followed by its
// PartitionRecords), configs, producer ids, ACLs. Within each part the order is sorted, so equal images give
// equal snapshots. Record versions follow the metadata.version, as Kafka's ImageWriterOptions picks them.

import { type MetadataRecord, MetadataRecordType as T } from '../../protocol/generated/metadata/index.ts';
import { makePartitionRecord } from '../../protocol/generated/metadata/partition-record.ts';
import { makeRegisterBrokerRecord } from '../../protocol/generated/metadata/register-broker-record.ts';
import { makeRegisterControllerRecord } from '../../protocol/generated/metadata/register-controller-record.ts';
import { DIRECTORY_MIGRATING, type MetadataImage, METADATA_VERSION_FEATURE, parseConfigKey } from './image.ts';
import {
  MetadataVersion, isControllerRegistrationSupported, isDirectoryAssignmentSupported, isElrSupported,
  partitionRecordVersion, registerBrokerRecordVersion,
} from './metadata-version.ts';

export class ImageWriteLossError extends Error {
  override name = 'ImageWriteLossError';
}

export interface ImageWriterOptions {
  /** metadata.version level to write at (default: the image's). */
  metadataVersion?: number;
}

const byString = <T>(key: (x: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export function imageToRecords(image: MetadataImage, opts: ImageWriterOptions = {}): MetadataRecord[] {
  const mv = opts.metadataVersion ?? image.features.get(METADATA_VERSION_FEATURE);
  if (mv === undefined) throw new ImageWriteLossError('the image has no metadata.version');
  if (mv < MetadataVersion.MINIMUM) throw new ImageWriteLossError(`metadata.version ${mv} is below the minimum ${MetadataVersion.MINIMUM}`);
  const out: MetadataRecord[] = [];

  out.push({ type: T.FeatureLevel, version: 0, data: { name: METADATA_VERSION_FEATURE, featureLevel: mv } });
  for (const [name, level] of [...image.features].sort(byString(([n]) => n))) {
    if (name !== METADATA_VERSION_FEATURE) out.push({ type: T.FeatureLevel, version: 0, data: { name, featureLevel: level } });
  }

  const dirs = isDirectoryAssignmentSupported(mv);
  const rbv = registerBrokerRecordVersion(mv);
  for (const b of [...image.brokers.values()].sort((x, y) => x.id - y.id)) {
    if (!dirs && b.logDirs.length > 0) throw new ImageWriteLossError(`broker ${b.id}: log directories need metadata.version >= ${MetadataVersion.IBP_3_7_IV2}`);
    out.push({
      type: T.RegisterBroker,
      version: rbv,
      data: makeRegisterBrokerRecord({
        brokerId: b.id,
        isMigratingZkBroker: b.isMigratingZkBroker,
        incarnationId: b.incarnationId,
        brokerEpoch: b.epoch,
        endPoints: b.endpoints.map((e) => ({ ...e })),
        features: b.features.map((f) => ({ ...f })),
        rack: b.rack,
        fenced: b.fenced,
        inControlledShutdown: b.inControlledShutdown,
        logDirs: dirs ? [...b.logDirs] : [],
        cordonedLogDirs: rbv >= 4 && b.cordonedLogDirs ? [...b.cordonedLogDirs] : null,
      }),
    });
  }
  if (image.controllers.size > 0 && !isControllerRegistrationSupported(mv)) {
    throw new ImageWriteLossError(`controller registrations need metadata.version >= ${MetadataVersion.IBP_3_7_IV0}`);
  }
  for (const c of [...image.controllers.values()].sort((x, y) => x.id - y.id)) {
    out.push({
      type: T.RegisterController,
      version: 0,
      data: makeRegisterControllerRecord({
        controllerId: c.id,
        incarnationId: c.incarnationId,
        zkMigrationReady: c.zkMigrationReady,
        endPoints: c.endpoints.map((e) => ({ ...e })),
        features: c.features.map((f) => ({ ...f })),
      }),
    });
  }

  const prv = partitionRecordVersion(mv);
  const elr = isElrSupported(mv);
  for (const t of [...image.topics.byName.values()].sort(byString((x) => x.name))) {
    out.push({ type: T.Topic, version: 0, data: { name: t.name, topicId: t.id } });
    for (const [id, p] of [...t.partitions].sort((a, b) => a[0] - b[0])) {
      if (!dirs && p.directories.some((d) => d !== DIRECTORY_MIGRATING)) throw new ImageWriteLossError(`${t.name}-${id}: replica directories need metadata.version >= ${MetadataVersion.IBP_3_7_IV2}`);
      if (!elr && (p.elr.length > 0 || p.lastKnownElr.length > 0)) throw new ImageWriteLossError(`${t.name}-${id}: ELR needs metadata.version >= ${MetadataVersion.IBP_4_0_IV1}`);
      out.push({
        type: T.Partition,
        version: prv,
        data: makePartitionRecord({
          partitionId: id,
          topicId: t.id,
          replicas: [...p.replicas],
          isr: [...p.isr],
          removingReplicas: [...p.removingReplicas],
          addingReplicas: [...p.addingReplicas],
          leader: p.leader,
          leaderRecoveryState: p.leaderRecoveryState,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          directories: dirs ? [...p.directories] : [],
          // Tagged: written only when non-empty, as Kafka does.
          eligibleLeaderReplicas: elr && p.elr.length > 0 ? [...p.elr] : null,
          lastKnownElr: elr && p.lastKnownElr.length > 0 ? [...p.lastKnownElr] : null,
        }),
      });
    }
  }

  for (const [key, configs] of [...image.configs].sort(byString(([k]) => k))) {
    const { resourceType, resourceName } = parseConfigKey(key);
    for (const [name, value] of [...configs].sort(byString(([n]) => n))) {
      out.push({ type: T.Config, version: 0, data: { resourceType, resourceName, name, value } });
    }
  }

  // ProducerIdsImage.write: only once a block was allocated; broker id/epoch are not kept in the image.
  if (image.nextProducerId >= 0n) {
    out.push({ type: T.ProducerIds, version: 0, data: { brokerId: -1, brokerEpoch: -1n, nextProducerId: image.nextProducerId } });
  }
  // AclsImage.write: one AccessControlEntryRecord per ACL (sorted by id here, for equal snapshots).
  for (const a of [...image.acls.values()].sort(byString((x) => x.id))) {
    out.push({ type: T.AccessControlEntry, version: 0, data: { ...a } });
  }
  return out;
}
