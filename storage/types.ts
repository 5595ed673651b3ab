// Types shared by the storage modules. storage/ imports nothing else of ours, so the small Logger shape is
// declared here; it is structurally compatible with broker/log.ts. The Clock is in clock.ts.

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Kafka error names (and codes) that storage operations can answer with. */
export const ERROR_CODES = {
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_CONFIG: 40,
  KAFKA_STORAGE_ERROR: 56,
} as const;

export type StorageErrorKind = keyof typeof ERROR_CODES;

/** The one error type storage throws/rejects with; the broker maps `.code` into responses. */
export class StorageError extends Error {
  readonly kind: StorageErrorKind;
  readonly code: number;
  constructor(kind: StorageErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.kind = kind;
    this.code = ERROR_CODES[kind];
  }
}

export function isStorageError(e: unknown, kind?: StorageErrorKind): e is StorageError {
  return e instanceof StorageError && (kind === undefined || e.kind === kind);
}
