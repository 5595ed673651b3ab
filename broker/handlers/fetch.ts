// Fetch (key 1) for consumers: long polling (maxWaitMs/minBytes, woken by appends), request and
// partition byte budgets with KIP-74's "first batch even if larger", incremental fetch sessions (KIP-227),
// topic IDs (v13+). Records go out as the buffers storage read (one segment per partition per fetch,
// as Kafka), trimmed to the budget by slicing at batch boundaries — never copied or concatenated.
// read_committed (isolation 1): data only below the last stable offset (the first offset of the oldest
// open transaction, else the high watermark) and the aborted transactions overlapping the fetched range
// from the segments' .txnindex, so clients drop aborted records and control batches. Every response
// carries the LSO. Left out: follower fetching (replicaId ≥ 0 answers NOT_LEADER_OR_FOLLOWER).
import {
  FetchApi,
  type FetchRequest,
  type FetchResponse,
  type PartitionData,
  makeFetchResponse,
  makeFetchableTopicResponse,
  makePartitionData,
  makeAbortedTransaction,
} from '../../protocol/generated/fetch.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { partitionKey } from '../append-notifier.ts';
import type { BrokerContext } from '../context.ts';
import { FINAL_EPOCH, INITIAL_EPOCH, type FetchSession, type SessionPartition } from '../fetch-sessions.ts';
import { defineHandler } from '../handler.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { ZERO_UUID } from '../topics.ts';

const READ_COMMITTED = 1;
const NO_RECORDS = Buffer.alloc(0);

interface Wanted extends SessionPartition {
  /** Error found while resolving the request (unknown topic/id), reported instead of reading. */
  resolveError: number;
}

interface ReadOutcome {
  p: Wanted;
  errorCode: number;
  highWatermark: number;
  /** The last stable offset: the high watermark unless a transaction is open (-1 on errors). */
  lastStableOffset?: number;
  logStartOffset: number;
  records: Buffer | null;
  /** read_committed: aborted transactions overlapping the fetched range. */
  aborted?: Array<{ producerId: bigint; firstOffset: number }>;
}

/** Whole batches from the start of `buf` that fit in `budget` bytes (at least one if `atLeastOne`). */
function trimToBudget(buf: Buffer, budget: number, atLeastOne: boolean): Buffer | null {
  let end = 0;
  while (end + 12 <= buf.length) {
    const size = 12 + buf.readInt32BE(end + 8);
    if (end + size > buf.length) break;
    if (end + size > budget && !(atLeastOne && end === 0)) break;
    end += size;
  }
  return end === 0 ? null : end === buf.length ? buf : buf.subarray(0, end);
}

async function readOne(broker: BrokerContext, p: Wanted, maxBytes: number, isolationLevel: number): Promise<ReadOutcome> {
  const none = (errorCode: number, hw = -1, lso = -1): ReadOutcome => ({ p, errorCode, highWatermark: hw, logStartOffset: lso, records: null });
  if (p.resolveError !== ErrorCode.NONE) return none(p.resolveError);
  const partition = broker.partitions.getOrError(p.topic, p.partition);
  if (typeof partition === 'number') return none(partition);
  const epochError = partition.checkLeaderEpoch(p.currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) return none(epochError);
  const log = partition.log;
  // Read before the await: the bound and the open transactions are one consistent view.
  const lso = partition.lastStableOffset;
  const committed = isolationLevel === READ_COMMITTED;
  const res = await log.read(p.fetchOffset, Math.max(0, Math.min(maxBytes, p.maxBytes)), committed ? { minOneBatch: true, maxOffset: lso } : { minOneBatch: true });
  if (res.error === 'OFFSET_OUT_OF_RANGE') return none(ErrorCode.OFFSET_OUT_OF_RANGE, res.highWatermark, res.logStartOffset);
  if (res.error !== null) return none(ErrorCode.KAFKA_STORAGE_ERROR, res.highWatermark, res.logStartOffset);
  const records = res.batches[0] ?? null;
  const aborted = committed && records ? log.abortedTransactions(p.fetchOffset, lso).map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })) : undefined;
  return { p, errorCode: ErrorCode.NONE, highWatermark: res.highWatermark, lastStableOffset: Math.min(lso, res.highWatermark), logStartOffset: res.logStartOffset, records, aborted };
}

