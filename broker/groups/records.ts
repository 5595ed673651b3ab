// The records the group coordinator keeps in `__consumer_offsets`, in Kafka's formats so Kafka's tooling
// (kafka-console-consumer with the offsets formatters, kafka-dump-log --offsets-decoder) can read them.
// Every key and value is int16 version + body. Keys: OffsetCommitKey (version 1 = record type 1) and
// GroupMetadataKey (version 2 = record type 2). Values: OffsetCommitValue v3 (v1 when the commit carries
// an expire timestamp, as Kafka writes it) and GroupMetadataValue v3; v0-4 of both are read.
// A null value is a tombstone (the offset or group was deleted).
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode over UTF-16 code units (int32 arithmetic). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's partitionFor(groupId): Utils.abs(groupId.hashCode) % n (Utils.abs maps MIN_VALUE to 0). */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

export interface OffsetCommitKey { type: 'offset'; group: string; topic: string; partition: number }
export interface GroupMetadataKey { type: 'group'; group: string }

/** An Int64 as a number when exact (|v| ≤ 2^53 − 1), else as the bigint: committed offsets are any long. */
export const exactInt64 = (v: bigint): number | bigint => (v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn ? Number(v) : v);

export interface OffsetCommitValue {
  /** Any Int64 the client committed, exactly (exactInt64). */
  offset: number | bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** −1 = none (the retention comes from offsets.retention.minutes). */
  expireTimestamp: number;
}

export interface GroupMemberMetadata {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: GroupMemberMetadata[];
}

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(64);
  w.int16(1);
  w.string(group);
  w.string(topic);
  w.int32(partition);
  return w.finishBuffer();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new Writer(32);
  w.int16(2);
  w.string(group);
  return w.finishBuffer();
}

/** Decodes a key; null for record types this coordinator does not keep (share, streams records). */
export function decodeKey(buf: Buffer): OffsetCommitKey | GroupMetadataKey | ConsumerGroupKey | null {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return { type: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  }
  if (version === 2) return { type: 'group', group: r.string() };
  const cg = CONSUMER_KEY_TYPES[version];
  if (cg) {
    const group = r.string();
    return 'member' in cg ? { type: cg.type, group, member: r.string() } as ConsumerGroupKey : { type: cg.type, group } as ConsumerGroupKey;
  }
  return null;
}

// ---- KIP-848 consumer group records (Kafka's group-coordinator ConsumerGroup*Key/Value, keys 3-8) ----
// Keys are non-flexible (int16 record type + strings); values are int16 version 0 + flexible bodies
// (compact strings/arrays, tagged-field sections, none written). Unknown tagged fields are skipped.

export type ConsumerGroupKey =
  | { type: 'cg-metadata'; group: string }
  | { type: 'cg-partition-metadata'; group: string }
  | { type: 'cg-member'; group: string; member: string }
  | { type: 'cg-target-metadata'; group: string }
  | { type: 'cg-target-member'; group: string; member: string }
  | { type: 'cg-current-assignment'; group: string; member: string };

const CONSUMER_KEY_TYPES: Record<number, { type: ConsumerGroupKey['type']; member?: true }> = {
  3: { type: 'cg-metadata' },
  4: { type: 'cg-partition-metadata' },
  5: { type: 'cg-member', member: true },
  6: { type: 'cg-target-metadata' },
  7: { type: 'cg-target-member', member: true },
  8: { type: 'cg-current-assignment', member: true },
};
const CONSUMER_KEY_VERSION: Record<ConsumerGroupKey['type'], number> = {
  'cg-metadata': 3, 'cg-partition-metadata': 4, 'cg-member': 5, 'cg-target-metadata': 6, 'cg-target-member': 7, 'cg-current-assignment': 8,
};

export function encodeConsumerGroupKey(k: ConsumerGroupKey): Buffer {
  const w = new Writer(64);
  w.int16(CONSUMER_KEY_VERSION[k.type]);
  w.string(k.group);
  if ('member' in k) w.string(k.member);
  return w.finishBuffer();
}

export interface TopicPartitionsRecord { topicId: string; partitions: number[] }

export interface ConsumerGroupMemberValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
  /** Tagged field 0: set for a member that uses the classic protocol inside a consumer group. */
  classic?: ClassicMemberMetadata | null;
}

export interface ClassicMemberMetadata {
  sessionTimeoutMs: number;
  protocols: Array<{ name: string; metadata: Buffer }>;
}

export interface ConsumerGroupCurrentAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  /** Kafka's MemberState: 0 STABLE, 1 UNREVOKED_PARTITIONS, 2 UNRELEASED_PARTITIONS, 127 UNKNOWN. */
  state: number;
  assigned: TopicPartitionsRecord[];
  pendingRevocation: TopicPartitionsRecord[];
}

