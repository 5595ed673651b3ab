// The broker's lifecycle against its controller (in-process channel, manual clock): registration with a new
// incarnation at every start, unfenced once caught up, periodic heartbeats keep the session, a silent broker is
// fenced after broker.session.timeout.ms, controlled shutdown; and what clients see: Metadata / DescribeCluster
// list the registered unfenced brokers, BrokerRegistration / BrokerHeartbeat are not client-listener APIs.
import t from 'tap';
import { MemFs, silentLogger } from '../storage/index.ts';
import { ManualClock } from '../storage/clock.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { makeBrokerRegistrationRequest, makeFeature, makeListener } from '../protocol/generated/broker-registration.ts';
import { makeBrokerHeartbeatRequest } from '../protocol/generated/broker-heartbeat.ts';
import { makeDescribeClusterRequest } from '../protocol/generated/describe-cluster.ts';
import { makeMetadataRequest } from '../protocol/generated/metadata.ts';
import { METADATA_VERSION_FEATURE } from '../controller/metadata/image.ts';
import { MetadataVersion } from '../controller/metadata/metadata-version.ts';
import { QuorumController } from '../controller/quorum-controller.ts';
import { FileQuorumStateStore } from '../controller/raft/quorum-state.ts';
import { StorageRaftLog } from '../controller/raft/storage-raft-log.ts';
import { BrokerLifecycle } from './broker-lifecycle.ts';
import { inProcessChannel } from './controller-channel.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker } from './testing/start.ts';

async function controller(fs: MemFs, clock: ManualClock) {
  const raftLog = await StorageRaftLog.open({ fs, logDir: '/data', clock });
  const store = new FileQuorumStateStore(fs, raftLog.dir, (e) => { throw e; });
  await store.load();
  return QuorumController.start({ nodeId: 1, clusterId: 'cluster', clock, log: silentLogger, raftLog, store, readyTimeoutMs: 1e9 });
}

let seed = 0;
function lifecycle(c: QuorumController, clock: ManualClock, nodeId = 1) {
  return new BrokerLifecycle({
    nodeId, clusterId: 'cluster', channel: inProcessChannel(c), clock, log: silentLogger, rack: null,
    listeners: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 }],
    metadataOffset: () => Number(c.image.offset),
    randomBytes: (n) => Buffer.alloc(n, ++seed),
  });
}

t.test('start registers and is unfenced; heartbeats keep it; silence fences it; a restart re-registers with a new incarnation', async (t) => {
  const clock = new ManualClock();
  const c = await controller(new MemFs(), clock);
  t.teardown(() => c.close());
  const a = lifecycle(c, clock);
  await a.start();
  t.equal(a.state, 'running');
  const b = c.image.brokers.get(1)!;
  t.equal(b.epoch, a.brokerEpoch);
  t.equal(b.incarnationId, a.incarnationId);
  t.notOk(b.fenced, 'unfenced after start');
  a.startHeartbeats();
  for (let i = 0; i < 10; i++) await clock.advanceAsync(2000);
  t.notOk(c.image.brokers.get(1)!.fenced, 'heartbeats every broker.heartbeat.interval.ms keep the session past 9000 ms');
  a.close();
  await clock.advanceAsync(9000);
  await settle();
  t.ok(c.image.brokers.get(1)!.fenced, 'fenced after broker.session.timeout.ms without heartbeats');

  const a2 = lifecycle(c, clock);
  t.not(a2.incarnationId, a.incarnationId, 'a new incarnation per start');
  await a2.start();
  t.ok(a2.brokerEpoch > a.brokerEpoch, 'a new broker epoch');
  t.notOk(c.image.brokers.get(1)!.fenced);
  t.equal(c.image.brokers.get(1)!.incarnationId, a2.incarnationId);
  a2.close();
});

t.test('a start blocked by a live registration retries until the old session expires', async (t) => {
  const clock = new ManualClock();
  const c = await controller(new MemFs(), clock);
  t.teardown(() => c.close());
  const old = lifecycle(c, clock, 2);
  await old.start();
  old.close(); // crashed: no more heartbeats, still unfenced
  const next = lifecycle(c, clock, 2);
  let done = false;
  const p = next.start().then(() => { done = true; });
  for (let i = 0; i < 200 && !done; i++) await clock.advanceAsync(100);
  t.ok(done, 'registered once the old incarnation was fenced');
  await p;
  t.ok(clock.now() >= 1_000_000 + 9000, 'not before broker.session.timeout.ms');
  next.close();
});

t.test('controlled shutdown: wantShutDown until shouldShutDown; the broker ends fenced', async (t) => {
  const clock = new ManualClock();
  const c = await controller(new MemFs(), clock);
  t.teardown(() => c.close());
  const a = lifecycle(c, clock);
  await a.start();
  await c.createTopic('x', 3, new Map(), 'AAAAAAAAAAAAAAAAAAAAAQ');
  let result: boolean | undefined;
  const p = a.controlledShutdown(9000).then((r) => { result = r; });
  for (let i = 0; i < 100 && result === undefined; i++) await clock.advanceAsync(10);
  await p;
  t.equal(result, true);
  t.equal(a.state, 'shuttingDown');
  t.ok(c.image.brokers.get(1)!.fenced);
  t.same([...c.image.topics.byName.get('x')!.partitions.values()].map((p) => p.leader), [-1, -1, -1], 'leadership moved off it');
  a.close();
});

