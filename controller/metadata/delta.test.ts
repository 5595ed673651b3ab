// MetadataDelta against hand-built expectations: each record type's Kafka semantics, and that the base
// image is never modified.
import t from 'tap';
import { type MetadataRecord, MetadataRecordType as T } from '../../protocol/generated/metadata/index.ts';
import { makePartitionChangeRecord } from '../../protocol/generated/metadata/partition-change-record.ts';
import { makePartitionRecord } from '../../protocol/generated/metadata/partition-record.ts';
import { makeRegisterBrokerRecord } from '../../protocol/generated/metadata/register-broker-record.ts';
import { makeBrokerRegistrationChangeRecord } from '../../protocol/generated/metadata/broker-registration-change-record.ts';
import { ConfigResourceType, DIRECTORY_MIGRATING, EMPTY_IMAGE, imageToRecords, MetadataDelta, MetadataReplayError, replayAll, resourceConfigs } from './index.ts';

const TOPIC_ID = 'rBWa0_kXQ8eK5o7dC2dRkw';
const topic = (name = 'orders', topicId = TOPIC_ID): MetadataRecord => ({ type: T.Topic, version: 0, data: { name, topicId } });
const partition = (partitionId: number, init: Parameters<typeof makePartitionRecord>[0] = {}): MetadataRecord => ({
  type: T.Partition, version: 2,
  data: makePartitionRecord({ partitionId, topicId: TOPIC_ID, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0, ...init }),
});
const change = (init: Parameters<typeof makePartitionChangeRecord>[0]): MetadataRecord => ({
  type: T.PartitionChange, version: 2, data: makePartitionChangeRecord({ partitionId: 0, topicId: TOPIC_ID, ...init }),
});
const broker = (brokerId: number, brokerEpoch: bigint): MetadataRecord => ({
  type: T.RegisterBroker, version: 4,
  data: makeRegisterBrokerRecord({
    brokerId, brokerEpoch, incarnationId: 'AAAAAAAAAAAAAAAAAAAABw', rack: null,
    endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }],
    features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }],
  }),
});
const config = (name: string, value: string | null, resourceName = 'orders'): MetadataRecord => ({
  type: T.Config, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName, name, value },
});

t.test('topics and partitions; PartitionChangeRecord fields mean "unchanged" at their defaults', async (t) => {
  const img = replayAll(EMPTY_IMAGE, [topic(), partition(0), partition(1, { leader: 2 })]);
  const orders = img.topics.byName.get('orders')!;
  t.equal(img.topics.byId.get(TOPIC_ID), orders, 'same topic by name and by id');
  t.same([...orders.partitions.keys()], [0, 1]);
  t.same(orders.partitions.get(0), {
    replicas: [1, 2, 3], directories: [DIRECTORY_MIGRATING, DIRECTORY_MIGRATING, DIRECTORY_MIGRATING], isr: [1, 2, 3],
    removingReplicas: [], addingReplicas: [], leader: 1, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0, elr: [], lastKnownElr: [],
  });

  // ISR shrinks, leader unchanged (-2): leader epoch stays, partition epoch bumps.
  const d1 = new MetadataDelta(img);
  d1.replay(change({ isr: [1, 2] }));
  const img1 = d1.apply();
  const p1 = img1.topics.byName.get('orders')!.partitions.get(0)!;
  t.same([p1.leader, p1.leaderEpoch, p1.partitionEpoch, p1.isr, p1.replicas], [1, 0, 1, [1, 2], [1, 2, 3]]);
  t.equal(img1.topics.byName.get('orders')!.partitions.get(1), orders.partitions.get(1), 'untouched partition shared');
  t.same(img.topics.byName.get('orders')!.partitions.get(0)!.isr, [1, 2, 3], 'base image unchanged');

  // New leader: leader epoch + 1; -1 = no leader is a change too.
  const img2 = replayAll(img1, [change({ leader: 2 }), change({ leader: -1, isr: [] })]);
  const p2 = img2.topics.byName.get('orders')!.partitions.get(0)!;
  t.same([p2.leader, p2.leaderEpoch, p2.partitionEpoch, p2.isr], [-1, 2, 3, []]);

  // LeaderRecoveryState -1 keeps, 1 sets; replicas change resets directories to MIGRATING; ELR set.
  const img3 = replayAll(img2, [change({ leader: 3, leaderRecoveryState: 1, replicas: [3, 4], isr: [3], eligibleLeaderReplicas: [4] }), change({ leaderRecoveryState: -1 })]);
  const p3 = img3.topics.byName.get('orders')!.partitions.get(0)!;
  t.same([p3.leader, p3.leaderEpoch, p3.leaderRecoveryState, p3.replicas, p3.directories.length, p3.elr, p3.partitionEpoch], [3, 3, 1, [3, 4], 2, [4], 5]);

  // ClearElrRecord for the topic: ELR emptied as a partition change.
  const img4 = replayAll(img3, [{ type: T.ClearElr, version: 0, data: { topicName: 'orders' } }]);
  const p4 = img4.topics.byName.get('orders')!.partitions.get(0)!;
  t.same([p4.elr, p4.partitionEpoch], [[], 6]);
});

