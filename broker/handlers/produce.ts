// Produce (key 0). Each partition's single v2 batch is validated as Kafka's LogValidator does: framing,
// CRC-32C, size, codec and client-batch rules (count > 0 = lastOffsetDelta + 1, no control batch), then a
// walk over the record bytes (protocol/records.ts walkRecords: the count is the records present, lengths,
// varints, key/value/header sizes add up, nothing left over; no record objects). The walk also collects
// Kafka's per-record errors (null keys on compacted topics, CreateTime outside
// message.timestamp.before/after.max.ms, producer-set LogAppendTime), all named in record_errors (v8+), and
// the stored max timestamp is the one the records give. Synchronous path (no await before the append):
// uncompressed batches walked in place, and compressed ones whose records section is at most 1 MiB
// (compression.ts decompressSmall: inflated on the JS thread in ≤ ~0.7 ms, a bound known or enforced before
// the bytes are produced). The rest (larger sections, more than WALK_SLICE records, recompression for compression.type
// or non-consecutive inner offsets) takes the asynchronous path: decompressed off the JS thread, bounded by
// MAX_DECOMPRESSED_BATCH_BYTES (MESSAGE_TOO_LARGE beyond it), walked in slices between event-loop turns,
// each record within max.decompressed.message.bytes (Kafka trunk); batches for a partition that arrive
// meanwhile queue behind it (the synchronous path is not taken while one is queued), so appends keep
// arrival order.
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
import {
  ProduceApi,
  type ProduceRequest,
  type ProduceResponse,
  type PartitionProduceResponse,
  makeProduceResponse,
  makePartitionProduceResponse,
  makeTopicProduceResponse,
} from '../../protocol/generated/produce.ts';
import { ErrorCode, errorName } from '../../protocol/generated/errors.ts';
import {
  ATTRIBUTES_OFFSET, BATCH_LENGTH_OFFSET, COMPRESSION_CODEC_MASK, CREATE_TIME, LOG_OVERHEAD, RECORDS_COUNT_OFFSET, RECORDS_OFFSET,
  REC_KEY_SCHEMA, REC_NO_KEY, REC_TS_RANGE, REC_TS_TYPE, REC_VALUE_SCHEMA, RecordBatchView, buildRecordBatch, clientBatchError, recomputeCrc, records as iterateRecords,
  setMaxTimestamp, startRecordWalk, validateProduceRecords, walkRecords, type RecordCheckOptions, type RecordWalk,
} from '../../protocol/records.ts';
import { CODEC_NAMES, CompressionError, SYNC_DECOMPRESS_BYTES, compressAsync, decompressAsync, decompressSmall } from '../../protocol/compression.ts';
import { isStorageError } from '../../storage/index.ts';
import type { BrokerContext } from '../context.ts';
import type { PartitionProducerState, Reservation } from '../producers/index.ts';
import { defineHandler } from '../handler.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { invalidTopicNameReason, isInternalTopic, type TopicInfo } from '../topics.ts';
import { schemaIdCheck } from '../schema-registry/validation.ts';
import { schemaRegistryOn } from '../configs/index.ts';

const CODEC_BY_NAME: Record<string, number> = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/**
 * gregor's bound on one batch's decompressed records (Kafka has none: it streams records out of the
 * decompressor one at a time; gregor materialises the section, so it bounds it). The topic's
 * max.message.bytes when larger, since an uncompressed batch may already be that big.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;
/** Records walked per turn of the event loop on the asynchronous path (~1 ms). */
const WALK_SLICE = 32_768;

type RecordError = { batchIndex: number; batchIndexErrorMessage: string | null };
type PartitionResult = { errorCode: number; errorMessage?: string | null; baseOffset?: number; logAppendTime?: number; logStartOffset?: number; recordErrors?: RecordError[] };

/** The topic's override, else the broker-level synonym (whose value or default the catalogue holds). */
function topicConfig(broker: BrokerContext, t: TopicInfo, name: string, brokerName: string): string {
  return t.configs.get(name) ?? broker.config.get(brokerName)!;
}

