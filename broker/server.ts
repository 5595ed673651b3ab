// The broker: listeners, connections and the state handlers read.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import path from 'node:path';
import { FaultyFs, type FsLike, MemFs, nodeFs, openStorage, readWholeFile, resolveLogConfig, type Storage, StorageError, writeFileAtomic } from '../storage/index.ts';
import { LOG_CONFIG_DEFAULTS } from '../storage/config.ts';
import { compress, decompress } from '../protocol/compression.ts';
import { topicConfigDefaults } from './configs/index.ts';
import { type BrokerConfig, buildBrokerConfig, ConfigError, controllerListenerName, ineffectiveSettings, parseListeners, parseProperties } from './config.ts';
import { AppendNotifier } from './append-notifier.ts';
import { createStartupTopics, startupTopics, type TopicSpec } from './startup-topics.ts';
import { Connection } from './connection.ts';
import { ConnectionLimits, limitSettings } from './connection-limits.ts';
import { FetchSessionCache } from './fetch-sessions.ts';
import { createGroupCoordinator, startGroupCoordinator } from './groups/index.ts';
import { type Clock, systemClock } from '../storage/clock.ts';
import type { AdvertisedAddress, BrokerContext } from './context.ts';
import type { Handler } from './handler.ts';
import { FaultRules } from './fault-rules.ts';
import { type InterceptDecision, type Interception, type InterceptOptions, Interceptors } from './intercept.ts';
import { type BoundServer, netTransport, type Transport, type TransportSocket } from './transport.ts';
import type { ConnectionSecurity } from './connection.ts';
import type { ScramStore } from './security/scram-store.ts';
import { protocolMap } from './security/listener-config.ts';
import { advertisedVersions, buildHandlerTable, type HandlerTable } from './handler-table.ts';
import { type HandlerRow, handlerRows, loadHandler } from './handlers/index.ts';
import { consoleLogger, type Logger } from './log.ts';
import type { BrokerMetrics } from './metrics/counters.ts';
import { PartitionManager } from './partitions/index.ts';
import { ProducerRegistry } from './producers/index.ts';
import { OFFSETS_TOPIC } from './groups/records.ts';
import { createTransactionCoordinator, startTransactionCoordinator } from './transactions/index.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { asBrokerError, MetadataApplier, openClusterMetadata, topicMetas } from './cluster-metadata.ts';
import { BrokerLifecycle } from './broker-lifecycle.ts';
import { inProcessChannel } from './controller-channel.ts';
import { CreationRefused, EXCESSIVE_PARTITIONS_MESSAGE, isInternalTopic, MAX_PARTITIONS_PER_REQUEST, randomUuid, type TopicInfo, TopicRegistry } from './topics.ts';

export interface BrokerOptions {
  /** Effective configuration; default: Kafka's defaults. */
  config?: BrokerConfig;
  /** 'file' keeps data under log.dirs; 'memory' keeps nothing on disk (a fresh in-memory file system, or `fs`). */
  storage?: 'file' | 'memory';
  /**
   * The file system every byte of broker data goes through (storage's FsLike): meta.properties and the logs
   * under log.dirs ('file'), or the logs under an in-memory root ('memory'). Default: node:fs ('file'), a
   * fresh MemFs ('memory'). Tests pass a MemFs (shared across restarts: a crash keeps its contents) or a
   * FaultyFs wrapping one to fail chosen operations (storage/index.ts exports both).
   */
  fs?: FsLike;
  /** How listeners accept connections (transport.ts); default TCP (node:net). */
  transport?: Transport;
  logger?: Logger;
  clock?: Clock;
  randomBytes?: (n: number) => Buffer;
  /** Replace the handler set (tests): loaded handlers, or rows loaded on first use by `loadHandler`. */
  handlers?: ReadonlyArray<Handler | HandlerRow>;
  /** How a row's handler module is loaded (tests inject load failures). */
  loadHandler?: (row: HandlerRow) => Promise<Handler>;
  /** Topics created before any listener accepts, after those of `gregor.create.topics` (same checks and rules). */
  topics?: readonly TopicSpec[];
}

export interface BoundListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly advertised: AdvertisedAddress;
}

