// Named fault rules: the same in TypeScript (`broker.faults`) and over HTTP (`/faults`, http/faults-api.ts).
// A rule selects requests (API, topic, partition, group, client id) and says what happens to them — an error
// code, a delay, a dropped request or answer, a closed connection, a throttle, a pause until cleared — or
// makes the disk fail; each is limited by a count or a time and is listed and cleared by name. Request rules
// are interceptions (intercept.ts); disk rules are faults of the broker's FaultyFs, which the broker puts
// under storage when `gregor.fault.injection.enable=true` (startTestBroker turns it on).
import { apiNames } from '../protocol/generated/api-table.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import type { Clock } from '../storage/index.ts';
import type { FaultyFs } from '../storage/index.ts';
import { ANY_API, type InterceptAction, type Interception, type Interceptors } from './intercept.ts';
import type { Logger } from './log.ts';

export interface FaultRuleSpec {
  /** Unique among the broker's rules; how it is listed and cleared. */
  name: string;
  // Which requests (every given selector must match; none: every request).
  /** Kafka's API name (`Produce`, `FindCoordinator`, …) or key. */
  api?: string | number;
  /** Requests that name this topic (by name, or by id where the API uses ids). */
  topic?: string;
  /** With `topic`: requests that name this partition of it. */
  partition?: number;
  /** Requests that name this group (group coordinator APIs, FindCoordinator keys). */
  group?: string;
  /** Requests from this client.id. */
  clientId?: string;
  // What happens (exactly one).
  /** Answer this error (Kafka's name or code) for the whole request, without handling it. */
  error?: string | number;
  /** Handle at once, answer this many ms later. */
  delayMs?: number;
  /** Never handle it nor answer it. */
  dropRequest?: boolean;
  /** Handle it (the append happens), never answer it: the duplicate-produce case. */
  dropResponse?: boolean;
  /** Reset the connection before handling ('before') or instead of answering ('after'). */
  close?: 'before' | 'after';
  /** Handle it; the answer carries throttle_time_ms and the connection is muted for that long. */
  throttleMs?: number;
  /** Hold matching requests unhandled until the rule is cleared or expires (a paused partition or coordinator). */
  pause?: boolean;
  /** The disk fails: fdatasync errors (EIO), writes fail with ENOSPC ('full') or EIO ('io-error'). */
  disk?: 'fsync-error' | 'full' | 'io-error';
  // Limits (none: until cleared).
  /** Requests acted on (disk: failing calls), then the rule clears itself. */
  times?: number;
  /** Milliseconds (broker clock) until the rule clears itself. */
  forMs?: number;
}

export interface FaultRuleState extends FaultRuleSpec {
  /** Requests acted on (disk rules: not counted). */
  readonly hits: number;
  /** Clock time the rule clears itself, or null. */
  readonly expiresAt: number | null;
}

/** A rule that cannot be taken (unknown API or error, no action, …): HTTP 400. */
export class FaultRuleError extends Error {}

const ACTIONS = ['error', 'delayMs', 'dropRequest', 'dropResponse', 'close', 'throttleMs', 'pause', 'disk'] as const;
const KEYS = new Set<string>(['name', 'api', 'topic', 'partition', 'group', 'clientId', ...ACTIONS, 'times', 'forMs']);
const GROUP_KEY_TYPE = 0;

interface Rule {
  spec: FaultRuleSpec;
  interception: Interception | null;
  undoDisk: (() => void) | null;
  release: (() => void) | null;
  timer: unknown;
  expiresAt: number | null;
}

export class FaultRules {
  readonly #rules = new Map<string, Rule>();
  readonly #intercepts: Interceptors;
  readonly #fs: FaultyFs | null;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #topicName: (id: string) => string | undefined;

  constructor(opts: { intercepts: Interceptors; fs: FaultyFs | null; clock: Clock; log: Logger; topicName: (id: string) => string | undefined }) {
    this.#intercepts = opts.intercepts;
    this.#fs = opts.fs;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#topicName = opts.topicName;
  }

