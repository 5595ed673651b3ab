// Writes transaction markers into data partitions (this node leads every partition, so Kafka's
// WriteTxnMarkers round trip is a local append). After each marker is written the partition's producer
// state closes the producer's transaction (moving the last stable offset), an abort is added to the
// aborted-transaction index, and long-polling fetches are woken.
import { buildEndTxnMarker } from '../../protocol/records.ts';
import type { Storage } from '../../storage/index.ts';
import type { AppendNotifier } from '../append-notifier.ts';
import type { Clock } from '../clock.ts';
import type { ProducerRegistry } from '../producers/index.ts';
import type { MarkerWriter, TopicPartition } from './coordinator.ts';


export interface MarkerWriterOptions {
  storage: Storage;
  producers: ProducerRegistry;
  appends: AppendNotifier;
  clock: Clock;
  /** Called after a marker is written (the group coordinator applies or drops transactional offsets). */
  onMarker?: (topic: string, partition: number, producerId: bigint, commit: boolean) => void;
}

export function createMarkerWriter(opts: MarkerWriterOptions): MarkerWriter {
  const { storage, producers, appends, clock } = opts;
  const one = async (producerId: bigint, producerEpoch: number, commit: boolean, tp: TopicPartition): Promise<void> => {
    const log = storage.partition(tp.topic, tp.partition);
    if (!log) return; // deleted since it joined the transaction: Kafka drops markers for unknown partitions
    const now = clock.now();
    const st = producers.partition(log);
    const at = log.nextOffset; // the marker's offset: storage assigns it synchronously in append()
    st.markerStarted(at);
    let baseOffset: number;
    try {
      baseOffset = (await log.append(buildEndTxnMarker({ producerId, producerEpoch, commit, coordinatorEpoch: 0, timestamp: now, partitionLeaderEpoch: 0 }), { leaderEpoch: 0 })).baseOffset;
    } catch (err) {
      st.markerSettled(at);
      throw err;
    }
    // Synchronously with the end of the append: no snapshot or fetch sees the marker without its effect.
    const first = st.completeTxn(producerId, producerEpoch, 0, now);
    st.markerSettled(at);
    if (!commit && first !== undefined) {
      log.addAbortedTxn({ producerId, firstOffset: first, lastOffset: baseOffset, lastStableOffset: Math.min(st.firstUnstableOffset ?? Infinity, log.highWatermark) });
    }
    appends.notify(tp.topic, tp.partition);
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
