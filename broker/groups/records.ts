// The records the group coordinator keeps in `__consumer_offsets`, in Kafka's formats so Kafka's tooling
// (kafka-console-consumer with the offsets formatters, kafka-dump-log --offsets-decoder) can read them.
// The codecs are generated from Kafka's group-coordinator JSON (protocol/generated/coordinator/); this
// module maps them to the coordinator's shapes and picks the versions gregor writes. Every key is int16
// record type + body, every value int16 version + body. Keys: OffsetCommitKey (type 1; type 0, the legacy
// key, is read too), GroupMetadataKey (2), the KIP-848 consumer group keys (3-8). Values: OffsetCommitValue
// v3 (v1 when the commit carries an expire timestamp, as Kafka writes it) and GroupMetadataValue v3, v0-4
// of both read; the consumer group values v0 (flexible). A null value is a tombstone (the offset or group
// was deleted). broker/groups/records-compat.test.ts holds the bytes the earlier hand-written codecs wrote.
import { createRequire } from 'node:module';
import type { TopicPartitions } from '../../protocol/generated/coordinator/consumer-group-current-member-assignment-value.ts';
import { Reader } from '../../protocol/reader.ts';
import { ownedCopy } from '../../protocol/owned-copy.ts';
import type * as RecordCodecs from './record-codecs.ts';

const requireCodecs = createRequire(import.meta.url);
// require() specifiers are not rewritten by the package build (tsconfig.build.json): dist/ has .js files.
const EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
let loaded: typeof RecordCodecs | undefined;
/** The generated codecs, loaded on first use: a fresh broker never touches a group record before its first request. */
const codecs = (): typeof RecordCodecs => (loaded ??= requireCodecs(`./record-codecs.${EXT}`) as typeof RecordCodecs);

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

/** An Int64 as a number when exact (|v| ≤ 2^53 − 1), else as the bigint: committed offsets are any long. */
export const exactInt64 = (v: bigint): number | bigint => (v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn ? Number(v) : v);
export interface GroupMetadataKey { type: 'group'; group: string }

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

export type ConsumerGroupKey =
  | { type: 'cg-metadata'; group: string }
  | { type: 'cg-partition-metadata'; group: string }
  | { type: 'cg-member'; group: string; member: string }
  | { type: 'cg-target-metadata'; group: string }
  | { type: 'cg-target-member'; group: string; member: string }
  | { type: 'cg-current-assignment'; group: string; member: string };

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

// ---- keys ----

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return codecs().writeOffsetCommitKeyRecord({ group, topic, partition });
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return codecs().writeGroupMetadataKeyRecord({ group });
}

export function encodeConsumerGroupKey(k: ConsumerGroupKey): Buffer {
  switch (k.type) {
    case 'cg-metadata': return codecs().writeConsumerGroupMetadataKeyRecord({ groupId: k.group });
    case 'cg-partition-metadata': return codecs().writeConsumerGroupPartitionMetadataKeyRecord({ groupId: k.group });
    case 'cg-member': return codecs().writeConsumerGroupMemberMetadataKeyRecord({ groupId: k.group, memberId: k.member });
    case 'cg-target-metadata': return codecs().writeConsumerGroupTargetAssignmentMetadataKeyRecord({ groupId: k.group });
    case 'cg-target-member': return codecs().writeConsumerGroupTargetAssignmentMemberKeyRecord({ groupId: k.group, memberId: k.member });
    case 'cg-current-assignment': return codecs().writeConsumerGroupCurrentMemberAssignmentKeyRecord({ groupId: k.group, memberId: k.member });
  }
}

