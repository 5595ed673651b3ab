// One-time migration of a single-node data dir: the content of `gregor-topics.json` (storage's TopicMeta
// list) as the metadata records Kafka's controller writes when it creates those topics (TopicRecord, a
// ConfigRecord per override, a PartitionRecord per partition led by this node). Pure: the caller reads
// the file, appends the records to `__cluster_metadata` and logs that it migrated.

import { type MetadataRecord, MetadataRecordType as T } from '../../protocol/generated/metadata/index.ts';
import { makePartitionRecord } from '../../protocol/generated/metadata/partition-record.ts';
import { ConfigResourceType, DIRECTORY_MIGRATING } from './image.ts';
import { MetadataVersion, isDirectoryAssignmentSupported, partitionRecordVersion } from './metadata-version.ts';

export class TopicsFileError extends Error {
  override name = 'TopicsFileError';
}

export interface MigrateOptions {
  /** This node's id: the one replica, ISR member and leader of every partition. */
  nodeId: number;
  /** metadata.version level the records are written at (default: Kafka 4.4's latest production). */
  metadataVersion?: number;
  /** The partition's current leader epoch (its log's leader-epoch cache); default 0, as a new topic. */
  leaderEpoch?: (topic: string, partition: number) => number;
}

const UUID = /^[A-Za-z0-9_-]{22}$/;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** `gregor-topics.json` content → records. A malformed file is a TopicsFileError naming what is wrong. */
export function topicsFileToRecords(content: string | Buffer, opts: MigrateOptions): MetadataRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString());
  } catch (e) {
    throw new TopicsFileError(`not JSON: ${(e as Error).message}`);
  }
  const file = parsed as { version?: unknown; topics?: unknown };
  if (typeof file !== 'object' || file === null || file.version !== 1 || !Array.isArray(file.topics)) {
    throw new TopicsFileError('expected {"version": 1, "topics": [...]}');
  }
  const mv = opts.metadataVersion ?? MetadataVersion.LATEST_PRODUCTION;
  const prv = partitionRecordVersion(mv);
  const dirs = isDirectoryAssignmentSupported(mv);
  const names = new Set<string>();
  const ids = new Set<string>();
  const out: MetadataRecord[] = [];
  for (const t of file.topics as unknown[]) {
    const { name, topicId, partitions, configs } = (t ?? {}) as { name?: unknown; topicId?: unknown; partitions?: unknown; configs?: unknown };
    if (typeof name !== 'string' || name === '') throw new TopicsFileError(`a topic without a name: ${JSON.stringify(t)}`);
    if (typeof topicId !== 'string' || !UUID.test(topicId) || topicId === ZERO_UUID) throw new TopicsFileError(`topic ${name}: bad topic id ${JSON.stringify(topicId)}`);
    if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) throw new TopicsFileError(`topic ${name}: bad partition count ${JSON.stringify(partitions)}`);
    if (configs !== undefined && (typeof configs !== 'object' || configs === null || Array.isArray(configs))) throw new TopicsFileError(`topic ${name}: configs must be an object`);
    if (names.has(name)) throw new TopicsFileError(`topic ${name} appears twice`);
    if (ids.has(topicId)) throw new TopicsFileError(`topic id ${topicId} appears twice`);
    names.add(name);
    ids.add(topicId);

    out.push({ type: T.Topic, version: 0, data: { name, topicId } });
    for (const [k, v] of Object.entries((configs ?? {}) as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (typeof v !== 'string') throw new TopicsFileError(`topic ${name}: config ${k} is not a string`);
      out.push({ type: T.Config, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: name, name: k, value: v } });
    }
    for (let p = 0; p < partitions; p++) {
      out.push({
        type: T.Partition,
        version: prv,
        data: makePartitionRecord({
          partitionId: p,
          topicId,
          replicas: [opts.nodeId],
          isr: [opts.nodeId],
          leader: opts.nodeId,
          leaderEpoch: opts.leaderEpoch?.(name, p) ?? 0,
          partitionEpoch: 0,
          directories: dirs ? [DIRECTORY_MIGRATING] : [],
        }),
      });
    }
  }
  return out;
}
