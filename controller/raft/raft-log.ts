// The replicated `__cluster_metadata` log as the Raft core sees it (Kafka's ReplicatedLog), and an in-memory
// implementation for the simulation that models a disk: appends are volatile until a flush completes (flushes
// take simulated time and complete in order), truncation and snapshots are durable at once (as storage's
// crash-safe truncateTo and Kafka's atomic snapshot rename), and crash() drops what was never flushed.

import { scanRecordSet, setBaseOffset, setPartitionLeaderEpoch } from '../../protocol/records.ts';
import { BatchIndex, SnapshotSet } from './batch-index.ts';
import type { OffsetAndEpoch } from './types.ts';

export interface RaftLog {
  /** First offset in the log (the latest snapshot's end offset once the prefix was deleted). */
  startOffset(): number;
  endOffset(): number;
  /** Offset up to which appends are durable. */
  flushedOffset(): number;
  /** Epoch of the last batch, else of the snapshot at the log start, else 0. */
  lastFetchedEpoch(): number;
  /**
   * Kafka's endOffsetForEpoch: the largest epoch <= `epoch` present in the log and the offset where it ends
   * (the start of the next epoch or the log end). Below everything: the log start and the snapshot's epoch (or 0).
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch;
  /** Appends one batch at the end, assigning its base offset and leader epoch. Returns its last offset. */
  appendAsLeader(batch: Buffer, epoch: number): number;
  /** Appends validated batches whose base offset is the end offset. */
  appendAsFollower(batches: Buffer[]): void;
  /** Removes every batch at or after `offset` (a batch boundary). */
  truncateTo(offset: number): void;
  /** Makes everything appended so far durable; `done` runs once it is (never after a crash). */
  flush(done: () => void): void;
  /** Concatenated batches from the one containing `from`, at least one, up to maxBytes. */
  read(from: number, maxBytes: number): Buffer;
  /** The epoch of the batch ending just before `offset` (for a snapshot id). */
  epochAt(offset: number): number;
  highWatermark(): number;
  updateHighWatermark(offset: number): void;
  latestSnapshot(): OffsetAndEpoch | null;
  readSnapshot(id: OffsetAndEpoch): Buffer | null;
  /** Stores a snapshot durably (atomic); its end offset must be at a batch boundary. */
  createSnapshot(id: OffsetAndEpoch, bytes: Buffer): void;
  /** Deletes the batches below the latest snapshot: the log start moves to its end offset. */
  deleteBeforeSnapshot(): void;
  /** Follower: a fetched snapshot replaces the whole log, which restarts at its end offset. */
  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void;
}

/** Runs `fn` after `ms` of simulated time (the simulation's disk). */
export type DiskScheduler = (ms: number, fn: () => void) => void;

export class MemoryRaftLog implements RaftLog {
  readonly #log = new BatchIndex();
  readonly #snapshots = new SnapshotSet();
  #durable = 0;
  #hw = -1;
  /** Bumped by truncation and crashes: a flush that started before covers nothing after. */
  #gen = 0;
  #diskBusyUntil = 0;
  readonly #schedule: DiskScheduler;
  readonly #delay: () => number;
  readonly #now: () => number;

  constructor(opts: { schedule?: DiskScheduler; flushDelay?: () => number; now?: () => number } = {}) {
    this.#schedule = opts.schedule ?? ((_ms, fn) => fn());
    this.#delay = opts.flushDelay ?? (() => 0);
    this.#now = opts.now ?? (() => 0);
  }

  startOffset(): number { return this.#log.start; }
  endOffset(): number { return this.#log.endOffset(); }
  flushedOffset(): number { return Math.min(this.#durable, this.endOffset()); }
  lastFetchedEpoch(): number { return this.#log.lastEpoch(); }
  highWatermark(): number { return this.#hw; }
  updateHighWatermark(offset: number): void { this.#hw = offset; }
  endOffsetForEpoch(epoch: number): OffsetAndEpoch { return this.#log.endOffsetForEpoch(epoch); }
  epochAt(offset: number): number { return this.#log.epochAt(offset); }

  appendAsLeader(batch: Buffer, epoch: number): number {
    setBaseOffset(batch, 0, this.endOffset());
    setPartitionLeaderEpoch(batch, 0, epoch);
    this.appendAsFollower([batch]);
    return this.endOffset() - 1;
  }

  appendAsFollower(batches: Buffer[]): void {
    for (const buf of batches) this.#log.push(buf);
  }

  truncateTo(offset: number): void {
    this.#log.truncateTo(offset);
    this.#durable = Math.min(this.#durable, this.endOffset());
    if (this.#hw > this.endOffset()) this.#hw = this.endOffset();
    this.#gen++;
  }

  flush(done: () => void): void {
    const target = this.endOffset();
    const gen = this.#gen;
    const now = this.#now();
    // One disk per node: flushes complete in order.
    const at = Math.max(now + this.#delay(), this.#diskBusyUntil);
    this.#diskBusyUntil = at;
    this.#schedule(at - now, () => {
      if (gen === this.#gen) this.#durable = Math.max(this.#durable, Math.min(target, this.endOffset()));
      done();
    });
  }

  read(from: number, maxBytes: number): Buffer { return this.#log.read(from, maxBytes); }

  /** Batches in [from, to) — for checkers. */
  batches(): ReadonlyArray<Readonly<{ base: number; last: number; epoch: number; buf: Buffer }>> { return this.#log.entries; }

  latestSnapshot(): OffsetAndEpoch | null { return this.#snapshots.latest; }
  readSnapshot(id: OffsetAndEpoch): Buffer | null { return this.#snapshots.get(id); }

  createSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    if (!this.#log.isBoundary(id.offset)) throw new Error(`snapshot end offset ${id.offset} is not at a batch boundary`);
    this.#snapshots.add(id, bytes);
  }

  deleteBeforeSnapshot(): void {
    const s = this.#snapshots.latest;
    if (s === null || s.offset <= this.#log.start) return;
    this.#log.startAt(s);
    this.#snapshots.dropBelow(s.offset);
  }

  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    this.#snapshots.install(id, bytes);
    this.#log.reset(id);
    this.#durable = id.offset;
    this.#gen++;
  }

  /** A process crash: unflushed batches are gone, pending flushes never complete, the HW is forgotten. */
  crash(): void {
    const entries = this.#log.entries;
    let n = entries.length;
    while (n > 0 && entries[n - 1]!.last >= this.#durable) n--;
    entries.length = n;
    this.#durable = this.endOffset();
    this.#hw = -1;
    this.#gen++;
    this.#diskBusyUntil = 0;
  }
}

/** Splits a fetched record set into batches; null if it ends in a partial or corrupt batch or any batch fails `validate`. */
export function splitBatches(buf: Buffer, validate: (b: Buffer) => boolean): Buffer[] | null {
  const scan = scanRecordSet(buf);
  if (scan.truncated || scan.corrupt) return null;
  const out: Buffer[] = [];
  for (const span of scan.batches) {
    const b = buf.subarray(span.offset, span.offset + span.size);
    if (!validate(b)) return null;
    out.push(b);
  }
  return out;
}
