// What handlers see of the broker. Time and randomness are injected so tests are deterministic.
import type { BrokerConfig } from './config.ts';
import type { Handler } from './handler.ts';
import type { Logger } from './log.ts';
import type { TopicInfo, TopicRegistry } from './topics.ts';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AdvertisedAddress {
  host: string;
  port: number;
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly rack: string | null;
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly log: Logger;
  readonly clock: Clock;
  readonly randomBytes: (n: number) => Buffer;
  /** Handlers indexed by API key; ApiVersions advertises from this table. */
  readonly handlers: ReadonlyArray<Handler | undefined>;
  /** The address clients should use for the given listener. */
  advertisedAddress(listenerName: string): AdvertisedAddress | undefined;
  /** Creates a topic synchronously in the registry (the caller has validated name and counts). */
  createTopic(name: string, partitions: number, configs?: Map<string, string>): TopicInfo;
}
