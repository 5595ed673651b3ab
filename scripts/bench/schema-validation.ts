// node scripts/bench/schema-validation.ts [seconds] [rounds] — what broker-side schema validation
// (confluent.value.schema.validation, TopicNameStrategy) costs on Produce: an in-process broker (memory storage) with
// the Schema Registry, two topics (validation off / on), 4 RawClient connections, one request in flight each,
// uncompressed batches of 200 records with 88-byte Confluent-framed values (magic 0 + a registered id), acks=-1.
// Rounds alternate off/on; prints the process's CPU µs per request (broker + clients: the steadier figure on a
// shared machine), req/s, and the on/off ratios of the medians. Then the record walk alone, ns per record.
import { startTestBroker } from '../../broker/testing/start.ts';
import { RawClient } from '../../broker/testing/raw-client.ts';
import { produce } from '../../broker/testing/produce.ts';
import { buildRecordBatch, RECORDS_OFFSET, startRecordWalk, walkRecords } from '../../protocol/records.ts';

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 5);
const tb = await startTestBroker({ 'gregor.schema.registry.listener': '127.0.0.1:0' });
const res = await fetch(`http://127.0.0.1:${tb.broker.schemaRegistry!.port}/subjects/on-value/versions`, {
  method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
  body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'b', type: 'bytes' }] }) }),
});
const id = ((await res.json()) as { id: number }).id;
await tb.broker.context.createTopic('off', 4);
await tb.broker.context.createTopic('on', 4, new Map([['confluent.value.schema.validation', 'true']]));
const value = (i: number) => { const b = Buffer.alloc(88, 0x61 + (i % 26)); b[0] = 0; b.writeInt32BE(id, 1); return b; };
const batch = buildRecordBatch({ records: Array.from({ length: 200 }, (_, i) => ({ key: null, value: value(i), timestamp: Date.now() })) });
const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(tb.port)));

async function round(topic: string): Promise<[number, number]> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(clients.map(async (c, p) => {
    while (Date.now() < end) {
      const r = await produce(c, topic, p, Buffer.from(batch), 9, -1);
      if (r.errorCode !== 0) throw new Error(`error ${r.errorCode} ${r.errorMessage}`);
      n++;
    }
  }));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return [(cpu.user + cpu.system) / n, n / (ms / 1000)];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await round('off'); await round('on'); // warm-up
const off: Array<[number, number]> = [];
const on: Array<[number, number]> = [];
for (let r = 0; r < rounds; r++) { off.push(await round('off')); on.push(await round('on')); }
for (const c of clients) c.close();
const [cOff, cOn] = [median(off.map((x) => x[0])), median(on.map((x) => x[0]))];
const [rOff, rOn] = [median(off.map((x) => x[1])), median(on.map((x) => x[1]))];
console.log('| validation | CPU µs/request | req/s |');
console.log('|---|---|---|');
console.log(`| off | ${cOff.toFixed(0)} | ${rOff.toFixed(0)} |`);
console.log(`| on | ${cOn.toFixed(0)} | ${rOn.toFixed(0)} |`);
console.log(`on/off: CPU per request ×${(cOn / cOff).toFixed(3)}, throughput ×${(rOn / rOff).toFixed(3)}`);

// The walk alone over the same batch, without and with the id check (the check the produce path builds).
const ids = new Set([id]);
const check = (x: number) => ids.has(x);
const walkNs = (opts: object) => {
  const n = 20_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const w = startRecordWalk(batch, 0, batch, RECORDS_OFFSET, batch.length, opts);
    walkRecords(w);
    if (w.error || w.recordErrors) throw new Error('rejected');
  }
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1000) / (n * 200);
};
walkNs({}); walkNs({ valueSchema: check });
const w0 = median([walkNs({}), walkNs({}), walkNs({})]);
const w1 = median([walkNs({ valueSchema: check }), walkNs({ valueSchema: check }), walkNs({ valueSchema: check })]);
console.log(`record walk: ${w0.toFixed(1)} ns/record without the id check, ${w1.toFixed(1)} with it`);
await tb.close();
process.exit(0);
