// node:test — run with `node --test`. A broker per file; each test uses its own topic.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from 'gregor/testing';

let broker: TestBroker;
before(async () => { broker = await startTestBroker({ topics: [{ name: 'orders', partitions: 3 }] }); });
after(() => broker.close());

test('a produced order is consumed', async () => {
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ key: 'o-1', value: 'ordered' }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'billing' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  const value = await new Promise<string>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
  });
  await consumer.disconnect();
  assert.equal(value, 'ordered');
});
