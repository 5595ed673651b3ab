// The transaction coordinator wired to broker config and the hosted partitions (server.ts creates it at start).
import type { BrokerConfig } from '../config.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import type { PartitionManager } from '../partitions/index.ts';
import type { ProducerRegistry } from '../producers/index.ts';
import { TransactionCoordinator } from './coordinator.ts';
import { createMarkerWriter } from './markers.ts';
import { type CreateTopicFn, TransactionStateLog, loadTransactionState } from './state-log.ts';

export { TransactionCoordinator } from './coordinator.ts';
export type { TxnMetadata, TopicPartition } from './coordinator.ts';
export { TRANSACTION_STATE_TOPIC, TXN_STATES } from './records.ts';
export type { TxnState } from './records.ts';

export interface TransactionsOptions {
  config: BrokerConfig;
  partitions: PartitionManager;
  producers: ProducerRegistry;
  clock: Clock;
  log: Logger;
  createTopic: CreateTopicFn;
  onMarker?: (topic: string, partition: number, producerId: bigint, commit: boolean) => void;
}

export function createTransactionCoordinator(opts: TransactionsOptions): TransactionCoordinator {
  const { config } = opts;
  const store = new TransactionStateLog({
    partitions: opts.partitions, numPartitions: config.int('transaction.state.log.num.partitions'),
    segmentBytes: config.int('transaction.state.log.segment.bytes'), now: () => opts.clock.now(), createTopic: opts.createTopic,
  });
  return new TransactionCoordinator({
    clock: opts.clock, log: opts.log, store,
    markers: createMarkerWriter({ partitions: opts.partitions, clock: opts.clock, onMarker: opts.onMarker }),
    generateProducerId: () => opts.producers.ids.generate(),
    maxTimeoutMs: config.int('transaction.max.timeout.ms'),
    abortCheckIntervalMs: config.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    idExpirationMs: config.int('transactional.id.expiration.ms'),
    idExpirationCheckIntervalMs: config.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
  });
}

/** Replays `__transaction_state`, completes interrupted transactions, arms the timers. */
export async function startTransactionCoordinator(opts: { coordinator: TransactionCoordinator; partitions: PartitionManager; log: Logger }): Promise<void> {
  const n = await loadTransactionState({ partitions: opts.partitions, log: opts.log, replay: (id, v) => opts.coordinator.replay(id, v) });
  if (n > 0) opts.log.info(`loaded ${n} record(s) from __transaction_state: ${opts.coordinator.size} transactional id(s)`);
  opts.coordinator.start();
}
