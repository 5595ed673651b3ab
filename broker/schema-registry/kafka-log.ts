// The `_schemas` topic as a Kafka client sees it, but in process: requests in the generated request types go
// through the broker's own handlers (CreateTopics, Produce, Fetch), so the log's limits and validation apply
// to the registry as to any client, and nothing here reaches into storage.
import { makeCreateTopicsRequest, type CreateTopicsResponse } from '../../protocol/generated/create-topics.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeFetchRequest, type FetchResponse } from '../../protocol/generated/fetch.ts';
import { makeProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.ts';
import { buildRecordBatch, iterateBatches, records } from '../../protocol/records.ts';
import { inProcessCaller, type InProcessCall } from '../http/in-process.ts';
import type { Broker } from '../server.ts';

const PRODUCE = 0, FETCH = 1, CREATE_TOPICS = 19;
const PRODUCE_VERSION = 9, FETCH_VERSION = 12, CREATE_TOPICS_VERSION = 5;
const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

export class KafkaLogError extends Error {
  /** The Kafka error code the broker answered, when it answered one. */
  readonly errorCode: number | undefined;
  constructor(message: string, errorCode?: number) {
    super(message);
    this.errorCode = errorCode;
  }
}

export interface LogRecord { key: Buffer | null; value: Buffer | null; offset: number }

export class InProcessTopic {
  readonly #call: InProcessCall;
  readonly topic: string;

  constructor(broker: Broker, topic: string) {
    this.#call = inProcessCaller(broker, 'gregor-schema-registry');
    this.topic = topic;
  }

  /** Creates the topic (one partition, compacted, as Confluent's) unless it exists. */
  async ensure(): Promise<void> {
    const res = await this.#call<CreateTopicsResponse>(CREATE_TOPICS, CREATE_TOPICS_VERSION, makeCreateTopicsRequest({
      timeoutMs: 30_000, validateOnly: false,
      topics: [{ name: this.topic, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
    }));
    const r = res.topics[0];
    if (r && r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      throw new KafkaLogError(`cannot create ${this.topic}: error ${r.errorCode} ${r.errorMessage ?? ''}`);
    }
  }

  /** Appends one record (acks=all); resolves with its offset once the log has it. */
  async append(key: Buffer, value: Buffer | null): Promise<number> {
    const batch = buildRecordBatch({ records: [{ key, value }] });
    const res = await this.#call<ProduceResponse>(PRODUCE, PRODUCE_VERSION, makeProduceRequest({
      acks: -1, timeoutMs: 30_000, transactionalId: null,
      topicData: [{ name: this.topic, topicId: NO_TOPIC_ID, partitionData: [{ index: 0, records: batch }] }],
    }));
    const p = res.responses[0]?.partitionResponses[0];
    if (!p || p.errorCode !== ErrorCode.NONE) throw new KafkaLogError(`append to ${this.topic} failed: error ${p?.errorCode}`, p?.errorCode);
    return Number(p.baseOffset);
  }

  /** Every record from `from` up to the high watermark at the time of the call, in order. */
  async *readToEnd(from = 0): AsyncGenerator<LogRecord> {
    let offset = from;
    let end = -1;
    for (;;) {
      const res = await this.#call<FetchResponse>(FETCH, FETCH_VERSION, makeFetchRequest({
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 16 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: this.topic, topicId: NO_TOPIC_ID, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 8 << 20, replicaDirectoryId: NO_TOPIC_ID, highWatermark: 9223372036854775807n }] }],
        forgottenTopicsData: [], rackId: '',
      }));
      if (res.errorCode !== ErrorCode.NONE) throw new KafkaLogError(`fetch from ${this.topic} failed: error ${res.errorCode}`);
      const p = res.responses[0]?.partitions[0];
      if (!p || p.errorCode !== ErrorCode.NONE) throw new KafkaLogError(`fetch from ${this.topic} failed: error ${p?.errorCode}`);
      if (end < 0) end = Number(p.highWatermark);
      const buf = p.records;
      let progressed = false;
      if (buf) {
        for (const span of iterateBatches(buf)) {
          const batch = buf.subarray(span.offset, span.offset + span.size);
          const lastOffset = Number(batch.readBigInt64BE(0)) + batch.readInt32BE(23);
          for (const r of records(batch)) {
            if (r.offset >= offset && r.offset < end) yield { key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), offset: r.offset };
          }
          // Compaction can leave a batch whose last records are gone: move past its last offset.
          if (lastOffset + 1 > offset) { offset = lastOffset + 1; progressed = true; }
        }
      }
      if (offset >= end) return;
      if (!progressed) {
        // Nothing readable below the high watermark from here (e.g. the start was deleted): jump to the log start.
        const start = Number(p.logStartOffset);
        if (start > offset) { offset = start; continue; }
        throw new KafkaLogError(`fetch from ${this.topic} at ${offset} returned nothing below the high watermark ${end}`);
      }
    }
  }
}
