// Connection limits, as Kafka's SocketServer / ConnectionQuotas / Selector / MemoryPool enforce them:
//
// - max.connections: when every slot is taken, Kafka's acceptor blocks until a connection closes, so new
//   connections wait (in the listen backlog). gregor holds an accepted socket unread until a slot frees;
//   at most socket.listen.backlog.size sockets wait (beyond that the kernel would refuse in Kafka), the
//   rest are closed at once.
// - max.connections.per.ip / max.connections.per.ip.overrides: a new connection from an address that
//   already has its maximum (counting served and waiting ones) is closed at once, as Kafka's acceptor does.
// - connections.max.idle.ms (Kafka: default 10 min, negative = never): a connection with no request in
//   flight is closed when nothing happened on it for that long. Kafka's selector counts any socket read as
//   activity, so a client trickling one byte a minute is never idle there; gregor counts only completed
//   requests and written responses, so a frame trickled slowly (slowloris) is closed after the same time.
// - queued.max.request.bytes: the memory for requests being read. A frame that spans reads is allocated
//   at its declared size when its body starts (protocol/frame.ts); while the total allocated reaches the
//   budget, connections that would start a new frame stop reading (as Kafka mutes channels when its
//   MemoryPool is empty) until memory frees; connections already reading a frame finish it (one frame
//   may overshoot, as Kafka's non-strict pool allows). Kafka's default -1 leaves the bound to the JVM
//   heap; gregor then bounds it at 2 × socket.request.max.bytes. Memory is released when the frame is
//   complete (requests in flight are bounded separately, per connection). A slowloris holding memory is
//   closed by the idle rule above, which frees the others.
import dns from 'node:dns/promises';
import net from 'node:net';
import type { BrokerConfig } from './config.ts';
import { ConfigError } from './config.ts';
import type { Clock } from '../storage/clock.ts';
import type { Logger } from './log.ts';
import { every, type Periodic } from './timers.ts';

/**
 * What the limits need of a connection (connection.ts's Connection); declared here so the two modules do
 * not import each other.
 */
export interface GatedConnection {
  readonly closed: boolean;
  /** Gate-clock time since which nothing happened, or null while it is busy. */
  readonly idleSince: number | null;
  readonly allocatedBytes: number;
  setReadBlocked(blocked: boolean): void;
  close(reason?: string): void;
}

/** What a Connection reports to its limits (connection.ts). */
export interface ConnectionGate {
  /** queued.max.requests: a connection stops reading with this many requests in flight. */
  readonly maxInFlight: number;
  now(): number;
  /** The connection's allocatedBytes changed. */
  buffered(conn: GatedConnection): void;
}

type Serve = (gate: ConnectionGate) => GatedConnection;

export interface LimitSettings {
  maxConnections: number;
  maxPerIp: number;
  /** Per-address overrides, keyed by normalised IP. */
  perIpOverrides: ReadonlyMap<string, number>;
  /** Negative: never close idle connections. */
  idleMs: number;
  /** Budget for bytes allocated to incomplete frames across connections. */
  requestMemoryBytes: number;
  /** Sockets that may wait for a connection slot. */
  backlog: number;
  maxInFlight: number;
}

const normalizeIp = (a: string | undefined) => (a ?? '').replace(/^::ffff:/, '');

/** Parses max.connections.per.ip.overrides (`host:count,…`; hosts are resolved as Kafka does). */
export async function parsePerIpOverrides(value: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = entry.lastIndexOf(':');
    const host = entry.slice(0, i).trim().replace(/^\[|\]$/g, '');
    const count = entry.slice(i + 1).trim();
    if (i <= 0 || !/^\d+$/.test(count)) throw new ConfigError(`max.connections.per.ip.overrides: malformed entry "${entry}" (expected host:count)`);
    const ips = net.isIP(host) ? [host] : await dns.lookup(host, { all: true }).then((r) => r.map((a) => a.address), () => {
      throw new ConfigError(`max.connections.per.ip.overrides: cannot resolve host "${host}"`);
    });
    for (const ip of ips) out.set(normalizeIp(ip), Number(count));
  }
  return out;
}

export async function limitSettings(config: BrokerConfig): Promise<LimitSettings> {
  const perIpOverrides = await parsePerIpOverrides(config.get('max.connections.per.ip.overrides') ?? '');
  const maxPerIp = config.int('max.connections.per.ip');
  if (maxPerIp === 0 && perIpOverrides.size === 0) {
    throw new ConfigError('max.connections.per.ip: 0 is only allowed with max.connections.per.ip.overrides set');
  }
  const queued = config.int('queued.max.request.bytes');
  return {
    maxConnections: config.int('max.connections'),
    maxPerIp,
    perIpOverrides,
    idleMs: config.int('connections.max.idle.ms'),
    requestMemoryBytes: queued > 0 ? queued : 2 * config.int('socket.request.max.bytes'),
    backlog: Math.max(1, config.int('socket.listen.backlog.size')),
    // Kafka bounds its shared request queue; gregor bounds each connection's requests in flight.
    maxInFlight: Math.max(1, config.int('queued.max.requests')),
  };
}

