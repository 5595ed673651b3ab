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

export interface OffsetCommitValue {
  offset: number;
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

/** Decodes a key; null for record types this coordinator does not keep (KIP-848, share, streams records). */
export function decodeKey(buf: Buffer): OffsetCommitKey | GroupMetadataKey | null {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return { type: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  }
  if (version === 2) return { type: 'group', group: r.string() };
  return null;
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
  const offset = Number(r.int64());
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
