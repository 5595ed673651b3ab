// The storage of one broker: topic metadata, one PartitionLog per partition under
// <data-dir>/<topic>-<partition>/, Kafka's checkpoint files, background retention, clean shutdown.
import { join } from 'node:path';
import { CLEANER_OFFSET_FILE, HIGH_WATERMARK_FILE, LOG_START_FILE, formatCheckpoint, RECOVERY_POINT_FILE, readCheckpoint, tpKey, writeCheckpoint } from './checkpoint.ts';
import { type RecordCodecs, Throttler } from './cleaner.ts';
import { type LogConfig, resolveLogConfig } from './config.ts';
import { type FsLike, nodeFs, readWholeFile, writeFileAtomic } from './fs.ts';
import { DeferredDeletes } from './deletes.ts';
import { MemFs } from './memfs.ts';
import { type LogHost, PartitionLog } from './partition-log.ts';
import { type Clock, systemClock } from './clock.ts';
import { type Logger, StorageError, silentLogger } from './types.ts';

export const TOPICS_FILE = 'gregor-topics.json';
/** Kafka's marker for a clean shutdown of a log dir. */
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export interface OpenStorageOptions {
  /** Directory holding the partition directories (Kafka's log.dirs entry). Ignored with memory. */
  dataDir?: string;
  /** Keep everything in memory (an in-memory file system; same code paths). */
  memory?: boolean;
  fs?: FsLike;
  clock?: Clock;
  log?: Logger;
  /** Broker-level defaults for topic configs, under the topic config names (segment.bytes, retention.ms, …). */
  defaults?: Record<string, string>;
  /** log.retention.check.interval.ms; default 5 minutes. 0 disables the timer (call runRetention()). */
  retentionCheckIntervalMs?: number;
  /** Uniform in [0, 1) for segment.jitter.ms draws (default Math.random; tests inject one). */
  random?: () => number;
  /** log.initial.task.delay.ms: the first retention pass runs this long after open (default: the interval). */
  initialTaskDelayMs?: number;
  /** The log cleaner (compaction of cleanup.policy=compact topics). */
  cleaner?: CleanerOptions;
  /** replica.high.watermark.checkpoint.interval.ms: how often replication-offset-checkpoint is rewritten (default 5000; 0 = only at close). */
  highWatermarkCheckpointIntervalMs?: number;
  /**
   * Logs open with their high watermark following the log end (default true: a leader whose ISR is itself,
   * today's single node). false: the high watermark is recovered from replication-offset-checkpoint and
   * moved by the caller (PartitionLog.setHighWatermark / updateHighWatermark).
   */
  highWatermarkFollowsLogEnd?: boolean;
  /**
   * The topics to open, when the caller keeps topic metadata itself (the broker: the KRaft metadata log). Then
   * gregor-topics.json is neither read nor written. Without it, storage keeps the topic list in that file.
   */
  topics?: readonly TopicMeta[];
}

export interface CleanerOptions {
  /** log.cleaner.enable (default true). */
  enabled?: boolean;
  /** log.cleaner.backoff.ms: pause between passes that found nothing to clean (default 15 s). 0 = no timer (call runCleaner()). */
  backoffMs?: number;
  /** Distinct keys one pass may map (log.cleaner.dedupe.buffer.size / 128 by the broker; default 1M). */
  maxMapEntries?: number;
  /** Compression codecs, so compressed batches can be cleaned; without them they are kept as they are. */
  codecs?: RecordCodecs;
  /** log.cleaner.io.max.bytes.per.second: bytes the cleaner reads plus writes per second (default unlimited). */
  ioMaxBytesPerSecond?: number;
}

export interface TopicMeta {
  readonly name: string;
  /** The broker's textual UUID form; storage keeps it opaque. */
  readonly topicId: string;
  partitions: number;
  configs: Record<string, string>;
}

export interface CreateTopicOptions {
  partitions: number;
  topicId: string;
  configs?: Record<string, string> | Map<string, string>;
}

const SAFE_NAME = /^[a-zA-Z0-9._-]+$/;
/** Partitions of one creation opened at a time (file operations in flight; the thread pool has 4 threads). */
const OPEN_CONCURRENCY = 16;

