// Helpers for in-process tests that produce and fetch through the wire protocol.
import zlib from 'node:zlib';
import { buildRecordBatch, recomputeCrc, RECORDS_OFFSET, type RecordInput } from '../../protocol/records.ts';
import { sizeOfVarint, writeVarint } from '../../protocol/varint.ts';
import { makeProduceRequest } from '../../protocol/generated/produce.ts';
import { makeFetchRequest } from '../../protocol/generated/fetch.ts';
import type { RawClient } from './raw-client.ts';

export const PRODUCE = 0;
export const FETCH = 1;
export const LIST_OFFSETS = 2;

export function batchOf(n: number, opts: { prefix?: string; timestamp?: number; compression?: number } = {}): Buffer {
  const records: RecordInput[] = [];
  for (let i = 0; i < n; i++) records.push({ key: `k${i}`, value: `${opts.prefix ?? 'v'}${i}`, timestamp: (opts.timestamp ?? 1_700_000_000_000) + i });
  return buildRecordBatch({ records, compression: opts.compression ?? 0 });
}

export async function produce(c: RawClient, topic: string, partition: number, records: Buffer, version = 9, acks = 1, topicId?: string) {
  const res = await c.request(PRODUCE, version, makeProduceRequest({
    acks, timeoutMs: 5000,
    topicData: [{ name: topic, topicId: topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: partition, records }] }],
  }));
  return res.responses[0].partitionResponses[0];
}

export function fetchRequest(parts: Array<{ topic: string; topicId?: string; partition: number; offset: number; maxBytes?: number; currentLeaderEpoch?: number }>, extra: Record<string, unknown> = {}) {
  const topics: any[] = [];
  for (const p of parts) {
    let t = topics.find((x) => x.topic === p.topic);
    if (!t) topics.push((t = { topic: p.topic, topicId: p.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [] }));
    t.partitions.push({ partition: p.partition, currentLeaderEpoch: p.currentLeaderEpoch ?? -1, fetchOffset: BigInt(p.offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: p.maxBytes ?? 1 << 20, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA', highWatermark: 9223372036854775807n });
  }
  return makeFetchRequest({ maxWaitMs: 0, minBytes: 0, maxBytes: 50 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics, forgottenTopicsData: [], rackId: '', ...extra });
}

/** Recomputes the CRC after a test has edited a batch's bytes (so only the edited field is wrong). */
export function withCrc(batch: Buffer): Buffer {
  recomputeCrc(batch, 0);
  return batch;
}

/** A batch whose records section is `section` (header copied from a one-record batch, CRC recomputed). */
export function batchWithSection(section: Buffer, opts: { count?: number; lastOffsetDelta?: number; compression?: number } = {}): Buffer {
  const head = Buffer.from(batchOf(1).subarray(0, RECORDS_OFFSET));
  head.writeInt32BE(RECORDS_OFFSET - 12 + section.length, 8);
  head.writeInt16BE(opts.compression ?? 0, 21);
  head.writeInt32BE(opts.lastOffsetDelta ?? (opts.count ?? 1) - 1, 23);
  head.writeInt32BE(opts.count ?? 1, 57);
  return withCrc(Buffer.concat([head, section]));
}

/**
 * A one-record batch compressed with gzip (1) or zstd (4) whose record has a `valueBytes` value of
 * zeros: a few KiB on the wire, `valueBytes` once decompressed. Built by streaming, so the test never
 * holds the expanded bytes.
 */
export async function bombBatch(codec: 1 | 4, valueBytes: number, key = 'k'): Promise<Buffer> {
  const k = Buffer.from(key);
  const body = 1 + 1 + 1 + sizeOfVarint(k.length) + k.length + sizeOfVarint(valueBytes) + valueBytes + 1;
  const head = Buffer.alloc(32);
  let o = writeVarint(head, 0, body);
  head[o++] = 0; // attributes
  o = writeVarint(head, o, 0); // timestamp delta
  o = writeVarint(head, o, 0); // offset delta
  o = writeVarint(head, o, k.length);
  o += k.copy(head, o);
  o = writeVarint(head, o, valueBytes);
  const z = codec === 1 ? zlib.createGzip({ level: 9 }) : zlib.createZstdCompress();
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve, reject) => { z.on('end', resolve); z.on('error', reject); });
  const write = (b: Buffer) => new Promise<void>((resolve) => { if (z.write(b)) resolve(); else z.once('drain', () => resolve()); });
  await write(head.subarray(0, o));
  const zeros = Buffer.alloc(1 << 20);
  for (let left = valueBytes; left > 0; left -= zeros.length) await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
  z.end(Buffer.from([0])); // no headers
  await done;
  return batchWithSection(Buffer.concat(out), { compression: codec });
}
