// The group coordinator wired to broker config and the hosted partitions (server.ts creates it at start).
import type { BrokerConfig } from '../config.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import type { PartitionManager } from '../partitions/index.ts';
import { type CoordinatorConfig, GroupCoordinator } from './coordinator.ts';
import type { ConsumerGroupConfig, TopicView } from './consumer/group.ts';
import { type CreateTopicFn, OffsetsTopicLog, loadOffsetsTopic } from './persistence.ts';

export { GroupCoordinator } from './coordinator.ts';
export { OFFSETS_TOPIC, partitionForGroup } from './records.ts';

/** A random UUID in Java's UUID.toString() form (Kafka's member ids are `<client id>-<uuid>`). */
export function javaUuid(randomBytes: (n: number) => Buffer): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function coordinatorConfig(config: BrokerConfig): CoordinatorConfig {
  return {
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    maxSize: config.int('group.max.size'),
    newMemberJoinTimeoutMs: 5 * 60 * 1000,
    offsetMetadataMaxBytes: config.int('offset.metadata.max.bytes'),
    offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: config.int('offsets.retention.check.interval.ms'),
  };
}

/** Kafka's `group.consumer.*` configs for the KIP-848 consumer groups. */
export function consumerGroupConfig(c: BrokerConfig): Partial<ConsumerGroupConfig> {
  return {
    sessionTimeoutMs: c.int('group.consumer.session.timeout.ms'),
    heartbeatIntervalMs: c.int('group.consumer.heartbeat.interval.ms'),
    maxSize: c.int('group.consumer.max.size'),
    assignors: c.list('group.consumer.assignors'),
    migrationPolicy: c.get('group.consumer.migration.policy') ?? 'bidirectional',
    classicMaxSize: c.int('group.max.size'),
  };
}

/**
 * topics: given, the KIP-848 consumer groups exist from the start, so the groups replayed from
 * `__consumer_offsets` are served (and their members' sessions run) before any heartbeat.
 */
export function createGroupCoordinator(opts: { config: BrokerConfig; partitions: PartitionManager; clock: Clock; log: Logger; randomBytes: (n: number) => Buffer; createTopic: CreateTopicFn; topics?: TopicView }): GroupCoordinator {
  const store = new OffsetsTopicLog(opts.partitions, opts.config.int('offsets.topic.num.partitions'), () => opts.clock.now(), opts.config.int('offsets.topic.segment.bytes'));
  store.setCreateTopic(opts.createTopic);
  const gc = new GroupCoordinator({
    clock: opts.clock, log: opts.log, store, uuid: () => javaUuid(opts.randomBytes), config: coordinatorConfig(opts.config),
  });
  if (opts.topics) gc.consumerGroups(opts.topics, consumerGroupConfig(opts.config));
  return gc;
}

/** Replays `__consumer_offsets` if it exists, starts offset expiration. */
export async function startGroupCoordinator(opts: { coordinator: GroupCoordinator; partitions: PartitionManager; log: Logger }): Promise<void> {
  const n = await loadOffsetsTopic({ partitions: opts.partitions, coordinator: opts.coordinator, log: opts.log });
  if (n > 0) opts.log.info(`loaded ${n} record(s) from __consumer_offsets: ${opts.coordinator.groups.size} group(s)`);
  opts.coordinator.startExpiration();
}