export class Storage {
  readonly dataDir: string;
  readonly fs: FsLike;
  readonly #host: LogHost;
  readonly #defaults: Record<string, string>;
  readonly #topics = new Map<string, TopicMeta>();
  readonly #logs = new Map<string, PartitionLog[]>();
  #checkpointRunning: Promise<void> | null = null;
  #checkpointAgain = false;
  /** Tail of each chain of metadata changes (see #metaOp). */
  readonly #metaChains = new Map<string, Promise<void>>();
  /** Topic metadata is the caller's (OpenStorageOptions.topics): no gregor-topics.json. */
  #externalTopics: readonly TopicMeta[] | null = null;
  #retentionTimer: unknown = null;
  readonly #retentionInterval: number;
  #random: () => number = Math.random;
  #retentionDelay: number;
  readonly #cleanerOpts: Required<Omit<CleanerOptions, 'codecs'>> & { codecs?: RecordCodecs };
  #cleanerTimer: unknown = null;
  #cleanerRun: Promise<number> | null = null;
  readonly #throttle: Throttler;
  /** Files and directories renamed for deletion, removed after their delay (file.delete.delay.ms). */
  readonly deletes: DeferredDeletes;
  #closed = false;
  #rollListener: ((log: PartitionLog) => void) | null = null;
  #hwTimer: unknown = null;
  readonly #hwInterval: number;
  /** replication-offset-checkpoint writes, in order; the text last written (skip unchanged rewrites). */
  #hwWrites: Promise<void> = Promise.resolve();
  #hwWritten = '';
  /** Background directory removals, awaited by close(). */
  readonly #pending = new Set<Promise<void>>();

  private constructor(dataDir: string, fs: FsLike, clock: Clock, log: Logger, defaults: Record<string, string>, retentionInterval: number, cleaner: CleanerOptions, hw: { intervalMs: number; followsLogEnd: boolean }) {
    this.dataDir = dataDir;
    this.fs = fs;
    this.#defaults = defaults;
    this.#retentionInterval = retentionInterval;
    this.#retentionDelay = retentionInterval;
    this.#cleanerOpts = { enabled: cleaner.enabled ?? true, backoffMs: cleaner.backoffMs ?? 15_000, maxMapEntries: cleaner.maxMapEntries ?? 1_000_000, codecs: cleaner.codecs, ioMaxBytesPerSecond: cleaner.ioMaxBytesPerSecond ?? Infinity };
    this.#throttle = new Throttler(clock, this.#cleanerOpts.ioMaxBytesPerSecond);
    this.deletes = new DeferredDeletes(fs, clock, log);
    this.#hwInterval = hw.intervalMs;
    this.#host = {
      fs, clock, log, checkpointDirty: () => this.#scheduleCheckpoint(), rolled: (l) => this.#rollListener?.(l),
      checkpointsWritten: async () => { await this.settle(); await this.#checkpointHighWatermarks(); },
      highWatermarkFollowsLogEnd: hw.followsLogEnd,
      deletes: this.deletes,
      random: () => this.#random(),
    };
  }

  static async open(opts: OpenStorageOptions): Promise<Storage> {
    const memory = opts.memory === true;
    const clock = opts.clock ?? systemClock;
    const fs = opts.fs ?? (memory ? new MemFs(() => clock.now()) : nodeFs);
    const dataDir = opts.dataDir ?? (memory ? '/gregor-data' : undefined);
    if (!dataDir) throw new TypeError('openStorage: dataDir is required unless memory is true');
    const defaults = opts.defaults ?? {};
    resolveLogConfig({}, defaults); // fail fast on bad broker defaults
    const s = new Storage(dataDir, fs, clock, opts.log ?? silentLogger, defaults, opts.retentionCheckIntervalMs ?? 300_000, opts.cleaner ?? {},
      { intervalMs: opts.highWatermarkCheckpointIntervalMs ?? 5000, followsLogEnd: opts.highWatermarkFollowsLogEnd ?? true });
    s.#externalTopics = opts.topics ?? null;
    if (opts.random) s.#random = opts.random;
    if (opts.initialTaskDelayMs !== undefined) s.#retentionDelay = Math.max(0, opts.initialTaskDelayMs);
    await s.#load();
    s.#armRetention();
    s.#armHighWatermarkCheckpoint();
    s.#armCleaner(s.#cleanerOpts.backoffMs);
    return s;
  }

