// The transaction coordinator, after Kafka's TransactionCoordinator / TransactionMetadata. Transaction
// version 0/1 (EndTxn v0-4): the epoch is bumped by InitProducerId and by fencing only. Transaction version 2
// (KIP-890 part 2; EndTxn v5, Produce v12+ and TxnOffsetCommit v5 add partitions themselves): every end
// bumps the epoch, an exhausted epoch moves the producer to a new id (endTransaction).
//
// Each transactional id has metadata (producer id and epoch, state, partitions, timestamps) whose every
// transition is a TransactionLogValue in `__transaction_state`: the in-memory state changes only after
// that write succeeded. Operations on one id run one after another (a queue per id) instead of Kafka's
// "pending transition → CONCURRENT_TRANSACTIONS": the answers are those a client gets after retrying.
//
// Ending a transaction: PrepareCommit/PrepareAbort is written, then a marker into every partition of the
// transaction, then CompleteCommit/CompleteAbort; EndTxn is answered after the markers (Kafka answers after
// the prepare record and writes markers in the background — answering later means a client's next
// transaction never meets CONCURRENT_TRANSACTIONS). When markers cannot be written (a partition offline)
// EndTxn still succeeds, since the decision is durable, and the markers are retried in the background;
// the id answers CONCURRENT_TRANSACTIONS until they are written. A restart completes Prepare* states.
//
// Fencing: InitProducerId for an id with an ongoing transaction aborts it with a bumped epoch, then bumps
// again for the caller (Kafka answers CONCURRENT_TRANSACTIONS in between and the client retries: same end
// state). A transaction older than its timeout is aborted the same way (transaction.abort.timed.out.
// transaction.cleanup.interval.ms); its producer is fenced (PRODUCER_FENCED / INVALID_PRODUCER_EPOCH).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { Clock } from '../../storage/clock.ts';
import type { Logger } from '../log.ts';
import { KafkaError } from '../errors.ts';
import { type Periodic, every } from '../timers.ts';
import { type TransactionLogValue, type TxnState } from './records.ts';

/** Kafka's TransactionMetadata.isEpochExhausted: Short.MaxValue - 1. */
const MAX_EPOCH = 32766;

export interface TxnMetadata {
  readonly transactionalId: string;
  producerId: bigint;
  previousProducerId: bigint;
  /** The epoch before the last bump made at the producer's own request (a retry of that bump gets the current one). */
  lastProducerEpoch: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** topic → partitions of the current (or ending) transaction. */
  partitions: Map<string, Set<number>>;
  startTimestamp: number;
  lastUpdateTimestamp: number;
  /** The transaction version of the client's current transaction (2: KIP-890 part 2, an epoch bump at every end). */
  clientTransactionVersion: number;
  /** TV2 epoch overflow: the producer id the transaction switches to once its markers are written (-1: none). */
  nextProducerId: bigint;
}

export interface TopicPartition { topic: string; partition: number }

/** `__transaction_state`. */
export interface TxnStore {
  /** Resolves once the topic exists (created on first use). */
  ensure(): Promise<void>;
  /** Appends the transition (null: tombstone); rejects when it was not written. */
  append(transactionalId: string, value: TransactionLogValue | null): Promise<void>;
}

export interface MarkerWriter {
  /** Writes a commit/abort marker into each partition (partitions that no longer exist are skipped). */
  write(producerId: bigint, producerEpoch: number, commit: boolean, partitions: TopicPartition[]): Promise<void>;
}

export interface TxnCoordinatorOptions {
  clock: Clock;
  log: Logger;
  store: TxnStore;
  markers: MarkerWriter;
  generateProducerId: () => bigint | Promise<bigint>;
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortCheckIntervalMs: number;
  /** transactional.id.expiration.ms */
  idExpirationMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  idExpirationCheckIntervalMs: number;
  /** Backoff between attempts to write markers that failed. */
  markerRetryMs?: number;
}

