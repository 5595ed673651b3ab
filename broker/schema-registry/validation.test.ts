// Broker-side schema validation (confluent.key/value.schema.validation): configs accepted like Kafka's topic
// configs, refused without the registry; on produce every key/value must carry magic byte 0 and a schema id
// registered under the strategy's subject, else INVALID_RECORD naming the records (KIP-467); tombstones pass.
import t, { type Test } from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeCreateTopicsRequest } from '../../protocol/generated/create-topics.ts';
import { makeIncrementalAlterConfigsRequest } from '../../protocol/generated/incremental-alter-configs.ts';
import { makeDescribeConfigsRequest } from '../../protocol/generated/describe-configs.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { produce } from '../testing/produce.ts';
import { startTestBroker, type TestBroker } from '../testing/start.ts';
import { detachSchemaValidation, recordName } from './validation.ts';

const CREATE_TOPICS = 19;
const DESCRIBE_CONFIGS = 32;
const INCREMENTAL_ALTER_CONFIGS = 44;

async function start(t: Test, registry = true): Promise<{ tb: TestBroker; c: RawClient; register: (subject: string, schema: string, type?: string) => Promise<number> }> {
  const tb = await startTestBroker(registry ? { 'gregor.schema.registry.listener': '127.0.0.1:0' } : {});
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const register = async (subject: string, schema: string, schemaType?: string) => {
    const res = await fetch(`http://127.0.0.1:${tb.broker.schemaRegistry!.port}/subjects/${subject}/versions`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema, schemaType }),
    });
    return ((await res.json()) as { id: number }).id;
  };
  return { tb, c, register };
}

const createTopic = (c: RawClient, name: string, configs: Record<string, string>) => c.request(CREATE_TOPICS, 7, makeCreateTopicsRequest({
  topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })) }],
  timeoutMs: 5000, validateOnly: false,
})).then((r: any) => r.topics[0]);

/** Confluent's wire format: magic 0, the id, then the payload. */
const framed = (id: number, payload = 'x') => Buffer.concat([Buffer.from([0, id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), Buffer.from(payload)]);
const avro = (name: string, namespace?: string) => JSON.stringify({ type: 'record', name, ...(namespace ? { namespace } : {}), fields: [{ name: 'id', type: 'int' }] });

t.test('configs: CreateTopics / IncrementalAlterConfigs / DescribeConfigs; refused without the registry', async (t) => {
  {
    const { c } = await start(t, false);
    const r = await createTopic(c, 'v', { 'confluent.value.schema.validation': 'true' });
    t.equal(r.errorCode, ErrorCode.INVALID_CONFIG);
    t.match(r.errorMessage, /confluent\.value\.schema\.validation=true needs the Schema Registry.*gregor\.schema\.registry\.listener/);
    t.equal((await createTopic(c, 'w', { 'confluent.value.schema.validation': 'false' })).errorCode, 0, 'false is accepted without it');
  }
  const { c } = await start(t);
  t.equal((await createTopic(c, 'v', { 'confluent.value.schema.validation': 'TRUE', 'confluent.value.subject.name.strategy': 'RecordNameStrategy' })).errorCode, 0);
  const bad = await createTopic(c, 'x', { 'confluent.key.subject.name.strategy': 'com.example.Mine' });
  t.equal(bad.errorCode, ErrorCode.INVALID_CONFIG, 'unknown strategy');
  const alter = await c.request(INCREMENTAL_ALTER_CONFIGS, 1, makeIncrementalAlterConfigsRequest({
    resources: [{ resourceType: 2, resourceName: 'v', configs: [{ name: 'confluent.key.schema.validation', configOperation: 0, value: 'true' }] }], validateOnly: false,
  }));
  t.equal(alter.responses[0].errorCode, 0, 'IncrementalAlterConfigs');
  const d = await c.request(DESCRIBE_CONFIGS, 4, makeDescribeConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'v', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false }));
  const by = new Map<string, any>(d.results[0].configs.map((x: any) => [x.name, x]));
  t.match(by.get('confluent.value.schema.validation'), { value: 'true', configSource: 1 });
  t.match(by.get('confluent.key.schema.validation'), { value: 'true', configSource: 1 });
  t.equal(by.get('confluent.value.subject.name.strategy').value, 'io.confluent.kafka.serializers.subject.RecordNameStrategy', 'short name canonicalised');
  t.notOk(by.has('confluent.key.subject.name.strategy'), "Confluent's configs at their default are not listed (the topic describes as on Kafka)");
  const named = await c.request(DESCRIBE_CONFIGS, 4, makeDescribeConfigsRequest({ resources: [{ resourceType: 2, resourceName: 'v', configurationKeys: ['confluent.key.subject.name.strategy'] }], includeSynonyms: false, includeDocumentation: false }));
  t.match(named.results[0].configs, [{ name: 'confluent.key.subject.name.strategy', value: 'io.confluent.kafka.serializers.subject.TopicNameStrategy', configSource: 5 }], 'asked by name: its default');
});

