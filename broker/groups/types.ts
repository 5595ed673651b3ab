// Types the group router, the classic coordinator and the offsets share (a module of their own, so none of
// them imports another in a circle).

export interface CoordinatorRecord { key: Buffer; value: Buffer | null }

/** Where the coordinator's records go; resolves once appended, rejects with an error carrying `code`. */
export interface CoordinatorLog {
  /** `txn`: write the records as a transactional batch of that producer (TxnOffsetCommit). */
  append(groupId: string, records: CoordinatorRecord[], txn?: { producerId: bigint; producerEpoch: number }): Promise<void>;
  /** Resolves once the log can take appends (creates `__consumer_offsets` on first use). */
  ensure?(): Promise<void>;
}

export interface CoordinatorConfig {
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  newMemberJoinTimeoutMs: number;
  offsetMetadataMaxBytes: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
}
