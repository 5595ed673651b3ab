// Confluent's REST API as its clients call it: routes, answers, error codes and statuses, against an
// in-process broker with the registry's listener on port 0.
import t, { type Test } from 'tap';
import { startTestBroker, type TestBroker } from '../testing/start.ts';

const CT = 'application/vnd.schemaregistry.v1+json';

async function start(t: Test, overrides: Record<string, string> = {}): Promise<{ tb: TestBroker; call: Call }> {
  const tb = await startTestBroker({ 'gregor.schema.registry.listener': '127.0.0.1:0', ...overrides });
  t.teardown(() => tb.close());
  const base = `http://127.0.0.1:${tb.broker.schemaRegistry!.port}`;
  const call: Call = async (method, path, body) => {
    const res = await fetch(base + path, {
      method, headers: { 'content-type': CT },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, contentType: res.headers.get('content-type'), text, json };
  };
  return { tb, call };
}
type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; contentType: string | null; text: string; json: any }>;

const avro = (fields: unknown[]) => JSON.stringify({ type: 'record', name: 'User', fields });
const V1 = avro([{ name: 'id', type: 'int' }]);
const V2 = avro([{ name: 'id', type: 'int' }, { name: 'email', type: 'string', default: '' }]);
const BAD = avro([{ name: 'id', type: 'int' }, { name: 'email', type: 'string' }]);

t.test('register, look up, get by version and id; identical schemas share one id', async (t) => {
  const { call } = await start(t);
  t.same((await call('GET', '/subjects')).json, [], 'no subjects yet');
  const r1 = await call('POST', '/subjects/users-value/versions', { schema: V1 });
  t.equal(r1.status, 200);
  t.equal(r1.contentType, CT, "Confluent's content type");
  t.same(r1.json, { id: 1 });
  t.same((await call('POST', '/subjects/users-value/versions', { schema: JSON.stringify(JSON.parse(V1), null, 2) })).json, { id: 1 }, 'same schema, other whitespace: same id, no new version');
  t.same((await call('POST', '/subjects/other-value/versions', { schema: V1 })).json, { id: 1 }, 'same schema in another subject: same id');
  t.same((await call('POST', '/subjects/users-value/versions', { schema: V2 })).json, { id: 2 });
  t.same((await call('GET', '/subjects/users-value/versions')).json, [1, 2]);
  t.same((await call('GET', '/subjects')).json, ['other-value', 'users-value']);
  t.same((await call('GET', '/subjects?subjectPrefix=users')).json, ['users-value']);
  t.same((await call('GET', '/subjects/users-value/versions/latest')).json, { subject: 'users-value', version: 2, id: 2, schema: V2 });
  t.same((await call('GET', '/subjects/users-value/versions/1')).json, { subject: 'users-value', version: 1, id: 1, schema: V1 });
  t.equal((await call('GET', '/subjects/users-value/versions/1/schema')).text, V1, 'raw schema');
  t.same((await call('GET', '/schemas/ids/2')).json, { schema: V2 });
  t.equal((await call('GET', '/schemas/ids/2/schema')).text, V2);
  t.same((await call('GET', '/schemas/ids/1/subjects')).json, ['other-value', 'users-value']);
  t.same((await call('GET', '/schemas/ids/1/versions')).json, [{ subject: 'other-value', version: 1 }, { subject: 'users-value', version: 1 }]);
  t.same((await call('POST', '/subjects/users-value', { schema: V1 })).json, { subject: 'users-value', version: 1, id: 1, schema: V1 }, 'lookup by schema');
  t.same((await call('GET', '/schemas/types')).json, ['JSON', 'PROTOBUF', 'AVRO']);
  t.equal((await call('GET', '/schemas?latestOnly=true')).json.length, 2);
});

