// The CLI's Kafka client: the generated codec over plain sockets. One connection per broker, requests
// pipelined by correlation id; each connection negotiates versions with ApiVersions (the highest version both
// sides have, capped where the CLI fills only the older shape of a request, see VERSION_CAPS). Metadata gives
// the brokers and partition leaders; FindCoordinator the group coordinator. Retriable Kafka errors and lost
// connections are retried with exponential backoff up to a deadline (the Java client's retry.backoff.ms /
// retry.backoff.max.ms / delivery-style timeout in one setting, default.api.timeout.ms).
import net from 'node:net';
import { FrameDecoder } from '../../protocol/frame.ts';
import { errorInfo, errorName } from '../../protocol/generated/errors.ts';
import { apis, requestHeaderVersion, responseHeaderVersion } from '../../protocol/generated/index.ts';
import type { MetadataResponse } from '../../protocol/generated/metadata.ts';
import { encodeRequestHeader } from '../../protocol/generated/request-header.ts';
import { decodeResponseHeader } from '../../protocol/generated/response-header.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

/** The null topic id (all zero bits). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export const API = {
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10,
  JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, DescribeGroups: 15, ListGroups: 16,
  ApiVersions: 18, CreateTopics: 19, DeleteTopics: 20, InitProducerId: 22, DescribeAcls: 29,
  DescribeConfigs: 32, CreatePartitions: 37, DeleteGroups: 42, IncrementalAlterConfigs: 44, DescribeCluster: 60,
} as const;

/**
 * Highest version the CLI sends. Produce 13 / Fetch 13+ / OffsetFetch 10 / OffsetCommit 10 address topics by id
 * only; the CLI works with names, which every broker since 2.x takes at these versions.
 */
const VERSION_CAPS: Record<number, number> = { [API.Produce]: 12, [API.Fetch]: 12, [API.OffsetCommit]: 9, [API.OffsetFetch]: 9, [API.Metadata]: 12 };

/** A Kafka error code from a response, with Kafka's name for it. */
export class KafkaError extends Error {
  readonly code: number;
  readonly retriable: boolean;
  constructor(code: number, context: string, message?: string | null) {
    const info = errorInfo(code);
    super(`${context}: ${errorName(code)}${message ? ` (${message})` : info?.message ? ` (${info.message})` : ''}`);
    this.name = 'KafkaError';
    this.code = code;
    this.retriable = info?.retriable ?? false;
  }
}

/** The connection failed or closed: retriable (the next attempt reconnects, possibly elsewhere). */
export class NetworkError extends Error {
  constructor(message: string) { super(message); this.name = 'NetworkError'; }
}

export function check(code: number, context: string, message?: string | null): void {
  if (code !== 0) throw new KafkaError(code, context, message);
}

export interface ClientOptions {
  bootstrap: string[];
  clientId?: string;
  /** Per request (request.timeout.ms, default 30000). */
  requestTimeoutMs?: number;
  /** The whole operation with its retries (default.api.timeout.ms, default 60000). */
  apiTimeoutMs?: number;
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** Progress and retry notes (stderr). */
  note?: (msg: string) => void;
}

interface Pending { apiKey: number; version: number; resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class Connection {
  readonly host: string;
  readonly port: number;
  readonly #socket: net.Socket;
  readonly #clientId: string;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | undefined;
  /** The broker's version range per API key (after negotiate()). */
  versions = new Map<number, [number, number]>();

