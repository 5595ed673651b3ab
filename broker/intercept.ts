// Fault injection at a connection's dispatch (the public test API, `broker.intercept`): per broker instance,
// never module-level, so two brokers in one process never share faults.
//
// An interception names an API key, optionally versions and a predicate on the decoded request, and decides
// per request what happens instead of (or around) the normal handling. Answers stay in request order: a
// delayed or withheld answer holds back later answers on the same connection, as Kafka's would. Not seen by
// interceptions: frames that close the connection before decoding (malformed, unknown API or version) and an
// ApiVersions request newer than served (answered from its header alone).

/** What happens to one intercepted request. `undefined` (from a decide function) passes it through. */
export type InterceptAction =
  /** Handled at once; its answer is written `delay` ms later (on the broker's clock). */
  | { delay: number }
  /** Never handled, never answered (a request lost on the way in); later answers on the connection flow. */
  | { dropRequest: true }
  /** Handled (e.g. the append happens), the answer is thrown away (a response lost on the way out). */
  | { dropResponse: true }
  /**
   * Not handled; answered with this error code for the whole request, built as Kafka's getErrorResponse
   * (error-response.ts). A version that cannot carry an error as a whole closes the connection instead.
   */
  | { errorCode: number }
  /**
   * 'before': the connection is reset on arrival; this request is not handled, answers not yet written are
   * lost. 'after': handled, then the connection closes where its answer would have been written (earlier
   * answers are written; later requests may have been handled but are not answered).
   */
  | { close: 'before' | 'after' }
  /**
   * Not handled until `hold` settles (a paused partition or coordinator): the request keeps its place, so
   * answers stay in request order; later requests on the connection are handled meanwhile.
   */
  | { hold: Promise<unknown> }
  /**
   * Handled; the answer carries `throttle_time_ms = throttle` (where the version has it) and the connection
   * reads nothing more for that long, as Kafka mutes a throttled channel (KIP-219).
   */
  | { throttle: number };

/** What a decide function is told besides the decoded request. */
export interface InterceptedRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string;
  readonly connectionId: string;
  readonly listenerName: string;
}

export type InterceptDecision = InterceptAction | ((req: any, info: InterceptedRequest) => InterceptAction | undefined);

export interface InterceptOptions {
  /** Act on at most this many requests (those the decision returns an action for); then it removes itself. Default: unlimited. */
  times?: number;
  /** Only these API versions. */
  versions?: readonly number[];
  /** Only requests this returns true for (the decoded request body). */
  match?: (req: any) => boolean;
}

export interface Interception {
  /** Requests acted on so far. */
  readonly hits: number;
  /** Actions left (Infinity when unlimited); 0 once used up or removed. */
  readonly remaining: number;
  remove(): void;
}

interface Entry {
  /** -1: every API. */
  apiKey: number;
  opts: InterceptOptions;
  decide: InterceptDecision;
  hits: number;
  remaining: number;
}

/** `intercept(ANY_API, …)`: requests of every API. */
export const ANY_API = -1;

/** The interceptions of one broker, consulted by its connections. */
export class Interceptors {
  #entries: Entry[] = [];

  /** True when any interception is registered (connections skip the lookup otherwise). */
  get active(): boolean { return this.#entries.length > 0; }

  add(apiKey: number, opts: InterceptOptions, decide: InterceptDecision): Interception {
    const times = opts.times ?? Infinity;
    if (!(times > 0)) throw new RangeError(`intercept: times must be positive, got ${opts.times}`);
    if (typeof decide !== 'function') validateAction(decide);
    const e: Entry = { apiKey, opts, decide, hits: 0, remaining: times };
    this.#entries.push(e);
    return {
      get hits() { return e.hits; },
      get remaining() { return e.remaining; },
      remove: () => this.#remove(e),
    };
  }

  /**
   * The action for a request: interceptions are asked in registration order; the first one returning an
   * action decides (and counts down), the others are not asked.
   */
  decide(req: unknown, info: InterceptedRequest): InterceptAction | undefined {
    for (const e of this.#entries) {
      if ((e.apiKey !== info.apiKey && e.apiKey !== ANY_API) || e.remaining <= 0) continue;
      if (e.opts.versions && !e.opts.versions.includes(info.apiVersion)) continue;
      if (e.opts.match && !e.opts.match(req)) continue;
      const action = typeof e.decide === 'function' ? e.decide(req, info) : e.decide;
      if (action === undefined) continue;
      validateAction(action);
      e.hits++;
      if (--e.remaining <= 0) this.#remove(e);
      return action;
    }
    return undefined;
  }

  #remove(e: Entry): void {
    e.remaining = 0;
    this.#entries = this.#entries.filter((x) => x !== e);
  }
}

function validateAction(a: InterceptAction): void {
  const keys = a && typeof a === 'object' ? Object.keys(a) : [];
  const ok = keys.length === 1 && (
    ('delay' in a && Number.isFinite(a.delay) && a.delay >= 0)
    || ('dropRequest' in a && a.dropRequest === true)
    || ('dropResponse' in a && a.dropResponse === true)
    || ('errorCode' in a && Number.isInteger(a.errorCode) && a.errorCode >= -32768 && a.errorCode <= 32767)
    || ('close' in a && (a.close === 'before' || a.close === 'after'))
    || ('hold' in a && typeof (a.hold as Promise<unknown>)?.then === 'function')
    || ('throttle' in a && Number.isFinite(a.throttle) && a.throttle >= 0 && a.throttle <= 0x7fffffff));
  if (!ok) throw new TypeError(`intercept: not an action: ${JSON.stringify(a)}`);
}
