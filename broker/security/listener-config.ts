// Listener security settings as Kafka resolves them (KafkaConfig / ListenerName / ChannelBuilders): each
// listener's security protocol from listener.security.protocol.map, and per-listener settings
// `listener.name.<name lower-cased>.<config>` that win over the global `<config>`. SASL's JAAS config is
// also mechanism-prefixed: `listener.name.<name>.<mechanism lower-cased>.sasl.jaas.config`.
// Kept in one module (config.ts only calls in here) so other listener roles can be merged beside it.

/** What this module reads of the broker config (config.ts's BrokerConfig; declared here: config.ts imports this). */
export interface ConfigView {
  get(name: string): string | null;
  list(name: string): string[];
  isSet(name: string): boolean;
  raw(name: string): string | undefined;
}

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export const SECURITY_PROTOCOLS: ReadonlySet<string> = new Set(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']);

/** SASL mechanisms gregor serves (Kafka's names). */
export const SASL_MECHANISMS: readonly string[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

/**
 * Configs that may be given per listener (Kafka: any; gregor: the security ones it reads per listener).
 * A prefixed name whose config is not here is refused at start, naming it.
 */
const PER_LISTENER = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password',
  'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.type', 'ssl.truststore.location',
  'ssl.truststore.password', 'ssl.truststore.certificates', 'ssl.client.auth', 'ssl.enabled.protocols',
  'ssl.protocol', 'ssl.cipher.suites', 'ssl.principal.mapping.rules', 'ssl.endpoint.identification.algorithm',
  'sasl.enabled.mechanisms', 'connections.max.reauth.ms',
]);

const PREFIX = /^listener\.name\.([a-z0-9_]+)\.(.+)$/;

/**
 * The definition a `listener.name.<l>.<config>` name is validated with (the global config's), or
 * undefined when `name` is not listener-prefixed. Throws (Error) for a prefixed name gregor does not read.
 */
export function listenerOverrideDef<D>(name: string, lookup: (n: string) => D | undefined): D | undefined {
  const m = PREFIX.exec(name);
  if (!m) return undefined;
  const rest = m[2];
  const mech = /^(plain|scram-sha-256|scram-sha-512|oauthbearer)\.(sasl\.jaas\.config)$/.exec(rest);
  const inner = mech ? mech[2] : rest;
  const def = lookup(inner);
  if (!def || (!PER_LISTENER.has(inner) && !mech)) {
    throw new Error(`"${name}": gregor reads no per-listener ${inner} (per-listener configs it reads: ${[...PER_LISTENER].join(', ')}, <mechanism>.sasl.jaas.config)`);
  }
  return def;
}

/** Whether `name` looks like a listener-prefixed config (the environment reader accepts these). */
export function isListenerPrefixed(name: string): boolean { return PREFIX.test(name); }

/** listener.security.protocol.map as Kafka reads it (its default maps each protocol's own name). */
export function protocolMap(config: ConfigView): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of config.list('listener.security.protocol.map')) {
    const m = /^([^:]+):([^:]+)$/.exec(e);
    if (!m) throw new Error(`listener.security.protocol.map: malformed entry "${e}" (expected NAME:PROTOCOL)`);
    const proto = m[2].trim().toUpperCase();
    if (!SECURITY_PROTOCOLS.has(proto)) throw new Error(`listener.security.protocol.map: unknown security protocol ${m[2].trim()} for ${m[1].trim()} (${[...SECURITY_PROTOCOLS].join(', ')})`);
    map.set(m[1].trim().toUpperCase(), proto);
  }
  if (!config.isSet('listener.security.protocol.map')) {
    for (const p of SECURITY_PROTOCOLS) if (!map.has(p)) map.set(p, p);
    for (const c of config.list('controller.listener.names')) if (!map.has(c.toUpperCase())) map.set(c.toUpperCase(), 'PLAINTEXT');
  }
  return map;
}

/** One listener's view of the configs: `listener.name.<l>.<name>` when set, else the global value. */
export class ListenerConfig {
  readonly listener: string;
  readonly protocol: SecurityProtocol;
  readonly #config: ConfigView;
  readonly #prefix: string;
  constructor(config: ConfigView, listener: string, protocol: SecurityProtocol) {
    this.#config = config;
    this.listener = listener;
    this.protocol = protocol;
    this.#prefix = `listener.name.${listener.toLowerCase()}.`;
  }
  get(name: string): string | null {
    return this.#config.raw(this.#prefix + name) ?? this.#config.get(name);
  }
  /** Which name the value came from (for messages). */
  nameOf(name: string): string {
    return this.#config.raw(this.#prefix + name) !== undefined ? this.#prefix + name : name;
  }
  list(name: string): string[] {
    const v = this.get(name);
    return v === null || v.trim() === '' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
  }
  /** The mechanism's JAAS config: listener+mechanism-prefixed, else the global sasl.jaas.config. */
  jaas(mechanism: string): { value: string | null; name: string } {
    const n = `${this.#prefix}${mechanism.toLowerCase()}.sasl.jaas.config`;
    const v = this.#config.raw(n);
    return v !== undefined ? { value: v, name: n } : { value: this.#config.get('sasl.jaas.config'), name: 'sasl.jaas.config' };
  }
}
