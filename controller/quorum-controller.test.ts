// The single-node QuorumController on the storage-backed log: bootstrap, each operation's
// records and Kafka error codes, validation against in-flight proposals, producer-id blocks across restarts.

import t from 'tap';
import { MemFs, silentLogger, systemClock } from '../storage/index.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { ConfigResourceType, configKey, METADATA_VERSION_FEATURE } from './metadata/image.ts';
import { MetadataVersion } from './metadata/metadata-version.ts';
import { ControllerError, QuorumController, type CommittedChange } from './quorum-controller.ts';
import { FileQuorumStateStore } from './raft/quorum-state.ts';
import { StorageRaftLog } from './raft/storage-raft-log.ts';

async function open(fs: MemFs, metadataVersion?: number) {
  const raftLog = await StorageRaftLog.open({ fs, logDir: '/data', clock: systemClock });
  const store = new FileQuorumStateStore(fs, raftLog.dir, (e) => { throw e; });
  await store.load();
  return QuorumController.start({ nodeId: 7, clusterId: 'c', clock: systemClock, log: silentLogger, raftLog, store, metadataVersion });
}

const code = (p: Promise<unknown>) => p.then(() => 0, (e) => (e instanceof ControllerError ? e.code : -1));
const ID1 = 'AAAAAAAAAAAAAAAAAAAAAg';
const ID2 = 'AAAAAAAAAAAAAAAAAAAAAw';

