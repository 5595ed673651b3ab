// The network RaftTransport (Kafka's KafkaNetworkChannel + NetworkClient, reduced): outbound requests go to the
// voter's CONTROLLER listener (`controller.quorum.voters` id@host:port) over one connection per voter, as Kafka
// protocol frames (request header v2, the generated codecs); the connection starts with ApiVersions and checks
// the peer serves the versions the core speaks. Lost connections reconnect with exponential backoff
// (reconnect.backoff.ms 50 → reconnect.backoff.max.ms 1000); a request unanswered within
// controller.quorum.request.timeout.ms closes its connection, as Kafka's NetworkClient does. The core notices a
// lost request by its own timers (fetch retry, election timeout): nothing is re-sent here.
//
// Inbound: the host (broker/raft-net.ts) decodes requests on its controller listener and calls `serve`, which hands
// them to the core under a per-request source id and resolves with the core's response.

import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../protocol/frame.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { ApiVersionsApi, makeApiVersionsRequest } from '../../protocol/generated/api-versions.ts';
import { decodeRaftMessage, encodeRaftMessage } from '../raft/wire.ts';
import { RAFT_API_VERSIONS, type RaftApi, type RaftMessage, type RaftRequest, type RaftResponse, type RaftTransport, type VoterEndpoint } from '../raft/types.ts';

export const RAFT_API_KEYS: Record<RaftApi, number> = { Vote: 52, BeginQuorumEpoch: 53, EndQuorumEpoch: 54, Fetch: 1, FetchSnapshot: 59 };

export interface RaftNetworkOptions {
  nodeId: number;
  voters: readonly VoterEndpoint[];
  /** controller.quorum.request.timeout.ms (2000). */
  requestTimeoutMs?: number;
  /** reconnect.backoff.ms (50) and reconnect.backoff.max.ms (1000). */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** socket.connection.setup.timeout.ms (10000). */
  connectTimeoutMs?: number;
  /** Largest response frame accepted (a Fetch answer is at most fetchMaxBytes plus headers). */
  maxFrameBytes?: number;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
}

interface RaftCore { handle(from: number, msg: RaftMessage): void }

/** Requests queued while a connection is being set up, at most this many (oldest dropped). */
const MAX_QUEUED = 64;

export class RaftNetwork implements RaftTransport {
  readonly #o: PeerOptions & Pick<RaftNetworkOptions, 'voters'>;
  readonly #peers = new Map<number, Peer>();
  #core: RaftCore | null = null;
  /** Inbound requests waiting for the core's answer, by the source id they were handed in under. */
  readonly #inbound = new Map<number, { resolve: (r: RaftResponse) => void; reject: (e: Error) => void }>();
  #nextInbound = -1000;
  #closed = false;

  constructor(o: RaftNetworkOptions) {
    this.#o = { requestTimeoutMs: 2000, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1000, connectTimeoutMs: 10_000, maxFrameBytes: 104857600, ...o };
    for (const v of o.voters) if (v.id !== o.nodeId) this.#peers.set(v.id, new Peer(v, this.#o, (msg) => this.#deliver(v.id, msg)));
  }

