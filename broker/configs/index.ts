// The config catalogue: validating topic configs the way Kafka 4.4's ConfigDef does (same error codes
// and messages), and producing DescribeConfigs entries for topics and this broker the way Kafka's
// ConfigHelper does (value, source, synonyms in Kafka's order, type). Documentation is not carried:
// entries answer null when it is asked for.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { BrokerConfig, ConfigDef, ConfigType } from '../config.ts';
import { brokerConfigDefs } from '../config.ts';
import { BROKER_SYNONYM_GROUPS, TOPIC_CONFIGS, TOPIC_CONFIGS_BY_NAME, type TopicConfigEntry } from './topic-configs.ts';

export { BROKER_CONFIGS } from './broker-configs.ts';
export { TOPIC_CONFIGS, TOPIC_CONFIGS_BY_NAME } from './topic-configs.ts';

/** DescribeConfigsResponse.ConfigSource ids (Kafka's numbering). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;

/** DescribeConfigsResponse.ConfigType ids. */
const CONFIG_TYPE_IDS: Record<ConfigType, number> = {
  boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7, class: 8, password: 9,
};

export interface ConfigError {
  errorCode: number;
  message: string;
}

/** One DescribeConfigs entry, shaped like DescribeConfigsResourceResult. */
export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

// ---- values -----------------------------------------------------------------------------------------

const INT_RANGES: Partial<Record<ConfigType, [bigint, bigint, string]>> = {
  short: [-32768n, 32767n, 'SHORT'],
  int: [-2147483648n, 2147483647n, 'INT'],
  long: [-9223372036854775808n, 9223372036854775807n, 'LONG'],
};

/** Java's Double.toString for the values configs take (0.5, 1.0, 1.0E-4 is good enough as 0.0001). */
function javaDouble(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e7 ? n.toFixed(1) : String(n);
}

function splitList(v: string): string[] {
  return v === '' ? [] : v.split(',').map((s) => s.trim());
}

/**
 * Parses and validates one topic config value. Returns the canonical value (what DescribeConfigs shows:
 * numbers without sign or padding, lists without blanks, booleans lower-case) or an error.
 */