export type InitResult = { errorCode: number; producerId: bigint; producerEpoch: number };
/** EndTxn: the producer id and epoch the client continues with (v5), -1 on errors. */
export type EndResult = InitResult;

const failure = (errorCode: number): InitResult => ({ errorCode, producerId: -1n, producerEpoch: -1 });

export function toLogValue(m: TxnMetadata): TransactionLogValue {
  return {
    producerId: m.producerId, previousProducerId: m.previousProducerId, nextProducerId: m.nextProducerId, producerEpoch: m.producerEpoch,
    transactionTimeoutMs: m.timeoutMs, state: m.state,
    partitions: [...m.partitions].map(([topic, ps]) => ({ topic, partitionIds: [...ps].sort((a, b) => a - b) })),
    lastUpdateTimestamp: m.lastUpdateTimestamp, startTimestamp: m.startTimestamp, clientTransactionVersion: m.clientTransactionVersion,
  };
}

function partitionsOf(m: TxnMetadata): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const [topic, ps] of m.partitions) for (const partition of ps) out.push({ topic, partition });
  return out;
}

export class TransactionCoordinator {
  readonly #txns = new Map<string, TxnMetadata>();
  readonly #byProducer = new Map<bigint, TxnMetadata>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #opts: TxnCoordinatorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #timers: Periodic[] = [];
  #closed = false;

  constructor(opts: TxnCoordinatorOptions) {
    this.#opts = opts;
    this.#clock = opts.clock;
    this.#log = opts.log;
  }

