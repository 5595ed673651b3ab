// Writes transaction markers into data partitions (this node leads every partition, so Kafka's
// WriteTxnMarkers round trip is a local append). After each marker is written the partition's producer
// state closes the producer's transaction (moving the last stable offset), an abort is added to the
// aborted-transaction index, and long-polling fetches are woken.
import { buildEndTxnMarker } from '../../protocol/records.ts';
import type { Clock } from '../../storage/clock.ts';
import type { PartitionManager } from '../partitions/index.ts';
import type { MarkerWriter, TopicPartition } from './coordinator.ts';


export interface MarkerWriterOptions {
  partitions: PartitionManager;
  clock: Clock;
  /** Called after a marker is written (the group coordinator applies or drops transactional offsets). */
  onMarker?: (topic: string, partition: number, producerId: bigint, commit: boolean) => void;
}

export function createMarkerWriter(opts: MarkerWriterOptions): MarkerWriter {
  const { partitions, clock } = opts;
  const one = async (producerId: bigint, producerEpoch: number, commit: boolean, tp: TopicPartition): Promise<void> => {
    const partition = partitions.get(tp.topic, tp.partition);
    if (!partition) return; // deleted since it joined the transaction: Kafka drops markers for unknown partitions
    const now = clock.now();
    const st = partition.producerState;
    const at = partition.nextOffset; // the marker's offset: assigned synchronously in append()
    st.markerStarted(at);
    const marker = buildEndTxnMarker({ producerId, producerEpoch, commit, coordinatorEpoch: 0, timestamp: now, partitionLeaderEpoch: partition.leaderEpoch });
    await partition.append(marker, {
      // Synchronously with the end of the append, before fetches wake: none sees the marker without its effect.
      written: ({ baseOffset }) => {
        const first = st.completeTxn(producerId, producerEpoch, 0, now);
        st.markerSettled(at);
        if (!commit && first !== undefined) {
          partition.log.addAbortedTxn({ producerId, firstOffset: first, lastOffset: baseOffset, lastStableOffset: Math.min(st.firstUnstableOffset ?? Infinity, partition.highWatermark) });
        }
      },
      failed: () => st.markerSettled(at),
    });
    opts.onMarker?.(tp.topic, tp.partition, producerId, commit);
  };
  return {
    async write(producerId, producerEpoch, commit, partitions) {
      const results = await Promise.allSettled(partitions.map((tp) => one(producerId, producerEpoch, commit, tp)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
  };
}