  add(input: FaultRuleSpec): FaultRuleState {
    const spec = checkSpec(input);
    if (this.#rules.has(spec.name)) throw new FaultRuleError(`a fault rule named "${spec.name}" exists; clear it first`);
    const rule: Rule = { spec, interception: null, undoDisk: null, release: null, timer: null, expiresAt: null };
    if (spec.disk !== undefined) {
      if (!this.#fs) throw new FaultRuleError('disk faults need gregor.fault.injection.enable=true at start (the broker then runs storage on a fault-injecting file system)');
      const code = spec.disk === 'full' ? 'ENOSPC' : 'EIO';
      const op = spec.disk === 'fsync-error' ? 'fdatasync' : 'write';
      const pathIncludes = spec.topic === undefined ? undefined : `/${spec.topic}-${spec.partition ?? ''}`;
      rule.undoDisk = this.#fs.failNext(op, { code, times: spec.times ?? Infinity, pathIncludes });
    } else {
      let action: InterceptAction;
      if (spec.pause) action = { hold: new Promise<void>((resolve) => { rule.release = resolve; }) };
      else if (spec.error !== undefined) action = { errorCode: errorCodeOf(spec.error) };
      else if (spec.delayMs !== undefined) action = { delay: spec.delayMs };
      else if (spec.dropRequest) action = { dropRequest: true };
      else if (spec.dropResponse) action = { dropResponse: true };
      else if (spec.close !== undefined) action = { close: spec.close };
      else action = { throttle: spec.throttleMs! };
      const apiKey = spec.api === undefined ? ANY_API : apiKeyOf(spec.api);
      const match = this.#matcher(spec);
      rule.interception = this.#intercepts.add(apiKey, { times: spec.times, match }, (_req, info) =>
        spec.clientId === undefined || info.clientId === spec.clientId ? action : undefined);
    }
    if (spec.forMs !== undefined) {
      rule.expiresAt = this.#clock.now() + spec.forMs;
      rule.timer = this.#clock.setTimeout(() => this.#end(spec.name, 'expired'), spec.forMs);
    }
    this.#rules.set(spec.name, rule);
    this.#log.info(`fault rule ${spec.name} added: ${JSON.stringify(spec)}`);
    return this.#state(rule);
  }

  list(): FaultRuleState[] {
    this.#sweep();
    return [...this.#rules.values()].map((r) => this.#state(r));
  }

  get(name: string): FaultRuleState | undefined {
    this.#sweep();
    const r = this.#rules.get(name);
    return r && this.#state(r);
  }

  /** Clears one rule (paused requests go on); false when there is none of that name. */
  remove(name: string): boolean {
    return this.#end(name, 'cleared');
  }

  /** Clears every rule; how many there were. */
  clear(): number {
    const names = [...this.#rules.keys()];
    for (const n of names) this.#end(n, 'cleared');
    return names.length;
  }

  #end(name: string, why: string): boolean {
    const r = this.#rules.get(name);
    if (!r) return false;
    this.#rules.delete(name);
    r.interception?.remove();
    r.undoDisk?.();
    r.release?.();
    if (r.timer !== null) this.#clock.clearTimeout(r.timer);
    this.#log.info(`fault rule ${name} ${why}`);
    return true;
  }

  /** Rules whose count is used up are gone from the list. */
  #sweep(): void {
    for (const [name, r] of this.#rules) if (r.interception && r.interception.remaining <= 0) this.#end(name, 'used up');
  }

  #state(r: Rule): FaultRuleState {
    return { ...r.spec, hits: r.interception?.hits ?? 0, expiresAt: r.expiresAt };
  }

  /** The request predicate of a rule's topic / partition / group selectors (undefined: every request). */
  #matcher(spec: FaultRuleSpec): ((req: unknown) => boolean) | undefined {
    const { topic, partition, group } = spec;
    if (topic === undefined && group === undefined) return undefined;
    return (req) => (topic === undefined || namesTopic(req, topic, partition, this.#topicName)) && (group === undefined || namesGroup(req, group));
  }
}

function checkSpec(input: FaultRuleSpec): FaultRuleSpec {
  if (!input || typeof input !== 'object') throw new FaultRuleError('a fault rule is an object');
  for (const k of Object.keys(input)) if (!KEYS.has(k)) throw new FaultRuleError(`unknown fault rule field "${k}"`);
  const spec = { ...input };
  if (typeof spec.name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(spec.name)) throw new FaultRuleError('name: 1–100 characters of A-Z a-z 0-9 . _ -');
  const actions = ACTIONS.filter((a) => spec[a] !== undefined && spec[a] !== false);
  if (actions.length !== 1) throw new FaultRuleError(`a fault rule has exactly one action of ${ACTIONS.join(', ')}; got ${actions.length ? actions.join(', ') : 'none'}`);
  const nonNegInt = (k: 'delayMs' | 'throttleMs' | 'forMs' | 'partition', max = 0x7fffffff) => {
    const v = spec[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= max)) throw new FaultRuleError(`${k}: a whole number from 0 to ${max}`);
  };
  nonNegInt('delayMs'); nonNegInt('throttleMs'); nonNegInt('forMs'); nonNegInt('partition');
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 1)) throw new FaultRuleError('times: a whole number ≥ 1');
  if (spec.api !== undefined) apiKeyOf(spec.api);
  if (spec.error !== undefined) errorCodeOf(spec.error);
  if (spec.close !== undefined && spec.close !== 'before' && spec.close !== 'after') throw new FaultRuleError("close: 'before' or 'after'");
  if (spec.disk !== undefined && !['fsync-error', 'full', 'io-error'].includes(spec.disk)) throw new FaultRuleError("disk: 'fsync-error', 'full' or 'io-error'");
  for (const k of ['topic', 'group', 'clientId'] as const) if (spec[k] !== undefined && typeof spec[k] !== 'string') throw new FaultRuleError(`${k}: a string`);
  if (spec.partition !== undefined && spec.topic === undefined) throw new FaultRuleError('partition needs topic');
  if (spec.disk !== undefined && (spec.api !== undefined || spec.group !== undefined || spec.clientId !== undefined)) throw new FaultRuleError('disk rules select by topic and partition only');
  return spec;
}

