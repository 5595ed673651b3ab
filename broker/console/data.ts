// What the console shows, read through the broker's own handlers in process (http/in-process.ts), as an admin
// client would read it: nothing here touches storage, partitions or coordinators directly, so the console sees
// exactly what Kafka clients see, and no request it makes can create a topic (Metadata without auto-creation).
import { decompressAsync } from '../../protocol/compression.ts';
import { decodeConsumerProtocolAssignment } from '../../protocol/generated/consumer-protocol-assignment.ts';
import type { ConsumerGroupDescribeResponse } from '../../protocol/generated/consumer-group-describe.ts';
import type { DescribeClusterResponse } from '../../protocol/generated/describe-cluster.ts';
import type { DescribeConfigsResponse } from '../../protocol/generated/describe-configs.ts';
import type { DescribeGroupsResponse } from '../../protocol/generated/describe-groups.ts';
import type { DescribeLogDirsResponse } from '../../protocol/generated/describe-log-dirs.ts';
import type { DescribeProducersResponse } from '../../protocol/generated/describe-producers.ts';
import type { DescribeTransactionsResponse } from '../../protocol/generated/describe-transactions.ts';
import { ErrorCode, errorName } from '../../protocol/generated/errors.ts';
import { makeFetchRequest, type FetchResponse } from '../../protocol/generated/fetch.ts';
import type { ListGroupsResponse } from '../../protocol/generated/list-groups.ts';
import type { ListOffsetsResponse } from '../../protocol/generated/list-offsets.ts';
import type { ListTransactionsResponse } from '../../protocol/generated/list-transactions.ts';
import { makeMetadataRequest, type MetadataResponse } from '../../protocol/generated/metadata.ts';
import type { OffsetFetchResponse } from '../../protocol/generated/offset-fetch.ts';
import { Reader } from '../../protocol/reader.ts';
import { iterateBatches, RecordBatchView } from '../../protocol/records.ts';
import { inProcessCaller, type InProcessCall } from '../http/in-process.ts';
import type { Broker } from '../server.ts';
import { showPayload, type Shown } from './payload.ts';

// API keys and the versions the console asks at (all inside the broker's served ranges).
const FETCH = 1, LIST_OFFSETS = 2, METADATA = 3, OFFSET_FETCH = 9, DESCRIBE_GROUPS = 15, LIST_GROUPS = 16;
const DESCRIBE_CONFIGS = 32, DESCRIBE_LOG_DIRS = 35, DESCRIBE_CLUSTER = 60, DESCRIBE_PRODUCERS = 61;
const DESCRIBE_TRANSACTIONS = 65, LIST_TRANSACTIONS = 66, CONSUMER_GROUP_DESCRIBE = 69;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const LATEST = -1n, EARLIEST = -2n;
const RESOURCE_TOPIC = 2, RESOURCE_BROKER = 4;
const CONFIG_SOURCES = ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG', 'GROUP_CONFIG'];
/** Records one page of the message browser shows at most, and the bytes it fetches for them. */
export const MAX_MESSAGES = 500;
const PAGE_FETCH_BYTES = 4 << 20;
/** Partitions DescribeProducers is asked about at most (the producers page). */
const MAX_PRODUCER_PARTITIONS = 2000;

/** A request the console cannot answer as asked (HTTP 400/404 with the message). */
export class ConsoleError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const num = (v: bigint): number => Number(v);
const errText = (code: number): string | null => (code === ErrorCode.NONE ? null : errorName(code));

export interface TopicPartitionOffsets { start: number; end: number }

export class ConsoleData {
  readonly #broker: Broker;
  readonly #call: InProcessCall;

  constructor(broker: Broker) {
    this.#broker = broker;
    this.#call = inProcessCaller(broker, 'gregor-console');
  }