t.test('bootstrap, topic operations, restart', async (t) => {
  const fs = new MemFs();
  let c = await open(fs);
  t.equal(c.image.features.get(METADATA_VERSION_FEATURE), MetadataVersion.LATEST_PRODUCTION, 'metadata.version bootstrapped');
  t.equal(c.image.brokers.size, 0, 'brokers register themselves (membership.test.ts)');
  const seen: CommittedChange[] = [];
  c.subscribe((ch) => seen.push(ch));

  await c.createTopic('a', 3, new Map([['retention.ms', '1000']]), ID1);
  const a = c.image.topics.byName.get('a')!;
  t.equal(a.partitions.size, 3);
  t.same(a.partitions.get(2)!.replicas, [7]);
  t.equal(a.partitions.get(2)!.leader, 7);
  t.same(seen[0]!.records.map((r) => r.type), [T.Topic, T.Config, T.Partition, T.Partition, T.Partition], 'one batch, Kafka record order');
  t.equal(c.image.configs.get(configKey(ConfigResourceType.TOPIC, 'a'))?.get('retention.ms'), '1000');

  // Two creations of one name in flight: the second is validated against the first (uncommitted) one.
  const [x, y] = await Promise.all([code(c.createTopic('b', 1, new Map(), ID2)), code(c.createTopic('b', 1, new Map(), 'AAAAAAAAAAAAAAAAAAAABA'))]);
  t.same([x, y], [0, ErrorCode.TOPIC_ALREADY_EXISTS]);

  t.equal(await code(c.createPartitions('a', 3)), ErrorCode.INVALID_PARTITIONS);
  t.equal(await code(c.createPartitions('nope', 3)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await c.createPartitions('a', 5);
  t.equal(c.image.topics.byName.get('a')!.partitions.size, 5);

  await c.alterTopicConfigs('a', new Map([['cleanup.policy', 'compact']]));
  t.same([...c.image.configs.get(configKey(ConfigResourceType.TOPIC, 'a'))!], [['cleanup.policy', 'compact']], 'retention.ms removed, cleanup.policy set');

  t.equal(await code(c.deleteTopic('nope')), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await c.deleteTopic('b');
  t.notOk(c.image.topics.byName.has('b'));

  const b1 = await c.allocateProducerIds();
  const b2 = await c.allocateProducerIds();
  t.same([b1.start, b2.start], [0, 1000]);
  await c.close();

  c = await open(fs);
  t.same([...c.image.topics.byName.keys()], ['a'], 'topics replayed from the log');
  t.equal(c.image.topics.byName.get('a')!.partitions.size, 5);
  t.same([...c.image.configs.get(configKey(ConfigResourceType.TOPIC, 'a'))!], [['cleanup.policy', 'compact']]);
  t.equal((await c.allocateProducerIds()).start, 2000, 'producer id blocks are never handed out twice');
  t.equal((await c.allocateProducerIds(5500)).start, 5500, 'a floor from before the log is honoured');
  await c.close();
});

t.test('a closed controller refuses operations with NOT_CONTROLLER', async (t) => {
  const c = await open(new MemFs());
  await c.close();
  t.equal(await code(c.createTopic('z', 1, new Map(), ID1)), ErrorCode.NOT_CONTROLLER);
});

t.test('feature levels: bootstrap, upgrade through FeatureLevelRecords, group.version added to an old log', async (t) => {
  const fs = new MemFs();
  let c = await open(fs, MetadataVersion.IBP_3_7_IV2);
  t.equal(c.image.features.get(METADATA_VERSION_FEATURE), MetadataVersion.IBP_3_7_IV2);
  t.equal(c.image.features.get('group.version'), 1, 'group.version bootstrapped');
  const before = c.image.offset;
  await c.updateFeatures([{ feature: 'metadata.version', level: 33, upgradeType: 1 }], true);
  t.equal(c.image.offset, before, 'validateOnly proposes nothing');
  t.equal(await code(c.updateFeatures([{ feature: 'group.version', level: 1, upgradeType: 1 }, { feature: 'metadata.version', level: 34, upgradeType: 1 }])), ErrorCode.INVALID_UPDATE_VERSION);
  t.equal(c.image.features.get(METADATA_VERSION_FEATURE), MetadataVersion.IBP_3_7_IV2, 'all or nothing');
  await c.updateFeatures([{ feature: 'metadata.version', level: 33, upgradeType: 1 }]);
  t.equal(c.image.features.get(METADATA_VERSION_FEATURE), 33, 'upgraded');
  t.equal(c.metadataVersion, 33);
  // A log from before group.version was finalized: the feature is added at the next start.
  await c.proposeRecords([{ type: T.FeatureLevel, version: 0, data: { name: 'group.version', featureLevel: 0 } }]);
  t.notOk(c.image.features.has('group.version'));
  await c.close();
  c = await open(fs);
  t.teardown(() => c.close());
  t.equal(c.image.features.get(METADATA_VERSION_FEATURE), 33, 'upgrade survives a restart');
  t.equal(c.image.features.get('group.version'), 1, 'group.version added at start');
});

t.test('concurrent operations are coalesced into few Raft batches (BatchAccumulator); each answers after its commit', async (t) => {
  const fs = new MemFs();
  const c = await open(fs);
  const seen: CommittedChange[] = [];
  c.subscribe((ch) => seen.push(ch));
  const id = (i: number) => `AAAAAAAAAAAAAAAAAAA${String.fromCharCode(65 + (i >> 6))}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[i & 63]}A`;
  const ops = Array.from({ length: 100 }, (_, i) => c.createTopic(`t${i}`, 2, new Map(), id(i)).then((off) => {
    t.ok(c.image.topics.byName.has(`t${i}`), `t${i} is in the committed image when its creation resolves`);
    t.ok(c.image.offset >= BigInt(off), 'resolved with an offset already replayed');
  }));
  // One of them fails validation (a duplicate name) without failing the others of its batch.
  const dup = code(c.createTopic('t5', 1, new Map(), 'AAAAAAAAAAAAAAAAAAAAZA'));
  await Promise.all(ops);
  t.equal(await dup, ErrorCode.TOPIC_ALREADY_EXISTS);
  t.equal(c.image.topics.byName.size, 100);
  t.ok(seen.length <= 3, `100 concurrent creations committed in ${seen.length} batches`);
  t.equal(seen.reduce((n, ch) => n + ch.records.length, 0), 300, 'every record committed once');
  // A later operation on its own is proposed at once.
  await c.createTopic('later', 1, new Map(), 'AAAAAAAAAAAAAAAAAAAZAA');
  t.equal(seen.at(-1)!.records.length, 2);
  await c.close();
});

t.test('closing fails queued operations with NOT_CONTROLLER instead of leaving them pending', async (t) => {
  const fs = new MemFs();
  const c = await open(fs);
  const a = code(c.createTopic('a', 1, new Map(), ID1));
  const b = code(c.createTopic('b', 1, new Map(), ID2)); // queued behind a's batch
  await c.close();
  const [x, y] = await Promise.all([a, b]);
  t.equal(y, ErrorCode.NOT_CONTROLLER, 'the queued operation is refused');
  t.ok(x === 0 || x === ErrorCode.NOT_CONTROLLER, 'the operation in flight committed or was refused');
});
