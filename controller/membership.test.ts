// Broker membership on the controller (membership.ts through QuorumController), on a manual clock: registration
// and its errors, broker epochs, unfencing after catch-up, stale epochs, fencing after broker.session.timeout.ms,
// re-registration with a new incarnation, controlled shutdown. And periodic snapshots with a restart from one.
import t from 'tap';
import { MemFs, silentLogger } from '../storage/index.ts';
import { ManualClock } from '../storage/clock.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { makeBrokerRegistrationRequest, makeFeature, makeListener } from '../protocol/generated/broker-registration.ts';
import { makeBrokerHeartbeatRequest } from '../protocol/generated/broker-heartbeat.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { METADATA_VERSION_FEATURE } from './metadata/image.ts';
import { MetadataVersion } from './metadata/metadata-version.ts';
import { ControllerError, MembershipError, QuorumController, type CommittedChange } from './quorum-controller.ts';
import { FileQuorumStateStore } from './raft/quorum-state.ts';
import { StorageRaftLog } from './raft/storage-raft-log.ts';

async function open(fs: MemFs, clock: ManualClock, extra: { snapshotMaxBytes?: number; snapshotIntervalMs?: number } = {}) {
  const raftLog = await StorageRaftLog.open({ fs, logDir: '/data', clock });
  const store = new FileQuorumStateStore(fs, raftLog.dir, (e) => { throw e; });
  await store.load();
  const started = QuorumController.start({ nodeId: 1, clusterId: 'cluster', clock, log: silentLogger, raftLog, store, readyTimeoutMs: 1e9, ...extra });
  return started;
}

const MV = makeFeature({ name: METADATA_VERSION_FEATURE, minSupportedVersion: MetadataVersion.MINIMUM, maxSupportedVersion: MetadataVersion.LATEST_PRODUCTION });
const GV = makeFeature({ name: 'group.version', minSupportedVersion: 1, maxSupportedVersion: 1 });
const TV = makeFeature({ name: 'transaction.version', minSupportedVersion: 0, maxSupportedVersion: 2 });
const INC_A = 'AAAAAAAAAAAAAAAAAAAAAQ';
const INC_B = 'AAAAAAAAAAAAAAAAAAAAAg';
const reg = (brokerId: number, incarnationId: string, more: Record<string, unknown> = {}) => makeBrokerRegistrationRequest({
  brokerId, clusterId: 'cluster', incarnationId, features: [MV, GV, TV], listeners: [makeListener({ name: 'PLAINTEXT', host: `h${brokerId}`, port: 9092 })], ...more,
});
const hb = (brokerId: number, brokerEpoch: bigint, currentMetadataOffset: bigint, more: Record<string, unknown> = {}) =>
  makeBrokerHeartbeatRequest({ brokerId, brokerEpoch, currentMetadataOffset, ...more });
const codeOf = (p: Promise<unknown>) => p.then(() => 0, (e) => (e instanceof MembershipError || e instanceof ControllerError ? e.code : -1));