export interface Broker {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly listeners: readonly BoundListener[];
  readonly context: BrokerContext;
  /** The handler table connections dispatch on. */
  readonly handlers: HandlerTable;
  /**
   * Fault injection for tests (intercept.ts): requests of `apiKey` to this broker only (matching `opts`) get
   * the action `decide` gives (or returns; undefined passes a request through). remove() on the handle ends it.
   */
  intercept(apiKey: number, opts: InterceptOptions, decide: InterceptDecision): Interception;
  /**
   * Named fault rules (fault-rules.ts), also over HTTP with gregor.fault.injection.enable=true; disk rules need that
   * setting at start.
   */
  readonly faults: FaultRules;
  /** The gregor.http.listener (health, metrics) as bound, or null when it is off. */
  readonly http: { readonly host: string; readonly port: number } | null;
  /** The gregor.schema.registry.listener as bound; absent or null when it is off. */
  readonly schemaRegistry?: { readonly host: string; readonly port: number } | null;
  /** The gregor.rest.proxy.listener as bound; absent or null when it is off. */
  readonly restProxy?: { readonly host: string; readonly port: number } | null;
  /** Stops listening, closes every connection. */
  close(): Promise<void>;
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

/**
 * Broker-level defaults of topic configs: each topic config storage understands, from its broker synonyms
 * (log.segment.bytes, log.roll.ms/hours, log.retention.ms/minutes/hours, message.max.bytes, …) as Kafka
 * derives them (the config catalogue, configs/index.ts).
 */
function storageDefaults(config: BrokerConfig): Record<string, string> {
  const all = topicConfigDefaults(config);
  const out: Record<string, string> = {};
  for (const name of Object.keys(LOG_CONFIG_DEFAULTS)) if (all[name] !== undefined) out[name] = all[name];
  return out;
}

/** Reads or creates `<dir>/meta.properties` (Kafka's file: version, node.id, cluster.id). */
async function loadOrCreateMeta(fs: FsLike, dir: string, nodeId: number, configuredClusterId: string | null, rnd: (n: number) => Buffer): Promise<string> {
  await fs.mkdir(dir);
  const file = path.join(dir, 'meta.properties');
  const existing = await readWholeFile(fs, file);
  if (existing) {
    const props = parseProperties(existing.toString('utf8'));
    const stored = props.get('cluster.id');
    const storedNode = props.get('node.id');
    if (stored && configuredClusterId && stored !== configuredClusterId) {
      // Kafka: "Invalid cluster.id in: <file>. Expected <stored>, but read <configured>"; the data is another cluster's.
      throw new ConfigError(`cluster id ${configuredClusterId} (CLUSTER_ID / cluster.id) does not match ${stored}, the cluster id of the data in ${dir} (${file}); use an empty data directory for a new cluster, or set the cluster id to ${stored}`);
    }
    if (storedNode !== undefined && Number(storedNode) !== nodeId) {
      throw new ConfigError(`node.id ${nodeId} does not match ${storedNode} stored in ${file}`);
    }
    if (stored) return stored;
  }
  const clusterId = configuredClusterId ?? randomUuid(rnd);
  await writeFileAtomic(fs, file, Buffer.from(`#\n#${new Date().toISOString()}\nnode.id=${nodeId}\nversion=1\ncluster.id=${clusterId}\n`));
  return clusterId;
}

export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const config = options.config ?? buildBrokerConfig();
  const logger = options.logger ?? consoleLogger();
  // Health and metrics (http/operations.ts) are loaded only when their listener is configured.
  const httpListener = config.get('gregor.http.listener');
  if (config.bool('gregor.console.enable') && !httpListener?.trim()) throw new ConfigError('gregor.console.enable=true needs gregor.http.listener (the console is served there)');
  const serve = await withHttpApis(config, logger, startServing);
  if (!httpListener?.trim()) return serve({ ...options, config, logger });
  const { startWithHttpListener } = await import('./http/operations.ts');
  return startWithHttpListener(httpListener, { ...options, config, logger }, serve);
}

