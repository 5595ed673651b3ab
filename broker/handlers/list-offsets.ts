// ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3, v7+), earliest local (-4, v8+),
// latest tiered (-5, v9+), earliest pending upload (-6, v11+), and by timestamp (exact record offsets).
// No tiered storage: -4 equals -2; -5 and -6 answer offset -1. Isolation (v2+): read_committed sees the
// last stable offset — latest answers it, and a timestamp lookup only finds offsets below it (Kafka's
// lastFetchableOffset).
import {
  ListOffsetsApi,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type ListOffsetsPartitionResponse,
  makeListOffsetsResponse,
  makeListOffsetsPartitionResponse,
  makeListOffsetsTopicResponse,
} from '../../protocol/generated/list-offsets.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { partitionKey } from '../append-notifier.ts';
import { defineHandler } from '../handler.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { maxTimestampRecord, offsetForTimestamp } from '../record-lookup.ts';

const LATEST = -1, EARLIEST = -2, MAX_TIMESTAMP = -3, EARLIEST_LOCAL = -4, LATEST_TIERED = -5, EARLIEST_PENDING_UPLOAD = -6;
/** The first version that knows each special timestamp. */
const SPECIAL_SINCE: Record<number, number> = { [LATEST]: 0, [EARLIEST]: 0, [MAX_TIMESTAMP]: 7, [EARLIEST_LOCAL]: 8, [LATEST_TIERED]: 9, [EARLIEST_PENDING_UPLOAD]: 11 };

export const handler = defineHandler<ListOffsetsRequest, ListOffsetsResponse>({
  api: ListOffsetsApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const seen = new Map<string, number>();
    for (const t of req.topics) for (const p of t.partitions) {
      const k = partitionKey(t.name, p.partitionIndex);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const pending: Promise<void>[] = [];
    const topics = req.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      // KafkaApis.handleListOffsetRequest: DESCRIBE on the topic, checked before its existence.
      const denied = broker.authorizer !== null && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name);
      const partitions = t.partitions.map((p) => {
        const out = makeListOffsetsPartitionResponse({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: -1n, leaderEpoch: -1 });
        const fail = (code: number) => { out.errorCode = code; return out; };
        if (denied) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        if (seen.get(partitionKey(t.name, p.partitionIndex))! > 1) return fail(ErrorCode.INVALID_REQUEST);
        if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        const partition = broker.partitions.getOrError(topic.name, p.partitionIndex);
        if (typeof partition === 'number') return fail(partition);
        if (version >= 4) {
          const epochError = partition.checkLeaderEpoch(p.currentLeaderEpoch);
          if (epochError !== ErrorCode.NONE) return fail(epochError);
        }
        const log = partition.log;
        const ts = Number(p.timestamp);
        const set = (offset: number, timestamp: number, epoch = partition.leaderEpoch) => {
          out.offset = BigInt(offset);
          out.timestamp = BigInt(timestamp);
          out.leaderEpoch = version >= 4 ? epoch : -1;
        };
        const lastFetchable = version >= 2 && req.isolationLevel === 1
          ? partition.lastStableOffset : partition.highWatermark;
        if (ts < 0) {
          const since = SPECIAL_SINCE[ts];
          if (since === undefined || version < since) return fail(ErrorCode.UNSUPPORTED_VERSION);
          if (ts === LATEST) set(lastFetchable, -1);
          else if (ts === EARLIEST || ts === EARLIEST_LOCAL) set(log.logStartOffset, -1);
          else if (ts === LATEST_TIERED || ts === EARLIEST_PENDING_UPLOAD) set(-1, -1, -1);
          else {
            pending.push(maxTimestampRecord(log).then((r) => { if (r) set(r.offset, r.timestamp); }));
          }
          return out;
        }
        pending.push(offsetForTimestamp(log, ts).then((r) => { if (r && r.offset < lastFetchable) set(r.offset, r.timestamp); }));
        return out;
      });
      return makeListOffsetsTopicResponse({ name: t.name, partitions: partitions as ListOffsetsPartitionResponse[] });
    });
    const response = () => makeListOffsetsResponse({ throttleTimeMs: 0, topics });
    return pending.length === 0 ? response() : Promise.all(pending).then(response);
  },
});