  /** The core that inbound messages go to (built after the transport: each needs the other). */
  attach(core: RaftCore): void { this.#core = core; }

  send(to: number, msg: RaftMessage): void {
    if (this.#closed) return;
    if (msg.kind === 'response') {
      const w = this.#inbound.get(to);
      if (w === undefined) return; // the connection it came from is gone
      this.#inbound.delete(to);
      w.resolve(msg);
      return;
    }
    const peer = this.#peers.get(to);
    if (peer === undefined) return this.#o.log.warn(`raft: no address for voter ${to}`);
    peer.send(msg);
  }

  /** An inbound request from the controller listener: resolves with the core's response (a Fetch may be long-polled). */
  serve<R extends RaftRequest>(api: R['api'], body: R['body']): Promise<RaftResponse> {
    if (this.#closed || this.#core === null) return Promise.reject(new Error('the metadata quorum is not running'));
    const from = this.#nextInbound--;
    if (this.#nextInbound < -2_000_000_000) this.#nextInbound = -1000;
    const p = new Promise<RaftResponse>((resolve, reject) => this.#inbound.set(from, { resolve, reject }));
    this.#core.handle(from, { kind: 'request', api, correlationId: 0, body } as RaftRequest);
    return p;
  }

  /** Peers' connection states (tests, logs). */
  connected(id: number): boolean { return this.#peers.get(id)?.ready ?? false; }

  close(): void {
    this.#closed = true;
    for (const p of this.#peers.values()) p.close();
    // Inbound requests stay unanswered: their connections are closed with the listener.
    this.#inbound.clear();
  }

  #deliver(from: number, msg: RaftResponse): void {
    if (this.#closed || this.#core === null) return;
    try {
      this.#core.handle(from, msg);
    } catch (e) {
      // A RaftFatalError (Kafka stops the Raft thread): the core refuses further work; log it loudly.
      this.#o.log.error(`raft: handling ${msg.api} response from voter ${from}: ${(e as Error).stack ?? e}`);
    }
  }
}

type PeerOptions = Required<Omit<RaftNetworkOptions, 'log' | 'voters'>> & Pick<RaftNetworkOptions, 'log'>;

interface Inflight { api: RaftApi | 'ApiVersions'; timer: ReturnType<typeof setTimeout> }

/** One outbound connection to a voter. */
class Peer {
  readonly #v: VoterEndpoint;
  readonly #o: PeerOptions;
  readonly #deliver: (msg: RaftResponse) => void;
  #socket: Socket | null = null;
  ready = false;
  #queue: Array<{ correlationId: number; api: RaftApi; frame: Buffer }> = [];
  #inflight = new Map<number, Inflight>();
  #backoff = 0;
  #nextAttempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #handshakeCorrelation = -1;
  #closed = false;
  /** Logged once per outage, not per attempt. */
  #warned = false;

  constructor(v: VoterEndpoint, o: PeerOptions, deliver: (msg: RaftResponse) => void) {
    this.#v = v;
    this.#o = o;
    this.#deliver = deliver;
  }

  send(msg: RaftMessage): void {
    if (this.#closed) return;
    const frame = requestFrame(RAFT_API_KEYS[msg.api], RAFT_API_VERSIONS[msg.api], msg.correlationId, encodeRaftMessage(msg));
    if (this.ready) return this.#write(msg.correlationId, msg.api, frame);
    this.#queue.push({ correlationId: msg.correlationId, api: msg.api, frame });
    if (this.#queue.length > MAX_QUEUED) this.#queue.shift();
    this.#connectSoon();
  }

  /** Ends the connection after what was written (a resigning leader's EndQuorumEpoch), destroyed 1 s later at most. */
  close(): void {
    this.#closed = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    const s = this.#socket;
    if (s !== null && this.ready) {
      this.#socket = null;
      this.ready = false;
      for (const inf of this.#inflight.values()) clearTimeout(inf.timer);
      this.#inflight.clear();
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
      return;
    }
    this.#teardown();
  }

  #write(correlationId: number, api: Inflight['api'], frame: Buffer): void {
    const timer = setTimeout(() => {
      this.#inflight.delete(correlationId);
      this.#o.log.warn(`raft: ${api} request to voter ${this.#v.id} timed out after ${this.#o.requestTimeoutMs} ms: disconnecting`);
      this.#teardown();
    }, this.#o.requestTimeoutMs);
    timer.unref?.();
    this.#inflight.set(correlationId, { api, timer });
    this.#socket!.write(frame);
  }

  #connectSoon(): void {
    if (this.#socket !== null || this.#reconnectTimer !== null) return;
    const wait = Math.max(0, this.#nextAttempt - Date.now());
    this.#reconnectTimer = setTimeout(() => { this.#reconnectTimer = null; this.#connect(); }, wait);
    this.#reconnectTimer.unref?.();
  }

  #connect(): void {
    if (this.#closed || this.#socket !== null) return;
    this.#backoff = this.#backoff === 0 ? this.#o.reconnectBackoffMs : Math.min(this.#backoff * 2, this.#o.reconnectBackoffMaxMs);
    // Kafka's jitter (±20 %) keeps voters that lost each other at once from reconnecting in lockstep.
    this.#nextAttempt = Date.now() + Math.round(this.#backoff * (0.8 + Math.random() * 0.4));
    const s = connect({ host: this.#v.host, port: this.#v.port, noDelay: true });
    this.#socket = s;
    s.setTimeout(this.#o.connectTimeoutMs, () => { if (!this.ready) s.destroy(new Error('connection setup timed out')); });
    const decoder = new FrameDecoder((frame) => this.#onFrame(frame), { maxFrameBytes: this.#o.maxFrameBytes });
    s.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (e) {
        this.#o.log.error(`raft: malformed response from voter ${this.#v.id}: ${(e as Error).message}`);
        this.#teardown();
      }
    });
    s.on('error', (e) => {
      if (!this.#warned) this.#o.log.warn(`raft: voter ${this.#v.id} at ${this.#v.host}:${this.#v.port}: ${e.message} (retrying with backoff up to ${this.#o.reconnectBackoffMaxMs} ms)`);
      this.#warned = true;
    });
    s.on('close', () => { if (this.#socket === s) this.#teardown(); });
    s.on('connect', () => {
      s.setTimeout(0);
      // ApiVersions first (v3, flexible): the peer must serve the versions the core speaks.
      const w = new Writer(64);
      ApiVersionsApi.encodeRequest(w, 3, makeApiVersionsRequest({ clientSoftwareName: 'gregor', clientSoftwareVersion: '0' }));
      const corr = this.#handshakeCorrelation;
      this.#write(corr, 'ApiVersions', requestFrame(18, 3, corr, w.finishBuffer()));
    });
  }

  #onFrame(frame: Buffer): void {
    const r = new Reader(frame);
    const corr = r.int32();
    const inf = this.#inflight.get(corr);
    if (inf === undefined) return; // timed out earlier
    this.#inflight.delete(corr);
    clearTimeout(inf.timer);
    if (inf.api === 'ApiVersions') {
      // ApiVersions answers with response header v0 (no tagged fields).
      const res = ApiVersionsApi.decodeResponse(r, 3);
      const missing = (Object.keys(RAFT_API_KEYS) as RaftApi[]).filter((api) => {
        const k = res.apiKeys.find((a) => a.apiKey === RAFT_API_KEYS[api]);
        return k === undefined || k.minVersion > RAFT_API_VERSIONS[api] || k.maxVersion < RAFT_API_VERSIONS[api];
      });
      if (res.errorCode !== 0 || missing.length > 0) {
        this.#o.log.error(`raft: voter ${this.#v.id} at ${this.#v.host}:${this.#v.port} does not serve ${missing.map((a) => `${a} v${RAFT_API_VERSIONS[a]}`).join(', ') || `ApiVersions (error ${res.errorCode})`}: is it a controller listener?`);
        this.#teardown();
        return;
      }
      this.ready = true;
      this.#backoff = 0;
      if (this.#warned) this.#o.log.info(`raft: connected to voter ${this.#v.id} at ${this.#v.host}:${this.#v.port}`);
      this.#warned = false;
      for (const q of this.#queue.splice(0)) this.#write(q.correlationId, q.api, q.frame);
      return;
    }
    skipTaggedFields(r); // response header v1
    let msg: RaftResponse;
    try {
      msg = decodeRaftMessage('response', inf.api, corr, frame.subarray(frame.length - r.remaining)) as RaftResponse;
    } catch (e) {
      this.#o.log.error(`raft: undecodable ${inf.api} response from voter ${this.#v.id}: ${(e as Error).message}`);
      return this.#teardown();
    }
    this.#deliver(msg);
  }

  #teardown(): void {
    const s = this.#socket;
    this.#socket = null;
    this.ready = false;
    for (const inf of this.#inflight.values()) clearTimeout(inf.timer);
    this.#inflight.clear();
    // Requests queued for a connection that failed are stale by the next attempt; the core re-sends what it needs.
    this.#queue = [];
    s?.destroy();
  }
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

/** Size prefix + request header v2 (api key, version, correlation id, client id, no tagged fields) + body. */
function requestFrame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const w = new Writer(32);
  w.int16(apiKey);
  w.int16(version);
  w.int32(correlationId);
  w.nullableString('raft-client');
  w.uvarint(0);
  const head = w.finishBuffer();
  return Buffer.concat([int32(head.length + body.length), head, body]);
}

function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}