/**
 * `start` followed by the HTTP APIs whose listener is set (each loaded only then): the Schema Registry
 * (gregor.schema.registry.listener) and the REST Proxy (gregor.rest.proxy.listener). They close before the broker.
 */
async function withHttpApis(config: BrokerConfig, logger: Logger, start: typeof startServing): Promise<typeof startServing> {
  const apis = [
    { config: 'gregor.schema.registry.listener', limit: 'gregor.schema.registry.max.request.bytes', field: 'schemaRegistry',
      load: async () => (await import('./schema-registry/service.ts')).startSchemaRegistry },
    { config: 'gregor.rest.proxy.listener', limit: 'gregor.rest.proxy.max.request.bytes', field: 'restProxy',
      load: async () => (await import('./rest-proxy/service.ts')).startRestProxy },
  ].filter((a) => config.get(a.config)?.trim()); // off: node:http is not loaded
  if (apis.length === 0) return start;
  const { parseHostPort } = await import('./http/server.ts');
  const specs = apis.map((a) => {
    const maxBody = config.int(a.limit);
    if (maxBody < 1) throw new ConfigError(`${a.limit} must be at least 1, got ${maxBody}`);
    return { ...a, spec: parseHostPort(a.config, config.get(a.config))!, maxBody };
  });
  return async (options, metrics): Promise<Broker> => {
    const broker = await start(options, metrics);
    const started: Array<{ host: string; port: number; close(): Promise<void> }> = [];
    const fields: Record<string, { host: string; port: number }> = {};
    try {
      for (const a of specs) {
        const s = await (await a.load())(broker, a.spec, logger, a.maxBody);
        started.push(s);
        fields[a.field] = { host: s.host, port: s.port };
      }
    } catch (err) {
      await Promise.all(started.map((s) => s.close()));
      await broker.close();
      throw err;
    }
    let closing: Promise<void> | undefined;
    return {
      ...broker, ...fields,
      close(): Promise<void> {
        closing ??= Promise.all(started.map((s) => s.close())).then(() => {}).finally(() => broker.close());
        return closing;
      },
    };
  };
}

/** The broker itself; `metrics` (counting for the HTTP listener's /metrics) only when that listener is on. */
/** The controller listener and the voters' network (raft-net.ts, loaded only with several voters). */
async function openControllerListener(...args: Parameters<typeof import('./raft-net.ts').openControllerListener>) {
  const { openControllerListener: open } = await import('./raft-net.ts');
  return open(...args);
}