function apiKeyOf(api: string | number): number {
  const key = typeof api === 'number' ? api : apiNames.indexOf(api);
  if (!Number.isInteger(key) || key < 0 || !apiNames[key]) throw new FaultRuleError(`api: no Kafka API ${JSON.stringify(api)} (use a name such as "Produce" or a key)`);
  return key;
}

function errorCodeOf(error: string | number): number {
  const code = typeof error === 'number' ? error : (ErrorCode as Record<string, number>)[error];
  if (!Number.isInteger(code) || code < -32768 || code > 32767 || (typeof error === 'string' && code === undefined)) {
    throw new FaultRuleError(`error: no Kafka error ${JSON.stringify(error)} (use a name such as "NOT_LEADER_OR_FOLLOWER" or a code)`);
  }
  return code!;
}

// Requests are walked generically: every API names topics as `name` / `topic` / `topicName` (or `topicId`) in
// a list whose entries hold partition numbers (`index`, `partition`, `partitionIndex`, or a `partitions` /
// `partitionIndexes` list of numbers). Only walked while a rule with a topic selector exists.
const TOPIC_KEYS = ['name', 'topic', 'topicName'] as const;
const PARTITION_KEYS = ['index', 'partition', 'partitionIndex'] as const;

function namesTopic(req: unknown, topic: string, partition: number | undefined, topicName: (id: string) => string | undefined): boolean {
  const seen = (o: Record<string, unknown>): boolean => {
    const id = o.topicId;
    const named = TOPIC_KEYS.some((k) => o[k] === topic) || (typeof id === 'string' && topicName(id) === topic);
    if (!named) return false;
    return partition === undefined || hasPartition(o, partition);
  };
  return walk(req, seen, 0);
}

function hasPartition(o: unknown, p: number): boolean {
  if (Array.isArray(o)) return o.some((x) => x === p || hasPartition(x, p));
  if (!o || typeof o !== 'object') return false;
  const r = o as Record<string, unknown>;
  if (PARTITION_KEYS.some((k) => r[k] === p)) return true;
  return Object.values(r).some((v) => typeof v === 'object' && v !== null && hasPartition(v, p));
}

function namesGroup(req: unknown, group: string): boolean {
  return walk(req, (o) => o.groupId === group || (o.keyType === GROUP_KEY_TYPE && (o.key === group || (Array.isArray(o.coordinatorKeys) && o.coordinatorKeys.includes(group)))), 0);
}

function walk(v: unknown, test: (o: Record<string, unknown>) => boolean, depth: number): boolean {
  if (depth > 8 || !v || typeof v !== 'object' || Buffer.isBuffer(v)) return false;
  if (Array.isArray(v)) return v.some((x) => walk(x, test, depth + 1));
  const o = v as Record<string, unknown>;
  if (test(o)) return true;
  for (const x of Object.values(o)) if (x && typeof x === 'object' && walk(x, test, depth + 1)) return true;
  return false;
}