t.test('RemoveTopicRecord removes the topic and its configs', async (t) => {
  const img = replayAll(EMPTY_IMAGE, [topic(), partition(0), config('retention.ms', '1000'), config('x', 'y', 'other')]);
  t.same([...resourceConfigs(img, ConfigResourceType.TOPIC, 'orders')], [['retention.ms', '1000']]);
  const after = replayAll(img, [{ type: T.RemoveTopic, version: 0, data: { topicId: TOPIC_ID } }]);
  t.equal(after.topics.byName.size, 0);
  t.equal(after.topics.byId.size, 0);
  t.equal(resourceConfigs(after, ConfigResourceType.TOPIC, 'orders').size, 0, 'configs gone');
  t.equal(resourceConfigs(after, ConfigResourceType.TOPIC, 'other').get('x'), 'y', 'other resources keep theirs');
  t.equal(img.topics.byName.size, 1, 'base unchanged');
  // A topic of the same name can be created again with a new id.
  const again = replayAll(after, [topic('orders', 'AAAAAAAAAAAAAAAAAAAAAw')]);
  t.equal(again.topics.byName.get('orders')!.id, 'AAAAAAAAAAAAAAAAAAAAAw');
});

t.test('ConfigRecord: set, overwrite, null deletes, empty resource disappears', async (t) => {
  const img = replayAll(EMPTY_IMAGE, [config('a', '1'), config('b', '2'), config('a', '3'), config('b', null), config('zzz', null)]);
  t.same([...resourceConfigs(img, ConfigResourceType.TOPIC, 'orders')], [['a', '3']]);
  const gone = replayAll(img, [config('a', null)]);
  t.equal(gone.configs.size, 0);
  t.equal(resourceConfigs(img, ConfigResourceType.TOPIC, 'orders').get('a'), '3', 'base unchanged');
});

t.test('features: level 0 removes a feature; metadata.version cannot be removed', async (t) => {
  const fl = (name: string, featureLevel: number): MetadataRecord => ({ type: T.FeatureLevel, version: 0, data: { name, featureLevel } });
  const img = replayAll(EMPTY_IMAGE, [fl('metadata.version', 33), fl('transaction.version', 2), fl('group.version', 1), fl('transaction.version', 0)]);
  t.same([...img.features], [['metadata.version', 33], ['group.version', 1]]);
  t.throws(() => replayAll(img, [fl('metadata.version', 0)]), MetadataReplayError);
});

t.test('brokers: register, fence, unfence, registration change, unregister; epochs must match', async (t) => {
  let img = replayAll(EMPTY_IMAGE, [broker(1, 10n), broker(2, 20n)]);
  t.equal(img.brokers.get(1)!.fenced, true, 'a new registration is fenced (RegisterBrokerRecord.Fenced default)');
  img = replayAll(img, [{ type: T.UnfenceBroker, version: 0, data: { id: 1, epoch: 10n } }]);
  t.equal(img.brokers.get(1)!.fenced, false);
  img = replayAll(img, [{ type: T.FenceBroker, version: 0, data: { id: 1, epoch: 10n } }]);
  t.equal(img.brokers.get(1)!.fenced, true);
  const reg = (init: Parameters<typeof makeBrokerRegistrationChangeRecord>[0]): MetadataRecord => ({
    type: T.BrokerRegistrationChange, version: 2, data: makeBrokerRegistrationChangeRecord({ brokerId: 1, brokerEpoch: 10n, ...init }),
  });
  img = replayAll(img, [reg({ fenced: -1 })]);
  t.same([img.brokers.get(1)!.fenced, img.brokers.get(1)!.inControlledShutdown], [false, false]);
  img = replayAll(img, [reg({ fenced: 0, inControlledShutdown: 1 })]);
  t.same([img.brokers.get(1)!.fenced, img.brokers.get(1)!.inControlledShutdown], [false, true]);
  img = replayAll(img, [reg({ fenced: 1 })]);
  t.same([img.brokers.get(1)!.fenced, img.brokers.get(1)!.inControlledShutdown], [true, true]);

  t.throws(() => replayAll(img, [{ type: T.UnfenceBroker, version: 0, data: { id: 1, epoch: 11n } }]), MetadataReplayError, 'stale epoch');
  t.throws(() => replayAll(img, [{ type: T.FenceBroker, version: 0, data: { id: 9, epoch: 1n } }]), MetadataReplayError, 'unknown broker');
  // Re-registration replaces the broker with its new epoch.
  img = replayAll(img, [broker(1, 30n)]);
  t.equal(img.brokers.get(1)!.epoch, 30n);
  t.equal(img.brokers.get(1)!.inControlledShutdown, false);
  t.throws(() => replayAll(img, [{ type: T.UnregisterBroker, version: 0, data: { brokerId: 1, brokerEpoch: 10n } }]), MetadataReplayError);
  img = replayAll(img, [{ type: T.UnregisterBroker, version: 0, data: { brokerId: 1, brokerEpoch: 30n } }]);
  t.same([...img.brokers.keys()], [2]);
});