t.test("Confluent's error codes", async (t) => {
  const { call } = await start(t);
  await call('POST', '/subjects/s/versions', { schema: V1 });
  const expect = async (method: string, path: string, body: unknown, status: number, code: number, what: string) => {
    const r = await call(method, path, body);
    t.equal(r.status, status, `${what}: status ${status}`);
    t.equal(r.json?.error_code, code, `${what}: error_code ${code}`);
    t.type(r.json?.message, 'string', `${what}: a message`);
  };
  await expect('GET', '/subjects/nope/versions', undefined, 404, 40401, 'unknown subject');
  await expect('GET', '/subjects/s/versions/7', undefined, 404, 40402, 'unknown version');
  await expect('GET', '/schemas/ids/99', undefined, 404, 40403, 'unknown id');
  await expect('POST', '/subjects/s', { schema: V2 }, 404, 40403, 'lookup of an unregistered schema');
  await expect('GET', '/subjects/s/versions/abc', undefined, 422, 42202, 'invalid version');
  await expect('GET', '/subjects/s/versions/0', undefined, 422, 42202, 'version 0');
  await expect('POST', '/subjects/s/versions', { schema: BAD }, 409, 409, 'incompatible schema');
  await expect('POST', '/subjects/s/versions', { schema: '{"type":"record"' }, 422, 42201, 'malformed schema');
  await expect('POST', '/subjects/s/versions', { schema: '{"type":"record","name":"r","fields":[{"name":"a","type":"nope"}]}' }, 422, 42201, 'unknown Avro type');
  await expect('POST', '/subjects/s/versions', { schema: V1, schemaType: 'XML' }, 422, 42201, 'unknown schema type');
  await expect('POST', '/subjects/s/versions', {}, 422, 42201, 'no schema');
  await expect('POST', '/subjects/s/versions', '{not json', 400, 400, 'invalid JSON');
  await expect('PUT', '/config', { compatibility: 'SOMETIMES' }, 422, 42203, 'unknown compatibility level');
  await expect('PUT', '/config/s', {}, 422, 42203, 'no compatibility level');
  await expect('PUT', '/mode', { mode: 'SOMETIMES' }, 422, 42204, 'unknown mode');
  await expect('GET', '/config/s', undefined, 404, 40408, 'subject without its own config');
  await expect('GET', '/mode/s', undefined, 404, 40409, 'subject without its own mode');
  await expect('GET', '/no/such/route', undefined, 404, 404, 'unknown route');
  await expect('PUT', '/subjects', undefined, 405, 405, 'wrong method');
  await expect('POST', '/subjects/r/versions', { schema: V1, references: [{ name: 'x', subject: 'missing', version: 1 }] }, 422, 42201, 'unknown reference');
  await expect('POST', '/subjects/r/versions', { schema: V1, references: 'x' }, 422, 42201, 'references not an array');
  await expect('POST', '/subjects/s/versions', { schema: V1, id: 5 }, 422, 42205, 'an id outside IMPORT mode');
  t.same((await call('GET', '/subjects/s/versions')).json, [1], 'nothing registered by the refused requests');
});

t.test('oversized bodies are refused with 413 before any work', async (t) => {
  const { call } = await start(t, { 'gregor.schema.registry.max.request.bytes': '1000' });
  const big = avro(Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, type: 'int' })));
  const r = await call('POST', '/subjects/big/versions', { schema: big });
  t.equal(r.status, 413);
  t.equal(r.json?.error_code, 413);
  t.equal((await call('GET', '/subjects')).status, 200, 'the registry still answers');
  t.same((await call('GET', '/subjects')).json, []);
});

t.test('a schema larger than _schemas takes (message.max.bytes) is 42209, nothing stored', async (t) => {
  const { call } = await start(t, { 'message.max.bytes': '10000' });
  const big = avro(Array.from({ length: 1000 }, (_, i) => ({ name: `field_${i}`, type: 'int' })));
  const r = await call('POST', '/subjects/big/versions', { schema: big });
  t.equal(r.status, 422);
  t.equal(r.json?.error_code, 42209);
  t.same((await call('GET', '/subjects')).json, []);
  t.same((await call('POST', '/subjects/small/versions', { schema: V1 })).json, { id: 1 }, 'the id was not used up');
});

