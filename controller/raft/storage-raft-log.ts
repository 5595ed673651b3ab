// The `__cluster_metadata-0` log on disk (Kafka's KafkaMetadataLog): the batches in a storage PartitionLog under
// `<log dir>/__cluster_metadata-0/` (segments, indexes, leader-epoch-checkpoint, as Kafka lays them out) and the
// snapshots beside them as `<end offset>-<epoch>.checkpoint` files. The Raft core is synchronous, so the log is
// mirrored in memory (each batch in memory of its own, see ownedCopy; snapshots bound it, but nothing in the broker
// takes one yet) and every disk operation is queued on one chain, in call order: the disk always holds a prefix of
// the operations, and `flush(done)` runs `done` only once everything before it is written and synced. A failed disk operation stops the chain for good (later flushes never
// complete, so nothing more commits) and is reported through `onError`: Kafka stops the node on a metadata log
// dir failure.

import { join } from 'node:path';
import { type Clock, type FsLike, type Logger, PartitionLog, readWholeFile, resolveLogConfig, silentLogger, writeFileAtomic } from '../../storage/index.ts';
import { RecordBatchView, scanRecordSet, setBaseOffset, setPartitionLeaderEpoch } from '../../protocol/records.ts';
import { ownedCopy } from '../../protocol/owned-copy.ts';
import { METADATA_PARTITION_DIR, parseSnapshotFileName, snapshotFileName } from '../metadata/log-format.ts';
import { BatchIndex, SnapshotSet } from './batch-index.ts';
import type { RaftLog } from './raft-log.ts';
import { METADATA_TOPIC, type OffsetAndEpoch } from './types.ts';


export interface StorageRaftLogOptions {
  fs: FsLike;
  /** The log dir (Kafka's metadata.log.dir, by default the first of log.dirs); the log is `<dir>/__cluster_metadata-0`. */
  logDir: string;
  clock: Clock;
  log?: Logger;
  /** A disk operation failed: the log accepts nothing more (the node must stop). */
  onError?: (e: Error) => void;
}

export class StorageRaftLog implements RaftLog {
  readonly dir: string;
  readonly #fs: FsLike;
  readonly #plog: PartitionLog;
  readonly #onError: (e: Error) => void;
  readonly #log = new BatchIndex();
  readonly #snapshots = new SnapshotSet();
  #durable = 0;
  #hw = -1;
  #gen = 0;
  #chain: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
  #closed = false;
  /** Sequence number of the newest queued flush, and callbacks of skipped flushes waiting for the next sync. */
  #flushesQueued = 0;
  readonly #flushCarry: Array<() => void> = [];
  /** Syncs done (flushes that reached the disk); tests and benchmarks read it. */
  syncs = 0;

  private constructor(dir: string, fs: FsLike, plog: PartitionLog, onError: (e: Error) => void) {
    this.dir = dir;
    this.#fs = fs;
    this.#plog = plog;
    this.#onError = onError;
  }