export function checkTopicConfigValue(name: string, raw: string, schemaRegistryOn = false): { value: string } | ConfigError {
  const entry = TOPIC_CONFIGS_BY_NAME.get(name);
  if (!entry) return { errorCode: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${name}` };
  const bad = (shown: string, reason: string): ConfigError =>
    ({ errorCode: ErrorCode.INVALID_CONFIG, message: `Invalid value ${shown} for configuration ${name}: ${reason}` });
  const v = raw.trim();
  const range = INT_RANGES[entry.type];
  let canonical: string;
  let num: number | undefined;
  if (range) {
    if (!/^[+-]?\d+$/.test(v)) return bad(raw, `Not a number of type ${range[2]}`);
    const b = BigInt(v);
    if (b < range[0] || b > range[1]) return bad(raw, `Not a number of type ${range[2]}`);
    canonical = b.toString();
    num = Number(b);
  } else if (entry.type === 'double') {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return bad(raw, 'Not a number of type DOUBLE');
    num = Number(v);
    canonical = javaDouble(num);
  } else if (entry.type === 'boolean') {
    if (!/^(true|false)$/i.test(v)) return bad(raw, 'Expected value to be either true or false');
    canonical = v.toLowerCase();
  } else if (entry.type === 'list') {
    canonical = splitList(v).join(',');
  } else if (entry.name.endsWith('.subject.name.strategy') && !v.includes('.')) {
    canonical = `io.confluent.kafka.serializers.subject.${v}`; // Confluent also takes the short class name
  } else {
    canonical = v;
  }
  const val = entry.validator;
  if (!val) return { value: canonical };
  switch (val.kind) {
    case 'atLeast':
      if (num! < val.min) return bad(canonical, `Value must be at least ${val.min}`);
      break;
    case 'between':
      if (num! < val.min) return bad(canonical, `Value must be at least ${val.min}`);
      if (num! > val.max) return bad(canonical, `Value must be no more than ${val.max}`);
      break;
    case 'compressionLevel':
      if (val.orEqual !== undefined) {
        if (num !== val.orEqual && (num! < val.min || num! > val.max)) return bad(canonical, `Value must be between ${val.min} and ${val.max} or equal to ${val.orEqual}`);
      } else if (num! < val.min) return bad(canonical, `Value must be at least ${val.min}`);
      else if (num! > val.max) return bad(canonical, `Value must be no more than ${val.max}`);
      break;
    case 'in':
      if (!val.values.includes(canonical)) return bad(canonical, `String must be one of: ${val.values.join(', ')}`);
      break;
    case 'listIn': {
      const items = splitList(v);
      if (items.some((s) => s === '')) return { errorCode: ErrorCode.INVALID_CONFIG, message: `Configuration '${name}' values must not be empty.` };
      for (const s of items) if (!val.values.includes(s)) return bad(s, `String must be one of: ${val.values.join(', ')}`);
      break;
    }
    case 'throttledReplicas': {
      const items = splitList(v);
      const ok = (items.length === 1 && items[0] === '*') || items.every((s) => /^\d+:\d+$/.test(s));
      if (!ok) return bad(`[${items.join(', ')}]`, `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`);
      break;
    }
    case 'schemaValidation':
      if (canonical === 'true' && !schemaRegistryOn) {
        return { errorCode: ErrorCode.INVALID_CONFIG, message: `${name}=true needs the Schema Registry on this broker, which is off: set ${SCHEMA_REGISTRY_LISTENER}` };
      }
      break;
    case 'remoteStorage':
      if (canonical === 'true') {
        return { errorCode: ErrorCode.INVALID_CONFIG, message: 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.' };
      }
      break;
  }
  return { value: canonical };
}

/**
 * Validates a set of topic config overrides (names and values). Returns the first error, Kafka style:
 * unknown names and bad values → INVALID_CONFIG; a null value → INVALID_CONFIG as CreateTopics answers it.
 */
export function validateTopicConfigs(configs: ReadonlyMap<string, string | null> | Iterable<[string, string | null]>): ConfigError | null {
  const r = normalizeTopicConfigs(configs);
  return 'errorCode' in r ? r : null;
}

const SCHEMA_REGISTRY_LISTENER = 'gregor.schema.registry.listener';

/** Whether this broker serves the Schema Registry (schema validation configs need it). */
export function schemaRegistryOn(broker: BrokerConfig): boolean {
  return !!broker.get(SCHEMA_REGISTRY_LISTENER)?.trim();
}

/**
 * Validates and canonicalises topic config overrides; later duplicates win (as CreateTopics does).
 * `registryOn`: this broker serves the Schema Registry (else confluent.*.schema.validation=true is refused).
 */
export function normalizeTopicConfigs(configs: ReadonlyMap<string, string | null> | Iterable<[string, string | null]>, registryOn = false): Map<string, string> | ConfigError {
  const out = new Map<string, string>();
  for (const [name, value] of configs) {
    if (value === null) {
      if (!TOPIC_CONFIGS_BY_NAME.has(name)) return { errorCode: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${name}` };
      return { errorCode: ErrorCode.INVALID_CONFIG, message: `Null value not supported for topic configs: ${name}` };
    }
    const r = checkTopicConfigValue(name, value, registryOn);
    if ('errorCode' in r) return r;
    out.set(name, r.value);
  }
  return out;
}

// ---- broker-level defaults ----------------------------------------------------------------------------

const brokerDefs = new Map<string, ConfigDef>();
for (const d of brokerConfigDefs) brokerDefs.set(d.name, d);

function brokerDefault(name: string): string | null {
  return brokerDefs.get(name)?.default ?? null;
}

function convert(value: string, factor: number | undefined): string {
  if (!factor) return value;
  const n = BigInt(value.trim());
  return n < 0n ? '-1' : (n * BigInt(factor)).toString();
}

/**
 * The value a topic config takes when the topic has no override: the first broker synonym set in the
 * broker's config, else the first with a default (unit-converted), else the topic config's own default.
 */
export function topicConfigDefault(entry: TopicConfigEntry, broker: BrokerConfig): string {
  for (const s of entry.synonyms) if (broker.isSet(s.name)) return canonicalOrRaw(entry.name, convert(broker.get(s.name)!, s.factor));
  for (const s of entry.synonyms) {
    const d = brokerDefault(s.name);
    if (d !== null) return canonicalOrRaw(entry.name, convert(d, s.factor));
  }
  return entry.default;
}

function canonicalOrRaw(name: string, v: string): string {
  const r = checkTopicConfigValue(name, v);
  return 'value' in r ? r.value : v;
}

/** Broker-derived defaults of every topic config (what a topic without overrides runs with). */
export function topicConfigDefaults(broker: BrokerConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of TOPIC_CONFIGS) out[e.name] = topicConfigDefault(e, broker);
  return out;
}

// ---- DescribeConfigs ------------------------------------------------------------------------------------

type Syn = DescribedConfig['synonyms'][number];