t.test('registration: epoch = record offset, fenced until caught up, errors as Kafka', async (t) => {
  const clock = new ManualClock();
  const c = await open(new MemFs(), clock);
  t.teardown(() => c.close());
  const records: CommittedChange[] = [];
  c.subscribe((ch) => records.push(ch));

  const epoch = await c.registerBroker(reg(2, INC_A));
  t.equal(records[0]!.records[0]!.type, T.RegisterBroker);
  t.equal(epoch, BigInt(records[0]!.offset), 'the broker epoch is the offset of its RegisterBrokerRecord');
  const b = c.image.brokers.get(2)!;
  t.ok(b.fenced, 'registered fenced');
  t.equal(b.incarnationId, INC_A);
  t.same(b.endpoints.map((e) => `${e.name}:${e.host}:${e.port}`), ['PLAINTEXT:h2:9092']);

  t.equal(await codeOf(c.registerBroker(reg(3, INC_A, { clusterId: 'other' }))), ErrorCode.INCONSISTENT_CLUSTER_ID);
  const tooNew = makeFeature({ name: METADATA_VERSION_FEATURE, minSupportedVersion: 1, maxSupportedVersion: MetadataVersion.MINIMUM });
  t.equal(await codeOf(c.registerBroker(reg(3, INC_A, { features: [tooNew, GV, TV] }))), ErrorCode.UNSUPPORTED_VERSION, 'finalized metadata.version outside the broker range');
  t.equal(await codeOf(c.registerBroker(reg(3, INC_A, { features: [] }))), ErrorCode.UNSUPPORTED_VERSION, 'no metadata.version range: only the oldest level');
  t.equal(await codeOf(c.registerBroker(reg(3, INC_A, { features: [MV, TV] }))), ErrorCode.UNSUPPORTED_VERSION, 'a finalized feature the broker does not name (group.version=1) counts as 0–0');
  t.equal(await codeOf(c.registerBroker(reg(3, INC_A, { features: [MV, GV] }))), ErrorCode.UNSUPPORTED_VERSION, 'nor transaction.version=2');

  // Behind its registration: stays fenced, not caught up.
  let r = await c.brokerHeartbeat(hb(2, epoch, epoch - 1n));
  t.same(r, { isCaughtUp: false, isFenced: true, shouldShutDown: false });
  t.ok(c.image.brokers.get(2)!.fenced);
  r = await c.brokerHeartbeat(hb(2, epoch, epoch));
  t.same(r, { isCaughtUp: true, isFenced: false, shouldShutDown: false }, 'unfenced once caught up');
  t.equal(records.at(-1)!.records[0]!.type, T.BrokerRegistrationChange);
  t.notOk(c.image.brokers.get(2)!.fenced);

  t.equal(await codeOf(c.brokerHeartbeat(hb(2, epoch - 1n, epoch))), ErrorCode.STALE_BROKER_EPOCH, 'an older epoch');
  t.equal(await codeOf(c.brokerHeartbeat(hb(9, 0n, epoch))), ErrorCode.STALE_BROKER_EPOCH, 'an unknown broker');

  // A live broker with that id under another incarnation.
  t.equal(await codeOf(c.registerBroker(reg(2, INC_B))), ErrorCode.DUPLICATE_BROKER_REGISTRATION);
  // The same incarnation may register again (a retry): new epoch, fenced again.
  const again = await c.registerBroker(reg(2, INC_A));
  t.ok(again > epoch);
  t.ok(c.image.brokers.get(2)!.fenced);
  t.equal(await codeOf(c.brokerHeartbeat(hb(2, epoch, again))), ErrorCode.STALE_BROKER_EPOCH, 'the replaced epoch is stale');
});

t.test('fencing after broker.session.timeout.ms without heartbeats, then re-registration with a new incarnation', async (t) => {
  const clock = new ManualClock();
  const c = await open(new MemFs(), clock, {});
  t.teardown(() => c.close());
  const epoch = await c.registerBroker(reg(2, INC_A));
  await c.brokerHeartbeat(hb(2, epoch, epoch));
  t.notOk(c.image.brokers.get(2)!.fenced);

  // Heartbeats keep the session alive past the timeout.
  for (let i = 0; i < 6; i++) {
    await clock.advanceAsync(2000);
    await c.brokerHeartbeat(hb(2, epoch, epoch));
  }
  t.notOk(c.image.brokers.get(2)!.fenced, 'alive while heartbeating');
  t.equal(await codeOf(c.registerBroker(reg(2, INC_B))), ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'its session is live');

  await clock.advanceAsync(8999);
  t.notOk(c.image.brokers.get(2)!.fenced, 'not before the session timeout');
  await clock.advanceAsync(1);
  await waitFor(() => c.image.brokers.get(2)!.fenced);
  t.ok(c.image.brokers.get(2)!.fenced, 'fenced after 9000 ms without a heartbeat');
  const r = await c.brokerHeartbeat(hb(2, epoch, epoch, { wantFence: true }));
  t.same(r, { isCaughtUp: true, isFenced: true, shouldShutDown: false }, 'a broker that wants to stay fenced stays fenced');

  // The session expired: a new incarnation may register (a restarted broker).
  const e2 = await c.registerBroker(reg(2, INC_B));
  t.ok(e2 > epoch);
  t.equal(c.image.brokers.get(2)!.incarnationId, INC_B);
  t.equal(await codeOf(c.brokerHeartbeat(hb(2, epoch, e2))), ErrorCode.STALE_BROKER_EPOCH);
  t.same(await c.brokerHeartbeat(hb(2, e2, e2)), { isCaughtUp: true, isFenced: false, shouldShutDown: false });
});

