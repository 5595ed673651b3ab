// The broker's hot-path metric counters: plain numbers incremented by the produce and fetch handlers, the
// connection (one call per request) and the listeners (one per connection). Nothing here allocates per
// request once a topic / API / version has been seen; prom-client reads these only at scrape time
// (registry.ts). A broker without gregor.http.listener has no BrokerMetrics at all (context.metrics is
// undefined), so the handlers' `metrics?.` calls cost one property read.

/** Latency histogram resolution: PER_OCTAVE buckets per doubling from MIN_MS (~19 % wide), N in all. */
const MIN_MS = 0.001;
const PER_OCTAVE = 4;
export const LATENCY_BUCKETS = 160; // up to MIN_MS * 2^40 ≈ 12.7 days
/** Quantiles are computed over the current and the previous window (1 to 2 windows of data). */
export const LATENCY_WINDOW_MS = 60_000;

export function latencyBucket(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / MIN_MS) * PER_OCTAVE);
  return i < LATENCY_BUCKETS ? i : LATENCY_BUCKETS - 1;
}

/** The upper bound of bucket i in ms (the value reported for a quantile falling into it). */
export function bucketUpperMs(i: number): number {
  return MIN_MS * 2 ** (i / PER_OCTAVE);
}

export interface TopicCounters {
  messagesIn: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RequestCounters {
  /** Requests answered, by API version. */
  readonly byVersion: number[];
  count: number;
  sumMs: number;
  /** Latency buckets of the current and previous window (see LATENCY_WINDOW_MS). */
  current: Uint32Array;
  previous: Uint32Array;
}

export interface ListenerCounters {
  open: number;
  created: number;
  closed: number;
}

export class BrokerMetrics {
  readonly topics = new Map<string, TopicCounters>();
  /** By API key. */
  readonly requests: Array<RequestCounters | undefined> = [];
  readonly listeners = new Map<string, ListenerCounters>();
  readonly #now: () => number;
  #windowEnds: number;

  /** `now`: a monotonic clock in ms (performance.now by default). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#windowEnds = now() + LATENCY_WINDOW_MS;
  }

  /** Start of a request, for request(). */
  now(): number { return this.#now(); }

  #topic(name: string): TopicCounters {
    let t = this.topics.get(name);
    if (t === undefined) this.topics.set(name, (t = { messagesIn: 0, bytesIn: 0, bytesOut: 0 }));
    return t;
  }

  /** A batch of `records` records, `bytes` long, was appended to `topic` by a producer. */
  produced(topic: string, records: number, bytes: number): void {
    const t = this.#topic(topic);
    t.messagesIn += records;
    t.bytesIn += bytes;
  }

  /** `bytes` of `topic`'s records go out in a fetch response to a consumer. */
  fetched(topic: string, bytes: number): void {
    this.#topic(topic).bytesOut += bytes;
  }

  /** A request of `apiKey` v`version` started at `startMs` (now()) was answered (or failed). */
  request(apiKey: number, version: number, startMs: number): void {
    const end = this.#now();
    if (end >= this.#windowEnds) this.rotate(end);
    let r = this.requests[apiKey];
    if (r === undefined) {
      r = this.requests[apiKey] = { byVersion: [], count: 0, sumMs: 0, current: new Uint32Array(LATENCY_BUCKETS), previous: new Uint32Array(LATENCY_BUCKETS) };
    }
    r.byVersion[version] = (r.byVersion[version] ?? 0) + 1;
    r.count++;
    const ms = end - startMs;
    r.sumMs += ms;
    r.current[latencyBucket(ms)]++;
  }

  /** Moves to a new latency window when the current one is over (also called at scrape time). */
  rotate(now = this.#now()): void {
    if (now < this.#windowEnds) return;
    const stale = now >= this.#windowEnds + LATENCY_WINDOW_MS; // no request for a whole window: both are old
    for (const r of this.requests) {
      if (!r) continue;
      const old = r.previous;
      r.previous = r.current;
      r.current = old.fill(0);
      if (stale) r.previous.fill(0);
    }
    this.#windowEnds = now + LATENCY_WINDOW_MS;
  }

  /** A connection was accepted on `listener`; counted open until it closes. */
  connectionOpened(listener: string, socket: { once(event: 'close', fn: () => void): unknown }): void {
    let l = this.listeners.get(listener);
    if (l === undefined) this.listeners.set(listener, (l = { open: 0, created: 0, closed: 0 }));
    l.open++;
    l.created++;
    const counters = l;
    socket.once('close', () => { counters.open--; counters.closed++; });
  }
}

/** The latency at quantile q (0..1) of the current and previous windows, in ms; 0 without observations. */
export function latencyQuantile(r: RequestCounters, q: number): number {
  let total = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) total += r.current[i] + r.previous[i];
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    seen += r.current[i] + r.previous[i];
    if (seen >= rank) return bucketUpperMs(i);
  }
  return bucketUpperMs(LATENCY_BUCKETS - 1);
}