/** What LogValidator needs to know about the topic, read once per partition append. */
interface Plan {
  checks: RecordCheckOptions;
  /** compression.type as a codec id, or undefined for `producer`. */
  target: number | undefined;
  /** Bound on the decompressed records section. */
  maxDecompressed: number;
  now: number;
  /** Subject name strategies of the sides under schema validation (for the messages). */
  strategies?: { key?: string; value?: string };
}

/**
 * confluent.key/value.schema.validation: the record walk checks each key/value's schema id against the registry
 * (../schema-registry/validation.ts). An error result while the registry is not attached yet (the broker starts
 * serving before the registry has replayed `_schemas`): retriable, so producers wait rather than lose records;
 * INVALID_RECORD when this broker runs without the registry at all.
 */
// Per produced partition: the config names are built once, not per request.
const SCHEMA_SIDES = (['key', 'value'] as const).map((side) => ({
  side, validation: `confluent.${side}.schema.validation`, strategy: `confluent.${side}.subject.name.strategy`,
}));

function schemaChecks(broker: BrokerContext, t: TopicInfo, plan: Plan): Plan | PartitionResult {
  for (const { side, validation, strategy: strategyConfig } of SCHEMA_SIDES) {
    if (t.configs.get(validation) !== 'true') continue;
    const strategy = t.configs.get(strategyConfig) ?? 'io.confluent.kafka.serializers.subject.TopicNameStrategy';
    const check = schemaIdCheck(broker, t.name, side, strategy);
    if (!check && !schemaRegistryOn(broker.config)) {
      // A topic from a run that had the registry: refuse rather than store records nobody validated.
      return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: `confluent.${side}.schema.validation is on for ${t.name}, but this broker does not serve the Schema Registry (gregor.schema.registry.listener)` };
    }
    if (!check) return { errorCode: ErrorCode.LEADER_NOT_AVAILABLE, errorMessage: `The Schema Registry that validates ${t.name}'s records is not ready yet` };
    plan.checks[side === 'key' ? 'keySchema' : 'valueSchema'] = check;
    (plan.strategies ??= {})[side] = strategy.slice(strategy.lastIndexOf('.') + 1);
  }
  return plan;
}

function schemaMessage(kind: number, id: number, tp: string, topic: string, plan: Plan): string {
  const side = kind === REC_KEY_SCHEMA ? 'key' : 'value';
  const strategy = plan.strategies?.[side];
  if (id < 0) return `Schema validation of the ${side} failed in topic partition ${tp}: it does not start with magic byte 0 and a 4-byte schema id`;
  const subject = strategy === 'TopicNameStrategy' ? `subject ${topic}-${side}` : `the subject ${strategy} names`;
  return `Schema validation of the ${side} failed in topic partition ${tp}: schema id ${id} is not registered under ${subject}`;
}

function planFor(broker: BrokerContext, t: TopicInfo, maxMessageBytes: number): Plan {
  const now = broker.clock.now();
  const createTime = topicConfig(broker, t, 'message.timestamp.type', 'log.message.timestamp.type') === 'CreateTime';
  const before = Number(topicConfig(broker, t, 'message.timestamp.before.max.ms', 'log.message.timestamp.before.max.ms'));
  const after = Number(topicConfig(broker, t, 'message.timestamp.after.max.ms', 'log.message.timestamp.after.max.ms'));
  return {
    checks: {
      compacted: topicConfig(broker, t, 'cleanup.policy', 'log.cleanup.policy').includes('compact'),
      createTime,
      lowerTimestamp: now - before,
      upperTimestamp: now + after,
      maxRecordBytes: Number(topicConfig(broker, t, 'max.decompressed.message.bytes', 'max.decompressed.message.bytes')),
    },
    target: CODEC_BY_NAME[topicConfig(broker, t, 'compression.type', 'compression.type')],
    maxDecompressed: Math.max(MAX_DECOMPRESSED_BATCH_BYTES, maxMessageBytes),
    now,
  };
}