t.test('producer ids, no-op, provenance', async (t) => {
  const d = new MetadataDelta(EMPTY_IMAGE);
  d.replay({ type: T.ProducerIds, version: 0, data: { brokerId: 1, brokerEpoch: 5n, nextProducerId: 1000n } }, 7n, 2);
  d.replay({ type: T.NoOp, version: 0, data: {} }, 8n, 3);
  const img = d.apply();
  t.same([img.nextProducerId, img.offset, img.epoch], [1000n, 8n, 3]);
  t.throws(() => d.replay({ type: T.NoOp, version: 0, data: {} }), /after apply/, 'a delta is done after apply()');
});

t.test('records that do not fit the image are MetadataReplayErrors', async (t) => {
  t.throws(() => replayAll(EMPTY_IMAGE, [partition(0)]), MetadataReplayError, 'partition of an unknown topic');
  t.throws(() => replayAll(EMPTY_IMAGE, [topic(), change({ leader: 1 })]), MetadataReplayError, 'change of an unknown partition');
  t.throws(() => replayAll(EMPTY_IMAGE, [topic(), topic()]), MetadataReplayError, 'duplicate topic');
  t.throws(() => replayAll(EMPTY_IMAGE, [topic(), topic('orders', 'AAAAAAAAAAAAAAAAAAAAAw')]), MetadataReplayError, 'duplicate name');
  t.throws(() => replayAll(EMPTY_IMAGE, [{ type: T.RemoveTopic, version: 0, data: { topicId: TOPIC_ID } }]), MetadataReplayError);
  t.throws(() => replayAll(EMPTY_IMAGE, [topic(), partition(0, { directories: ['AAAAAAAAAAAAAAAAAAAAAQ'] })]), MetadataReplayError, 'directories length');
  t.throws(
    () => replayAll(EMPTY_IMAGE, [{ type: T.UserScramCredential, version: 0, data: { name: 'a', mechanism: 1, salt: Buffer.alloc(0), storedKey: Buffer.alloc(0), serverKey: Buffer.alloc(0), iterations: 4096 } }]),
    /not supported/, 'SCRAM records are refused, not dropped',
  );
  t.throws(() => replayAll(EMPTY_IMAGE, [acl, acl]), MetadataReplayError, 'duplicate ACL id');
  t.throws(() => replayAll(EMPTY_IMAGE, [{ type: T.RemoveAccessControlEntry, version: 0, data: { id: acl.data.id } }]), MetadataReplayError, 'removal of an unknown ACL');
});

const acl = { type: T.AccessControlEntry, version: 0, data: { id: 'AAAAAAAAAAAAAAAAAAAAAQ', resourceType: 2, resourceName: 'x', patternType: 3, principal: 'User:a', host: '*', operation: 2, permissionType: 3 } } as const;

t.test('ACL records: added, kept through a snapshot, removed', async (t) => {
  const withAcl = replayAll(EMPTY_IMAGE, [{ type: T.FeatureLevel, version: 0, data: { name: 'metadata.version', featureLevel: 27 } }, acl]);
  t.same([...withAcl.acls.values()], [acl.data]);
  const again = replayAll(EMPTY_IMAGE, imageToRecords(withAcl));
  t.same([...again.acls.values()], [acl.data], 'the image writer writes ACLs');
  const gone = replayAll(withAcl, [{ type: T.RemoveAccessControlEntry, version: 0, data: { id: acl.data.id } }]);
  t.equal(gone.acls.size, 0);
  t.equal(withAcl.acls.size, 1, 'the base image is unchanged');
});