export interface ConsumerGroupTopicMetadata { topicId: string; topicName: string; numPartitions: number }

function valueWriter(): Writer {
  const w = new Writer(128);
  w.int16(0);
  return w;
}

function writeTopicPartitions(w: Writer, list: TopicPartitionsRecord[]): void {
  w.compactArrayLength(list.length);
  for (const tp of list) {
    w.uuid(tp.topicId);
    w.compactArrayLength(tp.partitions.length);
    for (const p of tp.partitions) w.int32(p);
    w.uvarint(0);
  }
}

function readTopicPartitions(r: Reader): TopicPartitionsRecord[] {
  const n = r.compactArrayLength();
  const out: TopicPartitionsRecord[] = [];
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const m = r.compactArrayLength();
    const partitions: number[] = [];
    for (let j = 0; j < m; j++) partitions.push(r.int32());
    skipTaggedFields(r);
    out.push({ topicId, partitions });
  }
  return out;
}

function valueReader(buf: Buffer, what: string): Reader {
  const r = new Reader(buf);
  const version = r.int16();
  if (version !== 0) throw new Error(`unknown ${what} version ${version}`);
  return r;
}

/** ConsumerGroupMetadataValue and ConsumerGroupTargetAssignmentMetadataValue: one int32 epoch. */
export function encodeEpochValue(epoch: number): Buffer {
  const w = valueWriter();
  w.int32(epoch);
  w.uvarint(0);
  return w.finishBuffer();
}

export function decodeEpochValue(buf: Buffer): number {
  const r = valueReader(buf, 'epoch value');
  const epoch = r.int32();
  skipTaggedFields(r);
  return epoch;
}

export function encodePartitionMetadataValue(topics: ConsumerGroupTopicMetadata[]): Buffer {
  const w = valueWriter();
  w.compactArrayLength(topics.length);
  for (const t of topics) {
    w.uuid(t.topicId);
    w.compactString(t.topicName);
    w.int32(t.numPartitions);
    w.compactArrayLength(0); // PartitionMetadata (racks): no rack-aware assignment
    w.uvarint(0);
  }
  w.uvarint(0);
  return w.finishBuffer();
}

export function decodePartitionMetadataValue(buf: Buffer): ConsumerGroupTopicMetadata[] {
  const r = valueReader(buf, 'ConsumerGroupPartitionMetadataValue');
  const n = r.compactArrayLength();
  const out: ConsumerGroupTopicMetadata[] = [];
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const topicName = r.compactString();
    const numPartitions = r.int32();
    const pm = r.compactArrayLength();
    for (let j = 0; j < pm; j++) {
      r.int32();
      const racks = r.compactArrayLength();
      for (let k = 0; k < racks; k++) r.compactString();
      skipTaggedFields(r);
    }
    skipTaggedFields(r);
    out.push({ topicId, topicName, numPartitions });
  }
  skipTaggedFields(r);
  return out;
}

export function encodeMemberValue(m: ConsumerGroupMemberValue): Buffer {
  const w = valueWriter();
  w.compactNullableString(m.instanceId);
  w.compactNullableString(m.rackId);
  w.compactString(m.clientId);
  w.compactString(m.clientHost);
  w.compactArrayLength(m.subscribedTopicNames.length);
  for (const n of m.subscribedTopicNames) w.compactString(n);
  w.compactNullableString(m.subscribedTopicRegex);
  w.int32(m.rebalanceTimeoutMs);
  w.compactNullableString(m.serverAssignor);
  if (m.classic) {
    // Tagged field 0, a nullable struct: presence byte, then its fields and (empty) tagged fields.
    const t = new Writer(64);
    t.int8(1);
    t.int32(m.classic.sessionTimeoutMs);
    t.compactArrayLength(m.classic.protocols.length);
    for (const p of m.classic.protocols) {
      t.compactString(p.name);
      t.compactBytes(p.metadata);
      t.uvarint(0);
    }
    t.uvarint(0);
    w.uvarint(1);
    w.rawTaggedField(0, t.finishBuffer());
  } else {
    w.uvarint(0);
  }
  return w.finishBuffer();
}

