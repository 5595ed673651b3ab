// The contract between the connection layer and one API's handler file.
import type { ApiDescriptor } from '../protocol/generated/index.ts';
import type { BrokerContext } from './context.ts';

export interface RequestContext {
  readonly broker: BrokerContext;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string;
  /** Name of the listener the request arrived on (Metadata answers with that listener's address). */
  readonly listenerName: string;
  readonly connectionId: string;
  /** The client's address as Kafka reports it in group member descriptions: "/" + IP. */
  readonly clientHost: string;
  /** Who is asking, as Kafka's KafkaPrincipal prints it: `User:ANONYMOUS` (PLAINTEXT, SSL without a client certificate), `User:<mapped DN>` (SSL), `User:<name>` (SASL). */
  readonly principal: string;
  /** Closes this connection after the responses already queued (Kafka does so for acks=0 errors). */
  closeConnection(reason: string): void;
}

/** What a handler returns: the response, or null when the request gets no response (Produce acks=0). */
export type HandlerResult<Res> = Res | null | Promise<Res | null>;

/** What a handler file defines (`export const handler = defineHandler({...})`); its versions are its row in handlers/index.ts. */
export interface HandlerImpl<Req = any, Res = any> {
  readonly api: ApiDescriptor<Req, Res>;
  /**
   * Runs synchronously up to its first await, in request arrival order per connection, so state reads
   * and writes that must not interleave happen before any await.
   */
  handle(ctx: RequestContext, req: Req): HandlerResult<Res>;
  /**
   * The response answering `req` with `errorCode` as a whole, shaped as Kafka's getErrorResponse for this
   * API (used when the real response cannot be encoded, and by `intercept`'s errorCode). Without it the
   * connection uses the generated response with its top-level errorCode set, if the API has one
   * (broker/error-response.ts). null: this request gets no answer at all (acks=0 produce).
   */
  errorResponse?(req: Req, version: number, errorCode: number): Res | null;
}

/** The versions one API is served at (a row of handlers/index.ts, or a test's handler). */
export interface VersionRange {
  readonly apiKey: number;
  /** Lowest and highest version the handler fully implements; ApiVersions advertises exactly these. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * Lower bound to advertise when it must differ from minVersion for client compatibility
   * (Kafka 4.x advertises Produce from v0 though it serves v3+; librdkafka ≤ 2.11 needs that).
   */
  readonly advertisedMinVersion?: number;
  /**
   * Served but left out of ApiVersions, as Kafka does for an API it answers only when configured for it
   * (GetTelemetrySubscriptions / PushTelemetry without a telemetry receiver).
   */
  readonly unadvertised?: boolean;
}

/** A handler with its versions: what the broker serves (tests pass sets of these). */
export type Handler<Req = any, Res = any> = HandlerImpl<Req, Res> & Omit<VersionRange, 'apiKey'>;

export function defineHandler<Req, Res>(h: HandlerImpl<Req, Res>): HandlerImpl<Req, Res>;
export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res>;
export function defineHandler<Req, Res>(h: HandlerImpl<Req, Res> | Handler<Req, Res>): HandlerImpl<Req, Res> {
  if ('minVersion' in h) checkRange(h.api, h);
  return h;
}

/** Throws unless the range lies within the API's definitions. */
export function checkRange(api: { name: string; minVersion: number; maxVersion: number }, r: { minVersion: number; maxVersion: number }): void {
  if (r.minVersion < api.minVersion || r.maxVersion > api.maxVersion || r.minVersion > r.maxVersion) {
    throw new Error(`${api.name}: handler range ${r.minVersion}-${r.maxVersion} outside definitions ${api.minVersion}-${api.maxVersion}`);
  }
}
