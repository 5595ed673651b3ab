// The __consumer_offsets partition of a group, which AddOffsetsToTxn adds to a transaction and
// TxnOffsetCommit verifies.
import { OFFSETS_TOPIC, partitionForGroup } from '../groups/records.ts';
import type { BrokerContext } from '../context.ts';

export function offsetsPartitionFor(broker: BrokerContext, groupId: string): { topic: string; partition: number } {
  const n = broker.storage.getTopic(OFFSETS_TOPIC)?.partitions ?? broker.config.int('offsets.topic.num.partitions');
  return { topic: OFFSETS_TOPIC, partition: partitionForGroup(groupId, n) };
}
