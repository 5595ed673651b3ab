// Producer state of one partition, as Kafka's ProducerStateManager / ProducerStateEntry / ProducerAppendInfo
// keep it: per producer id the epoch and the metadata of its last five batches (sequence range, offsets,
// max timestamp), which is what deduplicates retries and detects gaps.
//
// Appends here are asynchronous (storage writes in the background), so a batch is checked and *reserved*
// synchronously (`check`), before the storage append, against the committed state plus the batches of the
// same producer still in flight; the state itself changes only when the append succeeded (`commit`), and a
// failed append just drops its reservation (`release`). Two pipelined batches of one producer therefore
// cannot both pass as "next in sequence", and a retry of a batch still being written waits for it.
//
// Transactions (Kafka's ProducerStateEntry.currentTxnFirstOffset): the first offset of each producer's
// open transaction in this partition. It is registered when the first transactional batch is reserved
// (its offset is then known: storage assigns offsets synchronously at append), before the bytes are
// written, so the last stable offset (`firstUnstableOffset`, else the high watermark) never exposes an
// open transaction's batch. A marker (`completeTxn`) closes it and may bump the producer's epoch.
import { ErrorCode } from '../../protocol/generated/errors.ts';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN. */
export const BATCHES_TO_RETAIN = 5;
const INT32_MAX = 2147483647;
const NO_EPOCH = -1;

export interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's max timestamp as stored (the append time on LogAppendTime topics). */
  timestamp: number;
}

export interface ProducerEntry {
  epoch: number;
  /** Oldest first; at most BATCHES_TO_RETAIN. */
  batches: BatchMeta[];
  /** Max timestamp of the last batch (Kafka expires producers by it, not by wall-clock arrival). */
  lastTimestamp: number;
  /** Coordinator epoch of the last marker (-1: none). */
  coordinatorEpoch?: number;
}

/** What `check` needs of a batch (RecordBatchView has all of it). */
export interface BatchHeader {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
}

interface Pending {
  /** The offset the batch's append gets (storage assigns offsets synchronously at append). */
  offset: number;
  epoch: number;
  firstSeq: number;
  lastSeq: number;
  failed: boolean;
  /** Settles when the append of this batch is known: its metadata, or null when it failed. */
  done: Promise<BatchMeta | null>;
  settle: (m: BatchMeta | null) => void;
}

export type CheckResult =
  | { kind: 'append'; reservation: Reservation }
  | { kind: 'duplicate'; batch: BatchMeta }
  /** The same batch is being written right now: answer as a duplicate once it is (null: it failed). */
  | { kind: 'in-flight'; done: Promise<BatchMeta | null> }
  | { kind: 'error'; errorCode: number; errorMessage: string };

