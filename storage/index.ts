// Public entry point of storage/.
export { openStorage, Storage, TOPICS_FILE, CLEAN_SHUTDOWN_FILE } from './storage.ts';
export type { OpenStorageOptions, TopicMeta, CreateTopicOptions } from './storage.ts';
export { PartitionLog } from './partition-log.ts';
export type { AppendResult, ReadResult, ReadOptions, OffsetAndTimestamp } from './partition-log.ts';
export { StorageError, isStorageError, ERROR_CODES, silentLogger } from './types.ts';
export type { Logger, StorageErrorKind } from './types.ts';
export { type Clock, systemClock } from './clock.ts';
export { LOG_CONFIG_DEFAULTS, resolveLogConfig } from './config.ts';
export type { LogConfig } from './config.ts';
export { nodeFs, readWholeFile, writeFileAtomic } from './fs.ts';
export type { FsLike, FsStats, OpenFlags } from './fs.ts';
export { MemFs } from './memfs.ts';
export { FaultyFs } from './faulty-fs.ts';
export type { FsOp } from './faulty-fs.ts';
export type { CleanerOptions } from './storage.ts';
export type { RecordCodecs, CleanResult } from './cleaner.ts';