t.test('clients: the node is listed once unfenced; other registered brokers by their endpoint; broker APIs are not advertised', async (t) => {
  const tb = await startTestBroker({ 'node.id': '1' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  const ctl = tb.broker.context.controller;
  t.notOk(ctl.image.brokers.get(1)!.fenced, 'serving: registered and unfenced');

  // Another broker registers (as over a controller listener) and heartbeats: listed once unfenced.
  const mv = makeFeature({ name: METADATA_VERSION_FEATURE, minSupportedVersion: MetadataVersion.MINIMUM, maxSupportedVersion: MetadataVersion.LATEST_PRODUCTION });
  const epoch = await ctl.registerBroker(makeBrokerRegistrationRequest({
    brokerId: 2, clusterId: tb.broker.clusterId, incarnationId: 'AAAAAAAAAAAAAAAAAAAAAg', features: [mv, makeFeature({ name: 'group.version', minSupportedVersion: 1, maxSupportedVersion: 1 }), makeFeature({ name: 'transaction.version', minSupportedVersion: 0, maxSupportedVersion: 2 })], rack: 'r2',
    listeners: [makeListener({ name: 'PLAINTEXT', host: 'other', port: 19092 }), makeListener({ name: 'INTERNAL', host: 'x', port: 1 })],
  }));
  let md = await c.request(3, 12, makeMetadataRequest({ topics: [] }));
  t.same(md.brokers.map((b: any) => b.nodeId), [1], 'a fenced registration is not listed');
  let dc = await c.request(60, 2, makeDescribeClusterRequest({ includeFencedBrokers: true }));
  t.same(dc.brokers.map((b: any) => [b.brokerId, b.isFenced]), [[1, false], [2, true]], 'DescribeCluster v2 includeFencedBrokers');
  await ctl.brokerHeartbeat(makeBrokerHeartbeatRequest({ brokerId: 2, brokerEpoch: epoch, currentMetadataOffset: epoch }));
  md = await c.request(3, 12, makeMetadataRequest({ topics: [] }));
  t.same(md.brokers.map((b: any) => [b.nodeId, b.host, b.port, b.rack]), [[1, '127.0.0.1', tb.port, null], [2, 'other', 19092, 'r2']], 'unfenced: listed with its endpoint on this listener');
  dc = await c.request(60, 0, makeDescribeClusterRequest({}));
  t.same(dc.brokers.map((b: any) => b.brokerId), [1, 2]);

  const av = await c.request(18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  const keys = av.apiKeys.map((k: any) => k.apiKey);
  t.notOk(keys.includes(62) || keys.includes(63), 'BrokerRegistration / BrokerHeartbeat are controller-listener APIs');
  c.sendRaw(c.encodeRequest(63, 1, makeBrokerHeartbeatRequest({ brokerId: 2, brokerEpoch: epoch })));
  await c.waitClosed();
  t.pass('a broker API on a client listener closes the connection, as Kafka');
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

t.test('a broker restart: controlled shutdown at close, a new incarnation and epoch at start, leaders back', async (t) => {
  const fs = new MemFs();
  const dir = `/gregor-lifecycle-${process.pid}`;
  const first = await startTestBroker({ 'log.dirs': dir }, { storage: 'file', fs });
  await first.broker.context.createTopic('kept', 2);
  const before = first.broker.context.controller.image.brokers.get(1)!;
  const closing = first.broker.context.controller;
  await first.close();
  t.ok(closing.image.brokers.get(1)!.fenced, 'fenced by its controlled shutdown');
  t.same([...closing.image.topics.byName.get('kept')!.partitions.values()].map((p) => p.leader), [-1, -1], 'leadership moved off it');
  const second = await startTestBroker({ 'log.dirs': dir }, { storage: 'file', fs });
  t.teardown(() => second.close());
  const after = second.broker.context.controller.image.brokers.get(1)!;
  t.not(after.incarnationId, before.incarnationId, 'a new incarnation');
  t.ok(after.epoch > before.epoch, 'a new epoch');
  t.notOk(after.fenced);
  t.same([...second.broker.context.controller.image.topics.byName.get('kept')!.partitions.values()].map((p) => p.leader), [1, 1], 'leaders again');
});

t.test('a controller that never answers: start fails after initial.broker.registration.timeout.ms, shutdown gives up at its deadline', async (t) => {
  const clock = new ManualClock();
  const silent = { send: () => new Promise<never>(() => {}) };
  const mk = () => new BrokerLifecycle({
    nodeId: 1, clusterId: 'cluster', channel: silent, clock, log: silentLogger, rack: null, listeners: [],
    metadataOffset: () => 0, randomBytes: (n) => Buffer.alloc(n, 1), registrationTimeoutMs: 5000,
  });
  const a = mk();
  let failed: Error | undefined;
  const p = a.start().catch((e: Error) => { failed = e; });
  await clock.advanceAsync(5200);
  await p;
  t.match(failed?.message, /initial\.broker\.registration\.timeout\.ms/);

  // Running, then the controller goes silent: the controlled shutdown ends at its deadline.
  const c = await controller(new MemFs(), clock);
  t.teardown(() => c.close());
  let silenced = false;
  const real = inProcessChannel(c);
  const b = new BrokerLifecycle({
    nodeId: 1, clusterId: 'cluster', clock, log: silentLogger, rack: null, listeners: [],
    channel: { send: (api, body) => (silenced ? new Promise<never>(() => {}) : real.send(api, body)) },
    metadataOffset: () => Number(c.image.offset), randomBytes: (n) => Buffer.alloc(n, 2),
  });
  await b.start();
  silenced = true;
  let done: boolean | undefined;
  const q = b.controlledShutdown(3000).then((r) => { done = r; });
  await clock.advanceAsync(3200);
  await q;
  t.equal(done, false, 'gave up');
  t.equal(b.state, 'shuttingDown');
  b.close();
});
