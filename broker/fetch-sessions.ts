// Incremental fetch sessions (KIP-227), after Kafka's FetchSessionCache: a session remembers each
// partition's fetch position and the high watermark / log start offset last sent, so an incremental
// response carries only partitions with news. The cache holds max.incremental.fetch.session.cache.slots
// sessions; when full, a new session may evict the least recently used one idle for at least
// EVICTION_MS (Kafka's min.incremental.fetch.session.eviction.ms), otherwise the client gets no session
// (session id 0) and keeps doing full fetches.

export const EVICTION_MS = 120_000;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

export interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  /** What the last response told the client; -1 before the first response. */
  sentHighWatermark: number;
  sentLogStartOffset: number;
}

export interface FetchSession {
  readonly id: number;
  /** The epoch the next incremental request must carry. */
  epoch: number;
  lastUsedMs: number;
  /** Keyed by "topic\0partition", in insertion order (the order responses list them). */
  readonly partitions: Map<string, SessionPartition>;
}

export class FetchSessionCache {
  readonly #sessions = new Map<number, FetchSession>();
  readonly #maxSlots: number;
  readonly #randomInt: () => number;

  constructor(maxSlots: number, randomInt: () => number) {
    this.#maxSlots = maxSlots;
    this.#randomInt = randomInt;
  }

  get size(): number { return this.#sessions.size; }

  get(id: number): FetchSession | undefined { return this.#sessions.get(id); }

  remove(id: number): void { this.#sessions.delete(id); }

  /** A new session, or null when the cache is full of sessions too recently used to evict. */
  create(now: number): FetchSession | null {
    if (this.#maxSlots <= 0) return null;
    if (this.#sessions.size >= this.#maxSlots) {
      let lru: FetchSession | undefined;
      for (const s of this.#sessions.values()) if (!lru || s.lastUsedMs < lru.lastUsedMs) lru = s;
      if (!lru || now - lru.lastUsedMs < EVICTION_MS) return null;
      this.#sessions.delete(lru.id);
    }
    let id = 0;
    while (id === 0 || this.#sessions.has(id)) id = this.#randomInt() & 0x7fffffff; // positive, as Kafka's
    const s: FetchSession = { id, epoch: 1, lastUsedMs: now, partitions: new Map() };
    this.#sessions.set(id, s);
    return s;
  }
}
