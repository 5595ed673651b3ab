// metadata.version feature levels (Kafka's MetadataVersion) and the record versions each one writes.
// Levels and thresholds read from Kafka 4.4.0's MetadataVersion (featureLevel(), partitionRecordVersion(),
// registerBrokerRecordVersion(), isDirectoryAssignmentSupported(), isElrSupported()).

export const MetadataVersion = {
  /** 3.3-IV3: the oldest level Kafka 4 can bootstrap or read. */
  MINIMUM: 7,
  IBP_3_3_IV3: 7,
  IBP_3_4_IV0: 8,
  IBP_3_7_IV0: 15,
  IBP_3_7_IV2: 17,
  IBP_4_0_IV1: 23,
  IBP_4_3_IV0: 30,
  /** 4.4-IV2: Kafka 4.4.0's latest production level. */
  IBP_4_4_IV2: 33,
  LATEST_PRODUCTION: 33,
} as const;

export function isDirectoryAssignmentSupported(level: number): boolean {
  return level >= MetadataVersion.IBP_3_7_IV2;
}

export function isElrSupported(level: number): boolean {
  return level >= MetadataVersion.IBP_4_0_IV1;
}

export function isControllerRegistrationSupported(level: number): boolean {
  return level >= MetadataVersion.IBP_3_7_IV0;
}

/** PartitionRecord and PartitionChangeRecord version. */
export function partitionRecordVersion(level: number): number {
  return isElrSupported(level) ? 2 : isDirectoryAssignmentSupported(level) ? 1 : 0;
}

export function registerBrokerRecordVersion(level: number): number {
  if (level >= MetadataVersion.IBP_4_3_IV0) return 4;
  if (level >= MetadataVersion.IBP_3_7_IV2) return 3;
  if (level >= MetadataVersion.IBP_3_4_IV0) return 2;
  return 1;
}