  static async open(o: StorageRaftLogOptions): Promise<StorageRaftLog> {
    const dir = join(o.logDir, METADATA_PARTITION_DIR);
    await o.fs.mkdir(o.logDir);
    await o.fs.mkdir(dir);
    const logger = o.log ?? silentLogger;
    // Snapshots: the newest complete one wins; temp files of an interrupted write are removed.
    const snaps: OffsetAndEpoch[] = [];
    for (const name of await o.fs.readdir(dir)) {
      const id = parseSnapshotFileName(name);
      if (id) snaps.push({ offset: Number(id.endOffset), epoch: id.epoch });
      else if (name.includes('.checkpoint')) await o.fs.unlink(join(dir, name)).catch(() => {});
    }
    snaps.sort((a, b) => a.offset - b.offset || a.epoch - b.epoch);
    // Kafka's metadata log: no time or size retention (only snapshots shorten it); full recovery at every open
    // (recovery point 0): the log is small and its tail must be checked after any crash.
    const config = resolveLogConfig({ 'retention.ms': '-1', 'retention.bytes': '-1' }, {});
    const host = { fs: o.fs, clock: o.clock, log: logger, checkpointDirty: () => {}, highWatermarkFollowsLogEnd: true };
    const plog = await PartitionLog.load(host, METADATA_TOPIC, 0, dir, config, { recoveryPoint: 0, logStartOffset: 0, clean: false });
    if (plog.offline) throw new Error(`${dir}: ${plog.offline.message}`);
    const self = new StorageRaftLog(dir, o.fs, plog, o.onError ?? ((e) => logger.error(`${dir}: ${e.message}`)));
    const latest = snaps.at(-1) ?? null;
    if (latest !== null) {
      const bytes = await readWholeFile(o.fs, join(dir, snapshotFileName(latest.offset, latest.epoch)));
      if (bytes === null) throw new Error(`${dir}: snapshot ${latest.offset}-${latest.epoch} vanished`);
      self.#snapshots.add(latest, bytes);
      // A log that does not reach the snapshot (a fetched snapshot installed, or the log's tail lost in a crash)
      // restarts at it, as Kafka's KafkaMetadataLog does at open.
      if (plog.logEndOffset < latest.offset || plog.logStartOffset > latest.offset) await plog.truncateFullyAndStartAt(latest.offset);
      else if (plog.logStartOffset < latest.offset) plog.deleteRecordsBefore(latest.offset);
      self.#log.reset(latest);
      for (const s of snaps.slice(0, -1)) await o.fs.unlink(join(dir, snapshotFileName(s.offset, s.epoch))).catch(() => {});
    } else {
      self.#log.start = plog.logStartOffset;
    }
    // Mirror the log in memory.
    let at = self.#log.start;
    while (at < plog.logEndOffset) {
      const r = await plog.read(at, 8 << 20, { toLogEnd: true });
      if (r.error !== null) throw new Error(`${dir}: reading at ${at}: ${r.message}`);
      if (r.batches.length === 0) break;
      for (const chunk of r.batches) {
        // One copy per read, every batch of it a view: a copy per batch of the rest of the chunk (as before) made
        // opening quadratic in the log's size, in time and in memory kept.
        const own = ownedCopy(chunk);
        for (const span of scanRecordSet(own).batches) {
          const v = new RecordBatchView(own.subarray(span.offset, span.offset + span.size));
          if (v.lastOffset < at) continue;
          self.#log.entries.push({ base: v.baseOffset, last: v.lastOffset, epoch: v.partitionLeaderEpoch, buf: v.bytes() });
          at = v.lastOffset + 1;
        }
      }
    }
    const first = self.#log.entries[0];
    if (first !== undefined && first.base !== self.#log.start) self.#log.start = first.base;
    self.#durable = self.endOffset();
    return self;
  }

  startOffset(): number { return this.#log.start; }
  endOffset(): number { return this.#log.endOffset(); }
  flushedOffset(): number { return Math.min(this.#durable, this.endOffset()); }
  lastFetchedEpoch(): number { return this.#log.lastEpoch(); }
  highWatermark(): number { return this.#hw; }
  updateHighWatermark(offset: number): void { this.#hw = offset; }
  /** The disk failure that stopped the log, if any. */
  get failed(): Error | null { return this.#failed; }
  endOffsetForEpoch(epoch: number): OffsetAndEpoch { return this.#log.endOffsetForEpoch(epoch); }
  epochAt(offset: number): number { return this.#log.epochAt(offset); }

  appendAsLeader(batch: Buffer, epoch: number): number {
    setBaseOffset(batch, 0, this.endOffset());
    setPartitionLeaderEpoch(batch, 0, epoch);
    this.appendAsFollower([batch]);
    return this.endOffset() - 1;
  }

  appendAsFollower(batches: Buffer[]): void {
    const added: Buffer[] = [];
    for (const buf of batches) {
      // A copy: the caller's buffer (a fetch response) must not pin or alias what the log keeps.
      added.push(this.#log.push(ownedCopy(buf)).buf);
    }
    if (added.length === 0) return;
    const bytes = added.length === 1 ? added[0]! : Buffer.concat(added);
    this.#enqueue(async () => { await this.#plog.appendAsFollower(bytes); });
  }

  truncateTo(offset: number): void {
    if (!this.#log.truncateTo(offset)) return;
    this.#durable = Math.min(this.#durable, this.endOffset());
    if (this.#hw > this.endOffset()) this.#hw = this.endOffset();
    this.#gen++;
    const to = this.endOffset();
    this.#enqueue(async () => { await this.#plog.truncateTo(to); });
  }

  /**
   * `done` runs once everything queued before this call is on disk. Flushes coalesce: a flush that reaches the
   * head of the chain while a later one is queued leaves the sync to that one and hands it its callback (the later
   * sync covers everything before it), so proposals arriving during a sync share the next one.
   */
  flush(done: () => void): void {
    const target = this.endOffset();
    const gen = this.#gen;
    const seq = ++this.#flushesQueued;
    this.#enqueue(async () => {
      if (seq !== this.#flushesQueued) { this.#flushCarry.push(done); return; }
      const dones = this.#flushCarry.splice(0);
      dones.push(done);
      await this.#plog.flush();
      this.syncs++;
      if (gen === this.#gen) this.#durable = Math.max(this.#durable, Math.min(target, this.endOffset()));
      if (!this.#closed) for (const d of dones) d();
    });
  }

  read(from: number, maxBytes: number): Buffer { return this.#log.read(from, maxBytes); }

  latestSnapshot(): OffsetAndEpoch | null { return this.#snapshots.latest; }
  readSnapshot(id: OffsetAndEpoch): Buffer | null { return this.#snapshots.get(id); }

  createSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    if (!this.#log.isBoundary(id.offset)) throw new Error(`snapshot end offset ${id.offset} is not at a batch boundary`);
    this.#snapshots.add(id, bytes);
    const file = join(this.dir, snapshotFileName(id.offset, id.epoch));
    this.#enqueue(() => writeFileAtomic(this.#fs, file, bytes));
  }

  deleteBeforeSnapshot(): void {
    const s = this.#snapshots.latest;
    if (s === null || s.offset <= this.#log.start) return;
    this.#log.startAt(s);
    const old = this.#snapshots.dropBelow(s.offset);
    // On disk only after the snapshot file is durable (the chain is in order): a crash leaves the log or the snapshot.
    this.#enqueue(async () => {
      if (s.offset <= this.#plog.logEndOffset) {
        this.#plog.deleteRecordsBefore(s.offset);
        this.#plog.applyRetention();
      }
      for (const id of old) await this.#fs.unlink(join(this.dir, snapshotFileName(id.offset, id.epoch))).catch(() => {});
    });
  }

  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    const old = this.#snapshots.install(id, bytes);
    this.#log.reset(id);
    this.#durable = id.offset;
    this.#gen++;
    const file = join(this.dir, snapshotFileName(id.offset, id.epoch));
    this.#enqueue(async () => {
      await writeFileAtomic(this.#fs, file, bytes);
      await this.#plog.truncateFullyAndStartAt(id.offset);
      for (const o of old) await this.#fs.unlink(join(this.dir, snapshotFileName(o.offset, o.epoch))).catch(() => {});
    });
  }

  /** Waits for every queued disk operation (tests, close). */
  async settle(): Promise<void> {
    let c: Promise<void>;
    do { c = this.#chain; await c; } while (c !== this.#chain);
  }

  /** Drains the queue and closes the segment files (clean shutdown). */
  async close(): Promise<void> {
    await this.settle();
    this.#closed = true;
    await this.#plog.close();
  }

  #enqueue(op: () => Promise<void>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#failed) return;
      try {
        await op();
      } catch (e) {
        this.#failed = e as Error;
        this.#onError(e as Error);
      }
    });
  }
}