t.test('config and compatibility checks, global and per subject', async (t) => {
  const { call } = await start(t);
  t.same((await call('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' }, "Confluent's default");
  await call('POST', '/subjects/s/versions', { schema: V1 });
  const check = await call('POST', '/compatibility/subjects/s/versions/latest?verbose=true', { schema: BAD });
  t.equal(check.json.is_compatible, false);
  t.ok(check.json.messages.length > 0, 'verbose gives the reasons');
  t.same((await call('POST', '/compatibility/subjects/s/versions/latest', { schema: V2 })).json, { is_compatible: true });
  t.same((await call('POST', '/compatibility/subjects/s/versions', { schema: V2 })).json, { is_compatible: true });
  t.equal((await call('POST', '/compatibility/subjects/s/versions/9', { schema: V2 })).json.error_code, 40402);
  t.same((await call('PUT', '/config/s', { compatibility: 'none' })).json, { compatibility: 'NONE' }, 'levels are case-insensitive');
  t.same((await call('GET', '/config/s')).json, { compatibilityLevel: 'NONE' });
  t.same((await call('POST', '/subjects/s/versions', { schema: BAD })).json, { id: 2 }, 'NONE lets the incompatible schema in');
  t.same((await call('GET', '/config/t?defaultToGlobal=true')).json, { compatibilityLevel: 'BACKWARD' });
  for (const level of ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE']) {
    t.same((await call('PUT', '/config', { compatibility: level })).json, { compatibility: level }, level);
  }
  t.same((await call('DELETE', '/config/s')).json, { compatibilityLevel: 'NONE' }, 'delete answers the previous level');
  t.equal((await call('GET', '/config/s')).json.error_code, 40408);
});

t.test("soft and permanent deletes follow Confluent's rules", async (t) => {
  const { call } = await start(t);
  await call('POST', '/subjects/s/versions', { schema: V1 });
  await call('POST', '/subjects/s/versions', { schema: V2 });
  t.equal((await call('DELETE', '/subjects/s/versions/1?permanent=true')).json.error_code, 40407, 'permanent only after soft');
  t.same((await call('DELETE', '/subjects/s/versions/1')).json, 1);
  t.equal((await call('DELETE', '/subjects/s/versions/1')).json.error_code, 40406, 'soft twice');
  t.same((await call('GET', '/subjects/s/versions')).json, [2]);
  t.same((await call('GET', '/subjects/s/versions?deleted=true')).json, [1, 2]);
  t.equal((await call('GET', '/subjects/s/versions/1')).json.error_code, 40402);
  t.equal((await call('GET', '/subjects/s/versions/1?deleted=true')).json.version, 1);
  t.same((await call('GET', '/schemas/ids/1')).json, { schema: V1 }, 'a soft-deleted schema is still served by id');
  t.equal((await call('DELETE', '/subjects/s?permanent=true')).json.error_code, 40405, 'subject: permanent only after soft');
  t.same((await call('DELETE', '/subjects/s')).json, [2]);
  t.equal((await call('DELETE', '/subjects/s')).json.error_code, 40404, 'soft-deleting a soft-deleted subject');
  t.same((await call('GET', '/subjects')).json, []);
  t.same((await call('GET', '/subjects?deleted=true')).json, ['s']);
  t.same((await call('DELETE', '/subjects/s?permanent=true')).json, [1, 2]);
  t.same((await call('GET', '/subjects?deleted=true')).json, []);
  t.equal((await call('GET', '/schemas/ids/1')).json.error_code, 40403, 'gone by id after the permanent delete');
  t.same((await call('POST', '/subjects/s/versions', { schema: avro([{ name: 'x', type: 'long' }]) })).json, { id: 3 }, 'ids are not reused');
});

t.test('references: resolved, listed by referencedby, protected from deletion', async (t) => {
  const { call } = await start(t);
  const address = JSON.stringify({ type: 'record', name: 'Address', namespace: 'app', fields: [{ name: 'city', type: 'string' }] });
  t.same((await call('POST', '/subjects/address/versions', { schema: address })).json, { id: 1 });
  const user = JSON.stringify({ type: 'record', name: 'User', namespace: 'app', fields: [{ name: 'home', type: 'app.Address' }] });
  t.equal((await call('POST', '/subjects/user/versions', { schema: user })).json.error_code, 42201, 'without the reference the type is unknown');
  const refs = [{ name: 'app.Address', subject: 'address', version: 1 }];
  t.same((await call('POST', '/subjects/user/versions', { schema: user, references: refs })).json, { id: 2 });
  t.same((await call('GET', '/subjects/user/versions/1')).json.references, refs);
  t.same((await call('GET', '/schemas/ids/2')).json, { references: refs, schema: user });
  t.same((await call('GET', '/subjects/address/versions/1/referencedby')).json, [2]);
  t.equal((await call('DELETE', '/subjects/address/versions/1')).json.error_code, 42206, 'a referenced version cannot be deleted');
  const latestRef = [{ name: 'app.Address', subject: 'address', version: -1 }];
  t.same((await call('POST', '/subjects/user2/versions', { schema: user, references: latestRef })).json, { id: 2 }, 'version -1 is the latest, stored as its number');
  const json = await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: '{"$ref":"addr.json"}', references: [{ name: 'addr.json', subject: 'address', version: 1 }] });
  t.equal(json.json.error_code, 42201, 'a reference of another schema type is invalid');
});