  async #load(): Promise<void> {
    const { fs, log } = this.#host;
    await fs.mkdir(this.dataDir);
    const marker = join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    const clean = (await fs.stat(marker)) !== null;
    // Removed before recovery: a crash from here on must be treated as unclean.
    if (clean) await fs.unlink(marker);
    const rp = await this.#readCheckpoint(RECOVERY_POINT_FILE);
    const lso = await this.#readCheckpoint(LOG_START_FILE);
    const cleaned = await this.#readCheckpoint(CLEANER_OFFSET_FILE);
    const hws = await this.#readCheckpoint(HIGH_WATERMARK_FILE);
    const metaBuf = this.#externalTopics ? Buffer.from(JSON.stringify({ version: 1, topics: this.#externalTopics })) : await readWholeFile(fs, join(this.dataDir, TOPICS_FILE));
    const meta = metaBuf ? JSON.parse(metaBuf.toString('utf8')) as { version: number; topics: TopicMeta[] } : { version: 1, topics: [] };
    for (const t of meta.topics) this.#topics.set(t.name, { name: t.name, topicId: t.topicId, partitions: t.partitions, configs: { ...t.configs } });
    const known = new Set<string>();
    for (const t of this.#topics.values()) {
      const logs: PartitionLog[] = [];
      const config = this.#config(t.name, t.configs);
      for (let p = 0; p < t.partitions; p++) {
        known.add(`${t.name}-${p}`);
        const key = tpKey(t.name, p);
        logs.push(await PartitionLog.load(this.#host, t.name, p, join(this.dataDir, `${t.name}-${p}`), config, {
          recoveryPoint: rp?.get(key) ?? 0,
          logStartOffset: lso?.get(key) ?? 0,
          clean: clean && rp?.has(key) === true,
          highWatermark: hws?.get(key),
        }));
        logs[p].cleanerCheckpoint = cleaned?.get(key) ?? 0;
      }
      this.#logs.set(t.name, logs);
    }
    for (const entry of await fs.readdir(this.dataDir)) {
      if (entry.endsWith('-delete')) {
        this.#background(fs.rm(join(this.dataDir, entry)), `removing ${entry}`);
      } else if (!known.has(entry) && entry !== '__cluster_metadata-0' && /-\d+$/.test(entry) && (await fs.stat(join(this.dataDir, entry)))?.isDirectory) {
        log.warn(`${join(this.dataDir, entry)}: partition directory of no known topic; ignored`);
      }
    }
    const offline = [...this.#allLogs()].filter((l) => l.offline).length;
    const how = metaBuf === null ? 'new data dir' : `loaded after ${clean ? 'a clean' : 'an unclean'} shutdown`;
    log.info(`storage at ${this.dataDir}: ${this.#topics.size} topic(s), ${[...this.#allLogs()].length} partition(s), ${how}${offline ? `, ${offline} OFFLINE` : ''}`);
    this.#scheduleCheckpoint();
  }

  async #readCheckpoint(file: string): Promise<Map<string, number> | null> {
    try {
      return await readCheckpoint(this.fs, join(this.dataDir, file));
    } catch (e) {
      this.#host.log.warn(`${file}: ${(e as Error).message}; ignored (full recovery)`);
      return null;
    }
  }

  #config(topic: string, configs: Record<string, string> | Map<string, string>): LogConfig {
    try {
      return resolveLogConfig(configs, this.#defaults);
    } catch (e) {
      throw new StorageError('INVALID_CONFIG', `topic ${topic}: ${(e as Error).message}`);
    }
  }

  *#allLogs(): Generator<PartitionLog> {
    for (const logs of this.#logs.values()) yield* logs;
  }

  // ---- metadata -----------------------------------------------------------------------------------

  topics(): TopicMeta[] { return [...this.#topics.values()]; }
  getTopic(name: string): TopicMeta | undefined { return this.#topics.get(name); }
  partition(topic: string, partition: number): PartitionLog | undefined { return this.#logs.get(topic)?.[partition]; }
  /** Partitions that cannot take appends (corrupt segment at start-up, failed sync). */
  offlinePartitions(): PartitionLog[] { return [...this.#allLogs()].filter((l) => l.offline !== null); }

  /**
   * Serialises metadata changes; each one ends with the topics file rewritten atomically. When the topic list is
   * kept outside (`opts.topics`: the metadata log) there is no file to rewrite, so only changes of one topic are
   * ordered and different topics are created (deleted, …) concurrently: thousands of concurrent creations do not
   * wait for each other's directories.
   */
  #metaOp<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const key = this.#externalTopics ? name : '';
    const p = (this.#metaChains.get(key) ?? Promise.resolve()).then(() => {
      if (this.#closed) throw new StorageError('KAFKA_STORAGE_ERROR', 'storage is closed');
      return fn();
    });
    const tail = p.then(() => {}, () => {});
    this.#metaChains.set(key, tail);
    void tail.then(() => { if (this.#metaChains.get(key) === tail) this.#metaChains.delete(key); });
    return p;
  }

  async #persistTopics(): Promise<void> {
    if (this.#externalTopics) return;
    const json = JSON.stringify({ version: 1, topics: [...this.#topics.values()] }, null, 1);
    await writeFileAtomic(this.fs, join(this.dataDir, TOPICS_FILE), Buffer.from(json));
  }

  /**
   * Creates the topic with all its partitions, or nothing: a failure part-way (EMFILE, ENOSPC, …) closes and
   * removes the partitions opened so far, and the topic is neither listed nor persisted.
   */
  createTopic(name: string, opts: CreateTopicOptions): Promise<TopicMeta> {
    return this.#metaOp(name, async () => {
      if (!SAFE_NAME.test(name) || name === '.' || name === '..') throw new StorageError('INVALID_TOPIC_EXCEPTION', `invalid topic name ${JSON.stringify(name)}`);
      if (this.#topics.has(name)) throw new StorageError('TOPIC_ALREADY_EXISTS', `topic ${name} already exists`);
      if (!Number.isInteger(opts.partitions) || opts.partitions < 1) throw new StorageError('INVALID_PARTITIONS', `invalid partition count ${opts.partitions}`);
      const configs = opts.configs instanceof Map ? Object.fromEntries(opts.configs) : { ...opts.configs };
      const config = this.#config(name, configs);
      const meta: TopicMeta = { name, topicId: opts.topicId, partitions: opts.partitions, configs };
      const logs = await this.#openPartitions(meta, 0, opts.partitions, config);
      this.#topics.set(name, meta);
      this.#logs.set(name, logs);
      try {
        await this.#persistTopics();
      } catch (e) {
        this.#topics.delete(name);
        this.#logs.delete(name);
        await this.#discard(logs);
        throw e;
      }
      this.#host.log.info(`storage: created topic ${name} with ${opts.partitions} partition(s)`);
      return meta;
    });
  }

  /** Opens partitions [from, to) as new, empty logs; on a failure closes and removes those opened, then rethrows. */
  async #openPartitions(meta: TopicMeta, from: number, to: number, config: LogConfig): Promise<PartitionLog[]> {
    // Several at a time (each is a chain of small file operations on the thread pool); after a failure no new
    // one starts, and every partition started is removed again.
    const logs: Array<PartitionLog | undefined> = [];
    let next = from;
    let failed: { p: number; e: unknown } | null = null;
    const worker = async (): Promise<void> => {
      while (failed === null && next < to) {
        const p = next++;
        const dir = join(this.dataDir, `${meta.name}-${p}`);
        try {
          await this.fs.rm(dir); // leftovers of an earlier topic of the same name
          logs[p - from] = await PartitionLog.load(this.#host, meta.name, p, dir, config, { recoveryPoint: 0, logStartOffset: 0, clean: true });
        } catch (e) {
          failed ??= { p, e };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, to - from) }, worker));
    if (failed === null) return logs as PartitionLog[];
    const { p, e } = failed as { p: number; e: unknown };
    this.#host.log.warn(`storage: opening ${meta.name}-${p} failed (${(e as Error).message}); removing the ${next - from} new partition dir(s)`);
    const opened = logs.filter((l): l is PartitionLog => l !== undefined);
    await this.#discard(opened);
    // Partitions that failed have no log object, but may have left a directory behind.
    for (let q = from; q < next; q++) if (logs[q - from] === undefined) await this.fs.rm(join(this.dataDir, `${meta.name}-${q}`)).catch(() => {});
    throw e;
  }

  /** Closes new, never-listed partitions and removes their directories (best effort: they hold no data). */
  async #discard(logs: PartitionLog[]): Promise<void> {
    for (const l of logs) {
      await l.closeForDelete().catch(() => {});
      await this.fs.rm(l.dir).catch((e: Error) => this.#host.log.warn(`storage: removing ${l.dir}: ${e.message}`));
    }
  }

  /** Grows the topic to `totalCount` partitions, all or none (as createTopic). */
  addPartitions(name: string, totalCount: number): Promise<void> {
    return this.#metaOp(name, async () => {
      const meta = this.#topics.get(name);
      if (!meta) throw new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
      if (!Number.isInteger(totalCount) || totalCount <= meta.partitions) throw new StorageError('INVALID_PARTITIONS', `topic ${name} has ${meta.partitions} partitions; cannot grow to ${totalCount}`);
      const before = meta.partitions;
      const logs = await this.#openPartitions(meta, before, totalCount, this.#config(name, meta.configs));
      const all = this.#logs.get(name)!;
      all.push(...logs);
      meta.partitions = totalCount;
      try {
        await this.#persistTopics();
      } catch (e) {
        all.length = before;
        meta.partitions = before;
        await this.#discard(logs);
        throw e;
      }
    });
  }

  /** Replaces the topic's config overrides (the broker computes incremental changes). */
  alterTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    return this.#metaOp(name, async () => {
      const meta = this.#topics.get(name);
      if (!meta) throw new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
      const config = this.#config(name, configs);
      meta.configs = { ...configs };
      for (const l of this.#logs.get(name) ?? []) l.config = config;
      await this.#persistTopics();
    });
  }

  /**
   * Removes the topic and its data: directories are renamed to *-delete and removed after the broker's
   * file.delete.delay.ms (log.segment.delete.delay.ms), as Kafka's asyncDelete.
   */
  deleteTopic(name: string): Promise<void> {
    return this.#metaOp(name, async () => {
      const meta = this.#topics.get(name);
      if (!meta) throw new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
      const logs = this.#logs.get(name) ?? [];
      this.#topics.delete(name);
      this.#logs.delete(name);
      await this.#persistTopics();
      this.#scheduleCheckpoint();
      for (const l of logs) {
        await l.closeForDelete();
        const gone = `${l.dir}.${meta.topicId.replace(/[^a-zA-Z0-9_-]/g, '_')}-delete`;
        await this.fs.rename(l.dir, gone);
        this.deletes.schedule(gone, resolveLogConfig({}, this.#defaults).fileDeleteDelayMs, true);
      }
      this.#host.log.info(`storage: deleted topic ${name}`);
    });
  }

  // ---- background ---------------------------------------------------------------------------------

  #background(p: Promise<void>, what: string): void {
    const q = p.catch((e: Error) => this.#host.log.warn(`${what}: ${e.message}`)).finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }

  // Kafka's LogManager schedules retention at log.initial.task.delay.ms, then every log.retention.check.interval.ms.
  #armRetention(): void {
    if (this.#retentionInterval <= 0 || this.#closed) return;
    const delay = this.#retentionDelay;
    this.#retentionDelay = this.#retentionInterval;
    this.#retentionTimer = this.#host.clock.setTimeout(() => {
      this.#retentionTimer = null;
      try {
        this.runRetention();
      } finally {
        this.#armRetention();
      }
    }, delay);
  }

  /** One retention pass over every partition; returns the number of segments removed. */
  runRetention(): number {
    let n = 0;
    for (const l of this.#allLogs()) {
      try {
        n += l.applyRetention();
      } catch (e) {
        this.#host.log.error(`${l.name}: retention failed: ${(e as Error).message}`);
      }
    }
    return n;
  }

  #armCleaner(delayMs: number): void {
    if (!this.#cleanerOpts.enabled || this.#cleanerOpts.backoffMs <= 0 || this.#closed) return;
    this.#cleanerTimer = this.#host.clock.setTimeout(() => {
      this.#cleanerTimer = null;
      this.runCleaner().then(
        // Something was cleaned: there may be more (a pass maps a bounded number of keys), go on soon.
        (n) => this.#armCleaner(n > 0 ? 0 : this.#cleanerOpts.backoffMs),
        () => this.#armCleaner(this.#cleanerOpts.backoffMs),
      );
    }, delayMs);
  }

  /**
   * One log-cleaner pass: each compacted partition that is due is cleaned, one at a time (log.cleaner.threads
   * = 1). Resolves to the number of segments rewritten. Runs on a timer (log.cleaner.backoff.ms).
   */
  runCleaner(opts: { force?: boolean } = {}): Promise<number> {
    this.#cleanerRun ??= (async () => {
      let n = 0;
      try {
        for (const l of [...this.#allLogs()]) {
          if (this.#closed) break;
          if (!l.config.compact) continue;
          const r = await l.compact({ maxMapEntries: this.#cleanerOpts.maxMapEntries, codecs: this.#cleanerOpts.codecs, force: opts.force, throttle: this.#throttle });
          n += r?.segmentsCleaned ?? 0;
        }
      } finally {
        this.#cleanerRun = null;
      }
      return n;
    })();
    return this.#cleanerRun;
  }

  #armHighWatermarkCheckpoint(): void {
    if (this.#hwInterval <= 0 || this.#closed) return;
    this.#hwTimer = this.#host.clock.setTimeout(() => {
      this.#hwTimer = null;
      this.#checkpointHighWatermarks().finally(() => this.#armHighWatermarkCheckpoint());
    }, this.#hwInterval);
  }

  /** Rewrites replication-offset-checkpoint when a high watermark changed since the last write (serialised). */
  #checkpointHighWatermarks(): Promise<void> {
    this.#hwWrites = this.#hwWrites.then(async () => {
      const hws = new Map<string, number>();
      for (const l of this.#allLogs()) hws.set(tpKey(l.topic, l.partition), l.highWatermark);
      const text = formatCheckpoint(hws);
      if (text === this.#hwWritten) return;
      try {
        await writeFileAtomic(this.fs, join(this.dataDir, HIGH_WATERMARK_FILE), Buffer.from(text));
        this.#hwWritten = text;
      } catch (e) {
        this.#host.log.error(`writing ${HIGH_WATERMARK_FILE}: ${(e as Error).message}`);
      }
    });
    return this.#hwWrites;
  }

  #scheduleCheckpoint(): void {
    if (this.#checkpointRunning) {
      this.#checkpointAgain = true;
      return;
    }
    this.#checkpointRunning = (async () => {
      do {
        this.#checkpointAgain = false;
        try {
          await this.#writeCheckpoints();
        } catch (e) {
          this.#host.log.error(`writing checkpoints: ${(e as Error).message}`);
        }
      } while (this.#checkpointAgain);
      this.#checkpointRunning = null;
    })();
  }

  async #writeCheckpoints(): Promise<void> {
    const rp = new Map<string, number>();
    const lso = new Map<string, number>();
    const cleaned = new Map<string, number>();
    for (const l of this.#allLogs()) {
      rp.set(tpKey(l.topic, l.partition), l.recoveryPoint);
      lso.set(tpKey(l.topic, l.partition), l.logStartOffset);
      if (l.config.compact) cleaned.set(tpKey(l.topic, l.partition), l.cleanerCheckpoint);
    }
    await writeCheckpoint(this.fs, join(this.dataDir, RECOVERY_POINT_FILE), rp);
    await writeCheckpoint(this.fs, join(this.dataDir, LOG_START_FILE), lso);
    await writeCheckpoint(this.fs, join(this.dataDir, CLEANER_OFFSET_FILE), cleaned);
  }

  /** Waits until background checkpoint writes are done (tests). */
  async settle(): Promise<void> {
    while (this.#checkpointRunning) await this.#checkpointRunning;
  }

  /** Clean shutdown: drain and sync every partition, write checkpoints and the clean-shutdown marker. */
  /** Called after each segment roll of any partition, once the previous segment is synced (one listener). */
  onRoll(listener: (log: PartitionLog) => void): void { this.#rollListener = listener; }

  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#metaChains.size > 0) await Promise.all(this.#metaChains.values());
    this.#closed = true;
    if (this.#retentionTimer !== null) this.#host.clock.clearTimeout(this.#retentionTimer);
    if (this.#cleanerTimer !== null) this.#host.clock.clearTimeout(this.#cleanerTimer);
    if (this.#hwTimer !== null) this.#host.clock.clearTimeout(this.#hwTimer);
    await this.#cleanerRun;
    await this.deletes.close();
    // Partitions close independently (flush, indexes, files): in parallel, so thousands of partitions stop
    // within a container's stop grace period.
    const closed = await Promise.all([...this.#allLogs()].map((l) => l.close()));
    const clean = closed.every(Boolean);
    await this.settle();
    await Promise.all(this.#pending);
    await this.#writeCheckpoints();
    await this.#checkpointHighWatermarks();
    if (clean) {
      await writeFileAtomic(this.fs, join(this.dataDir, CLEAN_SHUTDOWN_FILE), Buffer.alloc(0));
    } else {
      this.#host.log.warn(`storage at ${this.dataDir}: some partitions could not be synced; next start runs full recovery`);
    }
  }
}

export function openStorage(opts: OpenStorageOptions): Promise<Storage> {
  return Storage.open(opts);
}
