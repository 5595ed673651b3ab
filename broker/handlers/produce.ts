// Produce (key 0). Each partition's single v2 batch is validated (framing, CRC-32C, size, codec) and
// handed to storage as the request's own bytes: storage patches offsets in place and writes them.
// Records are decoded only when the topic demands it: recompression (compression.type other than
// `producer`), per-record checks for compacted topics (null keys), and CreateTime timestamps outside
// message.timestamp.before/after.max.ms (walked only when the batch header's max timestamp is out of range
// or a lower bound is configured).
// Batches with a producer id (≥ 0) go through the partition's producer state (broker/producers/state.ts,
// Kafka's ProducerStateManager): checked and reserved synchronously right before the storage append, in
// request order; the state advances only once the append succeeded. A retry of one of the producer's
// last five batches answers NONE with the original base offset (and, as Kafka does, the original batch's
// max timestamp as logAppendTime) and appends nothing. Transactional batches are verified against the
// transaction coordinator first (KIP-890 part 1, transaction.partition.verification.enable): the partition
// must be in the producer's ongoing transaction (INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH otherwise); the
// first one of a transaction opens it in the partition's producer state at its offset, which holds the
// last stable offset back until the marker. Replication: one node, so acks=-1 is acknowledged after the
// local append.
//
// Test-only hook (off by default): GREGOR_TEST_DROP_AFTER_APPEND=N closes the connection instead of
// answering every Nth produce request (acks ≠ 0) after its appends completed, so compat tests can make
// clients retry batches that were in fact written.
import {
  ProduceApi,
  type ProduceRequest,
  type ProduceResponse,
  type PartitionProduceResponse,
  makeProduceResponse,
  makePartitionProduceResponse,
  makeTopicProduceResponse,
} from '../../protocol/generated/produce.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { RecordsError, records as iterateRecords, RecordBatchView, validateProduceRecords, buildRecordBatch } from '../../protocol/records.ts';
import { CompressionError } from '../../protocol/compression.ts';
import { isStorageError } from '../../storage/index.ts';
import type { BrokerContext } from '../context.ts';
import type { PartitionProducerState, Reservation } from '../producers/index.ts';
import { defineHandler } from '../handler.ts';
import { invalidTopicNameReason, isInternalTopic, type TopicInfo } from '../topics.ts';

const CODEC_BY_NAME: Record<string, number> = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

type PartitionResult = { errorCode: number; errorMessage?: string | null; baseOffset?: number; logAppendTime?: number; logStartOffset?: number; recordErrors?: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }> };

/** The topic's override, else the broker-level synonym (whose value or default the catalogue holds). */
function topicConfig(broker: BrokerContext, t: TopicInfo, name: string, brokerName: string): string {
  return t.configs.get(name) ?? broker.config.get(brokerName)!;
}

/**
 * Rewrites a batch with another codec, keeping producer fields, timestamps, headers and attributes
 * (Kafka does the same when the topic's compression.type differs from the producer's).
 */
function recompress(batch: Buffer, codec: number): Buffer {
  const view = new RecordBatchView(batch, 0);
  if (view.compression === codec || view.isControl) return batch;
  const recs = [];
  for (const r of iterateRecords(view)) {
    recs.push({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta });
  }
  return buildRecordBatch({
    baseOffset: 0,
    records: recs,
    compression: codec,
    producerId: view.producerId,
    producerEpoch: view.producerEpoch,
    baseSequence: view.baseSequence,
    isTransactional: view.isTransactional,
    partitionLeaderEpoch: view.partitionLeaderEpoch,
    timestampType: view.timestampType,
    lastOffsetDelta: view.lastOffsetDelta,
  });
}