t.test('modes: READONLY refuses changes, IMPORT takes caller-given ids', async (t) => {
  const { call } = await start(t);
  t.same((await call('GET', '/mode')).json, { mode: 'READWRITE' });
  await call('POST', '/subjects/s/versions', { schema: V1 });
  t.equal((await call('PUT', '/mode', { mode: 'IMPORT' })).json.error_code, 42205, 'IMPORT needs an empty registry (or force)');
  t.same((await call('PUT', '/mode/s', { mode: 'READONLY' })).json, { mode: 'READONLY' });
  t.equal((await call('POST', '/subjects/s/versions', { schema: V2 })).json.error_code, 42205, 'read-only subject');
  t.equal((await call('DELETE', '/subjects/s/versions/1')).json.error_code, 42205, 'no deletes in a read-only subject');
  t.same((await call('DELETE', '/mode/s')).json, { mode: 'READONLY' });
  t.same((await call('PUT', '/mode', { mode: 'READONLY_OVERRIDE' })).json, { mode: 'READONLY_OVERRIDE' });
  await call('PUT', '/mode/s', { mode: 'READWRITE' });
  t.equal((await call('POST', '/subjects/s/versions', { schema: V2 })).json.error_code, 42205, 'a global READONLY_OVERRIDE wins over the subject');
  t.same((await call('PUT', '/mode', { mode: 'READWRITE' })).json, { mode: 'READWRITE' });
  await call('DELETE', '/mode/s');
  t.same((await call('PUT', '/mode/imp', { mode: 'IMPORT' })).json, { mode: 'IMPORT' });
  t.same((await call('POST', '/subjects/imp/versions', { schema: V2, id: 100, version: 3 })).json, { id: 100 });
  t.same((await call('GET', '/subjects/imp/versions/3')).json, { subject: 'imp', version: 3, id: 100, schema: V2 });
  t.equal((await call('POST', '/subjects/imp/versions', { schema: BAD, id: 100 })).json.error_code, 42207, 'an id holding another schema');
  t.same((await call('POST', '/subjects/s/versions', { schema: avro([{ name: 'id', type: 'int' }, { name: 'n', type: 'int', default: 0 }]) })).json, { id: 101 }, 'next id is above the imported ones');
});