t.test('controlled shutdown: leadership moves off the broker, then shouldShutDown and fenced', async (t) => {
  const clock = new ManualClock();
  const fs = new MemFs();
  let c = await open(fs, clock);
  const epoch = await c.registerBroker(reg(1, INC_A));
  await c.brokerHeartbeat(hb(1, epoch, epoch));
  await c.createTopic('t', 2, new Map(), 'AAAAAAAAAAAAAAAAAAAAAw');

  let r = await c.brokerHeartbeat(hb(1, epoch, BigInt(c.image.offset), { wantShutDown: true }));
  t.same(r, { isCaughtUp: true, isFenced: false, shouldShutDown: false }, 'it leads partitions: controlled shutdown first');
  const b = c.image.brokers.get(1)!;
  t.ok(b.inControlledShutdown && !b.fenced, 'InControlledShutdown');
  t.same([...c.image.topics.byName.get('t')!.partitions.values()].map((p) => [p.leader, p.isr]), [[-1, [1]], [-1, [1]]], 'no other ISR member: no leader, ISR kept');
  r = await c.brokerHeartbeat(hb(1, epoch, BigInt(c.image.offset), { wantShutDown: true }));
  t.same(r, { isCaughtUp: true, isFenced: true, shouldShutDown: true }, 'leads nothing: shut down now');
  t.ok(c.image.brokers.get(1)!.fenced);
  await c.close();

  // Restart: a new incarnation (the old one shut down cleanly, fenced), unfenced after catch-up, leaders back.
  c = await open(fs, clock);
  t.teardown(() => c.close());
  const e2 = await c.registerBroker(reg(1, INC_B));
  await c.brokerHeartbeat(hb(1, e2, e2));
  t.notOk(c.image.brokers.get(1)!.fenced);
  t.same([...c.image.topics.byName.get('t')!.partitions.values()].map((p) => p.leader), [1, 1], 'leaderless partitions elect it again');
});

t.test('the co-located broker of a restarted controller re-registers at once after a crash', async (t) => {
  const clock = new ManualClock();
  const fs = new MemFs();
  let c = await open(fs, clock);
  const epoch = await c.registerBroker(reg(1, INC_A));
  await c.brokerHeartbeat(hb(1, epoch, epoch));
  await c.registerBroker(reg(2, INC_A)).then((e) => c.brokerHeartbeat(hb(2, e, e)));
  await c.close(); // as a crash: nothing fenced
  c = await open(fs, clock);
  t.teardown(() => c.close());
  t.ok((await c.registerBroker(reg(1, INC_B))) > epoch, 'own node id: its previous holder was this process');
  t.equal(await codeOf(c.registerBroker(reg(2, INC_B))), ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'another broker keeps a session from activation');
  await clock.advanceAsync(9000);
  await waitFor(() => c.image.brokers.get(2)!.fenced);
  t.ok(c.image.brokers.get(2)!.fenced, 'fenced once the activation session expired');
  t.ok((await c.registerBroker(reg(2, INC_B))) > 0n);
});

t.test('periodic snapshots: by bytes and by interval; the log prefix goes; a restart loads the snapshot then the tail', async (t) => {
  const clock = new ManualClock();
  const fs = new MemFs();
  let c = await open(fs, clock, { snapshotMaxBytes: 2000, snapshotIntervalMs: 60_000 });
  const raftLog = () => (c as unknown as { raft: { logEndOffset(): number } }).raft;
  for (let i = 0; i < 20; i++) await c.createTopic(`topic-${i}`, 2, new Map([['retention.ms', String(i)]]), uuid(i));
  await new Promise((r) => setImmediate(r));
  const dir = await fs.readdir('/data/__cluster_metadata-0');
  const checkpoints = dir.filter((f) => f.endsWith('.checkpoint'));
  t.ok(checkpoints.length >= 1, `a snapshot after 2000 bytes of records (${checkpoints.join(',')})`);
  // By interval: one more change, then the interval passes.
  await c.createTopic('late', 1, new Map(), uuid(40));
  const before = (await fs.readdir('/data/__cluster_metadata-0')).filter((f) => f.endsWith('.checkpoint')).length;
  await clock.advanceAsync(60_000);
  await new Promise((r) => setImmediate(r));
  const after = (await fs.readdir('/data/__cluster_metadata-0')).filter((f) => f.endsWith('.checkpoint')).sort();
  t.ok(after.length >= 1 && after.at(-1)! > (checkpoints.sort().at(-1) ?? ''), `a newer snapshot after metadata.log.max.snapshot.interval.ms (${before} → ${after.join(',')})`);
  const end = raftLog().logEndOffset();
  await c.createTopic('tail', 1, new Map(), uuid(41));
  const want = c.image;
  await c.close();

  c = await open(fs, clock, { snapshotMaxBytes: 1e9 });
  t.teardown(() => c.close());
  t.ok(end > 0);
  t.same([...c.image.topics.byName.keys()].sort(), [...want.topics.byName.keys()].sort(), 'snapshot + tail replayed');
  t.equal(c.image.configs.size, want.configs.size);
  t.equal(c.raft.leaderHighWatermark() > 0, true);
});

function uuid(i: number): string {
  return `AAAAAAAAAAAAAAAAAAA${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[i]}AA`;
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
}
