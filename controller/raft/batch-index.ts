// What both RaftLog implementations keep in memory (raft-log.ts for the simulation, storage-raft-log.ts on disk):
// the log's batches by offset with their epochs, and the snapshots. The Raft core is synchronous, so it reads
// these; the implementations differ only in how (and when) they make them durable.
import { RecordBatchView } from '../../protocol/records.ts';
import type { OffsetAndEpoch } from './types.ts';

export interface Entry { base: number; last: number; epoch: number; buf: Buffer }

/** The batches in [start, end), epochs never decreasing, with the log start's epoch (a snapshot's). */
export class BatchIndex {
  entries: Entry[] = [];
  start = 0;
  startEpoch = 0;

  endOffset(): number { return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.last + 1 : this.start; }
  lastEpoch(): number { return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.epoch : this.startEpoch; }

  /** Kafka's endOffsetForEpoch: the largest epoch ≤ `epoch` and where the next one starts (or the log end). */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    let found = -1;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]!.epoch <= epoch) { found = i; break; }
    }
    if (found < 0) return { offset: this.start, epoch: this.startEpoch <= epoch ? this.startEpoch : 0 };
    // Epochs never decrease along the log: the next entry (if any) starts the next epoch.
    const next = this.entries[found + 1];
    return { offset: next ? next.base : this.endOffset(), epoch: this.entries[found]!.epoch };
  }

  /** The epoch of the record just before `offset`. */
  epochAt(offset: number): number {
    const i = this.indexOf(offset - 1);
    return i >= 0 ? this.entries[i]!.epoch : this.startEpoch;
  }

  /** Whether a snapshot may end at `offset` (not inside a batch). */
  isBoundary(offset: number): boolean {
    const i = this.indexOf(offset);
    return i < 0 || this.entries[i]!.base === offset;
  }

  /** Appends a batch at the log end, of an epoch no older than the last. */
  push(buf: Buffer): Entry {
    const v = new RecordBatchView(buf);
    if (v.baseOffset !== this.endOffset()) throw new Error(`append at ${v.baseOffset}, log end ${this.endOffset()}`);
    if (v.partitionLeaderEpoch < this.lastEpoch()) throw new Error(`append of epoch ${v.partitionLeaderEpoch} after ${this.lastEpoch()}`);
    const e = { base: v.baseOffset, last: v.lastOffset, epoch: v.partitionLeaderEpoch, buf };
    this.entries.push(e);
    return e;
  }

  /** Removes the batches at and above `offset` (a batch boundary); false when there were none. */
  truncateTo(offset: number): boolean {
    if (offset < this.start) throw new Error(`truncate to ${offset} below log start ${this.start}`);
    let n = this.entries.length;
    while (n > 0 && this.entries[n - 1]!.base >= offset) n--;
    if (n > 0 && this.entries[n - 1]!.last >= offset) throw new Error(`truncate to ${offset} inside a batch`);
    if (n === this.entries.length) return false;
    this.entries.length = n;
    return true;
  }

  /** The log starts at a snapshot's end: batches wholly below it go. */
  startAt(s: OffsetAndEpoch): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.last < s.offset) n++;
    this.entries.splice(0, n);
    this.start = s.offset;
    this.startEpoch = s.epoch;
  }

  /** A fetched snapshot replaces the whole log. */
  reset(s: OffsetAndEpoch): void {
    this.entries = [];
    this.start = s.offset;
    this.startEpoch = s.epoch;
  }

  /** Whole batches from the one holding `from`, at least one, up to `maxBytes`. */
  read(from: number, maxBytes: number): Buffer {
    let i = this.indexOf(from);
    if (i < 0) return Buffer.alloc(0);
    const out: Buffer[] = [];
    let size = 0;
    for (; i < this.entries.length; i++) {
      const b = this.entries[i]!.buf;
      if (out.length > 0 && size + b.length > maxBytes) break;
      out.push(b);
      size += b.length;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** The index of the batch holding `offset`, or −1. */
  indexOf(offset: number): number {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid]!;
      if (offset < e.base) hi = mid - 1;
      else if (offset > e.last) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}

/** Snapshots by id, the newest remembered. */
export class SnapshotSet {
  readonly #map = new Map<string, { id: OffsetAndEpoch; bytes: Buffer }>();
  latest: OffsetAndEpoch | null = null;

  get(id: OffsetAndEpoch): Buffer | null { return this.#map.get(key(id))?.bytes ?? null; }

  add(id: OffsetAndEpoch, bytes: Buffer): void {
    this.#map.set(key(id), { id, bytes });
    if (this.latest === null || id.offset > this.latest.offset) this.latest = id;
  }

  /** Forgets the snapshots ending below `offset` (Kafka keeps only those above the log start); returns them. */
  dropBelow(offset: number): OffsetAndEpoch[] {
    const old: OffsetAndEpoch[] = [];
    for (const [k, v] of this.#map) if (v.id.offset < offset) { old.push(v.id); this.#map.delete(k); }
    return old;
  }

  /** A fetched snapshot becomes the newest, whatever came before; returns the ones dropped. */
  install(id: OffsetAndEpoch, bytes: Buffer): OffsetAndEpoch[] {
    this.#map.set(key(id), { id, bytes });
    this.latest = id;
    return this.dropBelow(id.offset);
  }
}

function key(id: OffsetAndEpoch): string { return `${id.offset}:${id.epoch}`; }
