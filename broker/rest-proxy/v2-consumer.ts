// A REST Proxy v2 consumer instance: a KIP-848 consumer group member (ConsumerGroupHeartbeat: the broker assigns
// partitions, so the instance needs no assignor), positions per assigned partition (committed offset, else
// auto.offset.reset through ListOffsets), records through Fetch, commits through OffsetCommit — every request to
// the broker's own handlers in process, as a Kafka consumer would send them.
import { makeConsumerGroupHeartbeatRequest, type ConsumerGroupHeartbeatResponse } from '../../protocol/generated/consumer-group-heartbeat.ts';
import { ErrorCode, errorInfo } from '../../protocol/generated/errors.ts';
import { makeFetchRequest, type FetchResponse } from '../../protocol/generated/fetch.ts';
import { makeListOffsetsRequest, type ListOffsetsResponse } from '../../protocol/generated/list-offsets.ts';
import { makeMetadataRequest, type MetadataResponse } from '../../protocol/generated/metadata.ts';
import { makeOffsetCommitRequest, type OffsetCommitResponse } from '../../protocol/generated/offset-commit.ts';
import { makeOffsetFetchRequest, type OffsetFetchResponse } from '../../protocol/generated/offset-fetch.ts';
import { iterateBatches, records } from '../../protocol/records.ts';
import type { InProcessCall } from '../http/in-process.ts';

const FETCH = 1, LIST_OFFSETS = 2, METADATA = 3, OFFSET_COMMIT = 8, OFFSET_FETCH = 9, CONSUMER_GROUP_HEARTBEAT = 68;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

export interface ConsumedRecord { topic: string; partition: number; offset: number; key: Buffer | null; value: Buffer | null }

/** A Kafka error seen by the instance: Confluent's 50002 (50003 when retriable) "Kafka error: …". */
export class KafkaCallError extends Error {
  readonly code: number;
  constructor(code: number, message?: string | null) {
    const info = errorInfo(code);
    super(message || info?.message || `Kafka error ${code}`);
    this.code = code;
  }
}

export interface ConsumerOptions {
  group: string;
  name: string;
  format: string;
  autoOffsetReset: 'earliest' | 'latest' | 'none';
  autoCommit: boolean;
  /** Random bytes for the member id (KIP-848 v1: the client picks it). */
  memberId: string;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ConsumerInstance {
  readonly opts: ConsumerOptions;
  lastUsed = Date.now();
  topics: string[] = [];
  #call: InProcessCall;
  #epoch = 0;
  #heartbeatMs = 5000;
  #timer: NodeJS.Timeout | null = null;
  /** A new assignment arrived: acknowledge it with the next heartbeat at once (as Kafka's consumer does). */
  #ackNow = false;
  /** Assigned partitions as the last heartbeat gave them (topic id → partitions). */
  #assigned: Array<{ topicId: string; partitions: number[] }> = [];
  #names = new Map<string, string>();
  /** Next offset to fetch per assigned partition; consumed = what the last poll returned up to. */
  readonly positions = new Map<string, { topic: string; partition: number; offset: number }>();
  #consumed = new Map<string, { topic: string; partition: number; offset: number }>();
  #closed = false;
  /** One heartbeat/poll/commit at a time (state is read and written across awaits). */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(call: InProcessCall, opts: ConsumerOptions) {
    this.#call = call;
    this.opts = opts;
  }

  /** Runs `fn` after the instance's previous operation. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  subscribe(topics: string[]): Promise<void> {
    return this.serial(async () => {
      this.topics = topics;
      await this.#heartbeat();
      this.#schedule();
    });
  }

  unsubscribe(): Promise<void> {
    return this.serial(async () => {
      this.topics = [];
      if (this.#epoch > 0) await this.#leave();
      this.#epoch = 0;
      this.#assigned = [];
      this.positions.clear();
      this.#consumed.clear();
    });
  }

  /** The assigned partitions as [topic, partition] (names resolved through Metadata). */
  assignment(): Array<{ topic: string; partition: number }> {
    const out = [];
    for (const a of this.#assigned) {
      const topic = this.#names.get(a.topicId);
      if (topic !== undefined) for (const p of a.partitions) out.push({ topic, partition: p });
    }
    return out;
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed || this.topics.length === 0) return;
      void this.serial(() => this.#heartbeat()).catch(() => {}).finally(() => this.#schedule());
    }, this.#ackNow ? 0 : this.#heartbeatMs);
    this.#timer.unref();
  }

