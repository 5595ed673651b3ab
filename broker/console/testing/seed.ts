// A broker with the console on and data to show: topics with configs, records (JSON, text, binary, headers,
// known timestamps), a group with committed offsets and lag, a running consumer group, a committed transaction,
// an open one and a fault rule. Shared by the console's API and browser tests.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../../test-broker.ts';

export const T0 = 1_700_000_000_000;
export const EVENTS = [
  { key: 'order-1', value: JSON.stringify({ id: 1, item: 'book', qty: 2 }), headers: { source: 'web', trace: 'abc' }, timestamp: T0 },
  { key: 'order-2', value: 'plain text value', headers: {}, timestamp: T0 + 1000 },
  { key: null, value: Buffer.from([0x00, 0x01, 0xfe, 0xff]), headers: { bin: Buffer.from([0xff, 0x00]) }, timestamp: T0 + 2000 },
  { key: 'order-4', value: '[1,2,3]', headers: {}, timestamp: T0 + 3000 },
];

export interface Seeded {
  tb: TestBroker;
  http: string;
  consumer: Consumer;
  close(): Promise<void>;
}

export async function seededBroker(config: Record<string, string | number | boolean> = {}): Promise<Seeded> {
  const tb = await startTestBroker({
    topics: [{ name: 'events', partitions: 1 }, { name: 'orders', partitions: 3, configs: { 'retention.ms': '3600000' } }],
    config: { 'gregor.http.listener': '127.0.0.1:0', 'gregor.console.enable': true, 'gregor.console.lag.sample.interval.ms': 200, ...config },
  });
  const kafka = new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 20, maxRetryTime: 200 } });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: 'events',
    messages: EVENTS.map((e) => ({ key: e.key, value: e.value, headers: e.headers, timestamp: String(e.timestamp), partition: 0 })),
  });
  for (let p = 0; p < 3; p++) await producer.send({ topic: 'orders', messages: [{ key: `k${p}`, value: `order on ${p}`, partition: p }] });
  await producer.disconnect();
  const tx = kafka.producer({ transactionalId: 'tx-1', maxInFlightRequests: 1, idempotent: true });
  await tx.connect();
  const txn = await tx.transaction();
  await txn.send({ topic: 'orders', messages: [{ key: 'tx', value: 'in a transaction', partition: 1 }] });
  await txn.commit();
  await tx.disconnect();
  // One left open (Ongoing, orders-2 from offset 1) for 10 minutes (slow browser tests outlast a minute).
  const open = kafka.producer({ transactionalId: 'tx-open', maxInFlightRequests: 1, idempotent: true, transactionTimeout: 600_000 });
  await open.connect();
  const openTxn = await open.transaction();
  await openTxn.send({ topic: 'orders', messages: [{ key: 'open', value: 'not committed yet', partition: 2 }] });
  await open.disconnect();
  // A group with a committed offset behind the end: lag 3 on events-0.
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId: 'billing', topic: 'events', partitions: [{ partition: 0, offset: '1' }] });
  await admin.disconnect();
  // A running group with members and assignments.
  const consumer = kafka.consumer({ groupId: 'live', sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  const joined = new Promise<void>((resolve) => { consumer.on(consumer.events.GROUP_JOIN, () => resolve()); });
  await consumer.run({ eachMessage: async () => {} });
  await joined;
  tb.faults.add({ name: 'slow-nothing', api: 'Fetch', topic: 'no-such-topic', delayMs: 5, times: 3 });
  return {
    tb, http: `http://127.0.0.1:${tb.broker.http!.port}`, consumer,
    async close() {
      await consumer.disconnect().catch(() => {});
      await tb.close();
    },
  };
}
