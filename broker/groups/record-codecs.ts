// The generated __consumer_offsets codecs, loaded by records.ts on first use (require(esm), synchronous):
// a broker that never reads or writes a group record does not load them at start (issue #15 item 6).
export { readConsumerGroupCurrentMemberAssignmentKeyRecord, writeConsumerGroupCurrentMemberAssignmentKeyRecord } from '../../protocol/generated/coordinator/consumer-group-current-member-assignment-key.ts';
export { readConsumerGroupCurrentMemberAssignmentValueRecord, writeConsumerGroupCurrentMemberAssignmentValueRecord } from '../../protocol/generated/coordinator/consumer-group-current-member-assignment-value.ts';
export { readConsumerGroupMemberMetadataKeyRecord, writeConsumerGroupMemberMetadataKeyRecord } from '../../protocol/generated/coordinator/consumer-group-member-metadata-key.ts';
export { makeClassicMemberMetadata, readConsumerGroupMemberMetadataValueRecord, writeConsumerGroupMemberMetadataValueRecord } from '../../protocol/generated/coordinator/consumer-group-member-metadata-value.ts';
export { readConsumerGroupMetadataKeyRecord, writeConsumerGroupMetadataKeyRecord } from '../../protocol/generated/coordinator/consumer-group-metadata-key.ts';
export { readConsumerGroupMetadataValueRecord, writeConsumerGroupMetadataValueRecord } from '../../protocol/generated/coordinator/consumer-group-metadata-value.ts';
export { readConsumerGroupPartitionMetadataKeyRecord, writeConsumerGroupPartitionMetadataKeyRecord } from '../../protocol/generated/coordinator/consumer-group-partition-metadata-key.ts';
export { readConsumerGroupPartitionMetadataValueRecord, writeConsumerGroupPartitionMetadataValueRecord } from '../../protocol/generated/coordinator/consumer-group-partition-metadata-value.ts';
export { readConsumerGroupTargetAssignmentMemberKeyRecord, writeConsumerGroupTargetAssignmentMemberKeyRecord } from '../../protocol/generated/coordinator/consumer-group-target-assignment-member-key.ts';
export { readConsumerGroupTargetAssignmentMemberValueRecord, writeConsumerGroupTargetAssignmentMemberValueRecord } from '../../protocol/generated/coordinator/consumer-group-target-assignment-member-value.ts';
export { readConsumerGroupTargetAssignmentMetadataKeyRecord, writeConsumerGroupTargetAssignmentMetadataKeyRecord } from '../../protocol/generated/coordinator/consumer-group-target-assignment-metadata-key.ts';
export { readGroupMetadataKeyRecord, writeGroupMetadataKeyRecord } from '../../protocol/generated/coordinator/group-metadata-key.ts';
export { readGroupMetadataValueRecord, writeGroupMetadataValueRecord } from '../../protocol/generated/coordinator/group-metadata-value.ts';
export { readLegacyOffsetCommitKeyRecord } from '../../protocol/generated/coordinator/legacy-offset-commit-key.ts';
export { readOffsetCommitKeyRecord, writeOffsetCommitKeyRecord } from '../../protocol/generated/coordinator/offset-commit-key.ts';
export { makeOffsetCommitValue, readOffsetCommitValueRecord, writeOffsetCommitValueRecord } from '../../protocol/generated/coordinator/offset-commit-value.ts';
