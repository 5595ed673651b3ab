// `import { startTestBroker } from 'gregor/testing'`: a broker for a test suite in Node — an ephemeral port on
// 127.0.0.1, in-memory storage, topics seeded before the first client connects, and settings that make tests
// fast (no initial rebalance delay), all overridable with Kafka's config names.
import { buildBrokerConfig } from './config.ts';
import { silentLogger, type Logger } from './log.ts';
import { startBroker, type Broker, type BrokerOptions } from './server.ts';
import type { FaultRules } from './fault-rules.ts';
import type { TopicSpec } from './startup-topics.ts';

export type { TopicSpec } from './startup-topics.ts';
export type { Broker } from './server.ts';
export type { FaultRuleSpec, FaultRuleState, FaultRules } from './fault-rules.ts';

export interface TestBrokerOptions {
  /** Topics to create before the broker accepts clients: names (num.partitions each) or specs. */
  topics?: ReadonlyArray<string | TopicSpec>;
  /** Broker settings by Kafka's names, e.g. `{ 'num.partitions': 3, 'auto.create.topics.enable': false }`. */
  config?: Record<string, string | number | boolean>;
  /** 'memory' (default) keeps nothing on disk; 'file' keeps data under the `log.dirs` setting. */
  storage?: 'memory' | 'file';
  /** Where log lines go; default: nowhere. */
  logger?: Logger;
  /** Further options of `startBroker` (fs, transport, clock, …). */
  broker?: Omit<BrokerOptions, 'config' | 'storage' | 'logger' | 'topics'>;
}

export interface TestBroker {
  /** `host:port`, for a client's brokers / bootstrap.servers. */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  /** Named fault rules (`broker.faults` of the broker): add, list, remove, clear. */
  readonly faults: FaultRules;
  /** The broker itself: `intercept()` for faults, `context`, `nodeId`, `clusterId`. */
  readonly broker: Broker;
  /** Stops listening, closes every connection and drops the data (memory storage). Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// Kafka's test harnesses set the same: a group's first join completes at once instead of after 3 s.
const TEST_DEFAULTS: Record<string, string> = {
  'listeners': 'PLAINTEXT://127.0.0.1:0',
  'group.initial.rebalance.delay.ms': '0',
  // broker.faults can make the disk fail too (storage on a fault-injecting file system).
  'gregor.fault.injection.enable': 'true',
};

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const overrides = new Map(Object.entries(TEST_DEFAULTS));
  for (const [k, v] of Object.entries(options.config ?? {})) overrides.set(k, String(v));
  const config = buildBrokerConfig({ overrides });
  const topics = (options.topics ?? []).map((t) => (typeof t === 'string' ? { name: t } : t));
  const broker = await startBroker({
    ...options.broker,
    config,
    storage: options.storage ?? 'memory',
    logger: options.logger ?? silentLogger,
    topics,
  });
  const { host, port } = broker.listeners[0]!.advertised;
  const close = (): Promise<void> => broker.close();
  return { bootstrap: `${host}:${port}`, host, port, broker, faults: broker.faults, close, [Symbol.asyncDispose]: close };
}
