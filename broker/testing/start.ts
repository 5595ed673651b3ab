// Starts an in-process broker on an ephemeral port with in-memory storage, for tests.
import { buildBrokerConfig } from '../config.ts';
import { memoryLogger } from '../log.ts';
import { type Broker, type BrokerOptions, startBroker } from '../server.ts';
import { RawClient } from './raw-client.ts';

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

/**
 * Clean restart on the same data: closes `c` and `tb`, starts a broker with file storage and `overrides`
 * (which name `log.dirs`) and connects a new raw client; both are closed when `t` ends.
 */
export async function restartTestBroker(t: { teardown(fn: () => unknown): void }, tb: TestBroker, c: RawClient, overrides: Record<string, string>): Promise<{ tb: TestBroker; c: RawClient }> {
  c.close();
  await tb.close();
  const next = await startTestBroker(overrides, { storage: 'file' });
  t.teardown(() => next.close());
  const client = await RawClient.connect(next.port);
  t.teardown(() => client.close());
  return { tb: next, c: client };
}