  async #heartbeat(): Promise<void> {
    if (this.topics.length === 0) return;
    this.#ackNow = false;
    const res = await this.#call<ConsumerGroupHeartbeatResponse>(CONSUMER_GROUP_HEARTBEAT, 1, makeConsumerGroupHeartbeatRequest({
      groupId: this.opts.group, memberId: this.opts.memberId, memberEpoch: this.#epoch, instanceId: null, rackId: null,
      rebalanceTimeoutMs: 300_000, subscribedTopicNames: this.topics, subscribedTopicRegex: null, serverAssignor: null,
      topicPartitions: this.#assigned.map((a) => ({ topicId: a.topicId, partitions: a.partitions })),
    }));
    if (res.errorCode === ErrorCode.FENCED_MEMBER_EPOCH || res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
      // Fenced: rejoin from epoch 0 with nothing owned (as a Kafka consumer does).
      this.#epoch = 0;
      this.#assigned = [];
      return this.#heartbeat();
    }
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaCallError(res.errorCode, res.errorMessage);
    this.#epoch = res.memberEpoch;
    if (res.heartbeatIntervalMs > 0) this.#heartbeatMs = res.heartbeatIntervalMs;
    if (res.assignment) {
      this.#ackNow = true;
      this.#assigned = res.assignment.topicPartitions.map((tp) => ({ topicId: tp.topicId, partitions: [...tp.partitions] }));
      if (this.#assigned.some((a) => !this.#names.has(a.topicId))) await this.#resolveNames();
      const now = new Set(this.assignment().map((x) => tpKey(x.topic, x.partition)));
      for (const k of [...this.positions.keys()]) if (!now.has(k)) this.positions.delete(k);
      for (const k of [...this.#consumed.keys()]) if (!now.has(k)) this.#consumed.delete(k);
    }
  }

  async #resolveNames(): Promise<void> {
    const md = await this.#call<MetadataResponse>(METADATA, 12, makeMetadataRequest({
      topics: this.topics.map((name) => ({ topicId: NO_ID, name })), allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    }));
    for (const t of md.topics) if (t.errorCode === ErrorCode.NONE && t.name) this.#names.set(t.topicId, t.name);
  }

  async #leave(): Promise<void> {
    await this.#call<ConsumerGroupHeartbeatResponse>(CONSUMER_GROUP_HEARTBEAT, 1, makeConsumerGroupHeartbeatRequest({
      groupId: this.opts.group, memberId: this.opts.memberId, memberEpoch: -1, instanceId: null, rackId: null,
      rebalanceTimeoutMs: 300_000, subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null,
    })).catch(() => {});
  }

  /** Fills in positions of assigned partitions that have none: the committed offset, else auto.offset.reset. */
  async #initPositions(): Promise<void> {
    const missing = this.assignment().filter((x) => !this.positions.has(tpKey(x.topic, x.partition)));
    if (missing.length === 0) return;
    const byTopic = group(missing);
    const res = await this.#call<OffsetFetchResponse>(OFFSET_FETCH, 7, makeOffsetFetchRequest({
      groupId: this.opts.group, topics: [...byTopic].map(([name, ps]) => ({ name, partitionIndexes: ps })), requireStable: true,
    }));
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaCallError(res.errorCode);
    const reset: Array<{ topic: string; partition: number }> = [];
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0n) this.positions.set(tpKey(t.name, p.partitionIndex), { topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) });
        else reset.push({ topic: t.name, partition: p.partitionIndex });
      }
    }
    if (reset.length === 0) return;
    if (this.opts.autoOffsetReset === 'none') throw new KafkaCallError(ErrorCode.OFFSET_OUT_OF_RANGE, `No committed offset and auto.offset.reset=none for ${reset.map((r) => `${r.topic}-${r.partition}`).join(', ')}`);
    await this.seek(reset, this.opts.autoOffsetReset === 'earliest' ? -2 : -1);
  }

  /** Sets positions to the log start (-2) or end (-1) through ListOffsets. */
  async seek(parts: Array<{ topic: string; partition: number }>, timestamp: -1 | -2): Promise<void> {
    const res = await this.#call<ListOffsetsResponse>(LIST_OFFSETS, 7, makeListOffsetsRequest({
      replicaId: -1, isolationLevel: 0, timeoutMs: 30_000,
      topics: [...group(parts)].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: BigInt(timestamp) })) })),
    }));
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) throw new KafkaCallError(p.errorCode);
        this.positions.set(tpKey(t.name, p.partitionIndex), { topic: t.name, partition: p.partitionIndex, offset: Number(p.offset) });
      }
    }
  }

  /** Records from the assigned partitions' positions: waits up to `timeoutMs` for some, at most `maxBytes`. */
  poll(timeoutMs: number, maxBytes: number): Promise<ConsumedRecord[]> {
    return this.serial(async () => {
      if (this.topics.length === 0) return [];
      if (this.opts.autoCommit) await this.#commit(null).catch(() => {});
      if (this.#epoch === 0) await this.#heartbeat();
      await this.#initPositions();
      const parts = [...this.positions.values()];
      if (parts.length === 0) {
        await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 200)));
        return [];
      }
      const topics = [...group(parts.map((p) => ({ topic: p.topic, partition: p.partition })))].map(([topic, ps]) => ({
        topic, topicId: NO_ID,
        partitions: ps.map((partition) => ({
          partition, currentLeaderEpoch: -1, fetchOffset: BigInt(this.positions.get(tpKey(topic, partition))!.offset), lastFetchedEpoch: -1,
          logStartOffset: -1n, partitionMaxBytes: maxBytes, replicaDirectoryId: NO_ID, highWatermark: 9223372036854775807n,
        })),
      }));
      const res = await this.#call<FetchResponse>(FETCH, 12, makeFetchRequest({
        replicaId: -1, maxWaitMs: timeoutMs, minBytes: 1, maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics, forgottenTopicsData: [], rackId: '',
      }));
      if (res.errorCode !== ErrorCode.NONE) throw new KafkaCallError(res.errorCode);
      const out: ConsumedRecord[] = [];
      let bytes = 0;
      for (const t of res.responses) {
        for (const p of t.partitions) {
          const pos = this.positions.get(tpKey(t.topic, p.partitionIndex));
          if (!pos) continue;
          if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && this.opts.autoOffsetReset !== 'none') {
            await this.seek([pos], this.opts.autoOffsetReset === 'earliest' ? -2 : -1);
            continue;
          }
          if (p.errorCode !== ErrorCode.NONE) throw new KafkaCallError(p.errorCode);
          const buf = p.records;
          if (!buf) continue;
          for (const span of iterateBatches(buf)) {
            const batch = buf.subarray(span.offset, span.offset + span.size);
            const lastOffset = Number(batch.readBigInt64BE(0)) + batch.readInt32BE(23);
            if (batch.readInt16BE(21) & 0x20) { pos.offset = Math.max(pos.offset, lastOffset + 1); continue; } // control batch
            for (const r of records(batch)) {
              if (r.offset < pos.offset) continue;
              const size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
              if (out.length > 0 && bytes + size > maxBytes) break;
              out.push({ topic: t.topic, partition: p.partitionIndex, offset: r.offset, key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value) });
              bytes += size;
              pos.offset = r.offset + 1;
            }
            if (bytes >= maxBytes) break;
          }
          this.#consumed.set(tpKey(t.topic, p.partitionIndex), { ...pos });
        }
      }
      return out;
    });
  }

  /** Commits the given offsets, or (null) what the polls returned so far. */
  commit(offsets: Array<{ topic: string; partition: number; offset: number }> | null): Promise<void> {
    return this.serial(() => this.#commit(offsets));
  }

  async #commit(offsets: Array<{ topic: string; partition: number; offset: number }> | null): Promise<void> {
    const list = offsets ?? [...this.#consumed.values()];
    if (list.length === 0) return;
    const byTopic = new Map<string, Array<{ partition: number; offset: number }>>();
    for (const o of list) {
      let a = byTopic.get(o.topic);
      if (!a) byTopic.set(o.topic, (a = []));
      a.push(o);
    }
    const res = await this.#call<OffsetCommitResponse>(OFFSET_COMMIT, 9, makeOffsetCommitRequest({
      groupId: this.opts.group, generationIdOrMemberEpoch: this.#epoch > 0 ? this.#epoch : -1, memberId: this.#epoch > 0 ? this.opts.memberId : '',
      groupInstanceId: null, retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, ps]) => ({
        name, topicId: NO_ID,
        partitions: ps.map((p) => ({ partitionIndex: p.partition, committedOffset: BigInt(p.offset), committedLeaderEpoch: -1, committedMetadata: '' })),
      })),
    }));
    for (const t of res.topics) for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE) throw new KafkaCallError(p.errorCode);
  }

  /** Committed offsets of the given partitions (-1 where none). */
  async committed(parts: Array<{ topic: string; partition: number }>): Promise<Array<{ topic: string; partition: number; offset: number; metadata: string }>> {
    const res = await this.#call<OffsetFetchResponse>(OFFSET_FETCH, 7, makeOffsetFetchRequest({
      groupId: this.opts.group, topics: [...group(parts)].map(([name, ps]) => ({ name, partitionIndexes: ps })), requireStable: true,
    }));
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaCallError(res.errorCode);
    return res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), metadata: p.metadata ?? '' })));
  }

  /** Leaves the group (auto-commit first, as a Kafka consumer's close does). */
  close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    return this.serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      if (this.opts.autoCommit) await this.#commit(null).catch(() => {});
      if (this.#epoch > 0) await this.#leave();
    });
  }
}

function group(parts: Array<{ topic: string; partition: number }>): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const p of parts) {
    let a = m.get(p.topic);
    if (!a) m.set(p.topic, (a = []));
    if (!a.includes(p.partition)) a.push(p.partition);
  }
  return m;
}