/** Kafka's ConfigHelper.configSynonyms for a static-only broker: set values, then defaults, from `name` on. */
function brokerSynonyms(name: string, group: readonly string[], broker: BrokerConfig, sensitive: boolean): Syn[] {
  const list: Syn[] = [];
  for (const n of group) {
    if (broker.isSet(n)) list.push({ name: n, value: sensitive ? null : broker.get(n), source: ConfigSource.STATIC_BROKER_CONFIG });
  }
  for (const n of group) {
    const d = brokerDefault(n);
    if (d !== null) list.push({ name: n, value: sensitive ? null : d, source: ConfigSource.DEFAULT_CONFIG });
  }
  const i = list.findIndex((s) => s.name === name);
  return i < 0 ? [] : list.slice(i);
}

function wanted(keys: readonly string[] | null | undefined): (name: string) => boolean {
  if (!keys || keys.length === 0) return () => true;
  const set = new Set(keys);
  return (n) => set.has(n);
}

/**
 * DescribeConfigs entries of a topic: every topic config, its override (DYNAMIC_TOPIC_CONFIG) or the
 * broker-derived default (DEFAULT_CONFIG; Kafka reports a static broker synonym's value with the source of
 * the first synonym listed), synonyms only when asked. `keys` filters as configurationKeys does.
 */
export function describeTopicConfigs(
  topicConfigs: ReadonlyMap<string, string>, broker: BrokerConfig, includeSynonyms: boolean, includeDocumentation: boolean,
  keys?: readonly string[] | null,
): DescribedConfig[] {
  const pick = wanted(keys);
  const out: DescribedConfig[] = [];
  for (const e of TOPIC_CONFIGS) {
    if (!pick(e.name)) continue;
    const override = topicConfigs.get(e.name);
    if (e.confluent && override === undefined && !keys?.includes(e.name)) continue;
    const value = override ?? topicConfigDefault(e, broker);
    const synonyms = e.synonyms.length === 0 ? [] : brokerSynonyms(e.synonyms[0].name, e.synonyms.map((s) => s.name), broker, false);
    if (override !== undefined) synonyms.unshift({ name: e.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    out.push({
      name: e.name,
      value,
      readOnly: false,
      configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      isSensitive: false,
      synonyms: includeSynonyms ? synonyms : [],
      configType: CONFIG_TYPE_IDS[e.type],
      documentation: includeDocumentation ? null : null,
    });
  }
  return out;
}

/** DescribeConfigs entries of this broker (resource name = node id): every non-internal broker config and alias. */
export function describeBrokerConfigs(
  broker: BrokerConfig, includeSynonyms: boolean, includeDocumentation: boolean, keys?: readonly string[] | null,
): DescribedConfig[] {
  const pick = wanted(keys);
  const out: DescribedConfig[] = [];
  for (const def of brokerConfigDefs) {
    if (def.internal) continue;
    for (const name of [def.name, ...(def.aliases ?? [])]) {
      if (!pick(name)) continue;
      const sensitive = def.type === 'password';
      const group = BROKER_SYNONYM_GROUPS.find((g) => g.includes(name)) ?? [name];
      const synonyms = group.length === 1 && name !== def.name
        ? brokerSynonyms(def.name, [def.name], broker, sensitive).map((s) => ({ ...s, name }))
        : brokerSynonyms(name, group, broker, sensitive);
      out.push({
        name,
        value: sensitive ? null : broker.get(name),
        readOnly: def.readOnly ?? false,
        configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
        isSensitive: sensitive,
        synonyms: includeSynonyms ? synonyms : [],
        configType: CONFIG_TYPE_IDS[def.type],
        documentation: includeDocumentation ? null : null,
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The broker config definition for a name or alias, if gregor knows it. */
export function brokerConfigDef(name: string): ConfigDef | undefined {
  return brokerDefs.get(name) ?? brokerConfigDefs.find((d) => d.aliases?.includes(name));
}

// ---- topic names ---------------------------------------------------------------------------------------

/** Kafka 4.4's Topic.validate message for an invalid name ("Topic name is invalid: …"), or null. */
export function topicNameError(name: string): string | null {
  let reason: string | null = null;
  if (name.length === 0) reason = 'the empty string is not allowed';
  else if (name === '.') reason = "'.' is not allowed";
  else if (name === '..') reason = "'..' is not allowed";
  else if (name.length > 249) reason = `the length of '${name}' is longer than the max allowed length 249`;
  else if (!/^[a-zA-Z0-9._-]+$/.test(name)) reason = `'${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return reason === null ? null : `Topic name is invalid: ${reason}`;
}
