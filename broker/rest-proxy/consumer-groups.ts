// REST Proxy v3 consumer groups: list, one group with its consumers, per-partition lags and the lag summary —
// from ListGroups, DescribeGroups, OffsetFetch and ListOffsets, in process. Lag = log end offset − committed
// offset (as Confluent's proxy and kafka-consumer-groups.sh report it).
import { decodeConsumerProtocolAssignment } from '../../protocol/generated/consumer-protocol-assignment.ts';
import { makeDescribeGroupsRequest, type DescribeGroupsResponse, type DescribedGroup } from '../../protocol/generated/describe-groups.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeListGroupsRequest, type ListGroupsResponse } from '../../protocol/generated/list-groups.ts';
import { makeListOffsetsRequest, type ListOffsetsResponse } from '../../protocol/generated/list-offsets.ts';
import { makeOffsetFetchRequest, type OffsetFetchResponse } from '../../protocol/generated/offset-fetch.ts';
import { Reader } from '../../protocol/reader.ts';
import type { InProcessCall } from '../http/in-process.ts';
import type { HttpRequest, HttpResponse } from '../http/server.ts';

const LIST_OFFSETS = 2, OFFSET_FETCH = 9, DESCRIBE_GROUPS = 15, LIST_GROUPS = 16;
const LATEST = -1n;

export interface GroupRouteKit {
  add(method: 'GET', path: string, fn: (req: HttpRequest) => Promise<HttpResponse>): void;
  cluster(req: HttpRequest): void;
  base(req: HttpRequest): string;
  json(body: unknown, status?: number): HttpResponse;
  notFound(message: string): Error;
  clusterId: string;
  nodeId: number;
}

interface Owner { consumerId: string; instanceId: string | null; clientId: string }

/** partition "topic/p" → the member the group's last assignment gave it to (classic groups). */
function owners(g: DescribedGroup): Map<string, Owner> {
  const out = new Map<string, Owner>();
  for (const m of g.members) {
    if (!m.memberAssignment?.length) continue;
    try {
      const r = new Reader(m.memberAssignment);
      const v = r.int16();
      const a = decodeConsumerProtocolAssignment(r, Math.max(0, Math.min(3, v)));
      for (const tp of a.assignedPartitions) for (const p of tp.partitions) out.set(`${tp.topic}/${p}`, { consumerId: m.memberId, instanceId: m.groupInstanceId, clientId: m.clientId });
    } catch { /* not the consumer protocol's assignment */ }
  }
  return out;
}

