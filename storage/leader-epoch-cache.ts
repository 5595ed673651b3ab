// The leader-epoch cache of one partition: (epoch, start offset) entries, epochs and offsets strictly
// increasing, with Kafka's LeaderEpochFileCache semantics (assign, endOffsetFor, truncateFromEnd/Start).
// Persisted as `leader-epoch-checkpoint` in the partition directory (Kafka's LeaderEpochCheckpointFile):
//   0            version
//   2            entry count
//   0 0          epoch start-offset
//   3 1250
// This module is pure (no I/O); PartitionLog writes the file.

export const LEADER_EPOCH_FILE = 'leader-epoch-checkpoint';
/** OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

export class LeaderEpochCache {
  #entries: EpochEntry[] = [];

  constructor(entries: EpochEntry[] = []) {
    for (const e of entries) this.assign(e.epoch, e.startOffset);
  }

  get entries(): readonly EpochEntry[] { return this.#entries; }
  get latest(): EpochEntry | undefined { return this.#entries[this.#entries.length - 1]; }
  /** The latest epoch, or -1 when empty. */
  get latestEpoch(): number { return this.latest?.epoch ?? UNDEFINED_EPOCH; }

  /**
   * Kafka's assign: records that `epoch` starts at `startOffset`. A no-op for the latest epoch at the same
   * or a later offset; entries with an epoch ≥ `epoch` or a start offset ≥ `startOffset` are removed first
   * (they violate monotonicity). Returns whether the cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(startOffset) || startOffset < 0) {
      throw new RangeError(`invalid partition leader epoch entry (${epoch}, ${startOffset})`);
    }
    const last = this.latest;
    if (last && last.epoch === epoch && startOffset >= last.startOffset) return false;
    while (this.#entries.length > 0) {
      const e = this.#entries[this.#entries.length - 1];
      if (e.epoch < epoch && e.startOffset < startOffset) break;
      this.#entries.pop();
    }
    this.#entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * Kafka's endOffsetFor: the largest epoch ≤ `requested` and where it ends (the start offset of the next
   * higher epoch, or `logEndOffset` for the latest epoch). A requested epoch below every cached epoch
   * answers (requested, start of the first epoch above it); -1 requested, an empty cache or an epoch above
   * the latest answer (-1, -1).
   */
  endOffsetFor(requested: number, logEndOffset: number): EpochEndOffset {
    if (requested === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const last = this.latest;
    if (last && last.epoch === requested) return { epoch: requested, endOffset: logEndOffset };
    const higher = this.#entries.findIndex((e) => e.epoch > requested);
    if (higher < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const start = this.#entries[higher].startOffset;
    return higher === 0 ? { epoch: requested, endOffset: start } : { epoch: this.#entries[higher - 1].epoch, endOffset: start };
  }

  /** Kafka's epochForOffset: the epoch `offset` belongs to, or -1 when it lies before the first entry. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const e of this.#entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /** Removes the entries starting at or after `endOffset` (log truncation). Returns whether it changed. */
  truncateFromEnd(endOffset: number): boolean {
    const n = this.#entries.length;
    if (endOffset < 0) return false;
    while (this.#entries.length > 0 && this.#entries[this.#entries.length - 1].startOffset >= endOffset) this.#entries.pop();
    return this.#entries.length !== n;
  }

  /**
   * The log start moved to `startOffset`: entries starting at or before it collapse into one, the last of
   * them, now starting at `startOffset` (Kafka keeps the epoch the new first offset belongs to).
   */
  truncateFromStart(startOffset: number): boolean {
    let i = 0;
    while (i < this.#entries.length && this.#entries[i].startOffset <= startOffset) i++;
    if (i === 0) return false;
    const keep = this.#entries[i - 1];
    if (i === 1 && keep.startOffset === startOffset) return false;
    this.#entries.splice(0, i, { epoch: keep.epoch, startOffset });
    return true;
  }

  clear(): boolean {
    const had = this.#entries.length > 0;
    this.#entries = [];
    return had;
  }

  serialize(): Buffer {
    const lines = ['0', String(this.#entries.length), ...this.#entries.map((e) => `${e.epoch} ${e.startOffset}`)];
    return Buffer.from(lines.join('\n') + '\n');
  }

  /** Parses a leader-epoch-checkpoint file; throws on a malformed one (the caller rebuilds from the log). */
  static parse(text: string): LeaderEpochCache {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines[0] !== '0') throw new Error(`unsupported leader-epoch-checkpoint version ${JSON.stringify(lines[0])}`);
    const n = Number(lines[1]);
    if (!Number.isInteger(n) || n < 0 || lines.length !== n + 2) throw new Error(`leader-epoch-checkpoint declares ${lines[1]} entries, has ${lines.length - 2}`);
    const out: EpochEntry[] = [];
    for (const line of lines.slice(2)) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (!m) throw new Error(`malformed leader-epoch-checkpoint line ${JSON.stringify(line)}`);
      const e = { epoch: Number(m[1]), startOffset: Number(m[2]) };
      const prev = out[out.length - 1];
      if (prev && (e.epoch <= prev.epoch || e.startOffset <= prev.startOffset)) throw new Error(`leader-epoch-checkpoint entries not increasing at ${JSON.stringify(line)}`);
      out.push(e);
    }
    return new LeaderEpochCache(out);
  }
}