/** LogValidator.processRecordErrors: any timestamp error makes it INVALID_TIMESTAMP, else INVALID_RECORD; all are named. */
function rejectRecords(w: RecordWalk, tp: string, plan: Plan): PartitionResult {
  const e = w.recordErrors!;
  const errors: RecordError[] = [];
  let timestamp = false;
  for (let k = 0; k < e.length; k += 4) {
    const [index, kind, ts, offsetDelta] = [e[k]!, e[k + 1]!, e[k + 2]!, e[k + 3]!];
    let msg: string;
    if (kind === REC_NO_KEY) msg = `Compacted topic cannot accept message without key in topic partition ${tp}`;
    else if (kind === REC_KEY_SCHEMA || kind === REC_VALUE_SCHEMA) msg = schemaMessage(kind, ts, tp, tp.slice(0, tp.lastIndexOf('-')), plan);
    else if (kind === REC_TS_RANGE) {
      msg = `Timestamp ${ts} of message with offset ${w.baseOffset + offsetDelta} is out of range. The timestamp should be within [${plan.checks.lowerTimestamp}, ${plan.checks.upperTimestamp}]`;
    } else msg = `Invalid timestamp type in message DefaultRecord(offset=${w.baseOffset + offsetDelta}, timestamp=${ts}). Producer should not set timestamp type to LogAppendTime.`;
    if (kind === REC_TS_RANGE || kind === REC_TS_TYPE) timestamp = true;
    errors.push({ batchIndex: index, batchIndexErrorMessage: msg });
  }
  if (timestamp) return { errorCode: ErrorCode.INVALID_TIMESTAMP, errorMessage: 'One or more records have been rejected due to invalid timestamp', recordErrors: errors };
  const shown = errors.slice(0, 3).map((r) => `RecordError(batchIndex=${r.batchIndex}, message='${r.batchIndexErrorMessage}')`).join(', ');
  return {
    errorCode: ErrorCode.INVALID_RECORD,
    errorMessage: `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    recordErrors: errors,
  };
}

/** The walk's verdict: a structural error (whole batch, INVALID_RECORD), per-record errors, or null. */
function walkVerdict(w: RecordWalk, tp: string, plan: Plan): PartitionResult | null {
  if (w.error) return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: `${w.error.message} in topic partition ${tp}` };
  if (w.recordErrors) return rejectRecords(w, tp, plan);
  return null;
}

/** Kafka stores a CreateTime batch's max timestamp as computed from its records (the header's is the client's claim). */
function fixMaxTimestamp(batch: Buffer, w: RecordWalk, plan: Plan): void {
  if (plan.checks.createTime) setMaxTimestamp(batch, 0, CREATE_TIME, w.maxTimestamp);
}

/**
 * Rewrites a batch with another codec. With consecutive offset deltas the records section is
 * recompressed as it is (it does not depend on the codec); otherwise the records are rebuilt with
 * offsets 0..n-1, as Kafka does when inner offsets are not consecutive.
 */
async function recompress(batch: Buffer, section: Buffer, codec: number, consecutive: boolean): Promise<Buffer> {
  if (consecutive) {
    const body = await compressAsync(codec, section);
    const out = Buffer.allocUnsafe(RECORDS_OFFSET + body.length);
    batch.copy(out, 0, 0, RECORDS_OFFSET);
    body.copy(out, RECORDS_OFFSET);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt16BE((batch.readInt16BE(ATTRIBUTES_OFFSET) & ~COMPRESSION_CODEC_MASK) | codec, ATTRIBUTES_OFFSET);
    recomputeCrc(out, 0);
    return out;
  }
  const view = new RecordBatchView(batch, 0);
  const recs = [];
  let i = 0;
  for (const r of iterateRecords(view, () => section)) {
    recs.push({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: i++ });
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
    logAppendTime: view.maxTimestamp,
  });
}

type Validated = PartitionResult | Buffer;

function decompressionError(e: unknown, codec: number, tp: string, plan: Plan): PartitionResult {
  if (!(e instanceof CompressionError)) throw e;
  if (e.kind === 'TOO_LARGE') {
    return { errorCode: ErrorCode.MESSAGE_TOO_LARGE, errorMessage: `The records of the ${CODEC_NAMES[codec]} batch decompress to more than ${plan.maxDecompressed} bytes in topic partition ${tp}` };
  }
  return { errorCode: ErrorCode.CORRUPT_MESSAGE, errorMessage: `${e.message} in topic partition ${tp}` };
}

/** max.decompressed.message.bytes applies to compressed batches only (as in Kafka). */
function checksFor(codec: number, plan: Plan): RecordCheckOptions {
  return codec === 0 ? { ...plan.checks, maxRecordBytes: undefined } : plan.checks;
}

/** The topic's codec differs from the batch's, or inner offsets must be rewritten (Kafka keeps uncompressed ones). */
function needsRebuild(codec: number, plan: Plan, w: RecordWalk): boolean {
  return (plan.target ?? codec) !== codec || (codec !== 0 && !w.consecutive);
}

/**
 * The synchronous path, taken when nothing is queued for the partition: an uncompressed batch walked in
 * place, or a compressed one small enough to decompress on the JS thread (compression.ts decompressSmall).
 * The verdict (an error result or the batch to append), or null when the batch needs the asynchronous path
 * (too many records for one turn, possibly too large to decompress here, or to be recompressed: that
 * rare case decompresses again there).
 */
function validateNow(batch: Buffer, codec: number, tp: string, plan: Plan): Validated | null {
  if (batch.readInt32BE(RECORDS_COUNT_OFFSET) > WALK_SLICE || (plan.target ?? codec) !== codec) return null;
  let section = batch;
  let pos = RECORDS_OFFSET;
  if (codec !== 0) {
    let s: Buffer | null;
    try {
      s = decompressSmall(codec, batch.subarray(RECORDS_OFFSET), SYNC_DECOMPRESS_BYTES[codec]!);
    } catch (e) {
      return decompressionError(e, codec, tp, plan);
    }
    if (s === null) return null;
    section = s;
    pos = 0;
  }
  const w = startRecordWalk(batch, 0, section, pos, section.length, checksFor(codec, plan));
  walkRecords(w);
  const rejected = walkVerdict(w, tp, plan);
  if (rejected) return rejected;
  if (needsRebuild(codec, plan, w)) return null;
  fixMaxTimestamp(batch, w, plan);
  return batch;
}

/**
 * The asynchronous path: decompression off the JS thread with a bound, the record walk in slices, then
 * recompression when the topic asks for another codec (or the offsets must be rewritten). Resolves to
 * an error result or the batch to append.
 */
async function validateAsync(batch: Buffer, tp: string, plan: Plan): Promise<Validated> {
  const codec = batch.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK;
  let section: Buffer;
  if (codec === 0) section = batch.subarray(RECORDS_OFFSET);
  else {
    try {
      section = await decompressAsync(codec, batch.subarray(RECORDS_OFFSET), { maxOutputBytes: plan.maxDecompressed });
    } catch (e) {
      return decompressionError(e, codec, tp, plan);
    }
  }
  const w = startRecordWalk(batch, 0, section, 0, section.length, checksFor(codec, plan));
  while (!walkRecords(w, WALK_SLICE)) await new Promise((r) => setImmediate(r));
  const rejected = walkVerdict(w, tp, plan);
  if (rejected) return rejected;
  // Kafka rebuilds a compressed batch whose inner offsets are not 0..n-1; an uncompressed one is kept as sent.
  if (needsRebuild(codec, plan, w)) batch = await recompress(batch, section, plan.target ?? codec, w.consecutive);
  fixMaxTimestamp(batch, w, plan);
  return batch;
}

/** Appends waiting for an asynchronous validation, per partition: later batches queue behind it, in arrival order. */
const validating = new WeakMap<object, Promise<void>>();

const BATCH_ERRORS: Record<string, number> = {
  CORRUPT_MESSAGE: ErrorCode.CORRUPT_MESSAGE,
  INVALID_RECORD: ErrorCode.INVALID_RECORD,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  UNSUPPORTED_COMPRESSION_TYPE: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
};

/** A partition lookup's error as a produce result (an offline partition names its storage error). */
function leaderError(broker: BrokerContext, t: TopicInfo, partition: number, code: number): PartitionResult {
  const offline = code === ErrorCode.KAFKA_STORAGE_ERROR ? broker.partitions.get(t.name, partition)?.offline : null;
  return offline ? { errorCode: code, errorMessage: offline.message } : { errorCode: code };
}

/** Validates and appends one partition's records. Synchronous up to the storage append unless the batch needs async work. */
function appendPartition(broker: BrokerContext, version: number, t: TopicInfo, partition: number, records: Buffer | null, acks: number, transactionalId: string | null = null): PartitionResult | Promise<PartitionResult> {
  if (partition < 0 || partition >= t.partitions) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const log = broker.partitions.getOrError(t.name, partition);
  if (typeof log === 'number') return leaderError(broker, t, partition, log);
  // One node: the in-sync replica set is this broker alone (Kafka checks this before validating records).
  const minIsr = Number(topicConfig(broker, t, 'min.insync.replicas', 'min.insync.replicas'));
  if (acks === -1 && minIsr > 1) {
    return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, errorMessage: `The size of the current ISR Set(${broker.nodeId}) is insufficient to satisfy the min.isr requirement of ${minIsr} for partition ${t.name}-${partition}` };
  }
  if (records === null || records.length === 0) {
    return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: `Produce requests with version ${version} must have exactly one record batch` };
  }
  const tp = `${t.name}-${partition}`;
  const problem = validateProduceRecords(records, version);
  if (problem !== null) {
    const detail = problem === 'INVALID_RECORD' && records.length >= RECORDS_OFFSET ? clientBatchError(records, 0) : null;
    return { errorCode: BATCH_ERRORS[problem] ?? ErrorCode.CORRUPT_MESSAGE, ...(detail ? { errorMessage: `${detail.message} in topic partition ${tp}` } : {}) };
  }
  const maxBytes = Number(topicConfig(broker, t, 'max.message.bytes', 'message.max.bytes'));
  if (records.length > maxBytes) {
    return { errorCode: ErrorCode.MESSAGE_TOO_LARGE, errorMessage: `The record batch of ${records.length} bytes is larger than the maximum allowed size of ${maxBytes}` };
  }
  const adding = addToTransaction(broker, version, t, partition, records, transactionalId);
  if (adding !== null) {
    // Later batches of this producer for the partition queue behind this one in the coordinator's per-id
    // queue, and each continues synchronously up to its append (or its validation gate): order is kept.
    return adding.then((r) => r ?? appendPartition(broker, version, t, partition, records, acks));
  }
  const plan = schemaChecks(broker, t, planFor(broker, t, maxBytes));
  if ('errorCode' in plan) return plan;
  const codec = records.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK;
  const pending = validating.get(log);
  // The common case: no await before the append. Never while a batch is queued: it would overtake it.
  const now = pending === undefined ? validateNow(records, codec, tp, plan) : null;
  if (now !== null) return Buffer.isBuffer(now) ? appendValidated(broker, version, t, partition, now) : now;
  let result: PartitionResult | Promise<PartitionResult> = { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
  const gate = (pending ?? Promise.resolve())
    .then(() => validateAsync(records, tp, plan))
    .then((v) => {
      // Synchronous from here to the storage append, like the fast path; the next batch waits for this turn.
      result = Buffer.isBuffer(v) ? appendValidated(broker, version, t, partition, v) : v;
    }, (err: unknown) => {
      result = Promise.reject(err);
    });
  validating.set(log, gate);
  void gate.then(() => { if (validating.get(log) === gate) validating.delete(log); });
  return gate.then(() => result);
}

/**
 * Transaction version 2 (Produce v12+, KIP-890 part 2): a transactional batch adds its partition to the
 * producer's transaction itself, as Kafka's AddPartitionsToTxnManager does for such clients (no
 * AddPartitionsToTxn round trip). Null: nothing to add (not transactional, or already in the transaction);
 * else resolves with null once added, or with the error answered for the batch (Kafka's mapping).
 */
/**
 * Implicit adds in flight per transaction coordinator, by producer id and partition. The coordinator marks the
 * partition added before its add resolves (the __transaction_state write), so a later batch of the producer
 * would pass `verify` and append before the earlier batch still waiting for the add: a sequence gap
 * (OUT_OF_ORDER_SEQUENCE_NUMBER). Later batches wait behind the pending add instead.
 */
const pendingAdds = new WeakMap<object, Map<string, Promise<unknown>>>();

function addToTransaction(broker: BrokerContext, version: number, t: TopicInfo, partition: number, records: Buffer, transactionalId: string | null): Promise<PartitionResult | null> | null {
  if (version < 12 || transactionalId === null || transactionalId === '') return null;
  const view = new RecordBatchView(records, 0);
  if (!view.isTransactional || view.producerId < 0n) return null;
  const txns = broker.transactions;
  let pending = pendingAdds.get(txns);
  if (!pending) pendingAdds.set(txns, pending = new Map());
  const key = `${view.producerId}:${t.name}:${partition}`;
  const earlier = pending.get(key);
  if (txns.verify(view.producerId, view.producerEpoch, t.name, partition, transactionalId) === ErrorCode.NONE) {
    // Registered after the earlier batch's continuation on the same promise: this batch appends after it.
    return earlier ? earlier.then(() => null, () => null) : null;
  }
  const added = addImplicitly(txns, transactionalId, view, t, partition);
  const gate = pending;
  gate.set(key, added);
  const done = (): void => { if (gate.get(key) === added) gate.delete(key); };
  added.then(done, done);
  return added;
}

function addImplicitly(txns: BrokerContext['transactions'], transactionalId: string, view: RecordBatchView, t: TopicInfo, partition: number): Promise<PartitionResult | null> {
  return txns.addPartitions(transactionalId, view.producerId, view.producerEpoch, [{ topic: t.name, partition }], 2).then((code) => {
    switch (code) {
      case ErrorCode.NONE: return null;
      case ErrorCode.PRODUCER_FENCED: return { errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
      case ErrorCode.INVALID_TXN_STATE: return { errorCode: code, errorMessage: 'Partition was not added to the transaction' };
      // Retriable coordinator errors become NOT_ENOUGH_REPLICAS, which every producer retries (Kafka's choice).
      case ErrorCode.CONCURRENT_TRANSACTIONS: case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS: case ErrorCode.COORDINATOR_NOT_AVAILABLE: case ErrorCode.NOT_COORDINATOR:
        return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, errorMessage: `Unable to verify the partition has been added to the transaction. Underlying error: ${errorName(code)}` };
      default: return { errorCode: code };
    }
  });
}

/** Producer-state checks and the storage append of a validated batch. Synchronous up to log.append. */
function appendValidated(broker: BrokerContext, version: number, t: TopicInfo, partition: number, batch: Buffer): PartitionResult | Promise<PartitionResult> {
  const log = broker.partitions.getOrError(t.name, partition);
  if (typeof log === 'number') return leaderError(broker, t, partition, log);
  // Idempotence: check and reserve synchronously, before the append (and before any await of this request).
  const view = new RecordBatchView(batch, 0);
  let producers: PartitionProducerState | null = null;
  let reservation: Reservation | null = null;
  if (view.producerId >= 0n) {
    if (view.isTransactional && broker.config.bool('transaction.partition.verification.enable')) {
      let err = broker.transactions.verify(view.producerId, view.producerEpoch, t.name, partition);
      // Kafka answers TRANSACTION_ABORTABLE from Produce v11 (genericError clients), INVALID_TXN_STATE before.
      if (err === ErrorCode.TRANSACTION_ABORTABLE && version < 11) err = ErrorCode.INVALID_TXN_STATE;
      if (err === ErrorCode.INVALID_TXN_STATE) return { errorCode: err, errorMessage: 'Record was not part of an ongoing transaction' };
      if (err !== ErrorCode.NONE) return { errorCode: err };
    }
    producers = log.producerState;
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

  // The producer state advances (or is released) before waiting fetches are woken.
  return log.append(batch, {
    written: (res) => { if (reservation) producers!.commit(reservation, res.baseOffset, res.lastOffset, res.logAppendTime >= 0 ? res.logAppendTime : maxTimestamp); },
    failed: () => {
      if (reservation) producers!.release(reservation);
      if (txnStart >= 0) producers!.abandonTxnStart(view.producerId, txnStart);
    },
  }).then(
    (res) => {
      broker.metrics?.produced(t.name, res.lastOffset - res.baseOffset + 1, batch.length);
      return { errorCode: ErrorCode.NONE, baseOffset: res.baseOffset, logAppendTime: res.logAppendTime, logStartOffset: log.logStartOffset };
    },
    (err) => {
      if (!isStorageError(err)) throw err;
      broker.log.warn(`append to ${t.name}-${partition} failed: ${err.message}`);
      return { errorCode: err.code, errorMessage: err.message };
    },
  );
}

/**
 * Kafka's ProduceRequest.getErrorResponse: every partition of the request with the error, offsets -1; no
 * response for acks=0 (null), which a connection answers by closing, as Kafka does for acks=0 errors.
 */
export function errorResponse(req: ProduceRequest, _version: number, errorCode: number): ProduceResponse | null {
  if (req.acks === 0) return null;
  return makeProduceResponse({
    throttleTimeMs: 0,
    responses: req.topicData.map((td) => makeTopicProduceResponse({
      name: td.name, topicId: td.topicId,
      partitionResponses: td.partitionData.map((pd) => makePartitionProduceResponse({
        index: pd.index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null,
      })),
    })),
  });
}

export const handler = defineHandler<ProduceRequest, ProduceResponse>({
  api: ProduceApi,
  errorResponse,
  handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1;
    const autoCreate = broker.config.bool('auto.create.topics.enable');
    // KafkaApis.handleProduceRequest: a transactional request needs WRITE on its transactional id (else the
    // whole request fails), each topic WRITE (TOPIC_AUTHORIZATION_FAILED, checked before existence).
    const secured = broker.authorizer !== null;
    if (secured && req.transactionalId !== null && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
      return errorResponse(req, version, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
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
      if (secured && topicError !== ErrorCode.INVALID_REQUIRED_ACKS && (topic || version < 13)) {
        const name = topic?.name ?? td.name;
        if (!authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, name)) topicError = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else if (!topic && topicError === null && !authorize(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME) &&
          !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name)) topicError = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      }

      for (const pd of td.partitionData) {
        const idx = out.partitionResponses.length;
        out.partitionResponses.push(fill(pd.index, { errorCode: topicError ?? ErrorCode.NONE }));
        if (topicError !== null) continue;
        let result: PartitionResult | Promise<PartitionResult>;
        if (topic) {
          result = appendPartition(broker, version, topic, pd.index, pd.records, req.acks, req.transactionalId);
        } else {
          // Unknown topic with auto-creation on: create (or join the creation under way), then append.
          const creation = broker.pendingCreation(td.name) ?? broker.createTopic(td.name, broker.config.int('num.partitions'));
          result = creation.then(
            (t) => appendPartition(broker, version, t, pd.index, pd.records, req.acks, req.transactionalId),
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
      return makeProduceResponse({ responses, throttleTimeMs: 0 });
    };
    if (pending.length === 0) return finish();
    return Promise.all(pending).then(finish);
  },
});