  private constructor(socket: net.Socket, host: string, port: number, clientId: string, timeoutMs: number) {
    this.#socket = socket;
    this.host = host;
    this.port = port;
    this.#clientId = clientId;
    this.#timeoutMs = timeoutMs;
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 30 });
    socket.on('data', (chunk: Buffer) => {
      try { decoder.push(chunk, (f) => this.#onFrame(f)); } catch (e) { this.#fail(new NetworkError(`${host}:${port}: ${(e as Error).message}`)); }
    });
    socket.on('error', (e) => this.#fail(new NetworkError(`${host}:${port}: ${e.message}`)));
    socket.on('close', () => this.#fail(new NetworkError(`${host}:${port}: connection closed`)));
  }

  static connect(host: string, port: number, clientId: string, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const timer = setTimeout(() => { s.destroy(); reject(new NetworkError(`${host}:${port}: connect timed out after ${timeoutMs} ms`)); }, timeoutMs);
      s.once('error', (e) => { clearTimeout(timer); reject(new NetworkError(`${host}:${port}: ${e.message}`)); });
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.setNoDelay(true);
        const c = new Connection(s, host, port, clientId, timeoutMs);
        c.#negotiate().then(() => resolve(c), (e) => { c.close(); reject(e); });
      });
    });
  }

  get closed(): boolean { return this.#closed !== undefined; }

  async #negotiate(): Promise<void> {
    // v3 first (flexible; Kafka answers UNSUPPORTED_VERSION with its ranges in a v0 body if it has no v3).
    let res = await this.send(API.ApiVersions, 3, { clientSoftwareName: 'gregor-cli', clientSoftwareVersion: '1' });
    if (res.errorCode === 35) res = await this.send(API.ApiVersions, 0, {});
    check(res.errorCode, 'ApiVersions');
    for (const k of res.apiKeys) this.versions.set(k.apiKey, [k.minVersion, k.maxVersion]);
  }

  /** The version to use for an API: the highest both sides (and the cap) allow. */
  version(apiKey: number): number {
    const api = apis[apiKey]!;
    const theirs = this.versions.get(apiKey);
    if (!theirs) throw new KafkaError(35, `${api.name}: the broker at ${this.host}:${this.port} does not serve this API`);
    const v = Math.min(api.maxVersion, theirs[1], VERSION_CAPS[apiKey] ?? Infinity);
    if (v < Math.max(api.minVersion, theirs[0])) throw new KafkaError(35, `${api.name}: no version in common with ${this.host}:${this.port}`);
    return v;
  }

  /** Sends a request at the negotiated version (or `version`); top-level fields left out take their defaults. */
  request<Res = any>(apiKey: number, body: object, version = this.version(apiKey)): Promise<Res & { version: number }> {
    return this.send(apiKey, version, body).then((r) => Object.assign(r, { version }));
  }

  /** Produce with acks=0 gets no response: resolves once written. */
  sendNoResponse(apiKey: number, body: object): Promise<void> {
    const version = this.version(apiKey);
    const frame = this.#encode(apiKey, version, body, this.#nextId++);
    return new Promise((resolve, reject) => this.#socket.write(frame, (e) => (e ? reject(new NetworkError(e.message)) : resolve())));
  }

  #encode(apiKey: number, version: number, body: object, correlationId: number): Buffer {
    const api = apis[apiKey]!;
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: this.#clientId });
    api.encodeRequest(w, version, api.makeRequest(body));
    const buf = w.finishBuffer();
    buf.writeInt32BE(buf.length - 4, 0);
    return buf;
  }

  send(apiKey: number, version: number, body: object): Promise<any> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    const frame = this.#encode(apiKey, version, body, id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        // A late answer would desynchronise nothing (correlation ids), but Kafka's client closes here too.
        this.#fail(new NetworkError(`${this.host}:${this.port}: ${apis[apiKey]!.name} timed out after ${this.#timeoutMs} ms`));
        reject(new NetworkError(`${this.host}:${this.port}: ${apis[apiKey]!.name} timed out after ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { apiKey, version, resolve, reject, timer });
      this.#socket.write(frame);
    });
  }

  #onFrame(frame: Buffer): void {
    const id = frame.readInt32BE(0);
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    try {
      const r = new Reader(frame);
      decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.version));
      // ApiVersions' error reply is always a v0 body (Kafka's rule for an unsupported version).
      const v = p.apiKey === API.ApiVersions && frame.length >= 6 && frame.readInt16BE(4) === 35 ? 0 : p.version;
      p.resolve(apis[p.apiKey]!.decodeResponse(r, v));
    } catch (e) {
      p.reject(new NetworkError(`${this.host}:${this.port}: undecodable ${apis[p.apiKey]!.name} response: ${(e as Error).message}`));
    }
  }

  #fail(e: Error): void {
    if (this.#closed) return;
    this.#closed = e;
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(e); }
    this.#pending.clear();
    this.#socket.destroy();
  }

  close(): void { this.#fail(new NetworkError(`${this.host}:${this.port}: closed by the client`)); }
}

export interface BrokerInfo { nodeId: number; host: string; port: number; rack: string | null }
export interface PartitionInfo { partition: number; leader: number; leaderEpoch: number; replicas: number[]; isr: number[]; offline: number[]; errorCode: number }
export interface TopicInfo { name: string; topicId: string; internal: boolean; errorCode: number; partitions: PartitionInfo[] }

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(s.trim());
  if (!m || !m[1]) throw new Error(`bad bootstrap server "${s}" (host:port)`);
  return { host: m[1], port: Number(m[2]) };
}

export class Client {
  readonly opts: Required<Omit<ClientOptions, 'note'>> & { note: (msg: string) => void };
  readonly #conns = new Map<string, Promise<Connection>>();
  brokers = new Map<number, BrokerInfo>();
  clusterId: string | null = null;
  controllerId = -1;

  constructor(opts: ClientOptions) {
    this.opts = {
      clientId: 'gregor-cli', requestTimeoutMs: 30000, apiTimeoutMs: 60000, retryBackoffMs: 100, retryBackoffMaxMs: 1000,
      note: () => {},
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    } as unknown as Client['opts'];
    if (opts.bootstrap.length === 0) throw new Error('no bootstrap servers');
    for (const b of opts.bootstrap) parseHostPort(b);
  }

  #connect(host: string, port: number): Promise<Connection> {
    const key = `${host}:${port}`;
    const have = this.#conns.get(key);
    if (have) {
      return have.then((c) => {
        if (!c.closed) return c;
        this.#conns.delete(key);
        return this.#connect(host, port);
      }, () => { this.#conns.delete(key); return this.#connect(host, port); });
    }
    const p = Connection.connect(host, port, this.opts.clientId, this.opts.requestTimeoutMs);
    this.#conns.set(key, p);
    p.catch(() => { if (this.#conns.get(key) === p) this.#conns.delete(key); });
    return p;
  }

  /** A connection to some broker: the known ones first, then the bootstrap list. */
  async any(): Promise<Connection> {
    let last: Error | undefined;
    const targets = [...[...this.brokers.values()].map((b) => `${b.host}:${b.port}`), ...this.opts.bootstrap];
    for (const t of targets) {
      const { host, port } = parseHostPort(t);
      try { return await this.#connect(host, port); } catch (e) { last = e as Error; }
    }
    throw last ?? new NetworkError('no broker reachable');
  }

  async broker(nodeId: number): Promise<Connection> {
    let b = this.brokers.get(nodeId);
    if (!b) { await this.metadata([]); b = this.brokers.get(nodeId); }
    if (!b) throw new KafkaError(8, `broker ${nodeId}`, 'not in the cluster metadata');
    return this.#connect(b.host, b.port);
  }

  /** Metadata for these topics (null = all); records the brokers and the controller. */
  async metadata(topics: string[] | null, allowAutoTopicCreation = false): Promise<{ topics: TopicInfo[]; res: MetadataResponse }> {
    const c = await this.any();
    const res: MetadataResponse = await c.request(API.Metadata, {
      topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })), allowAutoTopicCreation,
    });
    this.brokers = new Map(res.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }]));
    this.clusterId = res.clusterId;
    this.controllerId = res.controllerId;
    const out = res.topics.map((t) => ({
      name: t.name ?? '', topicId: t.topicId, internal: t.isInternal, errorCode: t.errorCode,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, offline: p.offlineReplicas, errorCode: p.errorCode }))
        .sort((a, b) => a.partition - b.partition),
    }));
    return { topics: out, res };
  }

  /** One topic's metadata; its error (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, …) is thrown. */
  async topic(name: string): Promise<TopicInfo> {
    return this.retry(`metadata for ${name}`, async () => {
      const { topics } = await this.metadata([name]);
      const t = topics.find((x) => x.name === name);
      // UNKNOWN_TOPIC_OR_PARTITION is retriable for a client that waits for a topic; a command fails at once.
      if (!t || t.errorCode === 3) throw new Error(`topic ${name} does not exist`);
      check(t.errorCode, `topic ${name}`);
      for (const p of t.partitions) if (p.leader < 0) throw new KafkaError(5, `${name}-${p.partition}`);
      return t;
    });
  }

  /** The group coordinator (FindCoordinator key type 0), retried while it is loading or not yet available. */
  async coordinator(groupId: string): Promise<Connection> {
    return this.retry(`coordinator for group ${groupId}`, async () => {
      const c = await this.any();
      const v = c.version(API.FindCoordinator);
      const res = await c.request(API.FindCoordinator, v >= 4 ? { keyType: 0, coordinatorKeys: [groupId] } : { keyType: 0, key: groupId });
      const e = v >= 4 ? res.coordinators[0] : res;
      check(e.errorCode, `FindCoordinator ${groupId}`, e.errorMessage);
      if (!this.brokers.has(e.nodeId)) this.brokers.set(e.nodeId, { nodeId: e.nodeId, host: e.host, port: e.port, rack: null });
      return this.#connect(e.host, e.port);
    });
  }

  /**
   * Runs `op` until it succeeds, a non-retriable error, or default.api.timeout.ms; retriable Kafka errors and
   * network errors wait retry.backoff.ms, doubling up to retry.backoff.max.ms (with Kafka's ±20% jitter).
   */
  async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.opts.apiTimeoutMs;
    let backoff = this.opts.retryBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        const retriable = e instanceof NetworkError || (e instanceof KafkaError && e.retriable);
        if (!retriable || Date.now() + backoff > deadline) throw e;
        if (attempt >= 2) this.opts.note(`${what}: ${(e as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, backoff * (0.8 + Math.random() * 0.4)));
        backoff = Math.min(backoff * 2, this.opts.retryBackoffMaxMs);
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.#conns.values()];
    this.#conns.clear();
    for (const p of all) p.then((c) => c.close(), () => {});
  }
}
