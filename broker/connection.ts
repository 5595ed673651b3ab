// One client connection: frames in, responses out in request order.
//
// Requests are dispatched as soon as they arrive (so a handler's synchronous part runs in arrival
// order), and their responses are written strictly in request order even when a later request
// finishes first. Bad input — an unknown API key, an unsupported version (other than ApiVersions),
// a malformed frame — closes this connection only, with a log line. A response that cannot be encoded is
// our bug: it is logged and the request answered with UNKNOWN_SERVER_ERROR (Kafka's error response shape
// for the API, error-response.ts); only if that cannot be encoded either is the connection closed. A
// handler that throws or rejects is our bug too: logged as an internal error and answered the same way
// (Kafka's KafkaApis.handleError).
//
// Closing for bad input stops reading at once but first writes the answers owed to earlier requests:
// Kafka reads one request at a time, so a client pipelining valid requests ahead of a bad frame gets
// their answers there too. Requests dispatched after the one that closes are not answered (Kafka would
// not have read them). Waiting for earlier answers is bounded by connections.max.idle.ms (the idle
// sweep, connection-limits.ts); once they are written the socket is ended, and destroyed when the
// client closes its side or CLOSE_LINGER_MS later. broker.close() destroys every socket at once.
//
// Handler modules load on first use: a request for one not loaded yet holds this connection's later
// frames (and its reading) until it is, so requests still reach their handlers in arrival order. A module
// that fails to load (EMFILE, …) is logged, that request answered with UNKNOWN_SERVER_ERROR (through the
// API's codec alone; closed if the codec cannot load or the version cannot carry an error as a whole), and
// the load retried on the API's next request.
//
// On a SASL listener a PreAuthentication (security/authenticator.ts) sees every frame until the client is
// authenticated (and after, when sessions expire: connections.max.reauth.ms); otherwise, and on
// PLAINTEXT/SSL listeners from the start, the field is null and frames go straight to their handlers.
//
// Fault injection (intercept.ts) happens here, after a request is decoded: the broker's interceptions may
// drop it, answer it with an error, delay or drop its answer, or close the connection.
import { FrameDecoder, FrameError } from '../protocol/frame.ts';
// Not generated/index.ts: that imports every API's codec; only the handlers' codecs are loaded.
import { apiNames } from '../protocol/generated/api-table.ts';
import { decodeRequestHeader } from '../protocol/generated/request-header.ts';
import { encodeResponseHeader } from '../protocol/generated/response-header.ts';
import { ProtocolError, Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import type { BrokerContext } from './context.ts';
import type { ConnectionGate } from './connection-limits.ts';
import { errorResponseFor } from './error-response.ts';
import type { ApiDescriptor } from '../protocol/generated/index.ts';
import type { HandlerImpl, RequestContext } from './handler.ts';
import type { HandlerSlot, HandlerTable } from './handler-table.ts';
import type { InterceptAction, Interceptors } from './intercept.ts';
import type { TransportSocket } from './transport.ts';
import { unsupportedApiVersionsResponse } from './handlers/api-versions.ts';

const API_VERSIONS_KEY = 18;
const UNKNOWN_SERVER_ERROR = -1;
/** Kafka's queued.max.requests default: stop reading from a connection with this many requests in flight. */
const MAX_IN_FLIGHT = 500;
/** Stop reading while this many response bytes wait in the socket's buffer. */
const MAX_BUFFERED_RESPONSE_BYTES = 64 * 1024 * 1024;
/** After ending our side, how long to wait for the client's FIN before destroying the socket. */
const CLOSE_LINGER_MS = 2000;

/** What a frame read before authentication leads to (security/authenticator.ts decides). */
export type PreAuthStep =
  | { kind: 'pass' } // handled as any request (ApiVersions)
  | { kind: 'reply'; chunks: Buffer[] }
  /** keep: the PreAuthentication still sees every frame (a session that expires, KIP-368). */
  | { kind: 'done'; chunks: Buffer[]; principal: string; keep?: boolean }
  | { kind: 'close'; reason: string; chunks?: Buffer[] };

export interface PreAuthentication {
  onFrame(frame: Buffer): PreAuthStep;
}

/** A connection's security: its principal (`User:ANONYMOUS` until known) and the authentication still to run. */
export interface ConnectionSecurity {
  principal: string;
  preAuth: PreAuthentication | null;
}

const ANONYMOUS: ConnectionSecurity = { principal: 'User:ANONYMOUS', preAuth: null };

interface Slot {
  done: boolean;
  /** Encoded frame chunks (size prefix first), or null for "no response" (acks=0). */
  chunks: Buffer[] | null;
}

export class Connection {
  readonly id: string;
  readonly #socket: TransportSocket;
  readonly #broker: BrokerContext;
  readonly #handlers: HandlerTable;
  readonly #listenerName: string;
  readonly #decoder: FrameDecoder;
  readonly #queue: Slot[] = [];
  #closed = false;
  #paused = false;
  /** A throttle interception mutes reading until then (broker clock, ms). */
  #throttledUntil = 0;
  /** Set when a close was requested: no more reading or dispatching; closes once earlier answers are out. */
  #closeReason: string | null = null;
  #closingSince = 0;
  #linger: ReturnType<typeof setTimeout> | null = null;
  /**
   * Frames held, in arrival order, while the handler of the first one loads (null: not waiting). A string
   * is a close reason (a malformed frame read after the held ones): it closes once those are dispatched.
   */
  #held: Array<Buffer | string> | null = null;
  readonly #clientHost: string;
  // Connection limits (connection-limits.ts): idle clock, and reading blocked while request memory is exhausted.
  readonly #gate: ConnectionGate | undefined;
  #lastActive = 0;
  #readBlocked = false;
  readonly #maxInFlight: number;
  readonly #intercepts: Interceptors | undefined;
  readonly #security: ConnectionSecurity;
  /** Non-null until a SASL client has authenticated. */
  #preAuth: PreAuthentication | null;

  constructor(socket: TransportSocket, broker: BrokerContext, listenerName: string, id: string, maxFrameBytes: number, handlers: HandlerTable, gate?: ConnectionGate, intercepts?: Interceptors, security: ConnectionSecurity = ANONYMOUS) {
    this.id = id;
    this.#security = security;
    this.#preAuth = security.preAuth;
    this.#intercepts = intercepts;
    this.#handlers = handlers;
    this.#gate = gate;
    this.#maxInFlight = gate?.maxInFlight ?? MAX_IN_FLIGHT;
    this.#lastActive = gate?.now() ?? 0;
    this.#socket = socket;
    this.#broker = broker;
    this.#listenerName = listenerName;
    this.#decoder = new FrameDecoder({ maxFrameBytes });
    // Java's InetAddress.toString() form, which Kafka puts in DescribeGroups' clientHost.
    this.#clientHost = `/${(socket.remoteAddress ?? '').replace(/^::ffff:/, '')}`;
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#maybeResume());
    socket.on('error', (err) => broker.log.debug(`connection ${id}: socket error: ${err.message}`));
    socket.on('close', () => {
      this.#closed = true;
      this.#queue.length = 0;
      this.#held = null;
      if (this.#linger) clearTimeout(this.#linger);
    });
  }

  get closed(): boolean { return this.#closed; }

  /**
   * Since when (gate clock) this connection has done nothing: no request completed, no response written.
   * Bytes of an incomplete frame do not count, so a trickled frame (slowloris) still ages. Null while
   * requests are in flight or reading is blocked by the gate. A closing connection waits for the answers
   * it owes under the same bound: it is idle since the close was requested.
   */
  get idleSince(): number | null {
    if (this.#closeReason !== null) return this.#closingSince;
    return this.#queue.length > 0 || this.#held !== null || this.#readBlocked ? null : this.#lastActive;
  }

  /** Bytes allocated for the incomplete frame being read. */
  get allocatedBytes(): number { return this.#decoder.allocatedBytes; }

  /** The gate stops (or lets resume) reading from this socket; the idle clock restarts on unblocking. */
  setReadBlocked(blocked: boolean): void {
    if (this.#readBlocked === blocked) return;
    this.#readBlocked = blocked;
    if (blocked) this.#pause();
    else {
      this.#lastActive = this.#gate?.now() ?? 0;
      this.#maybeResume();
    }
  }

  /** Closes now, dropping answers not yet written (idle limit, broker shutdown); also a closing or ended socket. */
  close(reason?: string): void {
    if (this.#socket.destroyed) return;
    if (reason && !this.#closed) this.#logClose(reason);
    this.#closed = true;
    this.#queue.length = 0;
    this.#held = null;
    this.#socket.destroy();
  }

  #logClose(reason: string): void {
    this.#broker.log.warn(`closing connection ${this.id} from ${this.#socket.remoteAddress}:${this.#socket.remotePort}: ${reason}`);
  }

  /** No more reading or dispatching: closed, or closing once earlier answers are written. */
  get #stopped(): boolean { return this.#closed || this.#closeReason !== null; }

  /**
   * Stops reading and dispatching now; closes once every answer owed to a request before `last` (and to
   * `last` itself) has been written. Requests dispatched after `last` are dropped unanswered. Without
   * `last` (bad input not yet dispatched) every request in flight is owed its answer.
   */
  #closeAfterQueued(reason: string, last?: Slot): void {
    if (this.#stopped) return;
    this.#logClose(reason);
    this.#closeReason = reason;
    this.#closingSince = this.#gate?.now() ?? 0;
    this.#held = null;
    if (last) {
      const i = this.#queue.indexOf(last);
      if (i >= 0) this.#queue.length = i + 1;
    }
    this.#pause();
    this.#flush();
  }

  /** Every owed answer is written: end our side, read (and drop) until the client's FIN, destroy after a linger. */
  #finishClose(): void {
    this.#closed = true;
    this.#socket.end();
    this.#socket.resume();
    this.#linger = setTimeout(() => this.#socket.destroy(), CLOSE_LINGER_MS);
    this.#linger.unref?.();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const allocated = this.#decoder.allocatedBytes;
    let frames = 0;
    try {
      this.#decoder.push(chunk, (frame) => {
        if (this.#stopped) return;
        frames++;
        if (this.#held) this.#held.push(frame);
        else this.#onFrame(frame);
      });
    } catch (err) {
      if (!(err instanceof FrameError)) this.#bug(err);
      else if (this.#held && !this.#stopped) this.#held.push(`malformed frame: ${err.message}`);
      else this.#closeAfterQueued(`malformed frame: ${err.message}`);
    }
    if (this.#gate) {
      if (frames > 0) this.#lastActive = this.#gate.now();
      if (this.#decoder.allocatedBytes !== allocated) this.#gate.buffered(this);
    }
  }

  #onFrame(frame: Buffer): void {
    if (this.#preAuth !== null && !this.#authenticate(this.#preAuth, frame)) return;
    if (frame.length < 8) return this.#closeAfterQueued(`request frame of ${frame.length} bytes is too short for a header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const entry = this.#handlers[apiKey];

    if (apiKey === API_VERSIONS_KEY && entry?.loaded && apiVersion > entry.maxVersion) {
      // Answer without parsing the body so the client can retry with a version we know.
      this.#enqueueReady(this.#encode(entry.loaded, 0, correlationId, unsupportedApiVersionsResponse(entry.minVersion, entry.maxVersion)));
      return;
    }
    // A controller-listener API elsewhere is not enabled: Kafka's SocketServer closes the connection too.
    if (!entry || (entry.controllerOnly && !this.#broker.config.list('controller.listener.names').includes(this.#listenerName))) {
      return this.#closeAfterQueued(`unsupported API key ${apiKey}${apiNames[apiKey] ? ` (${apiNames[apiKey]})` : ''}${entry ? ' on this listener' : ''}`);
    }
    if (apiVersion < entry.minVersion || apiVersion > entry.maxVersion) {
      return this.#closeAfterQueued(`unsupported version ${apiVersion} of ${entry.name} (supported ${entry.minVersion}-${entry.maxVersion})`);
    }
    const handler = entry.loaded;
    if (!handler) return this.#holdUntilLoaded(entry, frame);

    let req: unknown;
    let clientId: string;
    try {
      const r = new Reader(frame);
      const header = decodeRequestHeader(r, handler.api.requestHeaderVersion(apiVersion));
      clientId = header.clientId ?? '';
      req = handler.api.decodeRequest(r, apiVersion);
    } catch (err) {
      if (err instanceof ProtocolError) return this.#closeAfterQueued(`malformed ${handler.api.name} v${apiVersion} request: ${err.message}`);
      return this.#bug(err);
    }

    let action: InterceptAction | undefined;
    if (this.#intercepts?.active) {
      action = this.#intercepts.decide(req, { apiKey, apiVersion, correlationId, clientId, connectionId: this.id, listenerName: this.#listenerName });
      if (action && this.#interceptBefore(action, handler, apiVersion, correlationId, req)) return;
    }

    const slot: Slot = { done: false, chunks: null };
    if (action && 'hold' in action) {
      // Keeps its place in the answer order; handled once the hold ends (unless the connection is gone).
      this.#queue.push(slot);
      const release = (): void => { if (!this.#stopped) this.#handle(handler, apiVersion, correlationId, clientId, req, slot, undefined, false); };
      action.hold.then(release, release);
      if (this.#queue.length >= this.#maxInFlight) this.#pause();
      return;
    }
    this.#handle(handler, apiVersion, correlationId, clientId, req, slot, action, true);
  }

  /** Runs the handler for a decoded request whose answer goes into `slot` (queued here when `enqueue`). */
  #handle(handler: HandlerImpl, apiVersion: number, correlationId: number, clientId: string, req: unknown, slot: Slot, action: InterceptAction | undefined, enqueue: boolean): void {
    const apiKey = handler.api.apiKey;
    // Request metrics (gregor.http.listener on): count and time from here to the answer (or failure).
    const metrics = this.#broker.metrics;
    const start = metrics ? metrics.now() : 0;
    const ctx: RequestContext = {
      broker: this.#broker, apiKey, apiVersion, correlationId, clientId,
      listenerName: this.#listenerName, connectionId: this.id, clientHost: this.#clientHost, principal: this.#security.principal,
      closeConnection: (reason) => this.#closeAfterQueued(reason, slot),
    };
    if (enqueue) this.#queue.push(slot);
    const answer = (res: unknown): void => {
      metrics?.request(apiKey, apiVersion, start);
      if (action && 'throttle' in action && res !== null && typeof res === 'object' && 'throttleTimeMs' in res) (res as { throttleTimeMs: number }).throttleTimeMs = action.throttle;
      if (action) return this.#interceptAfter(action, slot, res === null ? null : () => this.#encodeAnswer(handler, apiVersion, correlationId, req, res, slot));
      if (res === null) return this.#complete(slot, null);
      const chunks = this.#encodeAnswer(handler, apiVersion, correlationId, req, res, slot);
      this.#complete(slot, chunks ?? null);
    };
    const failed = (err: unknown): void => {
      metrics?.request(apiKey, apiVersion, start);
      this.#complete(slot, this.#answerFailure(err, handler, apiVersion, correlationId, req, slot) ?? null);
    };
    let result;
    try {
      result = handler.handle(ctx, req);
    } catch (err) {
      failed(err);
      return;
    }
    if (result instanceof Promise) result.then(answer, failed);
    else answer(result);
    if (this.#queue.length >= this.#maxInFlight) this.#pause();
  }

  /** A frame before authentication; true when it is to be handled as a request (ApiVersions). */
  #authenticate(pre: PreAuthentication, frame: Buffer): boolean {
    let step: PreAuthStep;
    try {
      step = pre.onFrame(frame);
    } catch (err) {
      this.#bug(err, 'SASL');
      return false;
    }
    switch (step.kind) {
      case 'pass': return true;
      case 'reply': this.#enqueueReady(step.chunks); return false;
      case 'done':
        this.#security.principal = step.principal;
        if (!step.keep) this.#preAuth = null;
        this.#enqueueReady(step.chunks);
        return false;
      case 'close':
        if (step.chunks) this.#enqueueReady(step.chunks);
        this.#closeAfterQueued(step.reason);
        return false;
    }
  }

  /** Applies the part of an interception that replaces handling; true when the request is not to be handled. */
  #interceptBefore(action: InterceptAction, handler: HandlerImpl, version: number, correlationId: number, req: unknown): boolean {
    const what = `${handler.api.name} v${version} (correlation id ${correlationId})`;
    if ('dropRequest' in action) {
      this.#broker.log.info(`connection ${this.id}: intercepted ${what}: request dropped`);
      return true;
    }
    if ('close' in action && action.close === 'before') {
      this.close(`intercepted ${what}: connection closed before handling`);
      return true;
    }
    if ('errorCode' in action) {
      const res = errorResponseFor(handler, req, version, action.errorCode);
      if (res === null) this.close(`intercepted ${what}: errorCode ${action.errorCode} cannot be carried by this version; connection closed`);
      else {
        this.#broker.log.info(`connection ${this.id}: intercepted ${what}: answered error code ${action.errorCode}`);
        this.#enqueueReady(this.#encode(handler, version, correlationId, res));
      }
      return true;
    }
    return false;
  }

  /** Applies the part of an interception that acts on the handled request's answer (`encode`: null for no answer). */
  #interceptAfter(action: InterceptAction, slot: Slot, encode: (() => Buffer[] | undefined) | null): void {
    if ('dropResponse' in action) {
      this.#broker.log.info(`connection ${this.id}: intercepted request handled, response dropped`);
      return this.#complete(slot, null);
    }
    if ('close' in action) {
      // The connection closes where this answer would go: earlier answers are written, later requests dropped.
      this.#closeAfterQueued('intercepted request handled, connection closed instead of answering', slot);
      return this.#complete(slot, null);
    }
    if ('delay' in action) {
      const chunks = encode ? encode() : null;
      if (chunks === undefined) return this.#complete(slot, null); // unanswerable: the connection closes after it
      this.#broker.clock.setTimeout(() => this.#complete(slot, chunks), action.delay);
    }
    if ('throttle' in action) {
      const chunks = encode ? encode() : null;
      this.#complete(slot, chunks ?? null);
      this.#throttledUntil = Math.max(this.#throttledUntil, this.#broker.clock.now() + action.throttle);
      this.#pause();
      this.#broker.clock.setTimeout(() => this.#maybeResume(), action.throttle);
    }
  }

  /** Holds `frame` and every later one, and stops reading, until the entry's handler module is loaded. */
  #holdUntilLoaded(entry: HandlerSlot, frame: Buffer): void {
    this.#held = [frame];
    this.#pause();
    entry.load().then(() => this.#releaseHeld(0), async (err: unknown) => {
      this.#broker.log.error(`connection ${this.id}: loading the ${entry.name} handler failed (retried on its next request): ${(err as Error)?.stack ?? err}`);
      if (this.#stopped || !this.#held) return;
      await this.#answerWithoutHandler(entry, this.#held[0] as Buffer);
      this.#releaseHeld(1);
    }).catch((err) => this.#bug(err, entry.name));
  }

  /** Dispatches the held frames from index `from` on, in order; resumes reading unless another load holds them. */
  #releaseHeld(from: number): void {
    const held = this.#held;
    this.#held = null;
    if (this.#stopped || !held) return;
    for (let i = from; i < held.length && !this.#stopped; i++) {
      const item = held[i]!;
      if (this.#held) { (this.#held as Array<Buffer | string>).push(item); continue; } // waiting for another module
      if (typeof item === 'string') this.#closeAfterQueued(item);
      else this.#onFrame(item);
    }
    this.#maybeResume();
  }

  /** Answers a request whose handler could not be loaded with UNKNOWN_SERVER_ERROR, decoded by its codec alone. */
  async #answerWithoutHandler(entry: HandlerSlot, frame: Buffer): Promise<void> {
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    try {
      // The codec module is named after the API, as the handler file is (ListOffsets → list-offsets.ts).
      const file = entry.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
      const api = (await import(`../protocol/generated/${file}.ts`))[`${entry.name}Api`] as ApiDescriptor<unknown, unknown>;
      if (this.#stopped) return;
      const r = new Reader(frame);
      decodeRequestHeader(r, api.requestHeaderVersion(version));
      const req = api.decodeRequest(r, version);
      const res = errorResponseFor({ api }, req, version, UNKNOWN_SERVER_ERROR);
      if (res !== null) return this.#enqueueReady(this.#encode({ api }, version, correlationId, res));
      this.#closeAfterQueued(`${entry.name} v${version}: its handler could not be loaded and this version cannot carry an error as a whole`);
    } catch (err) {
      this.#closeAfterQueued(`${entry.name} v${version}: its handler could not be loaded, nor an error answered: ${(err as Error).message}`);
    }
  }

  /**
   * A handler threw (or its promise rejected): our bug. Logged as an internal error and, as Kafka's
   * KafkaApis.handleError does, answered with UNKNOWN_SERVER_ERROR; the connection closes (after the
   * earlier answers) only if this version cannot carry that error (undefined).
   */
  #answerFailure(err: unknown, handler: HandlerImpl, version: number, correlationId: number, req: unknown, slot: Slot): Buffer[] | undefined {
    const e = err instanceof Error ? err : new Error(String(err));
    const what = `${handler.api.name} v${version} (correlation id ${correlationId})`;
    this.#broker.log.error(`connection ${this.id} ${handler.api.name}: internal error handling ${what}, answering UNKNOWN_SERVER_ERROR: ${e.stack ?? e.message}`);
    try {
      const res = errorResponseFor(handler, req, version, UNKNOWN_SERVER_ERROR);
      if (res !== null) return this.#encode(handler, version, correlationId, res);
      this.#closeAfterQueued(`${what} failed and the API has no error response for this version`, slot);
    } catch (err2) {
      this.#closeAfterQueued(`${what} failed and its error response cannot be encoded: ${(err2 as Error).message}`, slot);
    }
    return undefined;
  }

  /**
   * Encodes `res`. If that throws (a bug of ours, e.g. a null in a non-nullable field) the request is answered
   * with UNKNOWN_SERVER_ERROR instead; if that cannot be encoded either, the connection closes after the
   * earlier answers (undefined).
   */
  #encodeAnswer(handler: HandlerImpl, version: number, correlationId: number, req: unknown, res: unknown, slot: Slot): Buffer[] | undefined {
    const what = `${handler.api.name} v${version} (correlation id ${correlationId})`;
    try {
      return this.#encode(handler, version, correlationId, res);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.#broker.log.error(`connection ${this.id}: encoding the ${what} response failed, answering UNKNOWN_SERVER_ERROR (a bug): ${e.stack ?? e.message}`);
    }
    try {
      const fallback = errorResponseFor(handler, req, version, UNKNOWN_SERVER_ERROR);
      if (fallback !== null) return this.#encode(handler, version, correlationId, fallback);
      this.#closeAfterQueued(`the ${what} response cannot be encoded and the API has no error response for this version`, slot);
    } catch (err) {
      this.#closeAfterQueued(`the ${what} error response cannot be encoded either: ${(err as Error).message}`, slot);
    }
    return undefined;
  }

  #encode(handler: { api: ApiDescriptor<any, any> }, version: number, correlationId: number, res: unknown): Buffer[] {
    const w = new Writer();
    encodeResponseHeader(w, handler.api.responseHeaderVersion(version), { correlationId });
    handler.api.encodeResponse(w, version, res);
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(w.byteLength, 0);
    const chunks = w.finish();
    chunks.unshift(size);
    return chunks;
  }

  #enqueueReady(chunks: Buffer[]): void {
    this.#queue.push({ done: true, chunks });
    this.#flush();
  }

  #complete(slot: Slot, chunks: Buffer[] | null): void {
    if (this.#closed) return;
    slot.done = true;
    slot.chunks = chunks;
    this.#flush();
  }

  /** Writes every finished response at the head of the queue; later ones wait for earlier ones. */
  #flush(): void {
    let wrote = false;
    while (this.#queue.length > 0 && this.#queue[0].done) {
      const slot = this.#queue.shift()!;
      if (slot.chunks === null) continue;
      if (!wrote) { this.#socket.cork(); wrote = true; }
      for (const c of slot.chunks) this.#socket.write(c);
    }
    if (wrote) {
      if (this.#gate) this.#lastActive = this.#gate.now();
      this.#socket.uncork();
      if (this.#socket.writableLength > MAX_BUFFERED_RESPONSE_BYTES) this.#pause();
    }
    if (this.#closeReason !== null) {
      // The loop above wrote every finished response at the head: an empty queue means none is pending.
      if (this.#queue.length === 0 && !this.#closed) this.#finishClose();
      return;
    }
    this.#maybeResume();
  }

  #pause(): void {
    if (!this.#paused) { this.#paused = true; this.#socket.pause(); }
  }

  #maybeResume(): void {
    if (this.#paused && !this.#stopped && this.#held === null && this.#throttledUntil <= this.#broker.clock.now() && !this.#readBlocked && this.#queue.length < this.#maxInFlight && this.#socket.writableLength <= MAX_BUFFERED_RESPONSE_BYTES) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /**
   * An exception from our own code outside a handler: a bug, never client input. Log it loudly and close
   * only this connection, after the answers owed to earlier requests.
   */
  #bug(err: unknown, api?: string): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.#broker.log.error(`connection ${this.id}${api ? ` ${api}` : ''}: internal error: ${e.stack ?? e.message}`);
    this.#closeAfterQueued('internal error');
  }
}
