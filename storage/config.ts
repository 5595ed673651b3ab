// Topic-level log configs: Kafka's names and defaults. Values arrive as strings (as in CreateTopics /
// AlterConfigs); they are resolved into numbers once per change, not per append.

export const LOG_CONFIG_DEFAULTS: Readonly<Record<string, string>> = {
  'segment.bytes': String(1024 * 1024 * 1024),
  'segment.ms': String(7 * 24 * 3600 * 1000),
  'retention.ms': String(7 * 24 * 3600 * 1000),
  'retention.bytes': '-1',
  'flush.messages': '9223372036854775807',
  'flush.ms': '9223372036854775807',
  'index.interval.bytes': '4096',
  'max.message.bytes': '1048588',
  'cleanup.policy': 'delete',
  'message.timestamp.type': 'CreateTime',
  'delete.retention.ms': String(24 * 3600 * 1000),
  'min.cleanable.dirty.ratio': '0.5',
  'min.compaction.lag.ms': '0',
  'max.compaction.lag.ms': '9223372036854775807',
  'file.delete.delay.ms': '60000',
  'segment.jitter.ms': '0',
  'segment.index.bytes': String(10 * 1024 * 1024),
};

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  /** segment.jitter.ms: each segment rolls up to this much before segment.ms (a random draw per segment). */
  segmentJitterMs: number;
  /** segment.index.bytes: a segment rolls once its offset (8-byte) or time (12-byte) index would outgrow it. */
  segmentIndexBytes: number;
  /** -1 = unlimited */
  retentionMs: number;
  /** -1 = unlimited */
  retentionBytes: number;
  /** Infinity when unset (Long.MAX_VALUE). */
  flushMessages: number;
  flushMs: number;
  indexIntervalBytes: number;
  maxMessageBytes: number;
  deleteEnabled: boolean;
  /** cleanup.policy includes compact: the log cleaner keeps the latest record per key (cleaner.ts). */
  compact: boolean;
  /** How long a tombstone outlives its first cleaning. */
  deleteRetentionMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  /** Infinity when unset. */
  maxCompactionLagMs: number;
  logAppendTime: boolean;
  /** How long a deleted segment file waits as `*.deleted` before it is removed (deletes.ts). */
  fileDeleteDelayMs: number;
}

function num(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || !/^-?\d+$/.test(v.trim())) throw new RangeError(`config ${name}: not an integer: ${v}`);
  // Long.MAX_VALUE and friends mean "never"; anything past 2^53 is treated as infinite.
  return n >= Number.MAX_SAFE_INTEGER ? Infinity : n;
}

/** Merges defaults < storage defaults < topic configs and parses them. Throws RangeError on bad values. */
export function resolveLogConfig(topicConfigs: ReadonlyMap<string, string> | Record<string, string>, defaults: Readonly<Record<string, string>> = {}): LogConfig {
  const m: Record<string, string> = { ...LOG_CONFIG_DEFAULTS, ...defaults };
  const entries = topicConfigs instanceof Map ? topicConfigs.entries() : Object.entries(topicConfigs);
  for (const [k, v] of entries) m[k] = v;
  const segmentBytes = num(m['segment.bytes'], 'segment.bytes');
  if (segmentBytes < 14) throw new RangeError('config segment.bytes: must be at least 14');
  const policy = m['cleanup.policy'].split(',').map((s) => s.trim());
  const compact = policy.includes('compact');
  const ratio = Number(m['min.cleanable.dirty.ratio']);
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`config min.cleanable.dirty.ratio: not in [0, 1]: ${m['min.cleanable.dirty.ratio']}`);
  const maxCompactionLagMs = Math.max(1, num(m['max.compaction.lag.ms'], 'max.compaction.lag.ms'));
  const segmentMs = Math.max(1, num(m['segment.ms'], 'segment.ms'));
  return {
    segmentBytes: Math.min(segmentBytes, 2 ** 31 - 1),
    // Kafka rolls a compacted log by max.compaction.lag.ms too, so the active segment becomes cleanable in time.
    segmentMs: compact ? Math.min(segmentMs, maxCompactionLagMs) : segmentMs,
    segmentJitterMs: Math.max(0, num(m['segment.jitter.ms'], 'segment.jitter.ms')),
    segmentIndexBytes: Math.max(4, Math.min(num(m['segment.index.bytes'], 'segment.index.bytes'), 2 ** 31 - 1)),
    retentionMs: num(m['retention.ms'], 'retention.ms'),
    retentionBytes: num(m['retention.bytes'], 'retention.bytes'),
    flushMessages: Math.max(1, num(m['flush.messages'], 'flush.messages')),
    flushMs: Math.max(0, num(m['flush.ms'], 'flush.ms')),
    indexIntervalBytes: Math.max(0, num(m['index.interval.bytes'], 'index.interval.bytes')),
    maxMessageBytes: num(m['max.message.bytes'], 'max.message.bytes'),
    deleteEnabled: policy.includes('delete'),
    compact,
    deleteRetentionMs: Math.max(0, num(m['delete.retention.ms'], 'delete.retention.ms')),
    minCleanableDirtyRatio: ratio,
    minCompactionLagMs: Math.max(0, num(m['min.compaction.lag.ms'], 'min.compaction.lag.ms')),
    maxCompactionLagMs,
    logAppendTime: m['message.timestamp.type'] === 'LogAppendTime',
    fileDeleteDelayMs: Math.max(0, num(m['file.delete.delay.ms'], 'file.delete.delay.ms')),
  };
}