/** Kafka's summary message over per-record errors (RecordValidationException). */
function rejectRecords(errorCode: number, errors: Array<{ batchIndex: number; batchIndexErrorMessage: string }>): PartitionResult {
  const shown = errors.slice(0, 3).map((e) => e.batchIndexErrorMessage).join(', ');
  return {
    errorCode,
    errorMessage: `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    recordErrors: errors,
  };
}

/** Per-record checks Kafka's LogValidator makes that need decoded records; null when fine. */
function recordErrors(batch: Buffer, compacted: boolean): PartitionResult | null {
  if (!compacted) return null;
  let i = 0;
  for (const r of iterateRecords(new RecordBatchView(batch, 0))) {
    if (r.key === null) {
      return rejectRecords(ErrorCode.INVALID_RECORD, [{ batchIndex: i, batchIndexErrorMessage: 'Compacted topic cannot accept message without key in topic partition' }]);
    }
    i++;
  }
  return null;
}

/**
 * CreateTime records must lie within [now - message.timestamp.before.max.ms, now + message.timestamp.after.max.ms]
 * (Kafka 4 defaults: unbounded before, one hour after). The batch header's max timestamp settles the common
 * case without decoding; records are walked only when a bound can be violated.
 */
function timestampErrors(batch: Buffer, now: number, beforeMs: number, afterMs: number): PartitionResult | null {
  const view = new RecordBatchView(batch, 0);
  const lower = now - beforeMs;
  const upper = now + afterMs;
  const lowerMatters = beforeMs < Number.MAX_SAFE_INTEGER;
  if (view.maxTimestamp <= upper && !lowerMatters) return null;
  const errors: Array<{ batchIndex: number; batchIndexErrorMessage: string }> = [];
  let i = 0;
  for (const r of iterateRecords(view)) {
    if (r.timestamp !== -1 && (r.timestamp > upper || r.timestamp < lower)) {
      errors.push({ batchIndex: i, batchIndexErrorMessage: `Timestamp ${r.timestamp} of message with offset ${i} is out of range. The timestamp should be within [${lower}, ${upper}]` });
    }
    i++;
  }
  return errors.length > 0 ? rejectRecords(ErrorCode.INVALID_TIMESTAMP, errors) : null;
}

let dropEvery = Number(process.env.GREGOR_TEST_DROP_AFTER_APPEND ?? 0) || 0;
let answered = 0;
/** Tests: the in-process equivalent of GREGOR_TEST_DROP_AFTER_APPEND (0 turns it off). */
export function setTestDropAfterAppend(n: number): void {
  dropEvery = n;
  answered = 0;
}

const BATCH_ERRORS: Record<string, number> = {
  CORRUPT_MESSAGE: ErrorCode.CORRUPT_MESSAGE,
  INVALID_RECORD: ErrorCode.INVALID_RECORD,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  UNSUPPORTED_COMPRESSION_TYPE: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
};

/** Validates and appends one partition's records. Synchronous up to the storage append. */
function appendPartition(broker: BrokerContext, version: number, t: TopicInfo, partition: number, records: Buffer | null, acks: number): PartitionResult | Promise<PartitionResult> {
  if (partition < 0 || partition >= t.partitions) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const log = broker.storage.partition(t.name, partition);
  if (!log) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if (log.offline) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: log.offline.message };
  // One node: the in-sync replica set is this broker alone (Kafka checks this before validating records).
  const minIsr = Number(topicConfig(broker, t, 'min.insync.replicas', 'min.insync.replicas'));
  if (acks === -1 && minIsr > 1) {
    return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, errorMessage: `The size of the current ISR Set(${broker.nodeId}) is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${t.name}-${partition}` };
  }
  if (records === null || records.length === 0) {
    return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: `Produce requests with version ${version} must have exactly one record batch` };
  }
  const problem = validateProduceRecords(records, version);
  if (problem !== null) return { errorCode: BATCH_ERRORS[problem] ?? ErrorCode.CORRUPT_MESSAGE };
  const maxBytes = Number(topicConfig(broker, t, 'max.message.bytes', 'message.max.bytes'));
  if (records.length > maxBytes) {
    return { errorCode: ErrorCode.MESSAGE_TOO_LARGE, errorMessage: `The record batch of ${records.length} bytes is larger than the maximum allowed size of ${maxBytes}` };
  }

  let batch = records;
  try {
    const rejected = recordErrors(batch, topicConfig(broker, t, 'cleanup.policy', 'log.cleanup.policy').includes('compact'))
      ?? (topicConfig(broker, t, 'message.timestamp.type', 'log.message.timestamp.type') === 'CreateTime'
        ? timestampErrors(batch, broker.clock.now(),
          Number(topicConfig(broker, t, 'message.timestamp.before.max.ms', 'log.message.timestamp.before.max.ms')),
          Number(topicConfig(broker, t, 'message.timestamp.after.max.ms', 'log.message.timestamp.after.max.ms')))
        : null);
    if (rejected) return rejected;
    const target = CODEC_BY_NAME[topicConfig(broker, t, 'compression.type', 'compression.type')];
    if (target !== undefined) batch = recompress(batch, target);
  } catch (err) {
    if (err instanceof RecordsError) return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: err.message };
    if (err instanceof CompressionError) return { errorCode: ErrorCode.CORRUPT_MESSAGE, errorMessage: err.message };
    throw err;
  }

  // Idempotence: check and reserve synchronously, before the append (and before any await of this request).
  const view = new RecordBatchView(batch, 0);
  let producers: PartitionProducerState | null = null;
  let reservation: Reservation | null = null;
  if (view.producerId >= 0n) {
    if (view.isTransactional && broker.config.bool('transaction.partition.verification.enable')) {
      const err = broker.transactions.verify(view.producerId, view.producerEpoch, t.name, partition);
      if (err === ErrorCode.INVALID_TXN_STATE) return { errorCode: err, errorMessage: 'Record was not part of an ongoing transaction' };
      if (err !== ErrorCode.NONE) return { errorCode: err };
    }
    producers = broker.producers.partition(log);
    const c = producers.check(view, log.nextOffset);
    const duplicate = (m: { firstOffset: number; timestamp: number }): PartitionResult =>
      ({ errorCode: ErrorCode.NONE, baseOffset: m.firstOffset, logAppendTime: m.timestamp, logStartOffset: log.logStartOffset });
    if (c.kind === 'error') return { errorCode: c.errorCode, errorMessage: c.errorMessage };
    if (c.kind === 'duplicate') return duplicate(c.batch);
    if (c.kind === 'in-flight') {
      return c.done.then((m) => m ? duplicate(m) : { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: 'The first attempt of this batch failed to append; retry' });
    }
    reservation = c.reservation;
  }
  const maxTimestamp = view.maxTimestamp;
  // Storage assigns offsets synchronously inside append(): this is the batch's base offset.
  const txnStart = reservation && view.isTransactional && producers!.beginTxn(view.producerId, log.nextOffset) ? log.nextOffset : -1;

  return log.append(batch, { leaderEpoch: 0 }).then(
    (res) => {
      if (reservation) producers!.commit(reservation, res.baseOffset, res.lastOffset, res.logAppendTime >= 0 ? res.logAppendTime : maxTimestamp);
      broker.appends.notify(t.name, partition);
      return { errorCode: ErrorCode.NONE, baseOffset: res.baseOffset, logAppendTime: res.logAppendTime, logStartOffset: log.logStartOffset };
    },
    (err) => {
      if (reservation) producers!.release(reservation);
      if (txnStart >= 0) producers!.abandonTxnStart(view.producerId, txnStart);
      if (!isStorageError(err)) throw err;
      broker.log.warn(`append to ${t.name}-${partition} failed: ${err.message}`);
      return { errorCode: err.code, errorMessage: err.message };
    },
  );
}

export const handler = defineHandler<ProduceRequest, ProduceResponse>({
  api: ProduceApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1;
    const autoCreate = broker.config.bool('auto.create.topics.enable');
    const pending: Array<Promise<unknown>> = [];
    const responses = req.topicData.map((td) => {
      const out = makeTopicProduceResponse({ name: td.name, topicId: td.topicId, partitionResponses: [] });
      const fill = (p: number, r: PartitionResult): PartitionProduceResponse => {
        const pr = makePartitionProduceResponse({
          index: p, errorCode: r.errorCode, baseOffset: BigInt(r.baseOffset ?? -1), logAppendTimeMs: BigInt(r.logAppendTime ?? -1),
          logStartOffset: BigInt(r.logStartOffset ?? -1), errorMessage: version >= 8 ? r.errorMessage ?? null : null,
          recordErrors: version >= 8 ? r.recordErrors ?? [] : [],
        });
        return pr;
      };
      // Resolve the topic synchronously when it exists, so appends keep request order.
      let topic: TopicInfo | undefined;
      let topicError: number | null = null;
      if (!acksValid) topicError = ErrorCode.INVALID_REQUIRED_ACKS;
      else if (version >= 13) {
        topic = broker.topics.getById(td.topicId);
        if (!topic) topicError = ErrorCode.UNKNOWN_TOPIC_ID;
      } else {
        topic = broker.topics.get(td.name);
        if (!topic) {
          if (invalidTopicNameReason(td.name) !== null) topicError = ErrorCode.INVALID_TOPIC_EXCEPTION;
          else if (!autoCreate || isInternalTopic(td.name) || broker.topics.collidingWith(td.name)) topicError = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        }
      }
      if (topic && topic.internal) topicError = ErrorCode.INVALID_TOPIC_EXCEPTION;

      for (const pd of td.partitionData) {
        const idx = out.partitionResponses.length;
        out.partitionResponses.push(fill(pd.index, { errorCode: topicError ?? ErrorCode.NONE }));
        if (topicError !== null) continue;
        let result: PartitionResult | Promise<PartitionResult>;
        if (topic) {
          result = appendPartition(broker, version, topic, pd.index, pd.records, req.acks);
        } else {
          // Unknown topic with auto-creation on: create (or join the creation under way), then append.
          const creation = broker.pendingCreation(td.name) ?? broker.createTopic(td.name, broker.config.int('num.partitions'));
          result = creation.then(
            (t) => appendPartition(broker, version, t, pd.index, pd.records, req.acks),
            () => ({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }),
          );
        }
        if (result instanceof Promise) pending.push(result.then((r) => { out.partitionResponses[idx] = fill(pd.index, r); }));
        else out.partitionResponses[idx] = fill(pd.index, result);
      }
      return out;
    });

    const finish = (): ProduceResponse | null => {
      if (req.acks === 0) {
        // No response for acks=0; Kafka closes the connection on an error so the producer notices.
        const failed = responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== 0));
        if (failed) ctx.closeConnection('acks=0 produce request failed');
        return null;
      }
      if (dropEvery > 0 && ++answered % dropEvery === 0) {
        ctx.closeConnection(`GREGOR_TEST_DROP_AFTER_APPEND=${dropEvery}: dropping produce response ${answered}`);
        return null;
      }
      return makeProduceResponse({ responses, throttleTimeMs: 0 });
    };
    if (pending.length === 0) return finish();
    return Promise.all(pending).then(finish);
  },
});