export interface Reservation {
  readonly producerId: bigint;
  readonly pending: Pending;
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int32.MAX to 0. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class PartitionProducerState {
  readonly name: string;
  readonly #entries = new Map<bigint, ProducerEntry>();
  readonly #pending = new Map<bigint, Pending[]>();
  #pendingCount = 0;
  /** Producer id → first offset of its open transaction here. */
  readonly #ongoing = new Map<bigint, number>();
  /** Offsets of markers being appended (their effect is not in the state yet). */
  readonly #markerOffsets: number[] = [];
  /** The state changed since the last snapshot. */
  dirty = false;
  /** Offset of the last snapshot written or loaded (-1: none). */
  snapshotOffset = -1;

  constructor(name: string) {
    this.name = name;
  }

  get size(): number { return this.#entries.size; }
  /** Appends of producer batches or markers are in flight (a snapshot now could miss their effect). */
  get hasPending(): boolean { return this.#pendingCount > 0 || this.#markerOffsets.length > 0; }

  /**
   * The offset a snapshot of the current state is exact for: every batch and marker below it is in the
   * state, none at or above it. Appends complete in offset order, so it is the lowest offset still in
   * flight (a reservation or a marker), else the log end.
   */
  snapshotFloor(logEndOffset: number): number {
    let floor = logEndOffset;
    for (const list of this.#pending.values()) for (const p of list) if (p.offset < floor) floor = p.offset;
    for (const o of this.#markerOffsets) if (o < floor) floor = o;
    return floor;
  }
  /** First offset of the oldest open transaction, or undefined: the last stable offset is then the high watermark. */
  get firstUnstableOffset(): number | undefined {
    let min: number | undefined;
    for (const o of this.#ongoing.values()) if (min === undefined || o < min) min = o;
    return min;
  }
  ongoingTxns(): IterableIterator<[bigint, number]> { return this.#ongoing.entries(); }
  txnFirstOffset(producerId: bigint): number | undefined { return this.#ongoing.get(producerId); }
  entry(producerId: bigint): ProducerEntry | undefined { return this.#entries.get(producerId); }
  entries(): IterableIterator<[bigint, ProducerEntry]> { return this.#entries.entries(); }

  /**
   * Validates a client batch with a producer id against the committed state and the producer's batches in
   * flight (Kafka's duplicate search, then checkProducerEpoch and checkSequence), and reserves its place.
   * Synchronous: call it right before the storage append, in request order.
   */
  check(b: BatchHeader, offset: number): CheckResult {
    const pid = b.producerId;
    const epoch = b.producerEpoch;
    const firstSeq = b.baseSequence;
    const lastSeq = lastSequence(firstSeq, b.lastOffsetDelta);
    const committed = this.#entries.get(pid);
    // Duplicate of a written batch (only the committed entry, with its epoch, as Kafka's findDuplicateBatch).
    if (committed && committed.epoch === epoch) {
      const dup = committed.batches.find((m) => m.firstSeq === firstSeq && m.lastSeq === lastSeq);
      if (dup) return { kind: 'duplicate', batch: dup };
    }
    const inFlight = (this.#pending.get(pid) ?? []).filter((p) => !p.failed);
    const same = inFlight.find((p) => p.epoch === epoch && p.firstSeq === firstSeq && p.lastSeq === lastSeq);
    if (same) return { kind: 'in-flight', done: same.done };

    // The producer as it will be once everything in flight is written ("updatedEntry" in Kafka).
    const last = inFlight[inFlight.length - 1];
    const curEpoch = last ? last.epoch : committed ? committed.epoch : NO_EPOCH;
    const curLastSeq = last ? last.lastSeq : committed && committed.batches.length > 0 ? committed.batches[committed.batches.length - 1].lastSeq : -1;
    const at = `at offset ${offset} in partition ${this.name}`;
    if (epoch < curEpoch) {
      return { kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, errorMessage: `Epoch of producer ${pid} ${at} is ${epoch}, which is smaller than the last seen epoch ${curEpoch}` };
    }
    if (epoch !== curEpoch) {
      if (firstSeq !== 0 && curEpoch !== NO_EPOCH) {
        return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, errorMessage: `Invalid sequence number for new epoch of producer ${pid} ${at}: ${epoch} (request epoch), ${firstSeq} (seq. number), ${curEpoch} (current producer epoch)` };
      }
    } else if (!inSequence(curLastSeq, firstSeq)) {
      return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, errorMessage: `Out of order sequence number for producer ${pid} ${at}: ${firstSeq} (incoming seq. number), ${curLastSeq} (current end sequence number)` };
    }
    // An unknown producer (no state: new, expired, or its batches deleted) may start at any sequence, as in Kafka.
    let settle!: (m: BatchMeta | null) => void;
    const done = new Promise<BatchMeta | null>((resolve) => { settle = resolve; });
    const pending: Pending = { offset, epoch, firstSeq, lastSeq, failed: false, done, settle };
    let list = this.#pending.get(pid);
    if (!list) this.#pending.set(pid, (list = []));
    list.push(pending);
    this.#pendingCount++;
    return { kind: 'append', reservation: { producerId: pid, pending } };
  }

  /** The reserved batch was written at these offsets. Appends of one partition complete in offset order. */
  commit(r: Reservation, firstOffset: number, lastOffset: number, timestamp: number): void {
    const meta: BatchMeta = { firstSeq: r.pending.firstSeq, lastSeq: r.pending.lastSeq, firstOffset, lastOffset, timestamp };
    this.#unreserve(r);
    this.apply(r.producerId, r.pending.epoch, meta);
    r.pending.settle(meta);
  }

  /** The reserved batch was not written. */
  release(r: Reservation): void {
    r.pending.failed = true;
    this.#unreserve(r);
    r.pending.settle(null);
  }

  #unreserve(r: Reservation): void {
    const list = this.#pending.get(r.producerId);
    const i = list ? list.indexOf(r.pending) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.#pending.delete(r.producerId);
    this.#pendingCount--;
  }

  /** Adds a written batch without validation (commit, and rebuilding from the log): Kafka's ProducerStateEntry.addBatch. */
  apply(producerId: bigint, epoch: number, meta: BatchMeta): void {
    let e = this.#entries.get(producerId);
    if (!e) this.#entries.set(producerId, (e = { epoch, batches: [], lastTimestamp: meta.timestamp }));
    if (e.epoch !== epoch) {
      e.epoch = epoch;
      e.batches = [];
    }
    if (e.batches.length === BATCHES_TO_RETAIN) e.batches.shift();
    e.batches.push(meta);
    e.lastTimestamp = meta.timestamp;
    this.dirty = true;
  }

  /** Registers the start of a producer's transaction at `offset` unless one is open. Returns whether it started one. */
  beginTxn(producerId: bigint, offset: number): boolean {
    if (this.#ongoing.has(producerId)) return false;
    this.#ongoing.set(producerId, offset);
    this.dirty = true;
    return true;
  }

  /** The first batch of a transaction failed to append: forget the start beginTxn registered. */
  abandonTxnStart(producerId: bigint, offset: number): void {
    if (this.#ongoing.get(producerId) === offset) this.#ongoing.delete(producerId);
  }

  /** A marker is being appended at `offset` (the log's next offset). */
  markerStarted(offset: number): void { this.#markerOffsets.push(offset); }
  markerSettled(offset: number): void {
    const i = this.#markerOffsets.indexOf(offset);
    if (i >= 0) this.#markerOffsets.splice(i, 1);
  }

  /**
   * A commit/abort marker of this producer was written at `markerOffset` (Kafka's appendEndTxnMarker):
   * closes its open transaction and adopts the marker's epoch when newer (a bump by the coordinator
   * fences the old epoch here). Returns the transaction's first offset, or undefined when none was open.
   */
  completeTxn(producerId: bigint, epoch: number, coordinatorEpoch: number, timestamp: number): number | undefined {
    const first = this.#ongoing.get(producerId);
    this.#ongoing.delete(producerId);
    let e = this.#entries.get(producerId);
    if (!e) this.#entries.set(producerId, (e = { epoch, batches: [], lastTimestamp: timestamp }));
    if (epoch > e.epoch) {
      e.epoch = epoch;
      e.batches = [];
    }
    e.coordinatorEpoch = coordinatorEpoch;
    e.lastTimestamp = Math.max(e.lastTimestamp, timestamp);
    this.dirty = true;
    return first;
  }

  /** Restores an entry from a snapshot. */
  restore(producerId: bigint, entry: ProducerEntry): void {
    this.#entries.set(producerId, { epoch: entry.epoch, batches: entry.batches.slice(-BATCHES_TO_RETAIN), lastTimestamp: entry.lastTimestamp, coordinatorEpoch: entry.coordinatorEpoch });
  }

  /** Restores an open transaction from a snapshot. */
  restoreTxn(producerId: bigint, firstOffset: number): void {
    this.#ongoing.set(producerId, firstOffset);
  }

  /**
   * Kafka's removeExpiredProducers: producers whose last batch timestamp is at least `expirationMs` old
   * (and that have nothing in flight here) are forgotten. Returns how many were removed.
   */
  expire(now: number, expirationMs: number): number {
    let n = 0;
    for (const [pid, e] of this.#entries) {
      if (now - e.lastTimestamp >= expirationMs && !this.#pending.has(pid) && !this.#ongoing.has(pid)) {
        this.#entries.delete(pid);
        n++;
      }
    }
    if (n > 0) this.dirty = true;
    return n;
  }
}
