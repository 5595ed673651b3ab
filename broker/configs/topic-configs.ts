// Kafka 4.4's topic configs: name, type, default, validator and broker synonyms (the broker configs
// that supply the default when a topic has no override, highest priority first, with unit conversion).
// Checked against a Kafka 4.4.0 broker's CreateTopics / DescribeConfigs answers. Gone in Kafka 4:
// message.format.version, message.timestamp.difference.max.ms, message.downconversion.enable (unknown
// names now). Documentation strings are not carried.
import type { ConfigType } from '../config.ts';

export type Validator =
  | { kind: 'atLeast'; min: number }
  | { kind: 'between'; min: number; max: number }
  | { kind: 'in'; values: readonly string[] }
  | { kind: 'listIn'; values: readonly string[] }
  | { kind: 'compressionLevel'; min: number; max: number; orEqual?: number }
  | { kind: 'throttledReplicas' }
  | { kind: 'remoteStorage' }
  | { kind: 'schemaValidation' };

export interface Synonym {
  /** Broker config name. */
  name: string;
  /** Multiplier from the broker config's unit to the topic config's (hours → ms: 3600000). */
  factor?: number;
}

export interface TopicConfigEntry {
  name: string;
  type: ConfigType;
  default: string;
  validator?: Validator;
  /** Broker configs supplying the default, highest priority first; empty = none. */
  synonyms: readonly Synonym[];
  /**
   * Confluent Platform's config, not Apache Kafka's: DescribeConfigs lists it only when the topic overrides it
   * or it is asked for by name, so a topic describes as on Kafka 4.4 otherwise.
   */
  confluent?: boolean;
}

const LONG_MAX = '9223372036854775807';
/** Confluent's subject name strategies (the class names its serializers and Confluent Server take). */
export const SUBJECT_STRATEGIES: readonly string[] = ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy']
  .map((n) => `io.confluent.kafka.serializers.subject.${n}`);
const H = 3600_000;
const M = 60_000;

const t = (name: string, type: ConfigType, def: string, synonyms: (string | Synonym)[] = [], validator?: Validator): TopicConfigEntry =>
  ({ name, type, default: def, validator, synonyms: synonyms.map((s) => (typeof s === 'string' ? { name: s } : s)) });
const atLeast = (min: number): Validator => ({ kind: 'atLeast', min });