export function decodeMemberValue(buf: Buffer): ConsumerGroupMemberValue {
  const r = valueReader(buf, 'ConsumerGroupMemberMetadataValue');
  const instanceId = r.compactNullableString();
  const rackId = r.compactNullableString();
  const clientId = r.compactString();
  const clientHost = r.compactString();
  const n = r.compactArrayLength();
  const subscribedTopicNames: string[] = [];
  for (let i = 0; i < n; i++) subscribedTopicNames.push(r.compactString());
  const subscribedTopicRegex = r.compactNullableString();
  const rebalanceTimeoutMs = r.int32();
  const serverAssignor = r.compactNullableString();
  let classic: ClassicMemberMetadata | null = null;
  const tags = r.uvarint();
  for (let i = 0; i < tags; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    if (tag !== 0) {
      r.skip(size);
      continue;
    }
    const t = r.sub(size);
    if (t.int8() < 0) continue;
    const sessionTimeoutMs = t.int32();
    const np = t.compactArrayLength();
    const protocols: ClassicMemberMetadata['protocols'] = [];
    for (let j = 0; j < np; j++) {
      const name = t.compactString();
      const metadata = t.compactBytes();
      skipTaggedFields(t);
      protocols.push({ name, metadata });
    }
    classic = { sessionTimeoutMs, protocols };
  }
  return { instanceId, rackId, clientId, clientHost, subscribedTopicNames, subscribedTopicRegex, rebalanceTimeoutMs, serverAssignor, ...(classic ? { classic } : {}) };
}

export function encodeTargetMemberValue(list: TopicPartitionsRecord[]): Buffer {
  const w = valueWriter();
  writeTopicPartitions(w, list);
  w.uvarint(0);
  return w.finishBuffer();
}

export function decodeTargetMemberValue(buf: Buffer): TopicPartitionsRecord[] {
  const r = valueReader(buf, 'ConsumerGroupTargetAssignmentMemberValue');
  const list = readTopicPartitions(r);
  skipTaggedFields(r);
  return list;
}

export function encodeCurrentAssignmentValue(v: ConsumerGroupCurrentAssignmentValue): Buffer {
  const w = valueWriter();
  w.int32(v.memberEpoch);
  w.int32(v.previousMemberEpoch);
  w.int8(v.state);
  writeTopicPartitions(w, v.assigned);
  writeTopicPartitions(w, v.pendingRevocation);
  w.uvarint(0);
  return w.finishBuffer();
}

export function decodeCurrentAssignmentValue(buf: Buffer): ConsumerGroupCurrentAssignmentValue {
  const r = valueReader(buf, 'ConsumerGroupCurrentMemberAssignmentValue');
  const memberEpoch = r.int32();
  const previousMemberEpoch = r.int32();
  const state = r.int8();
  const assigned = readTopicPartitions(r);
  const pendingRevocation = readTopicPartitions(r);
  skipTaggedFields(r);
  return { memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation };
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  const version = v.expireTimestamp >= 0 ? 1 : 3;
  const w = new Writer(64 + v.metadata.length * 3);
  w.int16(version);
  w.int64(BigInt(v.offset));
  if (version >= 3) w.int32(v.leaderEpoch);
  w.string(v.metadata);
  w.int64(BigInt(v.commitTimestamp));
  if (version === 1) w.int64(BigInt(v.expireTimestamp));
  return w.finishBuffer();
}

function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 4) throw new Error(`unknown OffsetCommitValue version ${version}`);
  const flex = version >= 4;
  const offset = exactInt64(r.int64());
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = flex ? r.compactString() : r.string();
  const commitTimestamp = Number(r.int64());
  const expireTimestamp = version === 1 ? Number(r.int64()) : -1;
  if (flex) skipTaggedFields(r);
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new Writer(256);
  w.int16(3);
  w.string(v.protocolType);
  w.int32(v.generation);
  w.nullableString(v.protocol);
  w.nullableString(v.leader);
  w.int64(BigInt(v.currentStateTimestamp));
  w.arrayLength(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId);
    w.nullableString(m.groupInstanceId);
    w.string(m.clientId);
    w.string(m.clientHost);
    w.int32(m.rebalanceTimeout);
    w.int32(m.sessionTimeout);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return w.finishBuffer();
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 4) throw new Error(`unknown GroupMetadataValue version ${version}`);
  const flex = version >= 4;
  const str = () => (flex ? r.compactString() : r.string());
  const nstr = () => (flex ? r.compactNullableString() : r.nullableString());
  const bytes = () => Buffer.from(flex ? r.compactBytes() : r.bytes());
  const protocolType = str();
  const generation = r.int32();
  const protocol = nstr();
  const leader = nstr();
  const currentStateTimestamp = version >= 2 ? Number(r.int64()) : -1;
  const n = flex ? r.compactArrayLength() : r.arrayLength();
  const members: GroupMemberMetadata[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nstr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = bytes();
    const assignment = bytes();
    if (flex) skipTaggedFields(r);
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout: rebalanceTimeout < 0 ? sessionTimeout : rebalanceTimeout, sessionTimeout, subscription, assignment });
  }
  if (flex) skipTaggedFields(r);
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}