async function startServing(options: BrokerOptions, metrics?: BrokerMetrics): Promise<Broker> {
  const config = options.config ?? buildBrokerConfig();
  const log = options.logger ?? consoleLogger();
  const clock = options.clock ?? systemClock;
  const randomBytes = options.randomBytes ?? cryptoRandomBytes;
  const nodeId = config.int('node.id');
  const storage_ = options.storage ?? 'file';

  // Names, ports, security protocols and advertised listeners were checked by buildBrokerConfig.
  const listenerSpecs = parseListeners(config.list('listeners'));
  const topicsToCreate = startupTopics(config, options.topics);
  const connectionLimits = await limitSettings(config);
  for (const line of config.notes) log.info(line);
  for (const line of ineffectiveSettings(config)) log.warn(line);
  const advertisedSpecs = new Map(parseListeners(config.list('advertised.listeners')).map((l) => [l.name, l]));
  // TLS/SASL settings, checked now; the module is loaded only when a listener or a setting needs it.
  const protocols = protocolMap(config);
  const security = listenerSpecs.some((l) => protocols.get(l.name) !== 'PLAINTEXT') || config.get('gregor.scram.credentials')
    ? await import('./security/index.ts').then((m) => ({ setup: m.buildSecurity(config, listenerSpecs, protocols, log, () => clock.now()), secureSocket: m.secureSocket }))
    : null;

  const clusterId = storage_ === 'file'
    ? await loadOrCreateMeta(options.fs ?? nodeFs, config.list('log.dirs')[0], nodeId, config.get('cluster.id'), randomBytes)
    : config.get('cluster.id') ?? randomUuid(randomBytes);

  const dataDir = config.list('log.dirs')[0];
  // Several voters: the controller listener serves the Raft network before the controller waits for an election.
  const ctl = controllerListenerName(config) === null ? null : await openControllerListener(config, options, log, clock, clusterId, metrics);
  const clientListenerSpecs = listenerSpecs.filter((l) => l.name !== ctl?.name);
  // Topic metadata lives in the KRaft metadata log (cluster-metadata.ts); in memory too, on the same file system.
  const baseFs = options.fs ?? (storage_ === 'memory' ? new MemFs(() => clock.now()) : nodeFs);
  // Disk fault rules (fault-rules.ts) need storage on a fault-injecting file system: only when asked for.
  const faultyFs = config.bool('gregor.fault.injection.enable') ? (baseFs instanceof FaultyFs ? baseFs : new FaultyFs(baseFs)) : null;
  const dataFs = faultyFs ?? baseFs;
  const storageDir = storage_ === 'memory' ? '/gregor-data' : dataDir;
  const sessionTimeoutMs = config.int('broker.session.timeout.ms');
  let controller: Awaited<ReturnType<typeof openClusterMetadata>>;
  try {
    controller = await openClusterMetadata({
      fs: dataFs, logDir: storageDir, nodeId, clusterId, clock, log, sessionTimeoutMs,
      snapshotMaxBytes: config.int('metadata.log.max.record.bytes.between.snapshots'),
      snapshotIntervalMs: config.int('metadata.log.max.snapshot.interval.ms'),
      voters: ctl?.quorum.voterIds, transport: ctl?.quorum.network,
      quorumConfig: {
        electionTimeoutMs: config.int('controller.quorum.election.timeout.ms'),
        fetchTimeoutMs: config.int('controller.quorum.fetch.timeout.ms'),
        electionBackoffMaxMs: config.int('controller.quorum.election.backoff.max.ms'),
        retryBackoffMs: config.int('controller.quorum.retry.backoff.ms'),
        requestTimeoutMs: config.int('controller.quorum.request.timeout.ms'),
      },
    });
  } catch (err) {
    await ctl?.close();
    throw err;
  }
  ctl?.setController(controller);
  const notControllerMessage = (): string => `node ${nodeId} is not the active controller (the active controller is node ${controller.leaderAndEpoch().leaderId})`;
  // Registration and the unfencing heartbeat run while storage and the coordinators load; listeners open once
  // unfenced (Kafka's BrokerServer waits for initialUnfenceFuture before enabling request processing). With
  // several nodes the channel reaches the active controller over its controller listener (raft-net.ts).
  // Registered with each client listener's advertised address (what other nodes' Metadata answers give clients;
  // a port 0 is only known once bound).
  const lifecycle = new BrokerLifecycle({
    nodeId, clusterId, clock, log, randomBytes, rack: config.get('broker.rack'),
    channel: ctl ? ctl.controllerChannel(controller) : inProcessChannel(controller),
    listeners: clientListenerSpecs.map((l) => {
      const adv = advertisedSpecs.get(l.name);
      const host = adv && !WILDCARD_HOSTS.has(adv.host) ? adv.host : WILDCARD_HOSTS.has(l.host) ? 'localhost' : l.host;
      return { name: l.name, host, port: adv && adv.port !== 0 ? adv.port : l.port };
    }),
    metadataOffset: () => Number(controller.image.offset),
    heartbeatIntervalMs: config.int('broker.heartbeat.interval.ms'),
    registrationTimeoutMs: config.int('initial.broker.registration.timeout.ms'),
  });
  const unfenced = lifecycle.start();
  unfenced.catch(() => {}); // awaited below; a failure before then must not be an unhandled rejection
  const defaults = storageDefaults(config);
  /** Refuses configs storage could not open a log with, before they are committed. */
  const checkConfigs = (name: string, configs: Map<string, string>): void => {
    try {
      resolveLogConfig(configs, defaults);
    } catch (e) {
      throw new StorageError('INVALID_CONFIG', `topic ${name}: ${(e as Error).message}`);
    }
  };
  let storage: Storage;
  try {
    storage = await openStorage({
    memory: storage_ === 'memory', dataDir: storageDir, fs: dataFs, topics: topicMetas(controller.image),
    clock, log, defaults,
    retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
    initialTaskDelayMs: config.int('log.initial.task.delay.ms'),
    cleaner: {
      enabled: config.bool('log.cleaner.enable'),
      backoffMs: config.int('log.cleaner.backoff.ms'),
      // Kafka's map costs 24 bytes per key; a JS Map entry is ~5x that, so the same budget maps fewer keys.
      maxMapEntries: Math.max(1000, Math.floor(config.int('log.cleaner.dedupe.buffer.size') / 128)),
      codecs: { compress: (c, d) => compress(c, d), decompress: (c, d) => decompress(c, d) },
      ioMaxBytesPerSecond: Number(config.get('log.cleaner.io.max.bytes.per.second')),
    },
  });
  } catch (err) {
    lifecycle.close();
    await controller.close();
    throw err;
  }
  const topics = new TopicRegistry();
  for (const t of storage.topics()) {
    topics.add({ name: t.name, topicId: t.topicId, partitions: t.partitions, configs: new Map(Object.entries(t.configs)), internal: isInternalTopic(t.name) });
  }
  const creating = new Map<string, Promise<TopicInfo>>();
  // Partitions being created right now (topics and growth): at most MAX_PARTITIONS_PER_REQUEST, so no
  // request — auto-creating Metadata or Produce fan-out included — can open an unbounded number at once.
  let partitionsInFlight = 0;
  const reservePartitions = (n: number): void => {
    if (!Number.isInteger(n) || n < 1) throw new CreationRefused(`invalid partition count ${n}`, 37 /* INVALID_PARTITIONS */);
    if (partitionsInFlight + n > MAX_PARTITIONS_PER_REQUEST) throw new CreationRefused(EXCESSIVE_PARTITIONS_MESSAGE);
    partitionsInFlight += n;
  };
  const appends = new AppendNotifier();
  const partitions = new PartitionManager(storage, appends);
  const applier = new MetadataApplier(controller, { storage, partitions, topics, log });
  const closeMetadata = async (): Promise<void> => {
    lifecycle.close();
    // A leader steps down before its network closes: the others elect at once (EndQuorumEpoch).
    controller.raft.resign();
    await ctl?.close();
    await controller.close();
    await applier.idle();
  };
  const bound: BoundListener[] = [];
  let scramStore: Promise<ScramStore> | undefined;
  const scramCredentials = (): Promise<ScramStore> => scramStore ??= import('./security/scram-store.ts').then((m) => m.ScramStore.open(dataFs, storageDir));
  const handlers = buildHandlerTable(options.handlers ?? handlerRows, config.bool('unstable.api.versions.enable'), options.loadHandler ?? loadHandler);
  const groups = createGroupCoordinator({
    config, partitions, clock, log, randomBytes, topics,
    // First use creates __consumer_offsets (or joins a creation under way).
    createTopic: (n, p, c) => context.pendingCreation(n) ?? context.createTopic(n, p, c),
  });

  const producers = new ProducerRegistry({
    partitions, fs: storage.fs, dataDir: storage.dataDir, clock, log,
    expirationMs: config.int('producer.id.expiration.ms'),
    expirationCheckIntervalMs: config.int('producer.id.expiration.check.interval.ms'),
    producerIdBlocks: (floor) => controller.allocateProducerIds(floor),
  });

  const transactions = createTransactionCoordinator({
    config, partitions, producers, clock, log,
    createTopic: (n, p, c) => context.pendingCreation(n) ?? context.createTopic(n, p, c),
    // A marker in __consumer_offsets settles the producer's TxnOffsetCommit offsets.
    onMarker: (topic, _p, producerId, commit) => { if (topic === OFFSETS_TOPIC) groups.completeTxnOffsets(producerId, commit); },
  });

  // Loaded only when configured: without it handlers pay one null check (security/authorizer.ts).
  const authorizer = (config.get('authorizer.class.name') ?? '') === '' ? null
    : new (await import('./security/authorizer.ts')).Authorizer({
      superUsers: (config.get('super.users') ?? '').split(';').map((s) => s.trim()).filter((s) => s !== ''),
      allowEveryoneIfNoAcl: config.bool('allow.everyone.if.no.acl.found'),
      acls: () => controller.image.acls,
    });
  const context: BrokerContext = {
    authorizer,
    nodeId, clusterId, rack: config.get('broker.rack'), config, topics, log, clock, randomBytes, apiVersions: advertisedVersions(handlers), metrics,
    partitions, storage, controller, appends, groups, producers, transactions,
    fetchSessions: new FetchSessionCache(config.int('max.incremental.fetch.session.cache.slots'), () => randomBytes(4).readInt32BE(0)),
    pendingCreation: (name) => creating.get(name),
    scramCredentials,
    advertisedAddress: (name) => bound.find((l) => l.name === name)?.advertised,
    isCreating: (name) => creating.has(name),
    // Every change is a controller operation (validated, committed to the metadata log); it answers once the
    // committed change is applied here (MetadataApplier: storage, partitions, registry).
    async createTopic(name: string, partitions: number, configs = new Map<string, string>()): Promise<TopicInfo> {
      if (creating.has(name) || topics.get(name)) throw new Error(`topic ${name} exists or is being created`);
      checkConfigs(name, configs);
      // Not the active controller: NOT_CONTROLLER before any log is created (clients retry at the controller).
      if (!controller.raft.isLeader()) throw new CreationRefused(notControllerMessage(), ErrorCode.NOT_CONTROLLER);
      reservePartitions(partitions);
      const topicId = randomUuid(randomBytes);
      // The logs first (storage creates all partitions or none), then the commit: a failure leaves nothing behind.
      const p = (async () => {
        await storage.createTopic(name, { partitions, topicId, configs });
        let offset: number;
        try {
          offset = await controller.createTopic(name, partitions, configs, topicId);
        } catch (e) {
          await storage.deleteTopic(name).catch(() => {});
          throw asBrokerError(e);
        }
        await applier.applied(offset);
        return topics.get(name)!;
      })().finally(() => { creating.delete(name); partitionsInFlight -= partitions; });
      creating.set(name, p);
      return p;
    },
    async deleteTopic(name: string): Promise<void> {
      if (!topics.get(name)) throw new Error(`unknown topic ${name}`);
      const offset = await controller.deleteTopic(name).catch((e: unknown) => { throw asBrokerError(e); });
      await applier.applied(offset);
    },
    async addPartitions(name: string, total: number): Promise<void> {
      const t = topics.get(name);
      if (!t) throw new Error(`unknown topic ${name}`);
      const added = total - t.partitions;
      reservePartitions(added);
      try {
        // As creation: the new logs first (all or none), then the commit.
        if (!controller.latest.topics.byName.has(name)) throw new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
        if ((storage.getTopic(name)?.partitions ?? 0) < total) await storage.addPartitions(name, total);
        const offset = await controller.createPartitions(name, total).catch((e: unknown) => { throw asBrokerError(e); });
        await applier.applied(offset);
      } finally {
        partitionsInFlight -= added;
      }
    },
    async alterTopicConfigs(name: string, configs: Map<string, string>): Promise<void> {
      const t = topics.get(name);
      if (!t) throw new StorageError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`);
      checkConfigs(name, configs);
      const offset = await controller.alterTopicConfigs(name, configs).catch((e: unknown) => { throw asBrokerError(e); });
      await applier.applied(offset);
    },
  };

  try {
    await startGroupCoordinator({ coordinator: groups, partitions, log });
  } catch (err) {
    groups.close();
    await closeMetadata();
    await storage.close();
    throw err;
  }
  try {
    await producers.start();
    await startTransactionCoordinator({ coordinator: transactions, partitions, log });
  } catch (err) {
    transactions.close();
    groups.close();
    await closeMetadata();
    await storage.close();
    throw err;
  }

  try {
    // Before any listener: a client never sees these topics missing, nor a SCRAM user. With several nodes the
    // active controller's node creates the topics (every node has the same settings in a compose file); the others
    // see them committed.
    if (controller.raft.isLeader()) await createStartupTopics(context, topicsToCreate, log);
    else if (topicsToCreate.length > 0) log.info(`startup topics are created by the active controller's node (${controller.leaderAndEpoch().leaderId})`);
    if (security?.setup.needsScram) {
      const added = await security.setup.attachScram(await scramCredentials());
      if (added.length > 0) log.info(`SCRAM credentials stored from gregor.scram.credentials: ${added.join(', ')}`);
    }
  } catch (err) {
    lifecycle.close();
    transactions.close();
    groups.close();
    await producers.close();
    await storage.close();
    throw err;
  }

  const maxFrameBytes = config.int('socket.request.max.bytes');
  const servers: BoundServer[] = [];
  const transport = options.transport ?? netTransport;
  const intercepts = new Interceptors();
  let nextConnectionId = 0;
  let closing: Promise<void> | undefined;
  let limits: ConnectionLimits | undefined;

  try {
    const gate = limits = new ConnectionLimits(connectionLimits, clock, log);
    // Loaded up front: Connection answers a too-new ApiVersions request without waiting for a module.
    await handlers[18]?.load();
    await unfenced;
    for (const spec of clientListenerSpecs) {
      const server = await transport.listen({
        name: spec.name, port: spec.port, host: WILDCARD_HOSTS.has(spec.host) ? undefined : spec.host, backlog: config.int('socket.listen.backlog.size'),
        onError: (err) => log.error(`listener ${spec.name}: ${err.message}`),
      }, (socket) => {
        if (closing) return socket.destroy(); // accepted while shutting down
        const sec = security?.setup.listeners.get(spec.name);
        let s: TransportSocket = socket;
        let connSecurity: ConnectionSecurity | undefined;
        if (sec && sec.protocol !== 'PLAINTEXT') ({ socket: s, security: connSecurity } = security!.secureSocket(sec, socket, log));
        gate.accept(s, (g) => {
          metrics?.connectionOpened(spec.name, socket);
          return new Connection(s, context, spec.name, `${spec.name}-${nextConnectionId++}`, maxFrameBytes, handlers, g, intercepts, connSecurity);
        });
      });
      servers.push(server);
      const port = server.port;
      const adv = advertisedSpecs.get(spec.name);
      const advertised = adv
        ? { host: WILDCARD_HOSTS.has(adv.host) ? 'localhost' : adv.host, port: adv.port === 0 ? port : adv.port }
        : { host: WILDCARD_HOSTS.has(spec.host) ? 'localhost' : spec.host, port };
      bound.push({ name: spec.name, host: spec.host, port, advertised });
      log.info(`listening on ${spec.name}://${spec.host || '*'}:${port}, advertised as ${advertised.host}:${advertised.port}${protocols.get(spec.name) === 'PLAINTEXT' ? '' : ` (${protocols.get(spec.name)})`}`);
    }
    if (ctl) bound.push(ctl.bound);
  } catch (err) {
    for (const s of servers) void s.close();
    limits?.close();
    transactions.close();
    groups.close();
    await producers.close();
    await closeMetadata();
    await storage.close();
    throw err;
  }
  lifecycle.startHeartbeats();
  log.info(`gregor node ${nodeId} started, cluster ${clusterId}, storage ${storage_ === 'memory' ? 'in memory' : dataDir}`);

  return {
    nodeId, clusterId, listeners: bound, context, handlers, http: null,
    intercept: (apiKey, opts, decide) => intercepts.add(apiKey, opts, decide),
    faults: new FaultRules({ intercepts, fs: faultyFs, clock, log, topicName: (id) => context.topics.getById(id)?.name }),
    close() {
      closing ??= (async () => {
        // Kafka's controlled shutdown first, while still serving: the controller moves leadership and fences us.
        await lifecycle.controlledShutdown(sessionTimeoutMs);
        // A listener's close settles once every accepted socket is gone: destroy them all, including those
        // waiting for a max.connections slot and those ending after a close (Connection.close()).
        const stopped = servers.map((s) => s.close());
        limits!.close();
        for (const c of limits!.connections) c.close();
        await Promise.all(stopped);
        transactions.close();
        groups.close();
        await producers.close();
        await closeMetadata();
        await storage.close();
        log.info(`gregor node ${nodeId} stopped`);
      })();
      return closing;
    },
  };
}
