// Broker configuration with Kafka's names and defaults. Sources, lowest precedence first:
// built-in defaults < server.properties file < environment (KAFKA_*) < command-line overrides.
// Unknown names in a file or override are rejected at start (Kafka warns; we refuse so typos surface).

import { BROKER_CONFIGS, type Support } from './configs/broker-configs.ts';

import type { ConfigType } from './configs/broker-configs.ts';
export type { ConfigType };

export interface ConfigDef {
  name: string;
  type: ConfigType;
  /** Kafka's default, as the string DescribeConfigs would show; null = no default. */
  default: string | null;
  /** Read-only broker configs cannot be changed without a restart (DescribeConfigs readOnly). */
  readOnly?: boolean;
  /** Names this config can also be given under (e.g. log.dir for log.dirs). */
  aliases?: string[];
  /** Accepted but not listed by DescribeConfigs (Kafka's internal configs, gregor's cluster.id). */
  internal?: boolean;
  /** What gregor does with it (configs/broker-configs.ts): unsupported ones are refused unless at their default. */
  support?: Support;
}

// Kafka 4.4's broker configs as gregor knows them (the catalogue in configs/broker-configs.ts), each
// classified there as effective, satisfied, noop (logged at start when set) or unsupported (refused).
export const brokerConfigDefs: readonly ConfigDef[] = BROKER_CONFIGS;

