// `__transaction_state`: every transition of a transactional id is appended to partition
// abs(hash(transactionalId)) % n (Kafka's partitionFor) and replayed at start. Like Kafka, the topic is
// created on first use (transaction.state.log.num.partitions partitions, compacted, uncompressed).
import { buildRecordBatch, records as iterateRecords } from '../../protocol/records.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { KafkaError } from '../errors.ts';
import { partitionForGroup } from '../groups/records.ts';
import { replayTopic } from '../internal-topic.ts';
import type { Logger } from '../log.ts';
import type { PartitionManager } from '../partitions/index.ts';
import type { TxnStore } from './coordinator.ts';
import {
  TRANSACTION_STATE_TOPIC, type TransactionLogValue, decodeTransactionLogKey, decodeTransactionLogValue,
  encodeTransactionLogKey, encodeTransactionLogValue,
} from './records.ts';

export type CreateTopicFn = (name: string, partitions: number, configs: Map<string, string>) => Promise<unknown>;

export class TransactionStateLog implements TxnStore {
  readonly #partitions: PartitionManager;
  readonly #configuredPartitions: number;
  readonly #segmentBytes: number;
  readonly #now: () => number;
  readonly #create: CreateTopicFn;
  #creating: Promise<void> | null = null;

  constructor(opts: { partitions: PartitionManager; numPartitions: number; segmentBytes: number; now: () => number; createTopic: CreateTopicFn }) {
    this.#partitions = opts.partitions;
    this.#configuredPartitions = opts.numPartitions;
    this.#segmentBytes = opts.segmentBytes;
    this.#now = opts.now;
    this.#create = opts.createTopic;
  }

  /** An existing topic keeps its partition count; else transaction.state.log.num.partitions. */
  get partitions(): number { return this.#partitions.partitionCount(TRANSACTION_STATE_TOPIC) ?? this.#configuredPartitions; }

  partitionFor(transactionalId: string): number { return partitionForGroup(transactionalId, this.partitions); }

  ensure(): Promise<void> {
    if (this.#partitions.partitionCount(TRANSACTION_STATE_TOPIC) !== undefined) return Promise.resolve();
    const configs = new Map([['cleanup.policy', 'compact'], ['compression.type', 'uncompressed'], ['segment.bytes', String(this.#segmentBytes)]]);
    this.#creating ??= this.#create(TRANSACTION_STATE_TOPIC, this.#configuredPartitions, configs).then(
      () => { this.#creating = null; },
      (err) => { this.#creating = null; throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `creating ${TRANSACTION_STATE_TOPIC}: ${(err as Error).message}`, { cause: err }); },
    );
    return this.#creating;
  }

  async append(transactionalId: string, value: TransactionLogValue | null): Promise<void> {
    await this.ensure();
    const partition = this.#partitions.get(TRANSACTION_STATE_TOPIC, this.partitionFor(transactionalId));
    if (!partition) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${TRANSACTION_STATE_TOPIC} partition missing`);
    const now = this.#now();
    const batch = buildRecordBatch({ records: [{ key: encodeTransactionLogKey(transactionalId), value: value === null ? null : encodeTransactionLogValue(value), timestamp: now }], now });
    await partition.append(batch); // wakes fetches of __transaction_state
  }
}

/** Replays `__transaction_state` (when it exists); returns the number of records read. */
export async function loadTransactionState(opts: { partitions: PartitionManager; log: Logger; replay: (id: string, v: TransactionLogValue | null) => void }): Promise<number> {
  const { partitions, log } = opts;
  let n = 0;
  await replayTopic(partitions, TRANSACTION_STATE_TOPIC, log, (view, p, from) => {
    if (view.isControl) return;
    for (const r of iterateRecords(view)) {
      if (r.offset < from || r.key === null) continue;
      try {
        const id = decodeTransactionLogKey(r.key);
        if (id === null) continue;
        opts.replay(id, r.value === null ? null : decodeTransactionLogValue(r.value));
        n++;
      } catch (err) {
        log.warn(`${TRANSACTION_STATE_TOPIC}-${p} offset ${r.offset}: skipping undecodable record: ${(err as Error).message}`);
      }
    }
  });
  return n;
}