  get size(): number { return this.#txns.size; }
  get(transactionalId: string): TxnMetadata | undefined { return this.#txns.get(transactionalId); }
  all(): IterableIterator<TxnMetadata> { return this.#txns.values(); }
  /** Resolves with an error code once `__transaction_state` exists. */
  ready(): Promise<number> {
    return this.#opts.store.ensure().then(() => ErrorCode.NONE, () => ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }

  // ---------------------------------------------------------------- loading and timers

  /** Replays one `__transaction_state` record (later records win). */
  replay(transactionalId: string, v: TransactionLogValue | null): void {
    const old = this.#txns.get(transactionalId);
    if (old && this.#byProducer.get(old.producerId) === old) this.#byProducer.delete(old.producerId);
    if (v === null) {
      this.#txns.delete(transactionalId);
      return;
    }
    const m: TxnMetadata = {
      transactionalId, producerId: v.producerId, previousProducerId: v.previousProducerId, lastProducerEpoch: -1,
      producerEpoch: v.producerEpoch, timeoutMs: v.transactionTimeoutMs, state: v.state,
      partitions: new Map(v.partitions.map((p) => [p.topic, new Set(p.partitionIds)])),
      startTimestamp: v.startTimestamp, lastUpdateTimestamp: v.lastUpdateTimestamp,
      clientTransactionVersion: v.clientTransactionVersion ?? 0, nextProducerId: v.nextProducerId,
    };
    this.#txns.set(transactionalId, m);
    this.#byProducer.set(m.producerId, m);
  }

  /** After loading: finishes transactions caught between prepare and complete; arms the timers. */
  start(): void {
    for (const m of this.#txns.values()) {
      if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort' || m.state === 'PrepareEpochFence') {
        this.#log.info(`transaction ${m.transactionalId}: completing ${m.state} left by the previous run`);
        void this.#enqueue(m.transactionalId, () => this.#finish(m, m.state === 'PrepareCommit'));
      }
    }
    this.#timers.push(every(this.#clock, this.#opts.abortCheckIntervalMs, () => this.abortTimedOut()));
    this.#timers.push(every(this.#clock, this.#opts.idExpirationCheckIntervalMs, () => { void this.expireIds(); }));
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) t.stop();
    this.#timers = [];
  }

  /** Runs `fn` after every earlier operation on this id. */
  #enqueue<T>(transactionalId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(transactionalId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(() => {}, () => {});
    this.#queues.set(transactionalId, tail);
    void tail.then(() => { if (this.#queues.get(transactionalId) === tail) this.#queues.delete(transactionalId); });
    return run;
  }

  /** Writes the transition, then makes it the state. */
  async #transition(m: TxnMetadata, next: Partial<TxnMetadata>): Promise<void> {
    const target: TxnMetadata = { ...m, ...next, lastUpdateTimestamp: this.#clock.now() };
    try {
      await this.#opts.store.append(m.transactionalId, toLogValue(target));
    } catch (err) {
      // Every failed write is COORDINATOR_NOT_AVAILABLE to the client, as Kafka maps it.
      throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `writing ${m.transactionalId}: ${(err as Error).message}`, { cause: err });
    }
    if (this.#byProducer.get(m.producerId) === m) this.#byProducer.delete(m.producerId);
    Object.assign(m, target);
    this.#txns.set(m.transactionalId, m);
    this.#byProducer.set(m.producerId, m);
  }

  static #code(err: unknown): number {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }

  // ---------------------------------------------------------------- InitProducerId

  /** InitProducerId with a transactional id (validated by the handler: non-empty, timeout in range). */
  initProducerId(transactionalId: string, timeoutMs: number, expected: { producerId: bigint; producerEpoch: number } | null): Promise<InitResult> {
    return this.#enqueue(transactionalId, async () => {
      try {
        return await this.#init(transactionalId, timeoutMs, expected);
      } catch (err) {
        return failure(TransactionCoordinator.#code(err));
      }
    });
  }

  async #init(transactionalId: string, timeoutMs: number, expected: { producerId: bigint; producerEpoch: number } | null): Promise<InitResult> {
    let m = this.#txns.get(transactionalId);
    if (!m) {
      let producerId: bigint;
      try {
        producerId = await this.#opts.generateProducerId();
      } catch (err) {
        this.#log.error(`InitProducerId: cannot allocate a producer id: ${(err as Error).message}`);
        return failure(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      }
      // Not registered until its first transition is written.
      m = {
        transactionalId, producerId, previousProducerId: -1n, lastProducerEpoch: -1, producerEpoch: -1, timeoutMs,
        state: 'Empty', partitions: new Map(), startTimestamp: -1, lastUpdateTimestamp: this.#clock.now(),
        clientTransactionVersion: 0, nextProducerId: -1n,
      };
    }
    // Kafka's isValidProducerId: a new id, the same producer id, or a retry across a producer id rollover.
    if (expected && !(m.producerEpoch === -1 || expected.producerId === m.producerId ||
      (expected.producerId === m.previousProducerId && expected.producerEpoch >= MAX_EPOCH))) {
      return failure(ErrorCode.PRODUCER_FENCED);
    }
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort' || m.state === 'PrepareEpochFence') return failure(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (m.state === 'Ongoing') {
      // Fence the producer of the ongoing transaction: abort it with a bumped epoch.
      const fencedFrom = m.producerEpoch;
      await this.#end(m, false, true);
      if ((m.state as TxnState) !== 'CompleteAbort') return failure(ErrorCode.CONCURRENT_TRANSACTIONS); // markers pending
      // The caller was that producer (KIP-360 bump while its transaction was open): it continues.
      if (expected && expected.producerId === m.producerId && expected.producerEpoch === fencedFrom) expected = { producerId: m.producerId, producerEpoch: m.producerEpoch };
    }
    // Empty, CompleteCommit, CompleteAbort: bump the epoch (Kafka's prepareIncrementProducerEpoch).
    let producerId = m.producerId;
    let previousProducerId = m.previousProducerId;
    let epoch: number;
    let lastEpoch: number;
    if (expected === null || m.producerEpoch === -1 || expected.producerEpoch === m.producerEpoch) {
      epoch = m.producerEpoch + 1;
      lastEpoch = expected === null ? -1 : m.producerEpoch;
    } else if (expected.producerEpoch === m.lastProducerEpoch) {
      epoch = m.producerEpoch; // a retry of a bump whose answer was lost
      lastEpoch = m.lastProducerEpoch;
    } else {
      return failure(ErrorCode.PRODUCER_FENCED);
    }
    if (epoch > MAX_EPOCH) {
      // Kafka's prepareProducerIdRotation: the exhausted epoch is remembered so a retry of this call (with
      // the previous id and that epoch) gets the new id instead of being fenced.
      lastEpoch = expected === null ? -1 : m.producerEpoch;
      previousProducerId = producerId;
      try {
        producerId = await this.#opts.generateProducerId();
      } catch {
        return failure(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      }
      epoch = 0;
    }
    await this.#transition(m, {
      producerId, previousProducerId, producerEpoch: epoch, lastProducerEpoch: lastEpoch, timeoutMs,
      state: 'Empty', partitions: new Map(), startTimestamp: -1,
    });
    return { errorCode: ErrorCode.NONE, producerId, producerEpoch: epoch };
  }

  // ---------------------------------------------------------------- AddPartitionsToTxn / AddOffsetsToTxn

  #check(m: TxnMetadata | undefined, producerId: bigint, producerEpoch: number): number {
    if (!m || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    return ErrorCode.NONE;
  }

  /** Adds partitions to the transaction (starting it when none is open). Resolves with one error code for all. */
  addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: TopicPartition[], clientTransactionVersion = 1): Promise<number> {
    return this.#enqueue(transactionalId, async () => {
      const m = this.#txns.get(transactionalId);
      const err = this.#check(m, producerId, producerEpoch);
      if (err !== ErrorCode.NONE) return err;
      switch (m!.state) {
        case 'PrepareCommit': case 'PrepareAbort': case 'PrepareEpochFence': return ErrorCode.CONCURRENT_TRANSACTIONS;
        case 'Dead': return ErrorCode.INVALID_TXN_STATE;
        default: break;
      }
      const ongoing = m!.state === 'Ongoing';
      if (ongoing && partitions.every((p) => m!.partitions.get(p.topic)?.has(p.partition))) return ErrorCode.NONE;
      const next = new Map([...(ongoing ? m!.partitions : new Map<string, Set<number>>())].map(([t, ps]) => [t, new Set(ps)]));
      for (const p of partitions) {
        let s = next.get(p.topic);
        if (!s) next.set(p.topic, (s = new Set()));
        s.add(p.partition);
      }
      try {
        await this.#transition(m!, { state: 'Ongoing', partitions: next, startTimestamp: ongoing ? m!.startTimestamp : this.#clock.now(), clientTransactionVersion });
      } catch (e) {
        return TransactionCoordinator.#code(e);
      }
      return ErrorCode.NONE;
    });
  }

  /**
   * KIP-890 verification (AddPartitionsToTxn v4+ verifyOnly, transactional Produce, TxnOffsetCommit):
   * is this partition part of the producer's ongoing transaction? Synchronous, on the written state.
   */
  verify(producerId: bigint, producerEpoch: number, topic: string, partition: number, transactionalId?: string): number {
    const m = transactionalId === undefined ? this.#byProducer.get(producerId) : this.#txns.get(transactionalId);
    if (!m || m.producerId !== producerId) return ErrorCode.INVALID_TXN_STATE;
    if (producerEpoch < m.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (producerEpoch > m.producerEpoch) return ErrorCode.INVALID_TXN_STATE;
    // Kafka's handleVerifyPartitionsInTransaction: a partition outside the transaction is TRANSACTION_ABORTABLE,
    // which callers turn into INVALID_TXN_STATE for request versions that predate it.
    if (m.state !== 'Ongoing' || !m.partitions.get(topic)?.has(partition)) return ErrorCode.TRANSACTION_ABORTABLE;
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------- EndTxn

  /** EndTxn of a transaction version 0/1 client (v0-4): the error code only. */
  endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    return this.endTransaction(transactionalId, producerId, producerEpoch, commit, 1).then((r) => r.errorCode);
  }

  /**
   * EndTxn, as Kafka's TransactionCoordinator.endTransaction. Transaction version 2 (EndTxn v5) bumps the
   * epoch at every end (the markers carry the bumped epoch, fencing the transaction's own late batches);
   * at an exhausted epoch the producer continues with a new producer id at epoch 0. A TV2 retry is
   * recognised by its epoch being one below the current one (or, after an overflow, the previous id).
   */
  endTransaction(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean, clientTransactionVersion: number): Promise<EndResult> {
    return this.#enqueue(transactionalId, async () => {
      try {
        return await this.#endTransaction(transactionalId, producerId, producerEpoch, commit, clientTransactionVersion);
      } catch (e) {
        return failure(TransactionCoordinator.#code(e));
      }
    });
  }

  async #endTransaction(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean, tv: number): Promise<EndResult> {
    const m = this.#txns.get(transactionalId);
    if (!m) return failure(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const ok = (): EndResult => ({ errorCode: ErrorCode.NONE, producerId: m.producerId, producerEpoch: m.producerEpoch });
    const v2 = m.clientTransactionVersion >= 2;
    const retryOnOverflow = v2 && m.previousProducerId === producerId && producerEpoch === MAX_EPOCH && m.producerEpoch === 0;
    const retryOnEpochBump = v2 && m.producerEpoch === producerEpoch + 1;
    let validEpoch: boolean;
    if (v2) {
      switch (m.state) {
        case 'PrepareCommit': case 'PrepareAbort': validEpoch = retryOnEpochBump; break;
        case 'CompleteCommit': case 'CompleteAbort': validEpoch = retryOnEpochBump || retryOnOverflow || (tv >= 2 && producerEpoch === m.producerEpoch); break;
        default: validEpoch = producerEpoch === m.producerEpoch;
      }
    } else {
      validEpoch = producerEpoch === m.producerEpoch;
    }
    if (m.producerId !== producerId && !retryOnOverflow) return failure(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (!validEpoch) return failure(ErrorCode.PRODUCER_FENCED);
    const retry = v2 && (retryOnEpochBump || retryOnOverflow);
    switch (m.state) {
      case 'Ongoing':
        await this.#end(m, commit, false, tv);
        return ok();
      case 'CompleteCommit': case 'CompleteAbort': {
        const same = (m.state === 'CompleteCommit') === commit;
        if (retry) return same ? ok() : failure(ErrorCode.INVALID_TXN_STATE);
        if (!v2 && same) return ok();
        // TV2: an abort with nothing added (the producer's batches never reached a partition) still ends
        // the transaction with an epoch bump, so the client's fresh epoch fences anything in flight.
        if (!commit && tv >= 2) {
          await this.#end(m, false, false, tv);
          return ok();
        }
        return failure(ErrorCode.INVALID_TXN_STATE);
      }
      case 'Empty':
        if (!commit && tv >= 2) {
          await this.#end(m, false, false, tv);
          return ok();
        }
        return failure(ErrorCode.INVALID_TXN_STATE);
      case 'PrepareCommit': return failure(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case 'PrepareAbort': return failure(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      default: return failure(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /** Prepare, markers, complete. `fence` bumps the epoch first (timeouts, InitProducerId of another producer). */
  async #end(m: TxnMetadata, commit: boolean, fence: boolean, tv = m.clientTransactionVersion): Promise<void> {
    const state = commit ? 'PrepareCommit' : 'PrepareAbort';
    if (!fence && tv >= 2) {
      // TV2 (Kafka's prepareAbortOrCommit): bump; from an exhausted epoch the next producer id is chosen now and
      // taken once the markers (written with the last epoch, Short.MaxValue) are in.
      let nextProducerId = -1n;
      if (m.producerEpoch >= MAX_EPOCH) {
        try {
          nextProducerId = await this.#opts.generateProducerId();
        } catch (err) {
          throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, `allocating a producer id: ${(err as Error).message}`, { cause: err });
        }
      }
      await this.#transition(m, { state, producerEpoch: m.producerEpoch + 1, lastProducerEpoch: m.producerEpoch, nextProducerId, clientTransactionVersion: tv });
    } else {
      const epoch = fence && m.producerEpoch < MAX_EPOCH ? m.producerEpoch + 1 : m.producerEpoch;
      await this.#transition(m, { state, producerEpoch: epoch, lastProducerEpoch: fence ? -1 : m.lastProducerEpoch });
    }
    await this.#finish(m, commit);
  }

  /** Markers then Complete*; on failure the markers are retried in the background (the state stays Prepare*). */
  async #finish(m: TxnMetadata, commit: boolean): Promise<void> {
    try {
      const partitions = partitionsOf(m);
      if (partitions.length > 0) await this.#opts.markers.write(m.producerId, m.producerEpoch, commit, partitions);
      // TV2 epoch overflow (Kafka's prepareComplete): the producer continues with the new id at epoch 0.
      const rotate = m.clientTransactionVersion >= 2 && m.nextProducerId >= 0n
        ? { producerId: m.nextProducerId, previousProducerId: m.producerId, producerEpoch: 0, lastProducerEpoch: -1 } : {};
      await this.#transition(m, { state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: new Map(), nextProducerId: -1n, ...rotate });
    } catch (err) {
      if (this.#closed) return;
      this.#log.warn(`transaction ${m.transactionalId}: completing ${commit ? 'commit' : 'abort'} failed (${(err as Error).message}); retrying`);
      this.#clock.setTimeout(() => {
        if (!this.#closed && this.#txns.get(m.transactionalId) === m) void this.#enqueue(m.transactionalId, () => this.#finish(m, commit));
      }, this.#opts.markerRetryMs ?? 1000);
    }
  }

  /** Aborts every transaction open longer than its timeout (Kafka's abortTimedOutTransactions). Returns how many it started. */
  abortTimedOut(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const m of this.#txns.values()) {
      if (m.state !== 'Ongoing' || m.startTimestamp < 0 || now - m.startTimestamp <= m.timeoutMs) continue;
      const { producerId, producerEpoch } = m;
      n++;
      void this.#enqueue(m.transactionalId, async () => {
        // Re-checked in the queue: the producer may have ended it meanwhile.
        if (m.state !== 'Ongoing' || m.producerId !== producerId || m.producerEpoch !== producerEpoch) return;
        this.#log.info(`transaction ${m.transactionalId}: aborting, open for more than ${m.timeoutMs} ms (producer ${producerId} epoch ${producerEpoch} fenced)`);
        try {
          await this.#end(m, false, true);
        } catch (err) {
          this.#log.warn(`transaction ${m.transactionalId}: timeout abort failed: ${(err as Error).message}`);
        }
      });
    }
    return n;
  }

  /** transactional.id.expiration.ms: forgets ids idle that long with no transaction open (tombstones). */
  async expireIds(): Promise<number> {
    const now = this.#clock.now();
    let n = 0;
    for (const m of [...this.#txns.values()]) {
      if (!(m.state === 'Empty' || m.state === 'CompleteCommit' || m.state === 'CompleteAbort')) continue;
      if (now - m.lastUpdateTimestamp < this.#opts.idExpirationMs) continue;
      await this.#enqueue(m.transactionalId, async () => {
        if (this.#txns.get(m.transactionalId) !== m || now - m.lastUpdateTimestamp < this.#opts.idExpirationMs) return;
        try {
          await this.#opts.store.append(m.transactionalId, null);
        } catch {
          return;
        }
        this.#txns.delete(m.transactionalId);
        if (this.#byProducer.get(m.producerId) === m) this.#byProducer.delete(m.producerId);
        n++;
      });
    }
    if (n > 0) this.#log.info(`expired ${n} transactional id(s) (transactional.id.expiration.ms)`);
    return n;
  }
}
