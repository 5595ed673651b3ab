// @kafkajs/confluent-schema-registry (4.x) with kafkajs against gregor (the CLI) serving both the Kafka
// protocol and the Schema Registry API: AVRO, JSON Schema and PROTOBUF values registered, encoded with the
// Confluent wire format (magic byte + schema id), produced, consumed and decoded; a schema the subject's
// compatibility level refuses surfaces as that client's error.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startGregor, type GregorProcess } from './support/gregor-process.ts';

async function registryPort(g: GregorProcess, timeoutMs = 20000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /gregor\.schema\.registry\.listener listening on http:\/\/[^ ]*:(\d+)/.exec(g.output());
    if (m) return Number(m[1]);
    if (Date.now() > deadline || g.child.exitCode !== null) throw new Error(`no schema registry listener:\n${g.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let groups = 0;
async function consume(kafka: Kafka, topic: string, count: number, timeoutMs = 30000): Promise<Buffer[]> {
  const consumer = kafka.consumer({ groupId: `sr-${topic}-${process.pid}-${groups++}`, maxWaitTimeInMs: 100 });
  const out: Buffer[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { out.push(message.value!); } });
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      if (Date.now() > deadline) throw new Error(`consumed ${out.length} of ${count} from ${topic}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await consumer.disconnect();
  }
  return out;
}

t.test('AVRO, JSON and PROTOBUF round trips through topics; compatibility errors surfaced', async (t) => {
  const g = await startGregor({ overrides: { 'gregor.schema.registry.listener': '127.0.0.1:0', 'group.initial.rebalance.delay.ms': '0' } });
  t.teardown(() => g.stop());
  const host = `http://127.0.0.1:${await registryPort(g)}`;
  const registry = new SchemaRegistry({ host });
  const kafka = new Kafka({ clientId: 'sr-compat', brokers: [g.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());

  const avroSchema = { type: 'record', name: 'User', namespace: 'app', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] };
  const jsonSchema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['id'] };
  const protoSchema = 'syntax = "proto3";\npackage app;\nmessage Order {\n  int64 id = 1;\n  string item = 2;\n  repeated int32 qty = 3;\n}\n';
  const cases = [
    { type: SchemaType.AVRO, topic: 'users', schema: JSON.stringify(avroSchema), values: [{ id: 1, name: 'ada' }, { id: 2, name: 'grace' }] },
    { type: SchemaType.JSON, topic: 'events', schema: JSON.stringify(jsonSchema), values: [{ id: 1, tags: ['a'] }, { id: 2, tags: [] }] },
    { type: SchemaType.PROTOBUF, topic: 'orders', schema: protoSchema, values: [{ id: 7, item: 'tea', qty: [1, 2] }, { id: 8, item: 'cake', qty: [3] }] },
  ];
  for (const c of cases) {
    const { id } = await registry.register({ type: c.type, schema: c.schema } as any, { subject: `${c.topic}-value` });
    t.ok(id > 0, `${c.type}: registered as id ${id}`);
    t.equal((await registry.register({ type: c.type, schema: c.schema } as any, { subject: `${c.topic}-value` })).id, id, `${c.type}: registering again gives the same id`);
    t.equal(await registry.getLatestSchemaId(`${c.topic}-value`), id, `${c.type}: latest id`);
    const encoded = await Promise.all(c.values.map((v) => registry.encode(id, v)));
    for (const e of encoded) t.same([e[0], e.readInt32BE(1)], [0, id], `${c.type}: Confluent wire format`);
    await producer.send({ topic: c.topic, messages: encoded.map((value) => ({ value })) });
    const fresh = new SchemaRegistry({ host });
    const decoded = await Promise.all((await consume(kafka, c.topic, c.values.length)).map((b) => fresh.decode(b)));
    t.same(decoded.map((d) => JSON.parse(JSON.stringify(d))), c.values.map((v) => (c.type === SchemaType.PROTOBUF ? { ...v, id: String(v.id) } : v)), `${c.type}: decoded by a client that fetched the schema by id`);
  }

  // BACKWARD (the client sets it on first registration): a new required field without a default is refused.
  const incompatible = { ...avroSchema, fields: [...avroSchema.fields, { name: 'email', type: 'string' }] };
  const err = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject: 'users-value' }).then(() => null, (e: any) => e);
  t.ok(err, 'the incompatible schema is refused');
  t.equal(err?.status, 409, 'as an HTTP 409');
  t.match(err?.message, /incompatible with an earlier schema/, `surfaced with Confluent's message: ${err?.message}`);
  const compatible = { ...avroSchema, fields: [...avroSchema.fields, { name: 'email', type: 'string', default: '' }] };
  const v2 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject: 'users-value' });
  t.ok(v2.id > 0, 'a compatible evolution is registered');
  const old = await registry.decode((await consume(kafka, 'users', 2))[0], { [SchemaType.AVRO]: { readerSchema: compatible } } as any);
  t.same(JSON.parse(JSON.stringify(old)), { id: 1, name: 'ada', email: '' }, 'old data read with the new schema (Avro resolution)');
});