/** Decodes a key; null for record types this coordinator does not keep (regex, share, streams records). */
export function decodeKey(buf: Buffer): OffsetCommitKey | GroupMetadataKey | ConsumerGroupKey | null {
  const recordType = new Reader(buf).int16();
  switch (recordType) {
    case 0: { const k = codecs().readLegacyOffsetCommitKeyRecord(buf); return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition }; }
    case 1: { const k = codecs().readOffsetCommitKeyRecord(buf); return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition }; }
    case 2: return { type: 'group', group: codecs().readGroupMetadataKeyRecord(buf).group };
    case 3: return { type: 'cg-metadata', group: codecs().readConsumerGroupMetadataKeyRecord(buf).groupId };
    case 4: return { type: 'cg-partition-metadata', group: codecs().readConsumerGroupPartitionMetadataKeyRecord(buf).groupId };
    case 5: { const k = codecs().readConsumerGroupMemberMetadataKeyRecord(buf); return { type: 'cg-member', group: k.groupId, member: k.memberId }; }
    case 6: return { type: 'cg-target-metadata', group: codecs().readConsumerGroupTargetAssignmentMetadataKeyRecord(buf).groupId };
    case 7: { const k = codecs().readConsumerGroupTargetAssignmentMemberKeyRecord(buf); return { type: 'cg-target-member', group: k.groupId, member: k.memberId }; }
    case 8: { const k = codecs().readConsumerGroupCurrentMemberAssignmentKeyRecord(buf); return { type: 'cg-current-assignment', group: k.groupId, member: k.memberId }; }
    default: return null;
  }
}

// ---- classic group values ----

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  // v1 carries the expire timestamp and no leader epoch; v3 the reverse (both fields are ignorable).
  const version = v.expireTimestamp >= 0 ? 1 : 3;
  return codecs().writeOffsetCommitValueRecord(version, codecs().makeOffsetCommitValue({
    offset: BigInt(v.offset), leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestamp: BigInt(v.commitTimestamp),
    expireTimestamp: version === 1 ? BigInt(v.expireTimestamp) : -1n,
  }));
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const m = codecs().readOffsetCommitValueRecord(buf);
  return { offset: exactInt64(m.offset), leaderEpoch: m.leaderEpoch, metadata: m.metadata, commitTimestamp: Number(m.commitTimestamp), expireTimestamp: Number(m.expireTimestamp) };
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  return codecs().writeGroupMetadataValueRecord(3, {
    protocolType: v.protocolType, generation: v.generation, protocol: v.protocol, leader: v.leader,
    currentStateTimestamp: BigInt(v.currentStateTimestamp),
    members: v.members.map((m) => ({
      memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeout, sessionTimeout: m.sessionTimeout, subscription: m.subscription, assignment: m.assignment,
    })),
  });
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const v = codecs().readGroupMetadataValueRecord(buf);
  return {
    protocolType: v.protocolType, generation: v.generation, protocol: v.protocol, leader: v.leader,
    currentStateTimestamp: Number(v.currentStateTimestamp),
    members: v.members.map((m) => ({
      memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      // v0 has no rebalance timeout: it was the session timeout then.
      rebalanceTimeout: m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout, sessionTimeout: m.sessionTimeout,
      // Copies: the group keeps them, and the input is a view into a log segment read.
      subscription: ownedCopy(m.subscription), assignment: ownedCopy(m.assignment),
    })),
  };
}

// ---- KIP-848 consumer group values (v0, flexible; tagged fields gregor does not use stay at their defaults) ----

const toTopicPartitions = (list: TopicPartitionsRecord[]): TopicPartitions[] =>
  list.map((tp) => ({ topicId: tp.topicId, partitions: tp.partitions, assignmentEpochs: [] }));
const fromTopicPartitions = (list: Array<{ topicId: string; partitions: number[] }>): TopicPartitionsRecord[] =>
  list.map((tp) => ({ topicId: tp.topicId, partitions: tp.partitions }));

/** ConsumerGroupMetadataValue and ConsumerGroupTargetAssignmentMetadataValue: one int32 epoch (their tag 0, an int64 in both, is not used). */
export function encodeEpochValue(epoch: number): Buffer {
  return codecs().writeConsumerGroupMetadataValueRecord(0, { epoch, metadataHash: 0n });
}

export function decodeEpochValue(buf: Buffer): number {
  return codecs().readConsumerGroupMetadataValueRecord(buf).epoch;
}

