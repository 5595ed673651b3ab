// Transactions in log compaction, as Kafka's Cleaner and CleanedTransactionMetadata decide them:
//
// - Aborted transactions come from the `.txnindex` entries overlapping the range being read; while
//   scanning in offset order, an entry becomes "ongoing" once its first offset is reached. A
//   transactional data batch of a producer with an ongoing aborted transaction is aborted data: its
//   records go (and never enter the offset map); any other transactional batch is committed data and
//   is compacted like any other.
// - A marker is discardable when no data batch of its transaction was seen in the same range: an ABORT
//   whose data was all removed earlier, a COMMIT whose data is gone (or lies in an earlier cleaning group,
//   which Kafka accepts too: consumers treat unaborted transactional data as committed). A retained abort
//   marker whose data was seen keeps its `.txnindex` entry in the cleaned segment; every other entry goes.
// - A discardable marker is kept until the delete horizon (KIP-534) stamped on its batch passes: the first
//   cleaning sets it to now + delete.retention.ms, a cleaning after it removes the marker.
// - A batch that is its producer's last (Kafka's isBatchLastRecordOfProducer, from the active producers,
//   i.e. those not expired by producer.id.expiration.ms) keeps at least its header.
import type { AbortedTxn } from './txn-index.ts';

export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

/** What the owner of a log (the broker's partition) tells the cleaner about producers and transactions. */
export interface TransactionBounds {
  /** First offset of the oldest open transaction (Kafka's firstUnstableOffset), undefined when none. */
  firstUnstableOffset(): number | undefined;
  /**
   * Kafka's activeProducers: producer id → last data offset (-1: none since its last epoch change) and
   * epoch. Producers that expired are absent, so their last batch headers may go.
   */
  activeProducers(): ReadonlyMap<bigint, { lastDataOffset: number; epoch: number }>;
}

/** Kafka's CleanedTransactionMetadata for one range (the offset map's, or one cleaning group's). */
export class CleanedTransactions {
  /** Aborted transactions not reached yet, by first offset. */
  readonly #pending: AbortedTxn[];
  #next = 0;
  /** Producer id → its ongoing aborted transaction and whether a data batch of it was seen. */
  readonly #ongoingAborted = new Map<bigint, { txn: AbortedTxn; seenData: boolean }>();
  readonly #ongoingCommitted = new Set<bigint>();
  /** Aborted transactions whose marker stays with data: the cleaned segment's `.txnindex`. */
  readonly kept: AbortedTxn[] = [];

  constructor(aborted: readonly AbortedTxn[]) {
    this.#pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  #consumeUpTo(offset: number): void {
    while (this.#next < this.#pending.length && this.#pending[this.#next].firstOffset <= offset) {
      const txn = this.#pending[this.#next++];
      if (!this.#ongoingAborted.has(txn.producerId)) this.#ongoingAborted.set(txn.producerId, { txn, seenData: false });
    }
  }

  /** A data batch: true when it belongs to an aborted transaction (its records go). */
  onBatch(producerId: bigint, transactional: boolean, lastOffset: number): boolean {
    this.#consumeUpTo(lastOffset);
    if (!transactional) return false;
    const a = this.#ongoingAborted.get(producerId);
    if (a) {
      a.seenData = true;
      return true;
    }
    this.#ongoingCommitted.add(producerId);
    return false;
  }

  /** A control batch (`type` 0 abort, 1 commit, -1 no record left, else other): true when the marker may be discarded. */
  onMarker(producerId: bigint, type: number, lastOffset: number): boolean {
    this.#consumeUpTo(lastOffset);
    if (type === -1) return true; // an empty control batch: already cleaned
    if (type === 0) {
      const a = this.#ongoingAborted.get(producerId);
      this.#ongoingAborted.delete(producerId);
      if (a?.seenData) {
        this.kept.push(a.txn);
        return false;
      }
      return true;
    }
    if (type === 1) return !this.#ongoingCommitted.delete(producerId);
    return false;
  }
}

/** Aborted transactions overlapping [from, to) among the segments' `.txnindex` entries (Kafka's collectAbortedTransactions). */
export function abortedIn(segments: ReadonlyArray<{ aborted: readonly AbortedTxn[] }>, from: number, to: number): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (const s of segments) for (const e of s.aborted) if (e.lastOffset >= from && e.firstOffset < to) out.push(e);
  return out;
}
