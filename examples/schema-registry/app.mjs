// The example's app: Schema Registry and REST Proxy through plain fetch, as any service in the stack would call
// them. Exits 0 when every step answered as expected, 1 with the failing step otherwise.
const registry = process.env.SCHEMA_REGISTRY_URL ?? 'http://gregor:8081';
const rest = process.env.REST_PROXY_URL ?? 'http://gregor:8082';
const SR = 'application/vnd.schemaregistry.v1+json';
const V2 = 'application/vnd.kafka.v2+json';
const BINARY = 'application/vnd.kafka.binary.v2+json';

async function call(base, method, path, body, headers = {}) {
  const res = await fetch(base + path, { method, headers: { 'content-type': V2, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
function check(ok, what, got) {
  if (!ok) { console.error(`FAILED: ${what}: ${JSON.stringify(got)}`); process.exit(1); }
  console.log(`ok: ${what}`);
}

// Wait for the registry (it answers once `_schemas` is replayed), at most 60 s.
const deadline = Date.now() + 60_000;
for (;;) {
  try { if ((await fetch(`${registry}/subjects`)).ok) break; } catch { /* not up yet */ }
  if (Date.now() > deadline) check(false, 'schema registry reachable', registry);
  await new Promise((r) => setTimeout(r, 500));
}

const schema = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'int' }] });
const reg = await call(registry, 'POST', '/subjects/orders-value/versions', { schema }, { 'content-type': SR });
check(reg.status === 200 && Number.isInteger(reg.json.id), 'schema registered', reg);
const id = reg.json.id;
check((await call(registry, 'GET', `/schemas/ids/${id}`)).json?.schema === schema, 'schema read back by id', id);

// A topic whose values must carry a schema id registered under orders-value (REST Proxy v3 creates it).
const cluster = (await call(rest, 'GET', '/v3/clusters')).json.data[0].cluster_id;
const topic = await call(rest, 'POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'orders', partitions_count: 1, configs: [{ name: 'confluent.value.schema.validation', value: 'true' }] });
check(topic.status === 201, 'topic orders created with schema validation', topic);

// Confluent's wire format: magic byte 0, the schema id, then the Avro body ({"id": 21} is the zig-zag varint 42).
const framed = Buffer.from([0, id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255, 42]).toString('base64');
const good = await call(rest, 'POST', '/topics/orders', { records: [{ value: framed }] }, { 'content-type': BINARY });
check(good.status === 200 && good.json.offsets[0].offset === 0, 'a framed record produced through the REST Proxy', good);
const bad = await call(rest, 'POST', '/topics/orders', { records: [{ value: Buffer.from('no schema').toString('base64') }] }, { 'content-type': BINARY });
check(bad.json?.offsets?.[0]?.error_code === 50002, 'a record without a registered schema id refused by the broker', bad);

// A REST Proxy consumer reads it back.
await call(rest, 'POST', '/consumers/app', { name: 'reader', format: 'binary', 'auto.offset.reset': 'earliest' });
await call(rest, 'POST', '/consumers/app/instances/reader/subscription', { topics: ['orders'] });
let records = [];
const until = Date.now() + 30_000;
while (records.length === 0 && Date.now() < until) records = (await call(rest, 'GET', '/consumers/app/instances/reader/records?timeout=500', undefined, { accept: BINARY })).json;
check(records.length === 1 && records[0].value === framed, 'the record consumed through the REST Proxy', records);
await call(rest, 'DELETE', '/consumers/app/instances/reader');
console.log('all good');
