// The replicated `__cluster_metadata` log as the Raft core sees it (Kafka's ReplicatedLog), and an in-memory
// implementation for the simulation that models a disk: appends are volatile until a flush completes (flushes
// take simulated time and complete in order), truncation and snapshots are durable at once (as storage's
// crash-safe truncateTo and Kafka's atomic snapshot rename), and crash() drops what was never flushed.

import { scanRecordSet, RecordBatchView, setBaseOffset, setPartitionLeaderEpoch } from '../../protocol/records.ts';
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

interface Entry {
  base: number;
  last: number;
  epoch: number;
  buf: Buffer;
}

/** Runs `fn` after `ms` of simulated time (the simulation's disk). */
export type DiskScheduler = (ms: number, fn: () => void) => void;

export class MemoryRaftLog implements RaftLog {
  #entries: Entry[] = [];
  #start = 0;
  #startEpoch = 0;
  #durable = 0;
  #hw = -1;
  #snapshots = new Map<string, { id: OffsetAndEpoch; bytes: Buffer }>();
  #latest: OffsetAndEpoch | null = null;
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

  startOffset(): number { return this.#start; }
  endOffset(): number { return this.#entries.length > 0 ? this.#entries[this.#entries.length - 1]!.last + 1 : this.#start; }
  flushedOffset(): number { return Math.min(this.#durable, this.endOffset()); }
  lastFetchedEpoch(): number { return this.#entries.length > 0 ? this.#entries[this.#entries.length - 1]!.epoch : this.#startEpoch; }
  highWatermark(): number { return this.#hw; }
  updateHighWatermark(offset: number): void { this.#hw = offset; }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    let found = -1;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (this.#entries[i]!.epoch <= epoch) { found = i; break; }
    }
    if (found < 0) return { offset: this.#start, epoch: this.#startEpoch <= epoch ? this.#startEpoch : 0 };
    const e = this.#entries[found]!.epoch;
    // Epochs never decrease along the log: the next entry (if any) starts the next epoch.
    const next = this.#entries[found + 1];
    return { offset: next ? next.base : this.endOffset(), epoch: e };
  }

  epochAt(offset: number): number {
    const i = this.#indexOf(offset - 1);
    if (i >= 0) return this.#entries[i]!.epoch;
    return this.#startEpoch;
  }

  appendAsLeader(batch: Buffer, epoch: number): number {
    setBaseOffset(batch, 0, this.endOffset());
    setPartitionLeaderEpoch(batch, 0, epoch);
    this.appendAsFollower([batch]);
    return this.endOffset() - 1;
  }

  appendAsFollower(batches: Buffer[]): void {
    for (const buf of batches) {
      const v = new RecordBatchView(buf);
      if (v.baseOffset !== this.endOffset()) throw new Error(`append at ${v.baseOffset}, log end ${this.endOffset()}`);
      if (v.partitionLeaderEpoch < this.lastFetchedEpoch()) throw new Error(`append of epoch ${v.partitionLeaderEpoch} after ${this.lastFetchedEpoch()}`);
      this.#entries.push({ base: v.baseOffset, last: v.lastOffset, epoch: v.partitionLeaderEpoch, buf });
    }
  }

  truncateTo(offset: number): void {
    if (offset < this.#start) throw new Error(`truncate to ${offset} below log start ${this.#start}`);
    let n = this.#entries.length;
    while (n > 0 && this.#entries[n - 1]!.base >= offset) n--;
    if (n > 0 && this.#entries[n - 1]!.last >= offset) throw new Error(`truncate to ${offset} inside a batch`);
    this.#entries.length = n;
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

  read(from: number, maxBytes: number): Buffer {
    let i = this.#indexOf(from);
    if (i < 0) return Buffer.alloc(0);
    const out: Buffer[] = [];
    let size = 0;
    for (; i < this.#entries.length; i++) {
      const b = this.#entries[i]!.buf;
      if (out.length > 0 && size + b.length > maxBytes) break;
      out.push(b);
      size += b.length;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Batches in [from, to) — for checkers. */
  batches(): ReadonlyArray<Readonly<Entry>> { return this.#entries; }

  #indexOf(offset: number): number {
    let lo = 0;
    let hi = this.#entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.#entries[mid]!;
      if (offset < e.base) hi = mid - 1;
      else if (offset > e.last) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  latestSnapshot(): OffsetAndEpoch | null { return this.#latest; }
  readSnapshot(id: OffsetAndEpoch): Buffer | null { return this.#snapshots.get(`${id.offset}:${id.epoch}`)?.bytes ?? null; }

  createSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    if (id.offset !== this.#start && id.offset !== this.endOffset() && this.#indexOf(id.offset) >= 0 && this.#entries[this.#indexOf(id.offset)]!.base !== id.offset) {
      throw new Error(`snapshot end offset ${id.offset} is not at a batch boundary`);
    }
    this.#snapshots.set(`${id.offset}:${id.epoch}`, { id, bytes });
    if (this.#latest === null || id.offset > this.#latest.offset) this.#latest = id;
  }

  deleteBeforeSnapshot(): void {
    const s = this.#latest;
    if (s === null || s.offset <= this.#start) return;
    let n = 0;
    while (n < this.#entries.length && this.#entries[n]!.last < s.offset) n++;
    this.#entries.splice(0, n);
    this.#start = s.offset;
    this.#startEpoch = s.epoch;
    // Older snapshots are no longer needed (Kafka keeps only those above the log start).
    for (const [k, v] of this.#snapshots) if (v.id.offset < s.offset) this.#snapshots.delete(k);
  }

  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    this.#snapshots.set(`${id.offset}:${id.epoch}`, { id, bytes });
    this.#latest = id;
    this.#entries = [];
    this.#start = id.offset;
    this.#startEpoch = id.epoch;
    this.#durable = id.offset;
    this.#gen++;
    for (const [k, v] of this.#snapshots) if (v.id.offset < id.offset) this.#snapshots.delete(k);
  }

  /** A process crash: unflushed batches are gone, pending flushes never complete, the HW is forgotten. */
  crash(): void {
    let n = this.#entries.length;
    while (n > 0 && this.#entries[n - 1]!.last >= this.#durable) n--;
    this.#entries.length = n;
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