export const TOPIC_CONFIGS: readonly TopicConfigEntry[] = [
  t('cleanup.policy', 'list', 'delete', ['log.cleanup.policy'], { kind: 'listIn', values: ['compact', 'delete'] }),
  t('compression.gzip.level', 'int', '-1', ['compression.gzip.level'], { kind: 'compressionLevel', min: 1, max: 9, orEqual: -1 }),
  t('compression.lz4.level', 'int', '9', ['compression.lz4.level'], { kind: 'compressionLevel', min: 1, max: 17 }),
  t('compression.type', 'string', 'producer', ['compression.type'], { kind: 'in', values: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] }),
  t('compression.zstd.level', 'int', '3', ['compression.zstd.level'], { kind: 'compressionLevel', min: -131072, max: 22 }),
  t('delete.retention.ms', 'long', '86400000', ['log.cleaner.delete.retention.ms'], atLeast(0)),
  t('errors.deadletterqueue.group.enable', 'boolean', 'false'),
  t('file.delete.delay.ms', 'long', '60000', ['log.segment.delete.delay.ms'], atLeast(0)),
  t('flush.messages', 'long', LONG_MAX, ['log.flush.interval.messages'], atLeast(1)),
  t('flush.ms', 'long', LONG_MAX, ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'], atLeast(0)),
  t('follower.replication.throttled.replicas', 'list', '', [], { kind: 'throttledReplicas' }),
  t('index.interval.bytes', 'int', '4096', ['log.index.interval.bytes'], atLeast(0)),
  t('leader.replication.throttled.replicas', 'list', '', [], { kind: 'throttledReplicas' }),
  t('local.retention.bytes', 'long', '-2', ['log.local.retention.bytes'], atLeast(-2)),
  t('local.retention.ms', 'long', '-2', ['log.local.retention.ms'], atLeast(-2)),
  t('max.compaction.lag.ms', 'long', LONG_MAX, ['log.cleaner.max.compaction.lag.ms'], atLeast(1)),
  t('max.decompressed.message.bytes', 'int', '2147483639', ['max.decompressed.message.bytes'], atLeast(1)),
  t('max.message.bytes', 'int', '1048588', ['message.max.bytes'], atLeast(0)),
  t('message.timestamp.after.max.ms', 'long', '3600000', ['log.message.timestamp.after.max.ms'], atLeast(0)),
  t('message.timestamp.before.max.ms', 'long', LONG_MAX, ['log.message.timestamp.before.max.ms'], atLeast(0)),
  t('message.timestamp.type', 'string', 'CreateTime', ['log.message.timestamp.type'], { kind: 'in', values: ['CreateTime', 'LogAppendTime'] }),
  t('min.cleanable.dirty.ratio', 'double', '0.5', ['log.cleaner.min.cleanable.ratio'], { kind: 'between', min: 0, max: 1 }),
  t('min.compaction.lag.ms', 'long', '0', ['log.cleaner.min.compaction.lag.ms'], atLeast(0)),
  t('min.insync.replicas', 'int', '1', ['min.insync.replicas'], atLeast(1)),
  t('preallocate', 'boolean', 'false', ['log.preallocate']),
  t('remote.copy.lag.bytes', 'long', '-1', ['log.remote.copy.lag.bytes'], atLeast(-1)),
  t('remote.copy.lag.ms', 'long', '0', ['log.remote.copy.lag.ms']),
  t('remote.log.copy.disable', 'boolean', 'false'),
  t('remote.log.delete.on.disable', 'boolean', 'false'),
  t('remote.storage.enable', 'boolean', 'false', [], { kind: 'remoteStorage' }),
  t('retention.bytes', 'long', '-1', ['log.retention.bytes']),
  t('retention.ms', 'long', '604800000', ['log.retention.ms', { name: 'log.retention.minutes', factor: M }, { name: 'log.retention.hours', factor: H }], atLeast(-1)),
  t('segment.bytes', 'int', '1073741824', ['log.segment.bytes'], atLeast(1024 * 1024)),
  t('segment.index.bytes', 'int', '10485760', ['log.index.size.max.bytes'], atLeast(4)),
  t('segment.jitter.ms', 'long', '0', ['log.roll.jitter.ms', { name: 'log.roll.jitter.hours', factor: H }], atLeast(0)),
  t('segment.ms', 'long', '604800000', ['log.roll.ms', { name: 'log.roll.hours', factor: H }], atLeast(1)),
  t('unclean.leader.election.enable', 'boolean', 'false', ['unclean.leader.election.enable']),
  // Confluent Server's broker-side schema validation (issue 23 item 5; broker/schema-registry/validation.ts).
  ...['key', 'value'].flatMap((kv) => [
    { ...t(`confluent.${kv}.schema.validation`, 'boolean', 'false', [], { kind: 'schemaValidation' }), confluent: true },
    { ...t(`confluent.${kv}.subject.name.strategy`, 'string', SUBJECT_STRATEGIES[0], [], { kind: 'in', values: SUBJECT_STRATEGIES }), confluent: true },
  ]),
];

export const TOPIC_CONFIGS_BY_NAME: ReadonlyMap<string, TopicConfigEntry> = new Map(TOPIC_CONFIGS.map((e) => [e.name, e]));

/**
 * Broker configs that Kafka treats as one setting in several units (DynamicBrokerConfig.brokerConfigSynonyms):
 * describing any of them lists the group's synonyms from that name on.
 */
export const BROKER_SYNONYM_GROUPS: readonly (readonly string[])[] = [
  ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ['log.roll.ms', 'log.roll.hours'],
  ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
  ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
];
