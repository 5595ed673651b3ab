// A classic-protocol consumer group member (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with the range
// assignor when it leads, as the Java consumer's "range" strategy: per topic, partitions in order split into
// contiguous runs over the members (sorted by member id), the first ones one longer.
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../protocol/generated/consumer-protocol-assignment.ts';
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { API, check, type Client, KafkaError } from './client.ts';

const SUBSCRIPTION_VERSION = 0;
const ASSIGNMENT_VERSION = 0;

function versioned(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  encode(w);
  return w.finishBuffer();
}

export function encodeSubscription(topics: string[]): Buffer {
  return versioned(SUBSCRIPTION_VERSION, (w) => encodeConsumerProtocolSubscription(w, SUBSCRIPTION_VERSION, { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null }));
}

export function decodeSubscription(b: Buffer): string[] {
  const r = new Reader(b);
  const v = r.int16();
  return decodeConsumerProtocolSubscription(r, Math.min(v, 3)).topics;
}

export function encodeAssignment(parts: Map<string, number[]>): Buffer {
  return versioned(ASSIGNMENT_VERSION, (w) => encodeConsumerProtocolAssignment(w, ASSIGNMENT_VERSION, {
    assignedPartitions: [...parts].map(([topic, partitions]) => ({ topic, partitions })), userData: null,
  }));
}

export function decodeAssignment(b: Buffer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (b.length === 0) return out;
  const r = new Reader(b);
  const v = r.int16();
  for (const tp of decodeConsumerProtocolAssignment(r, Math.min(v, 3)).assignedPartitions) out.set(tp.topic, tp.partitions);
  return out;
}

/** The range assignor: member id → topic → partitions. */
export function rangeAssign(members: Array<{ memberId: string; topics: string[] }>, partitionCounts: Map<string, number>): Map<string, Map<string, number[]>> {
  const out = new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
  for (const [topic, count] of partitionCounts) {
    const subs = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId).sort();
    if (subs.length === 0) continue;
    const per = Math.floor(count / subs.length);
    const extra = count % subs.length;
    subs.forEach((id, i) => {
      const start = per * i + Math.min(i, extra);
      const n = per + (i < extra ? 1 : 0);
      if (n > 0) out.get(id)!.set(topic, Array.from({ length: n }, (_, k) => start + k));
    });
  }
  return out;
}

export class GroupMember {
  readonly client: Client;
  readonly groupId: string;
  readonly topics: string[];
  memberId = '';
  generation = -1;
  assignment = new Map<string, number[]>();
  /** Set by a heartbeat that saw a rebalance: the owner rejoins (after committing). */
  rejoinNeeded = false;
  #timer: NodeJS.Timeout | undefined;
  #sessionTimeoutMs = 45000;

  constructor(client: Client, groupId: string, topics: string[]) {
    this.client = client;
    this.groupId = groupId;
    this.topics = topics;
  }

  /** Joins (or rejoins) and syncs; resolves with this member's assignment. */
  async join(): Promise<Map<string, number[]>> {
    this.#stopHeartbeats();
    this.rejoinNeeded = false;
    const res = await this.client.retry(`JoinGroup ${this.groupId}`, async () => {
      const c = await this.client.coordinator(this.groupId);
      const body = () => ({
        groupId: this.groupId, sessionTimeoutMs: this.#sessionTimeoutMs, rebalanceTimeoutMs: 60000, memberId: this.memberId, groupInstanceId: null,
        protocolType: 'consumer', protocols: [{ name: 'range', metadata: encodeSubscription(this.topics) }], reason: null,
      });
      let r = await c.request(API.JoinGroup, body());
      if (r.errorCode === 79) { // MEMBER_ID_REQUIRED: join again with the id the coordinator gave
        this.memberId = r.memberId;
        r = await c.request(API.JoinGroup, body());
      }
      if (r.errorCode === 25) this.memberId = ''; // UNKNOWN_MEMBER_ID: start over
      check(r.errorCode, `JoinGroup ${this.groupId}`);
      return r;
    });
    this.memberId = res.memberId;
    this.generation = res.generationId;
    let assignments: Array<{ memberId: string; assignment: Buffer }> = [];
    if (res.leader === res.memberId && !res.skipAssignment) {
      const members = (res.members as Array<{ memberId: string; metadata: Buffer }>).map((m) => ({ memberId: m.memberId, topics: decodeSubscription(m.metadata) }));
      const wanted = [...new Set(members.flatMap((m) => m.topics))];
      const { topics } = await this.client.metadata(wanted);
      const counts = new Map(topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]));
      assignments = [...rangeAssign(members, counts)].map(([memberId, parts]) => ({ memberId, assignment: encodeAssignment(parts) }));
    }
    const sync = await this.client.retry(`SyncGroup ${this.groupId}`, async () => {
      const c = await this.client.coordinator(this.groupId);
      const r = await c.request(API.SyncGroup, { groupId: this.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments });
      check(r.errorCode, `SyncGroup ${this.groupId}`);
      return r;
    }).catch((e) => {
      // A rebalance started between join and sync: join again.
      if (e instanceof KafkaError && (e.code === 27 || e.code === 22 || e.code === 25)) return null;
      throw e;
    });
    if (sync === null) return this.join();
    this.assignment = decodeAssignment(sync.assignment);
    this.#startHeartbeats();
    return this.assignment;
  }

  #startHeartbeats(): void {
    const beat = async () => {
      try {
        const c = await this.client.coordinator(this.groupId);
        const r = await c.request(API.Heartbeat, { groupId: this.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null });
        if (r.errorCode === 27 || r.errorCode === 22 || r.errorCode === 25) this.rejoinNeeded = true;
        if (r.errorCode === 25) this.memberId = '';
      } catch {
        // The next beat (or the fetch loop) finds out whether the coordinator is gone for good.
      }
      if (this.#timer) this.#timer = setTimeout(beat, 3000);
    };
    this.#timer = setTimeout(beat, 3000);
  }

  #stopHeartbeats(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async leave(): Promise<void> {
    this.#stopHeartbeats();
    if (!this.memberId) return;
    try {
      const c = await this.client.coordinator(this.groupId);
      const batched = c.version(API.LeaveGroup) >= 3;
      await c.request(API.LeaveGroup, batched
        ? { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'gregor consume exiting' }] }
        : { groupId: this.groupId, memberId: this.memberId });
    } catch {
      // The session timeout removes the member anyway.
    }
  }
}
