// Broker configuration with Kafka's names and defaults. Sources, lowest precedence first:
// built-in defaults < server.properties file < environment (KAFKA_*) < command-line overrides.
// Unknown names in a file or override are rejected at start (Kafka warns; we refuse so typos surface).

import { BROKER_CONFIGS, type Support } from './configs/broker-configs.ts';
import { ignoredEnvReason, REMOVED_CONFIG_HINTS } from './configs/env-vars.ts';
import { isListenerPrefixed, listenerOverrideDef, protocolMap } from './security/listener-config.ts';

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
  /** What was derived while building (e.g. listeners from advertised.listeners): logged at start. */
  readonly notes: readonly string[];
  constructor(values: Map<string, string>, notes: readonly string[] = []) { this.#values = values; this.notes = notes; }

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
  /** A value as set, by its exact name (listener-prefixed `listener.name.<l>.<config>` names); undefined when unset. */
  raw(name: string): string | undefined { return this.#values.get(name); }
}

/** A listener-prefixed name's definition (security/listener-config.ts), as a ConfigError when refused. */
function prefixedDef(name: string): ConfigDef | undefined {
  try {
    return listenerOverrideDef(name, (n) => defsByName.get(n));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
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
 * gregor's own settings, under the `gregor.` prefix (environment: GREGOR_<NAME>, `_` → `.`). Not Kafka
 * configs: accepted in server.properties / --override / the environment, never listed by DescribeConfigs.
 */
export const gregorConfigDefs: readonly ConfigDef[] = [
  // Topics created at start (startup-topics.ts): `name[:partitions[:replicas[:config...]]]`, comma separated.
  { name: 'gregor.create.topics', type: 'string', default: '', internal: true, support: { kind: 'effective' } },
  // HOST:PORT of the Schema Registry API (schema-registry/); empty: off. Its request body limit in bytes.
  { name: 'gregor.schema.registry.listener', type: 'string', default: '', internal: true, support: { kind: 'effective' } },
  { name: 'gregor.schema.registry.max.request.bytes', type: 'int', default: '4194304', internal: true, support: { kind: 'effective' } },
  // HOST:PORT of the REST Proxy API (rest-proxy/); empty: off. Its request body limit in bytes.
  { name: 'gregor.rest.proxy.listener', type: 'string', default: '', internal: true, support: { kind: 'effective' } },
  { name: 'gregor.rest.proxy.max.request.bytes', type: 'int', default: '4194304', internal: true, support: { kind: 'effective' } },
  // SCRAM users stored at start when they have no credential yet (security/scram-store.ts), kafka-storage's
  // --add-scram syntax: `SCRAM-SHA-512=[name=alice,password=alice-secret];SCRAM-SHA-256=[…]`.
  { name: 'gregor.scram.credentials', type: 'password', default: '', internal: true, support: { kind: 'effective' } },
  // REST Proxy v2 consumer instances unused this long are closed (Confluent's consumer.instance.timeout.ms).
  { name: 'gregor.rest.proxy.consumer.instance.timeout.ms', type: 'int', default: '300000', internal: true, support: { kind: 'effective' } },
  // StandardAuthorizer's own configs (Kafka passes them to the authorizer; they are no KafkaConfig entries, so
  // DescribeConfigs does not list them). Read only with authorizer.class.name set (security/authorizer.ts).
  { name: 'super.users', type: 'string', default: '', internal: true, support: { kind: 'effective' } },
  { name: 'allow.everyone.if.no.acl.found', type: 'boolean', default: 'false', internal: true, support: { kind: 'effective' } },
];
for (const d of gregorConfigDefs) defsByName.set(d.name, d);

/** Where an environment variable's config came from, for messages naming it. */
export type EnvOrigins = Map<string, string>;

export interface EnvironmentConfig {
  /** Config name → value. */
  configs: Map<string, string>;
  /** Config name → the variable(s) that set it (for messages). */
  origins: EnvOrigins;
  /** KAFKA_* variables deliberately ignored, with why (logged at start; values never shown). */
  ignored: { name: string; why: string }[];
  /** GREGOR_* variables that are no gregor setting (warned about: a typo would otherwise go unnoticed). */
  unknownGregor: string[];
}

/** `KAFKA_AUTO_CREATE_TOPICS_ENABLE` → `auto.create.topics.enable` (the images' rule: `___` → `-`, `__` → `_`, `_` → `.`). */
function envToConfigName(rest: string): string {
  return rest.toLowerCase().replace(/___/g, '-').replace(/__/g, '\u0000').replace(/_/g, '.').replace(/\u0000/g, '_');
}

/** Environment variables that are no config keys but read by the CLI (bin/gregor.ts logSettings). */
const GREGOR_CLI_ENV = new Set(['GREGOR_LOG_LEVEL', 'GREGOR_LOG_FORMAT']);
const KAFKA_CLI_ENV = new Set(['KAFKA_LOG4J_ROOT_LOGLEVEL']);

/**
 * Reads broker configs from the environment the way Kafka's Docker images do: `KAFKA_<NAME>` (apache/kafka,
 * cp-kafka) and `KAFKA_CFG_<NAME>` (bitnami) name a broker config; `CLUSTER_ID` (apache/kafka, cp-kafka) and
 * `KAFKA_KRAFT_CLUSTER_ID` (bitnami) the cluster id; `KAFKA_CREATE_TOPICS` (wurstmeister) and
 * `GREGOR_CREATE_TOPICS` topics to create at start; `GREGOR_<NAME>` gregor's own settings. A KAFKA_* variable
 * that is neither a config nor one the images use for their JVM, ZooKeeper or scripts (configs/env-vars.ts)
 * is refused with a ConfigError naming it; two spellings of one config that disagree are refused too.
 * Variables without these prefixes are never looked at: whatever the CI or shell has set cannot break a start.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): EnvironmentConfig {
  const configs = new Map<string, string>();
  const origins: EnvOrigins = new Map();
  const ignored: { name: string; why: string }[] = [];
  const unknownGregor: string[] = [];
  const topicLists: string[] = [];
  const set = (name: string, value: string, from: string) => {
    const prev = configs.get(name);
    if (prev !== undefined && prev !== value) {
      throw new ConfigError(`${origins.get(name)}=${JSON.stringify(prev)} and ${from}=${JSON.stringify(value)} both set ${name}; remove one`);
    }
    configs.set(name, value);
    origins.set(name, origins.has(name) ? `${origins.get(name)} and ${from}` : from);
  };
  for (const k of Object.keys(env).sort()) {
    const v = env[k];
    if (v === undefined) continue;
    if (k === 'CLUSTER_ID' || k === 'KAFKA_KRAFT_CLUSTER_ID') { set('cluster.id', v, k); continue; }
    if (k === 'KAFKA_CREATE_TOPICS' || k === 'GREGOR_CREATE_TOPICS') { if (v.trim() !== '') topicLists.push(v); continue; }
    if (k.startsWith('GREGOR_')) {
      const name = `gregor.${envToConfigName(k.slice('GREGOR_'.length))}`;
      if (defsByName.has(name)) set(name, v, k);
      else if (!GREGOR_CLI_ENV.has(k)) unknownGregor.push(k);
      continue;
    }
    const m = /^KAFKA_(CFG_)?(.+)$/.exec(k);
    if (!m || KAFKA_CLI_ENV.has(k)) continue;
    const name = envToConfigName(m[2]);
    if (defsByName.has(name) && !name.startsWith('gregor.')) { set(defsByName.get(name)!.name, v, k); continue; }
    if (isListenerPrefixed(name)) { set(name, v, k); continue; }
    const why = ignoredEnvReason(k, v);
    if (why) { ignored.push({ name: k, why }); continue; }
    const hint = REMOVED_CONFIG_HINTS.get(name);
    throw new ConfigError(`unknown config "${name}" (from environment variable ${k})${hint ? `: ${hint}` : ''}; Kafka's Docker images turn KAFKA_<NAME> into a broker config, and gregor knows no config by that name`);
  }
  if (topicLists.length > 0) {
    configs.set('gregor.create.topics', topicLists.join(','));
    origins.set('gregor.create.topics', ['GREGOR_CREATE_TOPICS', 'KAFKA_CREATE_TOPICS'].filter((n) => env[n]?.trim()).join(' and '));
  }
  return { configs, origins, ignored, unknownGregor };
}

/** The configs `readEnvironment` finds (throws ConfigError for an unknown KAFKA_* name). */
export function configFromEnv(env: NodeJS.ProcessEnv): Map<string, string> {
  return readEnvironment(env).configs;
}


export interface ConfigSources {
  /** Lowest precedence: defaults an image or launcher sets (the CLI's --default), below the file. */
  defaults?: Map<string, string>;
  file?: Map<string, string>;
  env?: Map<string, string>;
  /** Which environment variable set each `env` entry (readEnvironment's origins), for messages. */
  envOrigins?: EnvOrigins;
  overrides?: Map<string, string>;
}

export function buildBrokerConfig(sources: ConfigSources = {}): BrokerConfig {
  const values = new Map<string, string>();
  for (const src of [sources.defaults, sources.file, sources.env, sources.overrides]) {
    if (!src) continue;
    for (const [name, raw] of src) {
      try {
        const prefixed = prefixedDef(name);
        const def = prefixed ?? defsByName.get(name);
        if (!def) throw new ConfigError(`unknown config "${name}"`);
        const value = validate(def, raw);
        if (def.support?.kind === 'unsupported' && !isDefault(def, value)) {
          throw new ConfigError(`gregor does not implement ${name} (${def.support.why}); remove it or set it to its default${def.default === null ? '' : ` ${JSON.stringify(def.default)}`}`);
        }
        // The one authorizer gregor has (security/authorizer.ts); empty = none.
        if (def.name === 'authorizer.class.name' && value !== '' && value !== 'org.apache.kafka.metadata.authorizer.StandardAuthorizer') {
          throw new ConfigError(`authorizer.class.name: only org.apache.kafka.metadata.authorizer.StandardAuthorizer is supported; got ${value}`);
        }
        values.set(prefixed ? name : def.name, value);
      } catch (err) {
        const from = src === sources.env ? sources.envOrigins?.get(name) : undefined;
        if (err instanceof ConfigError && from) throw new ConfigError(`${err.message} (from environment variable ${from})`);
        throw err;
      }
    }
  }
  const notes: string[] = [];
  deriveListeners(values, notes);
  const config = new BrokerConfig(values, notes);
  checkSingleNode(config);
  checkListeners(config);
  checkClusterId(config, sources);
  return config;
}

/**
 * cp-kafka's rule (its image's `configure` script): with advertised.listeners set and listeners not, each
 * advertised listener is bound on every interface at its port, so the classic two-listener compose file
 * (PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092) serves both. cp-kafka writes 0.0.0.0; gregor binds
 * the wildcard, which is 0.0.0.0 and also IPv6.
 */
function deriveListeners(values: Map<string, string>, notes: string[]): void {
  const advertised = values.get('advertised.listeners');
  if (values.has('listeners') || advertised === undefined || advertised.trim() === '') return;
  const derived = parseListeners(advertised.split(',').map((s) => s.trim()).filter(Boolean)).map((l) => `${l.name}://:${l.port}`).join(',');
  values.set('listeners', derived);
  notes.push(`listeners not set: derived listeners=${derived} from advertised.listeners=${advertised} (every interface, as cp-kafka's image does)`);
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

/**
 * Several nodes: controller.quorum.voters names a voter other than this node. Only combined mode
 * (process.roles=broker,controller) is served; the network is broker/raft-net.ts.
 */
export function isMultiNode(config: BrokerConfig): boolean {
  const nodeId = config.int('node.id');
  return config.list('controller.quorum.voters').some((v) => { const m = /^(-?\d+)@/.exec(v); return m !== null && Number(m[1]) !== nodeId; });
}

/** The controller listener's name in multi-node mode (the first of controller.listener.names, as Kafka). */
export function controllerListenerName(config: BrokerConfig): string | null {
  return isMultiNode(config) ? (config.list('controller.listener.names')[0]?.toUpperCase() ?? null) : null;
}

/** Start-time checks of process.roles, the voters and the controller listener (Kafka's KafkaConfig messages where it has them). */
function checkSingleNode(config: BrokerConfig): void {
  const roles = config.list('process.roles');
  if (roles.some((r) => r !== 'broker' && r !== 'controller')) throw new ConfigError(`process.roles: unknown role in "${roles.join(',')}" (broker, controller)`);
  if (roles.length > 0 && !roles.includes('broker')) throw new ConfigError('process.roles: gregor always runs as a broker (and its own controller); a controller-only node is not supported yet');
  const nodeId = config.int('node.id');
  const ids = new Set<number>();
  for (const v of config.list('controller.quorum.voters')) {
    const m = /^(-?\d+)@(\[[^\]]+\]|[^:]+):(\d+)$/.exec(v);
    if (!m || Number(m[3]) > 65535) throw new ConfigError(`controller.quorum.voters: malformed entry "${v}" (expected id@host:port)`);
    if (ids.has(Number(m[1]))) throw new ConfigError(`controller.quorum.voters: voter ${m[1]} appears twice`);
    ids.add(Number(m[1]));
  }
  if (isMultiNode(config)) {
    if (roles.length === 0) throw new ConfigError('process.roles must be set (broker,controller) when controller.quorum.voters names other nodes');
    if (!roles.includes('controller')) {
      throw new ConfigError(`process.roles=${roles.join(',')}: a broker-only node (its controllers elsewhere) is not supported yet; gregor runs combined nodes: process.roles=broker,controller, each node one of controller.quorum.voters`);
    }
    if (!ids.has(nodeId)) throw new ConfigError(`If process.roles contains the 'controller' role, the node id ${nodeId} must be included in the set of voters controller.quorum.voters=[${[...ids].join(', ')}]`);
    const names = config.list('controller.listener.names').map((n) => n.toUpperCase());
    const bound = new Set(parseListeners(config.list('listeners')).map((l) => l.name));
    if (names.length === 0 || !bound.has(names[0]!)) {
      throw new ConfigError("controller.listener.names must contain at least one value appearing in the 'listeners' configuration when running the KRaft controller role");
    }
    if (names.some((n) => !bound.has(n))) throw new ConfigError("controller.listener.names must only contain values appearing in the 'listeners' configuration when running the KRaft controller role");
    if (parseListeners(config.list('advertised.listeners')).some((a) => names.includes(a.name))) {
      throw new ConfigError('The advertised.listeners config must not contain KRaft controller listeners from controller.listener.names when process.roles contains the broker role because Kafka clients that send requests via advertised listeners do not send requests to KRaft controllers -- they only send requests to KRaft brokers.');
    }
    if (bound.size === names.length) throw new ConfigError(`listeners: ${[...bound].join(',')} are all controller listeners (controller.listener.names); a broker needs a listener for clients`);
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
  // Kafka's ConfigDef: atLeast(1).
  const partitionLimit = config.int('max.request.partition.size.limit');
  if (partitionLimit < 1) throw new ConfigError(`Invalid value ${partitionLimit} for configuration max.request.partition.size.limit: Value must be at least 1`);
  if (config.int('group.consumer.heartbeat.interval.ms') >= config.int('group.consumer.session.timeout.ms')) {
    throw new ConfigError('group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms');
  }
}

/** Where a config's effective value was set, for messages: "--override", "KAFKA_X", "the properties file". */
function sourceOf(name: string, sources: ConfigSources): string {
  if (sources.overrides?.has(name)) return `--override ${name}`;
  if (sources.env?.has(name)) return sources.envOrigins?.get(name) ?? `the environment (${name})`;
  if (sources.file?.has(name)) return `${name} in the properties file`;
  return name;
}

/** Kafka's storage tool takes a cluster id only as a UUID in base64url (22 characters). */
function checkClusterId(config: BrokerConfig, sources: ConfigSources): void {
  const id = config.get('cluster.id');
  if (id === null || /^[A-Za-z0-9_-]{22}$/.test(id)) return;
  throw new ConfigError(`${sourceOf('cluster.id', sources)}: cluster id "${id}" is not a UUID in base64url (22 characters of A-Z a-z 0-9 _ -, e.g. from \`kafka-storage random-uuid\`); Kafka refuses it too`);
}

/**
 * Kafka's listener checks (KafkaConfig): names and ports unique, each listener's name mapped to a security
 * protocol, each advertised listener one that is bound. The security settings of each listener are
 * checked when the broker builds them (security/index.ts).
 */
function checkListeners(config: BrokerConfig): void {
  const listeners = parseListeners(config.list('listeners'));
  if (listeners.length === 0) throw new ConfigError('listeners is empty');
  const advertised = parseListeners(config.list('advertised.listeners'));
  let map: Map<string, string>;
  try {
    map = protocolMap(config);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const seen = new Map<string, ListenerSpec>();
  for (const l of listeners) {
    if (seen.has(l.name)) throw new ConfigError(`listeners: listener name ${l.name} appears twice (${config.get('listeners')})`);
    const samePort = l.port === 0 ? undefined : [...seen.values()].find((o) => o.port === l.port);
    if (samePort) throw new ConfigError(`listeners: ${samePort.name} and ${l.name} both use port ${l.port}; each listener needs its own port (${config.get('listeners')})`);
    seen.set(l.name, l);
    const proto = map.get(l.name);
    if (proto === undefined) {
      throw new ConfigError(`listener ${l.name} has no security protocol: add ${l.name}:PLAINTEXT to listener.security.protocol.map (now "${config.get('listener.security.protocol.map')}"); Kafka refuses this too`);
    }
  }
  const bound = listeners.map((l) => l.name).join(',');
  const advertisedSeen = new Set<string>();
  for (const a of advertised) {
    if (advertisedSeen.has(a.name)) throw new ConfigError(`advertised.listeners: listener name ${a.name} appears twice`);
    advertisedSeen.add(a.name);
    if (!seen.has(a.name)) {
      throw new ConfigError(`advertised.listeners: ${a.name} is not one of the listeners (${bound}), so nothing would serve ${a.host}:${a.port}; add ${a.name}://:${a.port} to listeners, or leave listeners unset to bind every advertised listener; Kafka refuses this too`);
    }
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