const defsByName = new Map<string, ConfigDef>();
for (const d of brokerConfigDefs) {
  defsByName.set(d.name, d);
  for (const a of d.aliases ?? []) defsByName.set(a, d);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export class BrokerConfig {
  readonly #values: Map<string, string>;
  constructor(values: Map<string, string>) { this.#values = values; }

  /** The effective value as a string, or null when unset and without default. */
  get(name: string): string | null {
    const def = defsByName.get(name);
    if (!def) throw new Error(`unknown broker config ${name}`);
    return this.#values.get(def.name) ?? def.default;
  }
  /** Whether the value was set explicitly (DescribeConfigs source STATIC_BROKER_CONFIG vs DEFAULT_CONFIG). */
  isSet(name: string): boolean { return this.#values.has(defsByName.get(name)?.name ?? name); }
  int(name: string): number {
    const v = this.get(name);
    if (v === null) throw new Error(`broker config ${name} has no value`);
    return Number(v);
  }
  bool(name: string): boolean { return this.get(name) === 'true'; }
  list(name: string): string[] {
    const v = this.get(name);
    return v === null || v.trim() === '' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
  }
  entries(): IterableIterator<[string, string]> { return this.#values.entries(); }
}

function validate(def: ConfigDef, value: string): string {
  const v = value.trim();
  switch (def.type) {
    case 'int':
    case 'short':
    case 'long':
      if (!/^-?\d+$/.test(v)) throw new ConfigError(`${def.name}: expected an integer, got "${value}"`);
      if (def.type === 'int' && (Number(v) > 2147483647 || Number(v) < -2147483648)) throw new ConfigError(`${def.name}: out of int range`);
      if (def.type === 'short' && (Number(v) > 32767 || Number(v) < -32768)) throw new ConfigError(`${def.name}: out of short range`);
      if (def.type === 'long' && (BigInt(v) > 9223372036854775807n || BigInt(v) < -9223372036854775808n)) throw new ConfigError(`${def.name}: out of long range`);
      return v;
    case 'boolean':
      if (!/^(true|false)$/i.test(v)) throw new ConfigError(`${def.name}: expected true or false, got "${value}"`);
      return v.toLowerCase();
    case 'double':
      if (Number.isNaN(Number(v))) throw new ConfigError(`${def.name}: expected a number, got "${value}"`);
      return v;
    default:
      return v;
  }
}

/** Parses Java .properties text: `k=v`, `k: v` or `k v`; `#`/`!` comments; `\` line continuations and escapes. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^\s+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].replace(/^\s+/, '');
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line) ?? /^((?:\\.|[^=:\s\\])+)$/.exec(line);
    if (!m) continue;
    const unescape = (s: string) => s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) =>
      c[0] === 'u' && c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : c === 'n' ? '\n' : c === 't' ? '\t' : c);
    out.set(unescape(m[1]), unescape(m[2] ?? ''));
  }
  return out;
}

/**
 * Maps environment variables to config names the way Kafka's Docker images do: strip `KAFKA_CFG_` or
 * `KAFKA_`, lower-case, `___` → `-`, `__` → `_`, `_` → `.`. Only names that are known configs are taken,
 * so unrelated variables (KAFKA_HEAP_OPTS, …) are ignored. `GREGOR_<NAME>` names gregor's own `gregor.<name>`.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    const g = /^GREGOR_(.+)$/.exec(k);
    if (g) { gregorFromEnv(out, g[1], v); continue; }
    const m = /^KAFKA_(?:CFG_)?(.+)$/.exec(k);
    if (!m) continue;
    const name = m[1].toLowerCase().replace(/___/g, '-').replace(/__/g, '\u0000').replace(/_/g, '.').replace(/\u0000/g, '_');
    if (defsByName.has(name)) out.set(name, v);
  }
  return out;
}

/** gregor's own configs from GREGOR_<NAME> (GREGOR_HTTP_LISTENER → gregor.http.listener), same `_` rules. */
function gregorFromEnv(out: Map<string, string>, rest: string, value: string): void {
  const name = `gregor.${rest.toLowerCase().replace(/___/g, '-').replace(/__/g, '\u0000').replace(/_/g, '.').replace(/\u0000/g, '_')}`;
  if (defsByName.has(name)) out.set(name, value);
}

export interface ConfigSources {
  file?: Map<string, string>;
  env?: Map<string, string>;
  overrides?: Map<string, string>;
}

export function buildBrokerConfig(sources: ConfigSources = {}): BrokerConfig {
  const values = new Map<string, string>();
  for (const src of [sources.file, sources.env, sources.overrides]) {
    if (!src) continue;
    for (const [name, raw] of src) {
      const def = defsByName.get(name);
      if (!def) throw new ConfigError(`unknown config "${name}"`);
      const value = validate(def, raw);
      if (def.support?.kind === 'unsupported' && !isDefault(def, value)) {
        throw new ConfigError(`gregor does not implement ${name} (${def.support.why}); remove it or set it to its default${def.default === null ? '' : ` ${JSON.stringify(def.default)}`}`);
      }
      values.set(def.name, value);
    }
  }
  const config = new BrokerConfig(values);
  checkSingleNode(config);
  return config;
}

/** Whether `value` equals the config's default (null default: only the empty value). */
function isDefault(def: ConfigDef, value: string): boolean {
  const norm = (v: string) => (def.type === 'list' ? v.split(',').map((x) => x.trim()).filter(Boolean).join(',') : v.trim());
  if (def.default === null) return value.trim() === '';
  if (def.type === 'double') return Number(value) === Number(def.default);
  return norm(value) === norm(validate(def, def.default));
}

/** Settings that take no effect on gregor and were set to something other than their default: one line each. */
export function ineffectiveSettings(config: BrokerConfig): string[] {
  const out: string[] = [];
  for (const [name, value] of config.entries()) {
    const def = defsByName.get(name);
    if (def?.support?.kind === 'noop' && !isDefault(def, value)) out.push(`${name}=${value} has no effect on gregor: ${def.support.why}`);
  }
  return out;
}

/** Start-time checks of configs whose effect on a single node is to be validated. */
function checkSingleNode(config: BrokerConfig): void {
  const roles = config.list('process.roles');
  if (roles.some((r) => r !== 'broker' && r !== 'controller')) throw new ConfigError(`process.roles: unknown role in "${roles.join(',')}" (broker, controller)`);
  if (roles.length > 0 && !roles.includes('broker')) throw new ConfigError('process.roles: gregor always runs as a broker (and its own controller); a controller-only node is not supported yet');
  const nodeId = config.int('node.id');
  for (const v of config.list('controller.quorum.voters')) {
    const m = /^(-?\d+)@/.exec(v);
    if (!m) throw new ConfigError(`controller.quorum.voters: malformed entry "${v}" (expected id@host:port)`);
    if (Number(m[1]) !== nodeId) throw new ConfigError(`controller.quorum.voters: voter ${m[1]} is another node; a multi-node controller quorum is not supported yet (gregor is its own single controller, node.id ${nodeId})`);
  }
  const dirs = config.list('log.dirs');
  if (dirs.length > 1) throw new ConfigError(`log.dirs: gregor uses a single log directory; got ${dirs.length} (${dirs.join(',')})`);
  // Kafka's GroupCoordinatorConfig checks; gregor has no per-group overrides, so the bounds apply to these.
  const bounds = [
    ['group.consumer.session.timeout.ms', 'group.consumer.min.session.timeout.ms', 'group.consumer.max.session.timeout.ms'],
    ['group.consumer.heartbeat.interval.ms', 'group.consumer.min.heartbeat.interval.ms', 'group.consumer.max.heartbeat.interval.ms'],
  ];
  for (const [name, minName, maxName] of bounds) {
    const [v, min, max] = [config.int(name), config.int(minName), config.int(maxName)];
    if (v < min || v > max) throw new ConfigError(`${name} must be between ${minName} (${min}) and ${maxName} (${max}); got ${v}`);
  }
  if (config.int('group.consumer.heartbeat.interval.ms') >= config.int('group.consumer.session.timeout.ms')) {
    throw new ConfigError('group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms');
  }
}

export interface ListenerSpec {
  name: string;
  host: string;
  port: number;
}

/** Parses `NAME://host:port` entries (host may be empty or an [IPv6] literal). */
export function parseListeners(entries: string[]): ListenerSpec[] {
  return entries.map((e) => {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(e);
    if (!m) throw new ConfigError(`malformed listener "${e}" (expected NAME://host:port)`);
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(`listener port out of range in "${e}"`);
    return { name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, ''), port };
  });
}
