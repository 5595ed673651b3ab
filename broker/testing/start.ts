// Starts an in-process broker on an ephemeral port with in-memory storage, for tests.
import { buildBrokerConfig } from '../config.ts';
import { memoryLogger } from '../log.ts';
import { type Broker, type BrokerOptions, startBroker } from '../server.ts';

export interface TestBroker {
  broker: Broker;
  port: number;
  logLines: string[];
  close(): Promise<void>;
}

export async function startTestBroker(overrides: Record<string, string> = {}, options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const log = memoryLogger();
  const config = buildBrokerConfig({
    overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', ...overrides })),
  });
  const broker = await startBroker({ config, storage: 'memory', logger: log, ...options });
  return { broker, port: broker.listeners[0].port, logLines: log.lines, close: () => broker.close() };
}
