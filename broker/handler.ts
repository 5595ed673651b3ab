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
  /** Closes this connection after the responses already queued (Kafka does so for acks=0 errors). */
  closeConnection(reason: string): void;
}

/** What a handler returns: the response, or null when the request gets no response (Produce acks=0). */
export type HandlerResult<Res> = Res | null | Promise<Res | null>;

export interface Handler<Req = any, Res = any> {
  readonly api: ApiDescriptor<Req, Res>;
  /** Lowest and highest version this handler fully implements; ApiVersions advertises exactly these. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * Lower bound to advertise when it must differ from minVersion for client compatibility
   * (Kafka 4.x advertises Produce from v0 though it serves v3+; librdkafka ≤ 2.11 needs that).
   */
  readonly advertisedMinVersion?: number;
  /**
   * Runs synchronously up to its first await, in request arrival order per connection, so state reads
   * and writes that must not interleave happen before any await.
   */
  handle(ctx: RequestContext, req: Req): HandlerResult<Res>;
  /**
   * The response answering `req` with `errorCode` as a whole, shaped as Kafka's getErrorResponse for this
   * API (used when the real response cannot be encoded). Without it the connection uses the generated
   * response with its top-level errorCode set, if the API has one (broker/error-response.ts).
   */
  errorResponse?(req: Req, version: number, errorCode: number): Res;
}

export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res> {
  if (h.minVersion < h.api.minVersion || h.maxVersion > h.api.maxVersion || h.minVersion > h.maxVersion) {
    throw new Error(`${h.api.name}: handler range ${h.minVersion}-${h.maxVersion} outside definitions ${h.api.minVersion}-${h.api.maxVersion}`);
  }
  return h;
}

/**
 * A handler the broker loads on first use (its module imports the API's codec and whatever the handler
 * needs): what ApiVersions advertises, known without loading it. handlers/registry.ts lists them.
 */
export interface LazyHandler {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly advertisedMinVersion?: number;
  load(): Promise<Handler>;
}

/** One entry of the broker's handler table (BrokerContext.handlers), indexed by API key. */
export interface HandlerSlot {
  readonly apiKey: number;
  readonly name: string;
  /** The versions served (maxVersion lowered when the latest is unstable and unstable versions are off). */
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly advertisedMinVersion?: number;
  /** The handler once its module is loaded. */
  readonly loaded: Handler | undefined;
  /** Loads the module once; later calls return the same promise. */
  load(): Promise<Handler>;
}
