// Sparse in-memory indexes of one segment, serialised in Kafka's file formats:
//   .index      8-byte entries: int32 offset relative to the segment base, int32 byte position
//   .timeindex 12-byte entries: int64 timestamp, int32 relative offset
// Kafka memory-maps these; we keep them in typed arrays and write the files when a segment is rolled and
// on clean shutdown. After a crash the active segment's indexes are rebuilt from the log anyway.

export const OFFSET_ENTRY = 8;
export const TIME_ENTRY = 12;

export class OffsetIndex {
  readonly baseOffset: number;
  #rel = new Int32Array(16);
  #pos = new Int32Array(16);
  #n = 0;

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  get entries(): number { return this.#n; }
  lastPosition(): number { return this.#n === 0 ? 0 : this.#pos[this.#n - 1]; }
  lastOffset(): number { return this.#n === 0 ? this.baseOffset : this.baseOffset + this.#rel[this.#n - 1]; }
  entry(i: number): { offset: number; position: number } {
    return { offset: this.baseOffset + this.#rel[i], position: this.#pos[i] };
  }

  append(offset: number, position: number): void {
    if (this.#n === this.#rel.length) {
      const r = new Int32Array(this.#n * 2); r.set(this.#rel); this.#rel = r;
      const p = new Int32Array(this.#n * 2); p.set(this.#pos); this.#pos = p;
    }
    this.#rel[this.#n] = offset - this.baseOffset;
    this.#pos[this.#n++] = position;
  }

  /** Byte position of the largest entry whose offset ≤ target (0 if none): a batch start at or before it. */
  floorPosition(target: number): number {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.#n - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#rel[mid] <= rel) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best < 0 ? 0 : this.#pos[best];
  }

  /** Drops entries at or after byte position `pos` (log truncation). */
  truncateToPosition(pos: number): void {
    while (this.#n > 0 && this.#pos[this.#n - 1] >= pos) this.#n--;
  }

  serialize(): Buffer {
    const b = Buffer.allocUnsafe(this.#n * OFFSET_ENTRY);
    for (let i = 0; i < this.#n; i++) {
      b.writeInt32BE(this.#rel[i], i * OFFSET_ENTRY);
      b.writeInt32BE(this.#pos[i], i * OFFSET_ENTRY + 4);
    }
    return b;
  }

  /** Parses and sanity-checks an index file; returns the reason when it cannot be trusted. */
  static parse(baseOffset: number, b: Buffer, logSize: number, nextOffset: number): OffsetIndex | string {
    if (b.length % OFFSET_ENTRY !== 0) return `size ${b.length} is not a multiple of ${OFFSET_ENTRY}`;
    const idx = new OffsetIndex(baseOffset);
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < b.length; i += OFFSET_ENTRY) {
      const rel = b.readInt32BE(i);
      const pos = b.readInt32BE(i + 4);
      if (rel <= prevRel || pos <= prevPos) return `entry ${i / OFFSET_ENTRY} not increasing`;
      if (pos >= logSize) return `entry ${i / OFFSET_ENTRY} points past the log (${pos} ≥ ${logSize})`;
      if (baseOffset + rel >= nextOffset) return `entry ${i / OFFSET_ENTRY} offset ${baseOffset + rel} beyond the segment`;
      idx.append(baseOffset + rel, pos);
      prevRel = rel;
      prevPos = pos;
    }
    return idx;
  }
}

export class TimeIndex {
  readonly baseOffset: number;
  #ts = new Float64Array(16);
  #rel = new Int32Array(16);
  #n = 0;

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  get entries(): number { return this.#n; }
  lastTimestamp(): number { return this.#n === 0 ? -1 : this.#ts[this.#n - 1]; }
  entry(i: number): { timestamp: number; offset: number } {
    return { timestamp: this.#ts[i], offset: this.baseOffset + this.#rel[i] };
  }

  /** Kafka's maybeAppend: only when the timestamp grows. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp <= this.lastTimestamp()) return;
    if (this.#n === this.#ts.length) {
      const t = new Float64Array(this.#n * 2); t.set(this.#ts); this.#ts = t;
      const r = new Int32Array(this.#n * 2); r.set(this.#rel); this.#rel = r;
    }
    this.#ts[this.#n] = timestamp;
    this.#rel[this.#n++] = offset - this.baseOffset;
  }

  /** Offset of the largest entry whose timestamp ≤ ts (the base offset if none). */
  floorOffset(ts: number): number {
    let lo = 0;
    let hi = this.#n - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ts[mid] <= ts) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return this.baseOffset + (best < 0 ? 0 : this.#rel[best]);
  }

  truncateToOffset(offset: number): void {
    while (this.#n > 0 && this.baseOffset + this.#rel[this.#n - 1] >= offset) this.#n--;
  }

  serialize(): Buffer {
    const b = Buffer.allocUnsafe(this.#n * TIME_ENTRY);
    for (let i = 0; i < this.#n; i++) {
      b.writeBigInt64BE(BigInt(this.#ts[i]), i * TIME_ENTRY);
      b.writeInt32BE(this.#rel[i], i * TIME_ENTRY + 8);
    }
    return b;
  }

  static parse(baseOffset: number, b: Buffer, nextOffset: number): TimeIndex | string {
    if (b.length % TIME_ENTRY !== 0) return `size ${b.length} is not a multiple of ${TIME_ENTRY}`;
    const idx = new TimeIndex(baseOffset);
    let prevRel = -1;
    for (let i = 0; i < b.length; i += TIME_ENTRY) {
      const ts = Number(b.readBigInt64BE(i));
      const rel = b.readInt32BE(i + 8);
      if (ts <= idx.lastTimestamp() || rel < prevRel) return `entry ${i / TIME_ENTRY} not increasing`;
      if (rel < 0 || baseOffset + rel >= nextOffset) return `entry ${i / TIME_ENTRY} offset out of the segment`;
      idx.maybeAppend(ts, baseOffset + rel);
      prevRel = rel;
    }
    return idx;
  }
}