t.test('TopicNameStrategy: registered ids pass, others are INVALID_RECORD naming each record; tombstones pass', async (t) => {
  const { c, register } = await start(t);
  t.equal((await createTopic(c, 'orders', { 'confluent.value.schema.validation': 'true' })).errorCode, 0);
  const id = await register('orders-value', avro('Order'));
  const other = await register('payments-value', avro('Payment'));
  t.not(id, other);
  const ok = await produce(c, 'orders', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(id) }, { key: 'b', value: null }, { key: null, value: framed(id, '') }] }));
  t.equal(ok.errorCode, 0, 'registered id, a tombstone, an id with an empty payload');
  for (const compression of [0, 1, 4]) {
    const r = await produce(c, 'orders', 0, buildRecordBatch({ compression, records: [
      { key: 'a', value: framed(id) }, { key: 'b', value: framed(other) }, { key: 'c', value: 'plain text' }, { key: 'd', value: framed(id) }, { key: 'e', value: Buffer.from([0, 0, 0]) },
    ] }));
    t.equal(r.errorCode, ErrorCode.INVALID_RECORD, `codec ${compression}`);
    t.same(r.recordErrors.map((e: any) => e.batchIndex), [1, 2, 4], 'exactly the bad records');
    t.equal(r.recordErrors[0].batchIndexErrorMessage, `Schema validation of the value failed in topic partition orders-0: schema id ${other} is not registered under subject orders-value`);
    t.equal(r.recordErrors[1].batchIndexErrorMessage, 'Schema validation of the value failed in topic partition orders-0: it does not start with magic byte 0 and a 4-byte schema id');
  }
  t.equal((await produce(c, 'orders', 0, buildRecordBatch({ records: [{ key: 'k', value: framed(999) }] }))).errorCode, ErrorCode.INVALID_RECORD, 'an unknown id');
  // Keys are not checked unless their own config says so.
  t.equal((await produce(c, 'orders', 0, buildRecordBatch({ records: [{ key: 'not framed', value: framed(id) }] }))).errorCode, 0);
  // A later registration is seen by the next produce.
  t.equal((await register('orders-value', JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }, { name: 'n', type: 'int', default: 0 }] }))), other + 1);
  t.equal((await produce(c, 'orders', 0, buildRecordBatch({ records: [{ key: 'k', value: framed(other + 1) }] }))).errorCode, 0, 'new version accepted');
});

