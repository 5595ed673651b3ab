// npm run bench:codec — the codec's record paths against a plain Buffer.copy of the same bytes, measured
// in the same run. Records are views on decode and referenced chunks on encode, so codec/copy ≈ 1 or
// better means the codec adds no per-byte work. Prints MB/s and the ratio; asserts nothing.
import { buildRecordBatch } from '../../protocol/records.ts';
import { decodeProduceRequest, encodeProduceRequest, makeProduceRequest } from '../../protocol/generated/produce.ts';
import { encodeFetchResponse, makeFetchResponse, makeFetchableTopicResponse, makePartitionData } from '../../protocol/generated/fetch.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

const MiB = 1024 * 1024;
const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);

function oneMiBBatch(): Buffer {
  const value = Buffer.alloc(1000, 7);
  const records = [];
  for (let i = 0; records.length * 1024 < MiB - 2048; i++) records.push({ key: `key-${i}`, value, timestamp: 1_700_000_000_000 + i });
  return buildRecordBatch({ baseOffset: 0, records });
}

/** Runs fn repeatedly for DURATION_MS (after a warm-up) and returns MB/s for `bytes` per call. */
function rate(bytes: number, fn: () => void): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < DURATION_MS) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (bytes * n) / MiB / (elapsed / 1000);
}

const batch = oneMiBBatch();
const target = Buffer.allocUnsafe(batch.length);
const copyRate = rate(batch.length, () => { batch.copy(target); });

// Produce v9 (flexible) and v7 (kafkajs): decode a request carrying the batch.
const rows: Array<[string, number]> = [];
for (const version of [7, 9, 11]) {
  const w = new Writer();
  encodeProduceRequest(w, version, makeProduceRequest({
    acks: 1, timeoutMs: 30000,
    topicData: [{ name: 'bench', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: batch }] }],
  }));
  const frame = w.finishBuffer();
  let sink = 0;
  rows.push([`decode Produce v${version} (1 MiB batch)`, rate(batch.length, () => {
    const req = decodeProduceRequest(new Reader(frame), version);
    sink += req.topicData[0].partitionData[0].records!.length;
  })]);
  if (sink === 0) throw new Error('unreachable');
}

// Fetch v12 (flexible) and v11 (kafkajs): encode a response carrying 1 MiB of stored batches.
for (const version of [11, 12, 16]) {
  const res = makeFetchResponse({
    responses: [makeFetchableTopicResponse({ topic: 'bench', partitions: [makePartitionData({ partitionIndex: 0, highWatermark: 1000n, lastStableOffset: 1000n, logStartOffset: 0n, records: batch })] })],
  });
  let sink = 0;
  rows.push([`encode Fetch v${version} (1 MiB of batches)`, rate(batch.length, () => {
    const w = new Writer();
    encodeFetchResponse(w, version, res);
    sink += w.finish().length;
  })]);
  if (sink === 0) throw new Error('unreachable');
}

console.log(`| path | MB/s | ratio to Buffer.copy |\n|---|---:|---:|`);
console.log(`| Buffer.copy of the same 1 MiB (baseline) | ${copyRate.toFixed(0)} | 1.00 |`);
for (const [name, r] of rows) console.log(`| ${name} | ${r.toFixed(0)} | ${(r / copyRate).toFixed(2)} |`);
