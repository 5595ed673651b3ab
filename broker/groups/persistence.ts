// `__consumer_offsets`: every coordinator record is appended to partition abs(hash(groupId)) % n and
// replayed into the coordinator at start, so committed offsets and the groups' last state survive a
// restart. Like Kafka, the topic is created on first use (offsets.topic.num.partitions partitions,
// cleanup.policy=compact): a broker nobody used for groups lists no topics. FindCoordinator waits for the
// creation instead of answering COORDINATOR_NOT_AVAILABLE, so clients need no retry.
import { buildRecordBatch, CONTROL_TYPE_COMMIT, records as iterateRecords } from '../../protocol/records.ts';
import { markerType } from '../producers/index.ts';
import { replayTopic } from '../internal-topic.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { KafkaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PartitionManager } from '../partitions/index.ts';
import type { CoordinatorLog, CoordinatorRecord, GroupCoordinator } from './coordinator.ts';
import {
  type ConsumerGroupKey, OFFSETS_TOPIC, decodeGroupMetadataValue, decodeKey, decodeOffsetCommitValue, partitionForGroup,
} from './records.ts';

export type CreateTopicFn = (name: string, partitions: number, configs: Map<string, string>) => Promise<unknown>;

export const OFFSETS_TOPIC_CONFIGS: ReadonlyMap<string, string> = new Map([
  ['cleanup.policy', 'compact'], ['compression.type', 'producer'], ['segment.bytes', '104857600'],
]);

export class OffsetsTopicLog implements CoordinatorLog {
  readonly #partitions: PartitionManager;
  readonly #configuredPartitions: number;
  readonly #now: () => number;
  #create: CreateTopicFn | null = null;
  #creating: Promise<void> | null = null;
  readonly #segmentBytes: number | undefined;

  /** segmentBytes: offsets.topic.segment.bytes (Kafka creates the topic with it). */
  constructor(hosted: PartitionManager, partitions: number, now: () => number, segmentBytes?: number) {
    this.#partitions = hosted;
    this.#configuredPartitions = partitions;
    this.#now = now;
    this.#segmentBytes = segmentBytes;
  }

  /** How the topic gets created on first use (the broker's createTopic). */
  setCreateTopic(fn: CreateTopicFn): void { this.#create = fn; }

  /** An existing topic keeps its partition count (as in Kafka); else offsets.topic.num.partitions. */
  get partitions(): number { return this.#partitions.partitionCount(OFFSETS_TOPIC) ?? this.#configuredPartitions; }

  partitionFor(groupId: string): number { return partitionForGroup(groupId, this.partitions); }

  ensure(): Promise<void> {
    if (this.#partitions.partitionCount(OFFSETS_TOPIC) !== undefined) return Promise.resolve();
    if (!this.#create) return Promise.reject(new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC} does not exist`));
    const configs = new Map(OFFSETS_TOPIC_CONFIGS);
    if (this.#segmentBytes !== undefined) configs.set('segment.bytes', String(this.#segmentBytes));
    this.#creating ??= this.#create(OFFSETS_TOPIC, this.#configuredPartitions, configs).then(
      () => { this.#creating = null; },
      (err) => { this.#creating = null; throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `creating ${OFFSETS_TOPIC}: ${(err as Error).message}`, { cause: err }); },
    );
    return this.#creating;
  }

  async append(groupId: string, records: CoordinatorRecord[], txn?: { producerId: bigint; producerEpoch: number }): Promise<void> {
    await this.ensure();
    const partition = this.#partitions.get(OFFSETS_TOPIC, this.partitionFor(groupId));
    if (!partition) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${OFFSETS_TOPIC} partition missing`);
    const now = this.#now();
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })), now,
      ...(txn ? { producerId: txn.producerId, producerEpoch: txn.producerEpoch, baseSequence: 0, isTransactional: true } : {}),
    });
    await partition.append(batch); // wakes fetches of __consumer_offsets
  }
}

/** Replays `__consumer_offsets` (when it exists) into the coordinator. */
export async function loadOffsetsTopic(opts: { partitions: PartitionManager; coordinator: GroupCoordinator; log: Logger }): Promise<number> {
  const { partitions, coordinator, log } = opts;
  let n = 0;
  await replayTopic(partitions, OFFSETS_TOPIC, log, (view, p, from) => {
    if (view.isControl) {
      // A transaction marker: TxnOffsetCommit offsets of that producer become committed or are dropped.
      if (view.baseOffset >= from) {
        const type = markerType(view);
        if (type >= 0) coordinator.completeTxnOffsets(view.producerId, type === CONTROL_TYPE_COMMIT);
      }
      return;
    }
    for (const r of iterateRecords(view)) {
      if (r.offset < from || r.key === null) continue;
      try {
        const key = decodeKey(r.key);
        if (key?.type === 'offset' && view.isTransactional && r.value !== null) coordinator.replayTxnOffset(view.producerId, key.group, key.topic, key.partition, decodeOffsetCommitValue(r.value));
        else if (key?.type === 'offset') coordinator.replayOffset(key.group, key.topic, key.partition, r.value === null ? null : decodeOffsetCommitValue(r.value));
        else if (key?.type === 'group') coordinator.replayGroup(key.group, r.value === null ? null : decodeGroupMetadataValue(r.value));
        else if (key !== null && key.type.startsWith('cg-')) coordinator.replayConsumerRecord(key as ConsumerGroupKey, r.value);
        n++;
      } catch (err) {
        log.warn(`${OFFSETS_TOPIC}-${p} offset ${r.offset}: skipping undecodable record: ${(err as Error).message}`);
      }
    }
  });
  coordinator.finishLoading();
  return n;
}