t.test('two clients registering the same schema at once get one id and one version', async (t) => {
  const { call } = await start(t);
  const schemas = Array.from({ length: 5 }, (_, i) => avro([{ name: `f${i}`, type: 'int' }]));
  const results = await Promise.all([...schemas, ...schemas, ...schemas].map((schema, i) =>
    call('POST', `/subjects/c${i % 5}/versions`, { schema })));
  for (let i = 0; i < 5; i++) {
    const ids = new Set(results.filter((_, j) => j % 5 === i).map((r) => r.json.id));
    t.equal(ids.size, 1, `subject c${i}: one id`);
    t.same((await call('GET', `/subjects/c${i}/versions`)).json, [1], `subject c${i}: one version`);
  }
  t.same((await call('GET', '/schemas')).json.map((x: any) => x.id).sort(), [1, 2, 3, 4, 5]);
});

t.test('the _schemas topic holds Confluent-format records', async (t) => {
  const { tb, call } = await start(t);
  await call('POST', '/subjects/s/versions', { schema: V1 });
  await call('PUT', '/config/s', { compatibility: 'FULL' });
  const topic = tb.broker.context.topics.get('_schemas');
  t.ok(topic, '_schemas exists');
  t.equal(topic!.partitions, 1);
  t.equal(topic!.configs.get('cleanup.policy'), 'compact');
  const { InProcessTopic } = await import('./kafka-log.ts');
  const recs = [];
  for await (const r of new InProcessTopic(tb.broker, '_schemas').readToEnd()) recs.push({ key: JSON.parse(r.key!.toString()), value: r.value && JSON.parse(r.value.toString()) });
  t.same(recs, [
    { key: { keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 }, value: { subject: 's', version: 1, id: 1, schema: V1, deleted: false } },
    { key: { keytype: 'CONFIG', subject: 's', magic: 0 }, value: { compatibilityLevel: 'FULL' } },
  ]);
});

t.test('other types: JSON and PROTOBUF register and check', async (t) => {
  const { call } = await start(t);
  const j1 = '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}';
  const j2 = '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}},"additionalProperties":false}';
  t.same((await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: j1 })).json, { id: 1 });
  t.same((await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: j2 })).json, { id: 2 }, 'closed model: adding an optional property is backward compatible');
  t.same((await call('GET', '/subjects/j/versions/2')).json.schemaType, 'JSON');
  const p1 = 'syntax = "proto3";\npackage app;\nmessage M { int32 a = 1; }\n';
  t.same((await call('POST', '/subjects/p/versions', { schemaType: 'PROTOBUF', schema: p1 })).json, { id: 3 });
  t.equal((await call('POST', '/subjects/p/versions', { schemaType: 'PROTOBUF', schema: p1.replace('int32 a', 'string a') })).json.error_code, 409);
  t.same((await call('POST', '/subjects/p/versions', { schemaType: 'PROTOBUF', schema: p1.replace('int32 a = 1;', 'int32 a = 1; string b = 2;') })).json, { id: 4 });
  t.equal((await call('POST', '/subjects/p/versions', { schemaType: 'AVRO', schema: V1 })).json.error_code, 409, 'another type in the subject is incompatible');
});

t.test('the listener setting: off by default, refused at start when malformed', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  t.notOk(tb.broker.schemaRegistry, 'off unless set');
  t.notOk(tb.broker.context.topics.get('_schemas'), 'no _schemas without the registry');
  await t.rejects(startTestBroker({ 'gregor.schema.registry.listener': 'nonsense' }), /gregor\.schema\.registry\.listener/);
  await t.rejects(startTestBroker({ 'gregor.schema.registry.listener': ':0', 'gregor.schema.registry.max.request.bytes': '0' }), /max\.request\.bytes/);
  const { configFromEnv } = await import('../config.ts');
  t.equal(configFromEnv({ GREGOR_SCHEMA_REGISTRY_LISTENER: ':8081' }).get('gregor.schema.registry.listener'), ':8081', 'GREGOR_SCHEMA_REGISTRY_LISTENER');
});
