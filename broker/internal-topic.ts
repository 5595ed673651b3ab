// Replays an internal topic (`__consumer_offsets`, `__transaction_state`) into its coordinator at start.
import { RecordBatchView } from '../protocol/records.ts';
import type { Logger } from './log.ts';
import type { PartitionManager } from './partitions/index.ts';

const LOAD_CHUNK_BYTES = 4 << 20;

/**
 * Calls `onBatch` for every batch of every partition of `topic`, from its log start, in offset order.
 * `from` is the first offset not delivered before: a batch read again at a chunk boundary may start below
 * it, and its records below `from` must be skipped. A read error ends that partition (logged).
 */
export async function replayTopic(partitions: PartitionManager, topic: string, log: Logger, onBatch: (view: RecordBatchView, partition: number, from: number) => void): Promise<void> {
  for (const part of partitions.partitionsOf(topic)) {
    const p = part.index;
    let offset = part.logStartOffset;
    while (offset < part.highWatermark) {
      const res = await part.read(offset, LOAD_CHUNK_BYTES, { minOneBatch: true });
      if (res.error !== null) {
        log.error(`loading ${topic}-${p} at ${offset}: ${res.message}`);
        break;
      }
      let next = offset;
      for (const buf of res.batches) {
        for (let pos = 0; pos + 61 <= buf.length;) {
          const view = new RecordBatchView(buf, pos);
          if (pos + view.size > buf.length) break;
          pos += view.size;
          onBatch(view, p, offset);
          next = Math.max(next, view.nextOffset);
        }
      }
      if (next <= offset) break;
      offset = next;
    }
  }
}
