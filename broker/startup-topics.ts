// Topics created at start from configuration (`gregor.create.topics`, GREGOR_CREATE_TOPICS, wurstmeister's
// KAFKA_CREATE_TOPICS), so a compose stack starts with its topics in place. Syntax, entries separated by commas
// or white space:
//
//   name[:partitions[:replicas[:config...]]]      e.g.  orders:3:1  events  audit:1:1:compact
//                                                       users:6:1:cleanup.policy=compact:retention.ms=60000
//
// An empty or missing partitions field is num.partitions; replicas must be 1 (or empty / -1: the default);
// each further field is a topic config `key=value`, except that a fourth field without `=` is a cleanup.policy
// (wurstmeister's form). A value cannot contain `,`, `:` or white space (use AlterConfigs for those).
// As wurstmeister's image (kafka-topics --if-not-exists), an existing topic is left as it is; a difference in
// partitions or configs is logged. Every entry is checked when the configuration is read (a ConfigError,
// so the CLI exits 2 naming it) and topics are created before any listener accepts a client.
import { ConfigError, type BrokerConfig } from './config.ts';
import { normalizeTopicConfigs, schemaRegistryOn, topicNameError } from './configs/index.ts';
import type { BrokerContext } from './context.ts';
import type { Logger } from './log.ts';
import { isInternalTopic, MAX_PARTITIONS_PER_REQUEST } from './topics.ts';

export interface StartupTopic {
  name: string;
  partitions: number;
  configs: Map<string, string>;
}

/** A topic to create at start given in code (`BrokerOptions.topics`, `startTestBroker({ topics })`). */
export interface TopicSpec {
  name: string;
  /** Default: num.partitions. */
  partitions?: number;
  /** Topic configs by Kafka's names (cleanup.policy, retention.ms, …). */
  configs?: Record<string, string | number | boolean>;
}

/**
 * Parses and checks `gregor.create.topics` and then `extra` (topics given in code) with the same rules (throws
 * ConfigError naming the entry).
 */
export function startupTopics(config: BrokerConfig, extra: readonly TopicSpec[] = []): StartupTopic[] {
  const out: StartupTopic[] = [];
  const names = new Map<string, string>();
  const add = (label: string, hint: string, name: string, p: string, r: string, fields: readonly string[], given: [string, string][]): void => {
    const bad = (why: string): never => { throw new ConfigError(`${label}: ${why}${hint}`); };
    const nameErr = topicNameError(name);
    if (nameErr) bad(nameErr);
    if (isInternalTopic(name)) bad(`${name} is an internal topic; gregor creates it itself`);
    // Kafka refuses names that collide once '.' and '_' are the same (metric names).
    const key = name.replace(/\./g, '_');
    if (names.has(key)) bad(names.get(key) === name ? `${name} is listed twice` : `${name} collides with ${names.get(key)} ('.' and '_' are the same in metric names)`);
    names.set(key, name);
    let partitions = config.int('num.partitions');
    if (p !== '' && p !== '-1') {
      if (!/^\d+$/.test(p) || Number(p) < 1) bad(`partitions must be a positive integer, got "${p}"`);
      partitions = Number(p);
      if (partitions > MAX_PARTITIONS_PER_REQUEST) bad(`at most ${MAX_PARTITIONS_PER_REQUEST} partitions per topic`);
    }
    const replicas = r === '' || r === '-1' ? config.int('default.replication.factor') : /^\d+$/.test(r) ? Number(r) : NaN;
    if (!(replicas >= 1)) bad(`replicas must be a positive integer, got "${r}"`);
    if (replicas > 1) bad(`${replicas} replicas asked for, but this single node holds one replica of each partition; use 1`);
    const pairs: [string, string][] = fields.map((field, i) => {
      const eq = field.indexOf('=');
      if (eq < 0 && i === 0) return ['cleanup.policy', field];
      if (eq <= 0) return bad(`"${field}" is not a topic config key=value`);
      return [field.slice(0, eq), field.slice(eq + 1)];
    });
    const configs = normalizeTopicConfigs([...pairs, ...given], schemaRegistryOn(config));
    if ('errorCode' in configs) bad(configs.message);
    out.push({ name, partitions, configs: configs as Map<string, string> });
  };
  for (const entry of (config.get('gregor.create.topics') ?? '').split(/[,\s]+/).filter(Boolean)) {
    const [name, p = '', r = '', ...rest] = entry.split(':');
    add(`gregor.create.topics: "${entry}"`, ' (syntax: name[:partitions[:replicas[:key=value...]]])', name, p, r, rest, []);
  }
  for (const spec of extra) {
    const given = Object.entries(spec.configs ?? {}).map(([k, v]): [string, string] => [k, String(v)]);
    add(`topics: "${spec.name}"`, '', spec.name, spec.partitions === undefined ? '' : String(spec.partitions), '', [], given);
  }
  return out;
}

/** Creates the topics that do not exist yet; existing ones are left alone (a difference is logged). */
export async function createStartupTopics(context: BrokerContext, topics: readonly StartupTopic[], log: Logger): Promise<void> {
  for (const t of topics) {
    const existing = context.topics.get(t.name);
    if (existing) {
      const differs: string[] = [];
      if (existing.partitions !== t.partitions) differs.push(`${existing.partitions} partition(s), configured ${t.partitions}`);
      for (const [k, v] of t.configs) if (existing.configs.get(k) !== v) differs.push(`${k}=${existing.configs.get(k) ?? '(default)'}, configured ${v}`);
      if (differs.length > 0) log.warn(`gregor.create.topics: topic ${t.name} exists and is left as it is: ${differs.join('; ')}`);
      else log.info(`gregor.create.topics: topic ${t.name} exists`);
      continue;
    }
    const colliding = context.topics.collidingWith(t.name);
    if (colliding !== undefined) throw new ConfigError(`gregor.create.topics: topic ${t.name} collides with existing topic ${colliding} ('.' and '_' are the same in metric names)`);
    await context.createTopic(t.name, t.partitions, t.configs);
  }
}
