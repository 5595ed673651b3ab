// Offsets shared by consume and groups: ListOffsets (earliest, latest, by timestamp) routed to partition
// leaders, and a group's committed offsets (OffsetFetch / OffsetCommit at its coordinator).
import { API, check, type Client, KafkaError, type TopicInfo, ZERO_UUID } from './client.ts';

export const EARLIEST = -2n;
export const LATEST = -1n;

/** topic → partition → offset. */
export type Offsets = Map<string, Map<number, bigint>>;

export function setOffset(m: Offsets, topic: string, partition: number, offset: bigint): void {
  let t = m.get(topic);
  if (!t) m.set(topic, (t = new Map()));
  t.set(partition, offset);
}

/**
 * ListOffsets for every partition of these topics at `timestamp` (EARLIEST, LATEST or ms); a timestamp past
 * the last record answers -1, which becomes the log end offset here (where a consumer would start).
 */
export async function listOffsets(client: Client, topics: TopicInfo[], timestamp: bigint, only?: Map<string, number[]>): Promise<Offsets> {
  const out: Offsets = new Map();
  await client.retry('ListOffsets', async () => {
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const t of topics) {
      for (const p of t.partitions) {
        if (only && !(only.get(t.name) ?? []).includes(p.partition)) continue;
        if (out.get(t.name)?.has(p.partition)) continue;
        if (p.leader < 0) throw new KafkaError(5, `${t.name}-${p.partition}`);
        let l = byLeader.get(p.leader);
        if (!l) byLeader.set(p.leader, (l = new Map()));
        l.set(t.name, [...(l.get(t.name) ?? []), p.partition]);
      }
    }
    const ends: Array<[string, number]> = [];
    await Promise.all([...byLeader].map(async ([leader, parts]) => {
      const c = await client.broker(leader);
      const res = await c.request(API.ListOffsets, {
        replicaId: -1, isolationLevel: 0, timeoutMs: client.opts.requestTimeoutMs,
        topics: [...parts].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp })) })),
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          check(p.errorCode, `ListOffsets ${t.name}-${p.partitionIndex}`);
          if (p.offset < 0n) ends.push([t.name, p.partitionIndex]);
          else setOffset(out, t.name, p.partitionIndex, p.offset);
        }
      }
    }));
    if (ends.length) {
      const latest = await listOffsets(client, topics, LATEST, new Map(ends.reduce((m, [t, p]) => m.set(t, [...(m.get(t) ?? []), p]), new Map<string, number[]>())));
      for (const [t, ps] of latest) for (const [p, o] of ps) setOffset(out, t, p, o);
    }
  });
  return out;
}

/** The group's committed offsets (null topics: all), -1 entries left out. */
export async function fetchCommitted(client: Client, groupId: string, topics: Map<string, number[]> | null = null): Promise<Offsets> {
  return client.retry(`OffsetFetch ${groupId}`, async () => {
    const c = await client.coordinator(groupId);
    const v = c.version(API.OffsetFetch);
    const req = topics === null ? null : [...topics].map(([name, partitionIndexes]) => ({ name, topicId: ZERO_UUID, partitionIndexes }));
    const res = await c.request(API.OffsetFetch, v >= 8
      ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: req }], requireStable: true }
      : { groupId, topics: req, requireStable: v >= 7 });
    const g = v >= 8 ? res.groups[0] : res;
    check(g.errorCode, `OffsetFetch ${groupId}`);
    const out: Offsets = new Map();
    for (const t of g.topics) {
      for (const p of t.partitions) {
        check(p.errorCode, `OffsetFetch ${groupId} ${t.name}-${p.partitionIndex}`);
        if (p.committedOffset >= 0n) setOffset(out, t.name, p.partitionIndex, p.committedOffset);
      }
    }
    return out;
  });
}

/** OffsetCommit; generation -1 and member "" commit for a group with no members (a "simple" commit). */
export async function commitOffsets(client: Client, groupId: string, offsets: Offsets, generation = -1, memberId = ''): Promise<void> {
  if (offsets.size === 0) return;
  await client.retry(`OffsetCommit ${groupId}`, async () => {
    const c = await client.coordinator(groupId);
    const res = await c.request(API.OffsetCommit, {
      groupId, generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null, retentionTimeMs: -1n,
      topics: [...offsets].map(([name, ps]) => ({ name, topicId: ZERO_UUID, partitions: [...ps].map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: '' })) })),
    });
    for (const t of res.topics) for (const p of t.partitions) check(p.errorCode, `OffsetCommit ${groupId} ${t.name}-${p.partitionIndex}`);
  });
}