t.test('key validation, RecordNameStrategy and TopicRecordNameStrategy', async (t) => {
  const { c, register } = await start(t);
  t.equal((await createTopic(c, 'k', { 'confluent.key.schema.validation': 'true' })).errorCode, 0);
  const keyId = await register('k-key', avro('Key'));
  t.equal((await produce(c, 'k', 0, buildRecordBatch({ records: [{ key: framed(keyId), value: 'anything' }, { key: null, value: 'v' }] }))).errorCode, 0, 'null keys pass');
  const r = await produce(c, 'k', 0, buildRecordBatch({ records: [{ key: 'raw', value: 'v' }] }));
  t.equal(r.errorCode, ErrorCode.INVALID_RECORD);
  t.match(r.recordErrors[0].batchIndexErrorMessage, /validation of the key failed/);

  t.equal((await createTopic(c, 'rn', { 'confluent.value.schema.validation': 'true', 'confluent.value.subject.name.strategy': 'RecordNameStrategy' })).errorCode, 0);
  const userId = await register('com.acme.User', avro('User', 'com.acme'));
  const wrongSubject = await register('rn-value', avro('Thing', 'com.acme'));
  t.equal((await produce(c, 'rn', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(userId) }] }))).errorCode, 0, 'under its record name');
  const rr = await produce(c, 'rn', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(wrongSubject) }] }));
  t.equal(rr.errorCode, ErrorCode.INVALID_RECORD, 'com.acme.Thing is not a subject');
  t.match(rr.recordErrors[0].batchIndexErrorMessage, /the subject RecordNameStrategy names/);

  t.equal((await createTopic(c, 'trn', { 'confluent.value.schema.validation': 'true', 'confluent.value.subject.name.strategy': 'TopicRecordNameStrategy' })).errorCode, 0);
  const trn = await register('trn-com.acme.User', avro('User', 'com.acme'));
  t.equal(trn, userId, 'identical schema, same id');
  t.equal((await produce(c, 'trn', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(userId) }] }))).errorCode, 0);
  t.equal((await produce(c, 'trn', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(wrongSubject) }] }))).errorCode, ErrorCode.INVALID_RECORD);
});

t.test('while the registry is not attached (start, shutdown) producers get a retriable error', async (t) => {
  const { tb, c, register } = await start(t);
  t.equal((await createTopic(c, 'o', { 'confluent.value.schema.validation': 'true' })).errorCode, 0);
  const id = await register('o-value', avro('O'));
  detachSchemaValidation(tb.broker.context);
  const r = await produce(c, 'o', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(id) }] }));
  t.equal(r.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
  t.match(r.errorMessage, /Schema Registry that validates o's records is not ready/);
});

t.test('a validated topic on a broker started without the registry: records refused, naming the setting', async (t) => {
  const { tb, c } = await start(t, false);
  await tb.broker.context.createTopic('old', 1, new Map([['confluent.value.schema.validation', 'true']])); // as a previous run left it
  const r = await produce(c, 'old', 0, buildRecordBatch({ records: [{ key: 'a', value: framed(1) }] }));
  t.equal(r.errorCode, ErrorCode.INVALID_RECORD);
  t.match(r.errorMessage, /confluent\.value\.schema\.validation is on for old, but this broker does not serve the Schema Registry \(gregor\.schema\.registry\.listener\)/);
  t.equal(tb.broker.context.storage.partition('old', 0)!.logEndOffset, 0, 'nothing stored');
});

t.test('record names per schema type', async (t) => {
  const v = (schema: string, schemaType: any) => ({ subject: 's', version: 1, id: 1, schema, schemaType, references: [], deleted: false });
  t.equal(recordName(v(avro('User', 'com.acme'), 'AVRO')), 'com.acme.User');
  t.equal(recordName(v(avro('x.y.User', 'ignored'), 'AVRO')), 'x.y.User');
  t.equal(recordName(v('"string"', 'AVRO')), null, 'a primitive has no record name');
  t.equal(recordName(v(JSON.stringify({ title: 'Order', type: 'object' }), 'JSON')), 'Order');
  t.equal(recordName(v('syntax = "proto3";\n// message Old {}\npackage acme.v1;\nmessage Order { int32 id = 1; }', 'PROTOBUF')), 'acme.v1.Order');
});