export function addConsumerGroupRoutes(call: InProcessCall, k: GroupRouteKit): void {
  const describe = async (groupId: string): Promise<DescribedGroup | null> => {
    const res = await call<DescribeGroupsResponse>(DESCRIBE_GROUPS, 5, makeDescribeGroupsRequest({ groups: [groupId], includeAuthorizedOperations: false }));
    const g = res.groups[0];
    return g && g.errorCode === ErrorCode.NONE && g.groupState !== 'Dead' ? g : null;
  };
  const listed = async () => (await call<ListGroupsResponse>(LIST_GROUPS, 5, makeListGroupsRequest({ statesFilter: [], typesFilter: [] }))).groups;
  const groupJson = (req: HttpRequest, id: string, state: string, assignor: string, simple: boolean) => {
    const self = `${k.base(req)}/consumer-groups/${id}`;
    return {
      kind: 'KafkaConsumerGroup', metadata: { self, resource_name: `crn:///kafka=${k.clusterId}/consumer-group=${id}` },
      cluster_id: k.clusterId, consumer_group_id: id, is_simple: simple, partition_assignor: assignor, state: state.toUpperCase(),
      coordinator: { related: `${k.base(req)}/brokers/${k.nodeId}` }, consumers: { related: `${self}/consumers` }, lag_summary: { related: `${self}/lag-summary` },
    };
  };
  /** Every committed partition of the group with its lag; null when the group is unknown. */
  const lags = async (groupId: string) => {
    const known = (await listed()).some((g) => g.groupId === groupId);
    if (!known) return null;
    const fetched = await call<OffsetFetchResponse>(OFFSET_FETCH, 8, makeOffsetFetchRequest({
      groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }], requireStable: false,
    }));
    const committed = (fetched.groups[0]?.topics ?? []).flatMap((t) => t.partitions.filter((p) => p.errorCode === ErrorCode.NONE && p.committedOffset >= 0n)
      .map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) })));
    const byTopic = new Map<string, number[]>();
    for (const c of committed) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c.partition]);
    const ends = await call<ListOffsetsResponse>(LIST_OFFSETS, 7, makeListOffsetsRequest({
      replicaId: -1, isolationLevel: 0, timeoutMs: 30_000,
      topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: LATEST })) })),
    }));
    const end = new Map<string, number>();
    for (const t of ends.topics) for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) end.set(`${t.name}/${p.partitionIndex}`, Number(p.offset));
    const g = await describe(groupId);
    const own = g ? owners(g) : new Map<string, Owner>();
    return committed.filter((c) => end.has(`${c.topic}/${c.partition}`)).map((c) => {
      const logEnd = end.get(`${c.topic}/${c.partition}`)!;
      const o = own.get(`${c.topic}/${c.partition}`);
      return { ...c, logEnd, lag: Math.max(0, logEnd - c.offset), consumerId: o?.consumerId ?? '', instanceId: o?.instanceId ?? null, clientId: o?.clientId ?? '' };
    }).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  };

  k.add('GET', '/v3/clusters/{cluster}/consumer-groups', async (req) => {
    k.cluster(req);
    const groups = (await listed()).filter((g) => g.protocolType === 'consumer' || g.protocolType === '').sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
    const data = [];
    for (const g of groups) {
      const d = await describe(g.groupId);
      data.push(groupJson(req, g.groupId, g.groupState, d?.protocolData ?? '', (d?.members.length ?? 0) === 0 && g.protocolType === ''));
    }
    return k.json({ kind: 'KafkaConsumerGroupList', metadata: { self: `${k.base(req)}/consumer-groups`, next: null }, data });
  });
  k.add('GET', '/v3/clusters/{cluster}/consumer-groups/{group}', async (req) => {
    k.cluster(req);
    const id = req.params.group!;
    const g = (await listed()).find((x) => x.groupId === id);
    if (!g) throw k.notFound(`Consumer group ${id} could not be found.`);
    const d = await describe(id);
    return k.json(groupJson(req, id, g.groupState, d?.protocolData ?? '', (d?.members.length ?? 0) === 0 && g.protocolType === ''));
  });
  k.add('GET', '/v3/clusters/{cluster}/consumer-groups/{group}/lags', async (req) => {
    k.cluster(req);
    const id = req.params.group!;
    const all = await lags(id);
    if (!all) throw k.notFound(`Consumer group ${id} could not be found.`);
    const self = `${k.base(req)}/consumer-groups/${id}/lags`;
    return k.json({
      kind: 'KafkaConsumerLagList', metadata: { self, next: null },
      data: all.map((l) => ({
        kind: 'KafkaConsumerLag', metadata: { self: `${self}/${l.topic}/partitions/${l.partition}`, resource_name: `crn:///kafka=${k.clusterId}/consumer-group=${id}/lag=${l.topic}/partition=${l.partition}` },
        cluster_id: k.clusterId, consumer_group_id: id, topic_name: l.topic, partition_id: l.partition,
        current_offset: l.offset, log_end_offset: l.logEnd, lag: l.lag, consumer_id: l.consumerId, instance_id: l.instanceId, client_id: l.clientId,
      })),
    });
  });
  k.add('GET', '/v3/clusters/{cluster}/consumer-groups/{group}/lag-summary', async (req) => {
    k.cluster(req);
    const id = req.params.group!;
    const all = await lags(id);
    if (!all) throw k.notFound(`Consumer group ${id} could not be found.`);
    const max = all.reduce<(typeof all)[number] | null>((m, l) => (!m || l.lag > m.lag ? l : m), null);
    const self = `${k.base(req)}/consumer-groups/${id}`;
    return k.json({
      kind: 'KafkaConsumerGroupLagSummary', metadata: { self: `${self}/lag-summary`, resource_name: `crn:///kafka=${k.clusterId}/consumer-group=${id}/lag-summary` },
      cluster_id: k.clusterId, consumer_group_id: id,
      max_lag_consumer_id: max?.consumerId ?? '', max_lag_instance_id: max?.instanceId ?? null, max_lag_client_id: max?.clientId ?? '',
      max_lag_topic_name: max?.topic ?? '', max_lag_partition_id: max?.partition ?? 0, max_lag: max?.lag ?? 0,
      total_lag: all.reduce((s, l) => s + l.lag, 0),
      max_lag_consumer: { related: `${self}/consumers/${max?.consumerId ?? ''}` },
      max_lag_partition: { related: `${k.base(req)}/topics/${max?.topic ?? ''}/partitions/${max?.partition ?? 0}` },
    });
  });
}
