// One partition as this broker hosts it (Kafka's kafka.cluster.Partition): its log, leader epoch, role,
// high watermark, producer state, and the one append path that wakes waiting fetches. Handlers and
// coordinators reach a partition's storage only through this object.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { AppendResult, PartitionLog, ReadOptions, ReadResult } from '../../storage/index.ts';
import type { AppendNotifier } from '../append-notifier.ts';
import { PartitionProducerState } from '../producers/state.ts';

export type PartitionRole = 'leader';

/** Work done synchronously when an append's outcome is known, before waiting fetches are woken. */
export interface AppendEffects {
  /** The bytes are written: apply the append's effect on shared state (producer state, markers). */
  written?(res: AppendResult): void;
  /** The append failed: undo what was reserved for it. */
  failed?(err: unknown): void;
}

/** Kafka's activeProducers for the cleaner: producer id → last data offset (-1 none) and epoch. */
function activeProducers(st: PartitionProducerState | undefined): Map<bigint, { lastDataOffset: number; epoch: number }> {
  const out = new Map<bigint, { lastDataOffset: number; epoch: number }>();
  if (st) for (const [pid, e] of st.entries()) out.set(pid, { lastDataOffset: e.batches.at(-1)?.lastOffset ?? -1, epoch: e.epoch });
  return out;
}

export class Partition {
  readonly topic: string;
  readonly index: number;
  readonly topicId: string | undefined;
  readonly log: PartitionLog;
  readonly #appends: AppendNotifier;
  #producerState: PartitionProducerState | undefined;
  #leaderEpoch: number;
  #role: PartitionRole;

  constructor(log: PartitionLog, opts: { topicId?: string; appends: AppendNotifier }) {
    this.topic = log.topic;
    this.index = log.partition;
    this.topicId = opts.topicId;
    this.log = log;
    this.#appends = opts.appends;
    // The epoch lives in the log's leader-epoch-checkpoint; one node has led since creation, with epoch 0.
    this.#leaderEpoch = Math.max(0, log.latestEpoch);
    this.#role = 'leader';
    this.#makeLeader();
    // The log cleaner stops at the last stable offset and keeps the headers of active producers only.
    log.transactionBounds = {
      firstUnstableOffset: () => this.#producerState?.firstUnstableOffset,
      activeProducers: () => activeProducers(this.#producerState),
    };
  }

  get name(): string { return this.log.name; }
  get leaderEpoch(): number { return this.#leaderEpoch; }
  get role(): PartitionRole { return this.#role; }
  get isLeader(): boolean { return this.#role === 'leader'; }
  /** The last offset consumers may read up to (a value of the log's own; today it follows the log end). */
  get highWatermark(): number { return this.log.highWatermark; }
  get logStartOffset(): number { return this.log.logStartOffset; }
  get logEndOffset(): number { return this.log.logEndOffset; }
  /** The offset the next append gets (assigned synchronously inside `append`). */
  get nextOffset(): number { return this.log.nextOffset; }
  get offline(): PartitionLog['offline'] { return this.log.offline; }
  /**
   * Kafka's ProducerStateManager of this partition, created on first use (fresh for a re-created topic:
   * a new Partition). Only partitions that had one get producer-state snapshots.
   */
  get producerState(): PartitionProducerState { return this.#producerState ??= new PartitionProducerState(this.log.name); }
  /** The producer state if this partition has one yet. */
  get producerStateIfAny(): PartitionProducerState | undefined { return this.#producerState; }
  /** The first offset of the oldest open transaction, else the high watermark. */
  get lastStableOffset(): number { return Math.min(this.#producerState?.firstUnstableOffset ?? Infinity, this.log.highWatermark); }

  /**
   * Kafka's makeLeader: the leader records its epoch at its log end (LeaderEpochFileCache.assign), so
   * OffsetForLeaderEpoch answers the current epoch even for an empty log.
   */
  #makeLeader(): void {
    if (this.log.offline) return;
    this.log.assignEpochStartOffset(this.#leaderEpoch, this.log.logEndOffset);
  }

  /**
   * Kafka's Partition.checkCurrentLeaderEpoch: -1 (the client does not know one) passes; a newer epoch
   * than ours is UNKNOWN_LEADER_EPOCH (we have not caught up), an older one FENCED_LEADER_EPOCH.
   */
  checkLeaderEpoch(currentLeaderEpoch: number): number {
    if (currentLeaderEpoch < 0 || currentLeaderEpoch === this.#leaderEpoch) return ErrorCode.NONE;
    return currentLeaderEpoch > this.#leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH;
  }

  /**
   * The leader's append path (Produce, transaction markers, coordinator state): offsets and the leader
   * epoch are assigned synchronously here, so callers read `nextOffset` right before it and reserve
   * without an await in between. Once written, `effects.written` runs and then waiting fetches are woken,
   * so a woken fetch sees the append's effect (e.g. a marker moving the last stable offset).
   */
  append(batches: Buffer, effects: AppendEffects = {}): Promise<AppendResult> {
    if (this.#role !== 'leader') {
      const err = new Error(`${this.name}: not the leader`);
      effects.failed?.(err);
      return Promise.reject(err);
    }
    return this.log.append(batches, { leaderEpoch: this.#leaderEpoch }).then(
      (res) => {
        try {
          effects.written?.(res);
        } finally {
          this.#appends.notify(this.topic, this.index);
        }
        return res;
      },
      (err: unknown) => {
        effects.failed?.(err);
        throw err;
      },
    );
  }

  read(offset: number, maxBytes: number, opts?: ReadOptions): Promise<ReadResult> {
    return this.log.read(offset, maxBytes, opts);
  }

  /** OffsetForLeaderEpoch from the leader-epoch cache (Kafka's lastOffsetForLeaderEpoch). */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.log.endOffsetForEpoch(epoch);
  }
}
