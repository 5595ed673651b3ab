// Helpers for in-process tests that produce and fetch through the wire protocol.
import { buildRecordBatch, type RecordInput } from '../../protocol/records.ts';
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