  async #metadata(topics: string[] | null): Promise<MetadataResponse> {
    return this.#call<MetadataResponse>(METADATA, 12, makeMetadataRequest({
      topics: topics === null ? null : topics.map((name) => ({ topicId: NO_ID, name })),
      allowAutoTopicCreation: false,
    }));
  }

  /** Earliest and latest offsets of each partition: `topic` → partition → offsets. */
  async offsets(parts: ReadonlyMap<string, readonly number[]>, timestamp?: bigint): Promise<Map<string, Map<number, { offset: number; timestamp: number; error: string | null }>>> {
    const out = new Map<string, Map<number, { offset: number; timestamp: number; error: string | null }>>();
    if (parts.size === 0) return out;
    const res = await this.#call<ListOffsetsResponse>(LIST_OFFSETS, 7, {
      replicaId: -1, isolationLevel: 0, timeoutMs: 0,
      topics: [...parts].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: timestamp ?? LATEST })) })),
    });
    for (const t of res.topics) {
      const m = new Map<number, { offset: number; timestamp: number; error: string | null }>();
      for (const p of t.partitions) m.set(p.partitionIndex, { offset: num(p.offset), timestamp: num(p.timestamp), error: errText(p.errorCode) });
      out.set(t.name, m);
    }
    return out;
  }

  async #startEnd(parts: ReadonlyMap<string, readonly number[]>): Promise<Map<string, Map<number, TopicPartitionOffsets>>> {
    const [start, end] = await Promise.all([this.offsets(parts, EARLIEST), this.offsets(parts, LATEST)]);
    const out = new Map<string, Map<number, TopicPartitionOffsets>>();
    for (const [t, ps] of end) {
      const m = new Map<number, TopicPartitionOffsets>();
      for (const [p, e] of ps) m.set(p, { start: start.get(t)?.get(p)?.offset ?? 0, end: e.offset });
      out.set(t, m);
    }
    return out;
  }

  async #sizes(): Promise<{ dirs: Array<{ logDir: string; error: string | null; totalBytes: number; usableBytes: number }>; byPartition: Map<string, number> }> {
    const res = await this.#call<DescribeLogDirsResponse>(DESCRIBE_LOG_DIRS, 4, { topics: null });
    const byPartition = new Map<string, number>();
    for (const d of res.results) for (const t of d.topics) for (const p of t.partitions) byPartition.set(`${t.name}/${p.partitionIndex}`, num(p.partitionSize));
    return { dirs: res.results.map((d) => ({ logDir: d.logDir, error: errText(d.errorCode), totalBytes: num(d.totalBytes), usableBytes: num(d.usableBytes) })), byPartition };
  }

  async #configs(resourceType: number, name: string): Promise<Array<{ name: string; value: string | null; source: string; readOnly: boolean; sensitive: boolean }>> {
    const res = await this.#call<DescribeConfigsResponse>(DESCRIBE_CONFIGS, 4, {
      resources: [{ resourceType, resourceName: name, configurationKeys: null }], includeSynonyms: false, includeDocumentation: false,
    });
    const r = res.results[0];
    if (!r || r.errorCode !== ErrorCode.NONE) throw new ConsoleError(r?.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? 404 : 500, r?.errorMessage ?? errorName(r?.errorCode ?? -1));
    return r.configs.map((c) => ({ name: c.name, value: c.isSensitive ? null : c.value, source: CONFIG_SOURCES[c.configSource] ?? String(c.configSource), readOnly: c.readOnly, sensitive: c.isSensitive }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async cluster() {
    const b = this.#broker;
    const [dc, sizes, configs, meta] = await Promise.all([
      this.#call<DescribeClusterResponse>(DESCRIBE_CLUSTER, 1, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false }),
      this.#sizes(), this.#configs(RESOURCE_BROKER, String(b.nodeId)), this.#metadata(null),
    ]);
    return {
      clusterId: dc.clusterId, controllerId: dc.controllerId, nodeId: b.nodeId,
      nodes: dc.brokers.map((n) => ({ nodeId: n.brokerId, host: n.host, port: n.port, rack: n.rack, fenced: n.isFenced })),
      listeners: b.listeners.map((l) => ({ name: l.name, host: l.advertised.host, port: l.advertised.port })),
      http: b.http,
      topics: meta.topics.length, partitions: meta.topics.reduce((n, t) => n + t.partitions.length, 0),
      logDirs: sizes.dirs.map((d) => ({ ...d, sizeBytes: [...sizes.byPartition.values()].reduce((a, v) => a + v, 0) })),
      configs: configs.filter((c) => c.source !== 'DEFAULT_CONFIG'),
      defaultConfigs: configs.filter((c) => c.source === 'DEFAULT_CONFIG').length,
    };
  }

  async topics() {
    const meta = await this.#metadata(null);
    const parts = new Map(meta.topics.map((t) => [t.name!, t.partitions.map((p) => p.partitionIndex)]));
    const [offs, sizes] = await Promise.all([this.#startEnd(parts), this.#sizes()]);
    return meta.topics.map((t) => {
      let messages = 0, size = 0;
      for (const p of t.partitions) {
        const o = offs.get(t.name!)?.get(p.partitionIndex);
        if (o) messages += Math.max(0, o.end - o.start);
        size += sizes.byPartition.get(`${t.name}/${p.partitionIndex}`) ?? 0;
      }
      return { name: t.name!, topicId: t.topicId, internal: t.isInternal, error: errText(t.errorCode), partitions: t.partitions.length, messages, sizeBytes: size };
    }).sort((a, b) => Number(a.internal) - Number(b.internal) || a.name.localeCompare(b.name));
  }

  async topic(name: string) {
    const meta = await this.#metadata([name]);
    const t = meta.topics[0];
    if (!t || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new ConsoleError(404, `no topic named ${name}`);
    if (t.errorCode !== ErrorCode.NONE) throw new ConsoleError(500, `${name}: ${errorName(t.errorCode)}`);
    const ps = t.partitions.map((p) => p.partitionIndex).sort((a, b) => a - b);
    const [offs, sizes, configs] = await Promise.all([this.#startEnd(new Map([[name, ps]])), this.#sizes(), this.#configs(RESOURCE_TOPIC, name)]);
    return {
      name, topicId: t.topicId, internal: t.isInternal,
      partitions: [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => {
        const o = offs.get(name)?.get(p.partitionIndex);
        return {
          partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes,
          error: errText(p.errorCode), startOffset: o?.start ?? 0, endOffset: o?.end ?? 0, sizeBytes: sizes.byPartition.get(`${name}/${p.partitionIndex}`) ?? 0,
        };
      }),
      configs,
    };
  }

  /** Up to `limit` records of one partition from `offset`, or from the first record at or after `timestamp`. */
  async messages(topic: string, partition: number, from: { offset?: number; timestamp?: number }, limit: number) {
    const parts = new Map([[topic, [partition]]]);
    const [first, last] = await Promise.all([this.offsets(parts, EARLIEST), this.offsets(parts, LATEST)]);
    const listed = last.get(topic)?.get(partition);
    if (!listed || listed.error === 'UNKNOWN_TOPIC_OR_PARTITION') throw new ConsoleError(404, `no partition ${topic}-${partition}`);
    if (listed.error) throw new ConsoleError(500, `${topic}-${partition}: ${listed.error}`);
    const bounds = { start: first.get(topic)?.get(partition)?.offset ?? 0, end: listed.offset };
    let offset = from.offset ?? bounds.start;
    if (from.timestamp !== undefined) {
      const found = (await this.offsets(parts, BigInt(from.timestamp))).get(topic)?.get(partition);
      offset = found && found.offset >= 0 ? found.offset : bounds.end;
    }
    offset = Math.max(offset, bounds.start);
    const records: Array<{ offset: number; timestamp: number; timestampType: string; key: Shown; value: Shown; headers: Array<{ key: string; value: Shown }>; transactional: boolean; producerId: number; partition: number }> = [];
    let next = offset;
    // Follow the log until the page is full or the end is reached (compaction can leave gaps; each fetch moves past them).
    while (records.length < limit && next < bounds.end) {
      const res = await this.#call<FetchResponse>(FETCH, 12, makeFetchRequest({
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: PAGE_FETCH_BYTES, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, topicId: NO_ID, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(next), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: PAGE_FETCH_BYTES, replicaDirectoryId: NO_ID, highWatermark: 0n }] }],
      }));
      const p = res.responses[0]?.partitions[0];
      if (!p) break;
      if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) { next = num(p.logStartOffset); continue; }
      if (p.errorCode !== ErrorCode.NONE) throw new ConsoleError(500, `${topic}-${partition}: ${errorName(p.errorCode)}`);
      const buf = p.records;
      const before = next;
      if (buf) {
        for (const span of iterateBatches(buf)) {
          const view = new RecordBatchView(buf, span.offset);
          if (view.nextOffset <= next) continue;
          if (!view.isControl) {
            const codec = view.compression;
            const data = codec === 0 ? null : await decompressAsync(codec, buf.subarray(span.offset + 61, span.offset + span.size), { maxOutputBytes: 64 << 20 });
            for (const r of view.records(data ? () => data : undefined)) {
              if (r.offset < next || records.length >= limit) continue;
              records.push({
                offset: r.offset, timestamp: r.timestamp, timestampType: view.timestampType === 1 ? 'LogAppendTime' : 'CreateTime', partition,
                key: showPayload(r.key), value: showPayload(r.value), headers: r.headers.map((h) => ({ key: h.key, value: showPayload(h.value) })),
                transactional: view.isTransactional, producerId: view.hasProducerId ? Number(view.producerId) : -1,
              });
            }
          }
          if (records.length >= limit) { next = records[records.length - 1].offset + 1; break; }
          next = view.nextOffset;
        }
      }
      if (next === before) break; // nothing more readable below the high watermark
    }
    return { topic, partition, startOffset: bounds.start, endOffset: bounds.end, from: offset, nextOffset: next, records };
  }

  async groupList() {
    const res = await this.#call<ListGroupsResponse>(LIST_GROUPS, 5, { statesFilter: [], typesFilter: [] });
    return res.groups.map((g) => ({ groupId: g.groupId, state: g.groupState, type: g.groupType, protocolType: g.protocolType }))
      .sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** Committed offsets and lag of each group: group → rows. */
  async groupOffsets(groupIds: readonly string[]) {
    const out = new Map<string, Array<{ topic: string; partition: number; committed: number; end: number; lag: number | null }>>();
    if (groupIds.length === 0) return out;
    const res = await this.#call<OffsetFetchResponse>(OFFSET_FETCH, 8, {
      groupId: '', topics: null, requireStable: false,
      groups: groupIds.map((groupId) => ({ groupId, memberId: null, memberEpoch: -1, topics: null })),
    });
    const parts = new Map<string, number[]>();
    for (const g of res.groups) for (const t of g.topics) for (const p of t.partitions) {
      if (p.committedOffset < 0n) continue;
      const ps = parts.get(t.name) ?? [];
      if (!ps.includes(p.partitionIndex)) ps.push(p.partitionIndex);
      parts.set(t.name, ps);
    }
    const ends = await this.offsets(parts, LATEST);
    for (const g of res.groups) {
      const rows: Array<{ topic: string; partition: number; committed: number; end: number; lag: number | null }> = [];
      for (const t of g.topics) for (const p of t.partitions) {
        if (p.committedOffset < 0n) continue;
        const e = ends.get(t.name)?.get(p.partitionIndex);
        const end = e && !e.error ? e.offset : -1;
        rows.push({ topic: t.name, partition: p.partitionIndex, committed: num(p.committedOffset), end, lag: end >= 0 ? Math.max(0, end - num(p.committedOffset)) : null });
      }
      rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      out.set(g.groupId, rows);
    }
    return out;
  }

  async group(groupId: string) {
    const listed = (await this.groupList()).find((g) => g.groupId === groupId);
    const offsets = (await this.groupOffsets([groupId])).get(groupId) ?? [];
    if (!listed && offsets.length === 0) throw new ConsoleError(404, `no group named ${groupId}`);
    let members: Array<{ memberId: string; instanceId: string | null; clientId: string; host: string; assignment: Array<{ topic: string; partitions: number[] }>; memberEpoch?: number; subscription?: string[] }> = [];
    let state = listed?.state ?? 'Empty';
    let detail: Record<string, unknown> = {};
    if (listed?.type === 'consumer') {
      const res = await this.#call<ConsumerGroupDescribeResponse>(CONSUMER_GROUP_DESCRIBE, 0, { groupIds: [groupId], includeAuthorizedOperations: false });
      const g = res.groups[0];
      if (g && g.errorCode === ErrorCode.NONE) {
        state = g.groupState;
        detail = { groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch, assignor: g.assignorName };
        members = g.members.map((m) => ({
          memberId: m.memberId, instanceId: m.instanceId, clientId: m.clientId, host: m.clientHost, memberEpoch: m.memberEpoch,
          subscription: m.subscribedTopicNames,
          assignment: m.assignment.topicPartitions.map((tp) => ({ topic: tp.topicName, partitions: [...tp.partitions].sort((a, b) => a - b) })),
        }));
      }
    } else if (listed) {
      const res = await this.#call<DescribeGroupsResponse>(DESCRIBE_GROUPS, 5, { groups: [groupId], includeAuthorizedOperations: false });
      const g = res.groups[0];
      if (g && g.errorCode === ErrorCode.NONE) {
        state = g.groupState;
        detail = { protocolType: g.protocolType, protocol: g.protocolData };
        members = g.members.map((m) => ({
          memberId: m.memberId, instanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost,
          assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
        }));
      }
    }
    return { groupId, state, type: listed?.type ?? 'classic', ...detail, members, offsets, lag: offsets.reduce((a, r) => a + (r.lag ?? 0), 0) };
  }

  async transactions() {
    const list = await this.#call<ListTransactionsResponse>(LIST_TRANSACTIONS, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1n, transactionalIdPattern: null });
    const ids = list.transactionStates.map((t) => t.transactionalId);
    const desc = ids.length === 0 ? { transactionStates: [] } : await this.#call<DescribeTransactionsResponse>(DESCRIBE_TRANSACTIONS, 0, { transactionalIds: ids });
    const transactions = desc.transactionStates.map((t) => ({
      transactionalId: t.transactionalId, state: t.transactionState, error: errText(t.errorCode), producerId: num(t.producerId), producerEpoch: t.producerEpoch,
      timeoutMs: t.transactionTimeoutMs, startTimeMs: num(t.transactionStartTimeMs),
      partitions: t.topics.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`)),
    })).sort((a, b) => a.transactionalId.localeCompare(b.transactionalId));
    // Producers with state on each partition (idempotent and transactional).
    const meta = await this.#metadata(null);
    const req: Array<{ name: string; partitionIndexes: number[] }> = [];
    let n = 0;
    for (const t of meta.topics) {
      if (n >= MAX_PRODUCER_PARTITIONS) break;
      const ps = t.partitions.map((p) => p.partitionIndex).slice(0, MAX_PRODUCER_PARTITIONS - n);
      n += ps.length;
      req.push({ name: t.name!, partitionIndexes: ps });
    }
    const producers: Array<{ topic: string; partition: number; producerId: number; producerEpoch: number; lastSequence: number; lastTimestamp: number; currentTxnStartOffset: number }> = [];
    if (req.length > 0) {
      const dp = await this.#call<DescribeProducersResponse>(DESCRIBE_PRODUCERS, 0, { topics: req });
      for (const t of dp.topics) for (const p of t.partitions) for (const s of p.activeProducers) {
        producers.push({ topic: t.name, partition: p.partitionIndex, producerId: num(s.producerId), producerEpoch: s.producerEpoch, lastSequence: s.lastSequence, lastTimestamp: num(s.lastTimestamp), currentTxnStartOffset: num(s.currentTxnStartOffset) });
      }
    }
    producers.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.producerId - b.producerId);
    return { transactions, producers, producerPartitionsAsked: n };
  }
}

/** A classic consumer's assignment (ConsumerProtocolAssignment, version in its first two bytes); [] if unreadable. */
function decodeAssignment(buf: Buffer): Array<{ topic: string; partitions: number[] }> {
  if (buf.length < 2) return [];
  try {
    const version = buf.readInt16BE(0);
    const a = decodeConsumerProtocolAssignment(new Reader(buf.subarray(2)), Math.max(0, Math.min(3, version)));
    return a.assignedPartitions.map((tp) => ({ topic: tp.topic, partitions: [...tp.partitions].sort((x, y) => x - y) }));
  } catch {
    return [];
  }
}