export function encodePartitionMetadataValue(topics: ConsumerGroupTopicMetadata[]): Buffer {
  // PartitionMetadata (racks) stays empty: no rack-aware assignment.
  return codecs().writeConsumerGroupPartitionMetadataValueRecord(0, {
    topics: topics.map((t) => ({ topicId: t.topicId, topicName: t.topicName, numPartitions: t.numPartitions, partitionMetadata: [] })),
  });
}

export function decodePartitionMetadataValue(buf: Buffer): ConsumerGroupTopicMetadata[] {
  return codecs().readConsumerGroupPartitionMetadataValueRecord(buf).topics.map((t) => ({ topicId: t.topicId, topicName: t.topicName, numPartitions: t.numPartitions }));
}

export function encodeMemberValue(m: ConsumerGroupMemberValue): Buffer {
  // No classic metadata = the all-default struct, which is not written (Kafka's rule for its `null` default).
  // A classic member always has protocols (JoinGroup requires them), so it is never the default.
  const c = m.classic;
  return codecs().writeConsumerGroupMemberMetadataValueRecord(0, {
    instanceId: m.instanceId, rackId: m.rackId, clientId: m.clientId, clientHost: m.clientHost,
    subscribedTopicNames: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs, serverAssignor: m.serverAssignor,
    classicMemberMetadata: c ? { sessionTimeoutMs: c.sessionTimeoutMs, supportedProtocols: c.protocols.map((p) => ({ name: p.name, metadata: p.metadata })) } : codecs().makeClassicMemberMetadata(),
  });
}

export function decodeMemberValue(buf: Buffer): ConsumerGroupMemberValue {
  const v = codecs().readConsumerGroupMemberMetadataValueRecord(buf);
  const c = v.classicMemberMetadata;
  const classic = c !== null && (c.sessionTimeoutMs !== 0 || c.supportedProtocols.length > 0)
    ? { sessionTimeoutMs: c.sessionTimeoutMs, protocols: c.supportedProtocols.map((p) => ({ name: p.name, metadata: p.metadata })) }
    : null;
  return {
    instanceId: v.instanceId, rackId: v.rackId, clientId: v.clientId, clientHost: v.clientHost, subscribedTopicNames: v.subscribedTopicNames,
    subscribedTopicRegex: v.subscribedTopicRegex, rebalanceTimeoutMs: v.rebalanceTimeoutMs, serverAssignor: v.serverAssignor,
    ...(classic ? { classic } : {}),
  };
}

export function encodeTargetMemberValue(list: TopicPartitionsRecord[]): Buffer {
  return codecs().writeConsumerGroupTargetAssignmentMemberValueRecord(0, { topicPartitions: list.map((tp) => ({ topicId: tp.topicId, partitions: tp.partitions })) });
}

export function decodeTargetMemberValue(buf: Buffer): TopicPartitionsRecord[] {
  return fromTopicPartitions(codecs().readConsumerGroupTargetAssignmentMemberValueRecord(buf).topicPartitions);
}

export function encodeCurrentAssignmentValue(v: ConsumerGroupCurrentAssignmentValue): Buffer {
  return codecs().writeConsumerGroupCurrentMemberAssignmentValueRecord(0, {
    memberEpoch: v.memberEpoch, previousMemberEpoch: v.previousMemberEpoch, state: v.state,
    assignedPartitions: toTopicPartitions(v.assigned), partitionsPendingRevocation: toTopicPartitions(v.pendingRevocation),
  });
}

export function decodeCurrentAssignmentValue(buf: Buffer): ConsumerGroupCurrentAssignmentValue {
  const v = codecs().readConsumerGroupCurrentMemberAssignmentValueRecord(buf);
  return {
    memberEpoch: v.memberEpoch, previousMemberEpoch: v.previousMemberEpoch, state: v.state,
    assigned: fromTopicPartitions(v.assignedPartitions), pendingRevocation: fromTopicPartitions(v.partitionsPendingRevocation),
  };
}