export class ConnectionLimits implements ConnectionGate {
  readonly #s: LimitSettings;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #open = new Set<GatedConnection>();
  readonly #waiting: { socket: net.Socket; serve: Serve }[] = [];
  readonly #perIp = new Map<string, number>();
  readonly #allocated = new Map<GatedConnection, number>();
  readonly #blocked = new Set<GatedConnection>();
  #used = 0;
  readonly #sweeper: Periodic;

  constructor(settings: LimitSettings, clock: Clock, log: Logger) {
    this.#s = settings;
    this.#clock = clock;
    this.#log = log;
    // Kafka's selector checks on every poll; a sweep at a fraction of the limit keeps the overshoot small.
    this.#sweeper = every(clock, settings.idleMs >= 0 ? Math.min(1000, Math.max(5, Math.floor(settings.idleMs / 4))) : -1, () => this.#closeIdle());
  }

  get connections(): ReadonlySet<GatedConnection> { return this.#open; }
  /** Bytes allocated to incomplete frames across connections (tests, diagnostics). */
  get requestMemoryUsed(): number { return this.#used; }

  get maxInFlight(): number { return this.#s.maxInFlight; }
  now(): number { return this.#clock.now(); }

  /**
   * A socket just accepted: served now, held for a slot, or closed (per-IP limit, backlog full). `serve`
   * turns it into a Connection that reports back through this gate.
   */
  accept(socket: net.Socket, serve: Serve): void {
    const ip = normalizeIp(socket.remoteAddress);
    const max = this.#s.perIpOverrides.get(ip) ?? this.#s.maxPerIp;
    const count = this.#perIp.get(ip) ?? 0;
    if (count >= max) {
      this.#log.warn(`rejected connection from ${ip}: address already has the configured maximum of ${max} connections (max.connections.per.ip)`);
      socket.destroy();
      return;
    }
    this.#perIp.set(ip, count + 1);
    socket.once('close', () => {
      const n = (this.#perIp.get(ip) ?? 1) - 1;
      if (n > 0) this.#perIp.set(ip, n);
      else this.#perIp.delete(ip);
    });
    if (this.#open.size < this.#s.maxConnections) return this.#admit(socket, serve);
    if (this.#waiting.length >= this.#s.backlog) {
      this.#log.warn(`rejected connection from ${ip}: max.connections (${this.#s.maxConnections}) reached and ${this.#waiting.length} connections already wait`);
      socket.destroy();
      return;
    }
    const entry = { socket, serve };
    this.#waiting.push(entry);
    socket.on('error', () => {});
    socket.once('close', () => {
      const i = this.#waiting.indexOf(entry);
      if (i >= 0) this.#waiting.splice(i, 1);
    });
  }

  #admit(socket: net.Socket, serve: Serve): void {
    const conn = serve(this);
    this.#open.add(conn);
    if (this.#used >= this.#s.requestMemoryBytes) this.#block(conn);
    socket.once('close', () => {
      this.#open.delete(conn);
      this.#blocked.delete(conn);
      this.#setAllocated(conn, 0);
      this.#admitWaiting();
    });
  }

  #admitWaiting(): void {
    while (this.#open.size < this.#s.maxConnections && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      if (!next.socket.destroyed) this.#admit(next.socket, next.serve);
    }
  }

  buffered(conn: GatedConnection): void {
    if (!this.#open.has(conn)) return;
    this.#setAllocated(conn, conn.closed ? 0 : conn.allocatedBytes);
    // Between frames with memory exhausted: wait before reading the next one.
    if (this.#used >= this.#s.requestMemoryBytes && !this.#allocated.has(conn)) this.#block(conn);
  }

  #setAllocated(conn: GatedConnection, bytes: number): void {
    const before = this.#allocated.get(conn) ?? 0;
    if (bytes === before) return;
    if (bytes > 0) this.#allocated.set(conn, bytes);
    else this.#allocated.delete(conn);
    const wasExhausted = this.#used >= this.#s.requestMemoryBytes;
    this.#used += bytes - before;
    const exhausted = this.#used >= this.#s.requestMemoryBytes;
    if (exhausted && !wasExhausted) {
      this.#log.warn(`request memory exhausted (${this.#used} bytes in incomplete requests, queued.max.request.bytes budget ${this.#s.requestMemoryBytes}): pausing reads`);
      for (const c of this.#open) if (!this.#allocated.has(c)) this.#block(c);
    } else if (!exhausted && this.#blocked.size > 0) {
      const blocked = [...this.#blocked];
      this.#blocked.clear();
      for (const c of blocked) c.setReadBlocked(false);
    }
  }

  #block(conn: GatedConnection): void {
    this.#blocked.add(conn);
    conn.setReadBlocked(true);
  }

  #closeIdle(): void {
    const limit = this.now() - this.#s.idleMs;
    for (const c of this.#open) {
      const since = c.idleSince;
      if (since !== null && since <= limit) c.close(`idle for more than connections.max.idle.ms (${this.#s.idleMs} ms)`);
    }
  }

  /** Stops the idle sweep and closes waiting sockets (the server closes its connections). */
  close(): void {
    this.#sweeper.stop();
    for (const w of this.#waiting.splice(0)) w.socket.destroy();
  }
}