/** Reads every wanted partition in parallel, then applies the request budget in request order. */
async function readAll(broker: BrokerContext, wanted: Wanted[], requestMaxBytes: number, isolationLevel: number): Promise<{ outcomes: ReadOutcome[]; bytes: number }> {
  const outcomes = await Promise.all(wanted.map((p) => readOne(broker, p, requestMaxBytes, isolationLevel)));
  let bytes = 0;
  for (const o of outcomes) {
    if (!o.records) continue;
    // KIP-74: the first partition with data returns at least one batch even past the budgets.
    o.records = trimToBudget(o.records, Math.min(o.p.maxBytes, requestMaxBytes - bytes), bytes === 0);
    bytes += o.records?.length ?? 0;
  }
  return { outcomes, bytes };
}

function resolve(broker: BrokerContext, version: number, topicName: string, topicId: string): { name: string; id: string; error: number } {
  if (version >= 13) {
    const t = broker.topics.getById(topicId);
    return t ? { name: t.name, id: t.topicId, error: ErrorCode.NONE } : { name: '', id: topicId, error: ErrorCode.UNKNOWN_TOPIC_ID };
  }
  const t = broker.topics.get(topicName);
  return t ? { name: t.name, id: t.topicId, error: ErrorCode.NONE } : { name: topicName, id: ZERO_UUID, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
}

function wantedFrom(broker: BrokerContext, version: number, req: FetchRequest): Wanted[] {
  const out: Wanted[] = [];
  for (const t of req.topics) {
    const r = resolve(broker, version, t.topic, t.topicId);
    for (const p of t.partitions) {
      out.push({
        topic: r.name, topicId: r.id, partition: p.partition, fetchOffset: Number(p.fetchOffset), maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch, sentHighWatermark: -1, sentLogStartOffset: -1, resolveError: r.error,
      });
    }
  }
  return out;
}

/** Applies an incremental request to its session: new/changed partitions, then forgotten ones. */
function updateSession(broker: BrokerContext, version: number, session: FetchSession, req: FetchRequest): void {
  for (const w of wantedFrom(broker, version, req)) {
    if (w.resolveError !== ErrorCode.NONE && version >= 13) continue; // unknown ids are reported, not cached
    const key = partitionKey(w.topic, w.partition);
    const cached = session.partitions.get(key);
    if (cached) {
      cached.fetchOffset = w.fetchOffset;
      cached.maxBytes = w.maxBytes;
      cached.currentLeaderEpoch = w.currentLeaderEpoch;
    } else {
      session.partitions.set(key, w);
    }
  }
  // Forgotten partitions go after the updates, as in Kafka's FetchSession.update.
  for (const f of req.forgottenTopicsData) {
    const name = version >= 13 ? broker.topics.getById(f.topicId)?.name : f.topic;
    if (name === undefined) continue;
    for (const p of f.partitions) session.partitions.delete(partitionKey(name, p));
  }
}

function toPartitionData(o: ReadOutcome, isolationLevel: number): PartitionData {
  return makePartitionData({
    partitionIndex: o.p.partition,
    errorCode: o.errorCode,
    highWatermark: BigInt(o.highWatermark),
    lastStableOffset: BigInt(o.lastStableOffset ?? o.highWatermark),
    logStartOffset: BigInt(o.logStartOffset),
    abortedTransactions: isolationLevel === READ_COMMITTED && o.errorCode === ErrorCode.NONE
      ? (o.aborted ?? []).map((a) => makeAbortedTransaction({ producerId: a.producerId, firstOffset: BigInt(a.firstOffset) }))
      : null,
    preferredReadReplica: -1,
    records: o.records ?? NO_RECORDS,
  });
}

function buildResponse(version: number, sessionId: number, outcomes: ReadOutcome[], isolationLevel: number): FetchResponse {
  const topics: ReturnType<typeof makeFetchableTopicResponse>[] = [];
  let current: ReturnType<typeof makeFetchableTopicResponse> | undefined;
  for (const o of outcomes) {
    // Consecutive partitions of one topic share an entry, as Kafka's responses do.
    const sameTopic = current && (version >= 13 ? current.topicId === o.p.topicId : current.topic === o.p.topic);
    if (!sameTopic) {
      current = makeFetchableTopicResponse({ topic: o.p.topic, topicId: o.p.topicId, partitions: [] });
      topics.push(current);
    }
    current!.partitions.push(toPartitionData(o, isolationLevel));
  }
  return makeFetchResponse({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId, responses: topics });
}

function sessionError(errorCode: number): FetchResponse {
  return makeFetchResponse({ throttleTimeMs: 0, errorCode, sessionId: 0, responses: [] });
}

export const handler = defineHandler<FetchRequest, FetchResponse>({
  api: FetchApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const now = broker.clock.now();
    const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;

    // Session bookkeeping happens synchronously, in request order.
    let session: FetchSession | null = null;
    let wanted: Wanted[];
    let incremental = false;
    if (version < 7 || (req.sessionId === 0 && req.sessionEpoch === FINAL_EPOCH)) {
      wanted = wantedFrom(broker, version, req);
    } else if (req.sessionEpoch === FINAL_EPOCH || req.sessionEpoch === INITIAL_EPOCH) {
      if (req.sessionId !== 0) broker.fetchSessions.remove(req.sessionId);
      wanted = wantedFrom(broker, version, req);
      if (req.sessionEpoch === INITIAL_EPOCH) {
        session = broker.fetchSessions.create(now);
        if (session) for (const w of wanted) if (w.resolveError === ErrorCode.NONE) session.partitions.set(partitionKey(w.topic, w.partition), w);
      }
    } else {
      const s = broker.fetchSessions.get(req.sessionId);
      if (!s) return sessionError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      if (s.epoch !== req.sessionEpoch) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      s.epoch = req.sessionEpoch === 0x7fffffff ? 1 : req.sessionEpoch + 1;
      s.lastUsedMs = now;
      updateSession(broker, version, s, req);
      session = s;
      incremental = true;
      // Unknown topic ids in an incremental request are reported once, outside the session.
      wanted = [...s.partitions.values()].map((p) => ({ ...p, resolveError: ErrorCode.NONE }));
      if (version >= 13) for (const w of wantedFrom(broker, version, req)) if (w.resolveError !== ErrorCode.NONE) wanted.push(w);
    }

    // KafkaApis.handleFetchRequest: a consumer needs READ on each topic (TOPIC_AUTHORIZATION_FAILED per partition).
    if (broker.authorizer !== null) {
      wanted = wanted.map((w) => w.resolveError === ErrorCode.NONE && !authorize(ctx, AclOperation.READ, ResourceType.TOPIC, w.topic)
        ? { ...w, resolveError: ErrorCode.TOPIC_AUTHORIZATION_FAILED } : w);
    }
    if (replicaId >= 0) {
      const outcomes = wanted.map((p): ReadOutcome => ({ p, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, highWatermark: -1, logStartOffset: -1, records: null }));
      return buildResponse(version, session?.id ?? 0, outcomes, req.isolationLevel);
    }

    const sessionId = session?.id ?? 0;
    const requestMaxBytes = req.maxBytes;
    const respond = (outcomes: ReadOutcome[]): FetchResponse => {
      let shown = outcomes;
      if (incremental) {
        // Only partitions with news: data, an error, or a changed high watermark / log start offset.
        shown = outcomes.filter((o) => o.records !== null || o.errorCode !== ErrorCode.NONE ||
          o.highWatermark !== o.p.sentHighWatermark || o.logStartOffset !== o.p.sentLogStartOffset);
      }
      if (session) {
        for (const o of outcomes) {
          const cached = session.partitions.get(partitionKey(o.p.topic, o.p.partition));
          if (cached) { cached.sentHighWatermark = o.highWatermark; cached.sentLogStartOffset = o.logStartOffset; }
        }
      }
      if (broker.metrics) for (const o of shown) if (o.records) broker.metrics.fetched(o.p.topic, o.records.length);
      return buildResponse(version, sessionId, shown, req.isolationLevel);
    };

    return (async () => {
      const first = await readAll(broker, wanted, requestMaxBytes, req.isolationLevel);
      const hasError = first.outcomes.some((o) => o.errorCode !== ErrorCode.NONE);
      if (first.bytes >= req.minBytes || req.maxWaitMs <= 0 || hasError || wanted.length === 0) return respond(first.outcomes);

      // Long poll: re-read whenever a fetched partition gets an append, until minBytes or maxWaitMs.
      const keys = wanted.map((w) => partitionKey(w.topic, w.partition));
      let result = first;
      await new Promise<void>((done) => {
        let reading = false;
        let again = false;
        let finished = false;
        const finish = () => { if (!finished) { finished = true; cancel(); broker.clock.clearTimeout(timer); done(); } };
        const timer = broker.clock.setTimeout(finish, req.maxWaitMs);
        const onAppend = () => {
          if (finished) return;
          if (reading) { again = true; return; }
          reading = true;
          readAll(broker, wanted, requestMaxBytes, req.isolationLevel).then((r) => {
            reading = false;
            result = r;
            if (r.bytes >= req.minBytes || r.outcomes.some((o) => o.errorCode !== ErrorCode.NONE)) finish();
            else if (again) { again = false; onAppend(); }
          }, () => { reading = false; finish(); });
        };
        const cancel = broker.appends.subscribe(keys, onAppend);
      });
      // A final read at the deadline so the response reflects the latest state.
      if (result === first) result = await readAll(broker, wanted, requestMaxBytes, req.isolationLevel);
      return respond(result.outcomes);
    })();
  },
});
