// Image → records → image round trips (at the latest metadata.version and at 3.3-IV3), the snapshot file
// format, and the gregor-topics.json migration.
import t, { type Test } from 'tap';
import { type MetadataRecord, MetadataRecordType as T } from '../../protocol/generated/metadata/index.ts';
import { makeRegisterBrokerRecord } from '../../protocol/generated/metadata/register-broker-record.ts';
import { makePartitionRecord } from '../../protocol/generated/metadata/partition-record.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import {
  ConfigResourceType, EMPTY_IMAGE, ImageWriteLossError, MetadataLogError, MetadataVersion, TopicsFileError, imageToRecords,
  leaderChangeBatch, metadataBatch, parseSnapshotFileName, readMetadataLog, readSnapshot, replayAll, snapshotFileName,
  topicsFileToRecords, writeSnapshot, type MetadataImage,
} from './index.ts';

const A = 'rBWa0_kXQ8eK5o7dC2dRkw';
const B = 'Q2x1c3Rlci1JRC0wMDAwMQ';

function sampleRecords(mv: number): MetadataRecord[] {
  return [
    { type: T.FeatureLevel, version: 0, data: { name: 'metadata.version', featureLevel: mv } },
    { type: T.FeatureLevel, version: 0, data: { name: 'kraft.version', featureLevel: 1 } },
    {
      type: T.RegisterBroker, version: 1,
      data: makeRegisterBrokerRecord({
        brokerId: 1, brokerEpoch: 5n, incarnationId: 'AAAAAAAAAAAAAAAAAAAABw', rack: 'r1', fenced: false,
        endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }],
        features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }],
      }),
    },
    { type: T.Topic, version: 0, data: { name: 'orders', topicId: A } },
    { type: T.Topic, version: 0, data: { name: 'audit', topicId: B } },
    ...[0, 1, 2].map((p): MetadataRecord => ({ type: T.Partition, version: 0, data: makePartitionRecord({ partitionId: p, topicId: A, replicas: [1], isr: [1], leader: 1, leaderEpoch: p, partitionEpoch: 2 * p }) })),
    { type: T.Partition, version: 0, data: makePartitionRecord({ partitionId: 0, topicId: B, replicas: [1], isr: [], leader: -1, leaderEpoch: 4, partitionEpoch: 9 }) },
    { type: T.Config, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: 'orders', name: 'cleanup.policy', value: 'compact' } },
    { type: T.Config, version: 0, data: { resourceType: ConfigResourceType.BROKER, resourceName: '', name: 'log.retention.ms', value: '1000' } },
    { type: T.ProducerIds, version: 0, data: { brokerId: 1, brokerEpoch: 5n, nextProducerId: 2000n } },
  ];
}

/** Provenance aside, two images hold the same metadata. */
function same(t: Test, a: MetadataImage, b: MetadataImage, msg: string): void {
  t.same({ ...a, offset: 0n, epoch: 0 }, { ...b, offset: 0n, epoch: 0 }, msg);
}

for (const mv of [MetadataVersion.LATEST_PRODUCTION, MetadataVersion.MINIMUM]) {
  t.test(`image → records → image at metadata.version ${mv}`, async (t) => {
    const image = replayAll(EMPTY_IMAGE, sampleRecords(mv));
    const recs = imageToRecords(image);
    t.same(recs.map((r) => r.type), [T.FeatureLevel, T.FeatureLevel, T.RegisterBroker, T.Topic, T.Partition, T.Topic, T.Partition, T.Partition, T.Partition, T.Config, T.Config, T.ProducerIds],
      'ImageWriter order: features, brokers, topics (each with its partitions), configs, producer ids');
    t.same(recs[0], { type: T.FeatureLevel, version: 0, data: { name: 'metadata.version', featureLevel: mv } }, 'metadata.version first');
    t.equal(recs.find((r) => r.type === T.Partition)!.version, mv >= 23 ? 2 : 0, 'PartitionRecord version follows metadata.version');
    t.equal(recs.find((r) => r.type === T.RegisterBroker)!.version, mv >= 30 ? 4 : 1);
    same(t, replayAll(EMPTY_IMAGE, recs), image, 'replaying the written records gives the same image');
    // Through a snapshot file too.
    const file = writeSnapshot(recs, { epoch: 3, lastContainedLogTimestamp: 1700000000000, timestamp: 1700000000001, maxRecordsPerBatch: 5 });
    const back = readSnapshot(file);
    t.equal(back.header.lastContainedLogTimestamp, 1700000000000n);
    t.same(back.records, recs.map((r) => ({ ...r, data: { ...r.data } })), 'records read back from the snapshot');
    same(t, replayAll(EMPTY_IMAGE, back.records), image, 'snapshot → image');
  });
}

t.test('what an older metadata.version cannot hold is refused, not dropped', async (t) => {
  const image = replayAll(EMPTY_IMAGE, [...sampleRecords(33), { type: T.PartitionChange, version: 2, data: { partitionId: 0, topicId: A, isr: null, leader: -2, replicas: null, removingReplicas: null, addingReplicas: null, leaderRecoveryState: -1, directories: null, eligibleLeaderReplicas: [1], lastKnownElr: null } }]);
  t.ok(imageToRecords(image));
  t.throws(() => imageToRecords(image, { metadataVersion: 22 }), ImageWriteLossError, 'ELR below 4.0-IV1');
  t.throws(() => imageToRecords(EMPTY_IMAGE), ImageWriteLossError, 'no metadata.version');
});

t.test('snapshot file layout: header and footer control batches, offsets from 0, the epoch on every batch', async (t) => {
  t.equal(snapshotFileName(1234n, 7), '00000000000000001234-0000000007.checkpoint');
  t.same(parseSnapshotFileName('00000000000000001234-0000000007.checkpoint'), { endOffset: 1234n, epoch: 7 });
  t.equal(parseSnapshotFileName('00000000000000001234.log'), null);
  const recs = sampleRecords(33);
  const file = writeSnapshot(recs, { epoch: 7, lastContainedLogTimestamp: 5, maxRecordsPerBatch: 4 });
  const entries = [...readMetadataLog(file)];
  t.same(entries.map((e) => e.offset), Array.from({ length: recs.length + 2 }, (_, i) => BigInt(i)));
  t.ok(entries.every((e) => e.epoch === 7));
  t.equal(entries[0]!.kind, 'snapshot-header');
  t.equal(entries.at(-1)!.kind, 'snapshot-footer');

  const corrupt = Buffer.from(file);
  corrupt[corrupt.length - 3] ^= 0xff;
  t.throws(() => readSnapshot(corrupt), MetadataLogError, 'a CRC failure is detected');
  t.throws(() => readSnapshot(file.subarray(0, file.length - 5)), MetadataLogError, 'a torn snapshot is detected');
  const headerless = metadataBatch(recs, { baseOffset: 0, epoch: 7 });
  t.throws(() => readSnapshot(headerless), /SnapshotHeaderRecord/);
  const garbage = buildRecordBatch({ records: [{ key: null, value: Buffer.from([1, 99, 0]) }] });
  t.throws(() => [...readMetadataLog(garbage)], /unknown metadata record type 99/);
});

t.test('log segment entries: data batches and leader change control batches', async (t) => {
  const seg = Buffer.concat([
    leaderChangeBatch({ leaderId: 1, voters: [{ voterId: 1, voterDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' }], grantingVoters: [{ voterId: 1, voterDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' }] }, { baseOffset: 0, epoch: 1 }),
    metadataBatch(sampleRecords(33).slice(0, 3), { baseOffset: 1, epoch: 1, timestamp: 42 }),
  ]);
  const entries = [...readMetadataLog(seg)];
  t.same(entries.map((e) => [e.kind, e.offset]), [['leader-change', 0n], ['record', 1n], ['record', 2n], ['record', 3n]]);
  const lc = entries[0]!;
  t.equal(lc.kind === 'leader-change' && lc.message.leaderId, 1);
  const r = entries[1]!;
  t.equal(r.kind === 'record' && r.timestamp, 42);
});

t.test('gregor-topics.json → records', async (t) => {
  const file = JSON.stringify({
    version: 1,
    topics: [
      { name: 'orders', topicId: A, partitions: 2, configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } },
      { name: 'audit', topicId: B, partitions: 1, configs: {} },
    ],
  });
  const recs = topicsFileToRecords(file, { nodeId: 3, leaderEpoch: (topic, p) => (topic === 'orders' && p === 1 ? 5 : 0) });
  t.same(recs.map((r) => r.type), [T.Topic, T.Config, T.Config, T.Partition, T.Partition, T.Topic, T.Partition]);
  t.same(recs[1]!.data, { resourceType: ConfigResourceType.TOPIC, resourceName: 'orders', name: 'cleanup.policy', value: 'compact' });
  const image = replayAll(EMPTY_IMAGE, recs);
  const orders = image.topics.byName.get('orders')!;
  t.equal(orders.id, A);
  t.same([...orders.partitions.keys()], [0, 1]);
  const p1 = orders.partitions.get(1)!;
  t.same([p1.replicas, p1.isr, p1.leader, p1.leaderEpoch, p1.partitionEpoch], [[3], [3], 3, 5, 0]);
  t.equal(image.topics.byName.get('audit')!.partitions.size, 1);
  t.same(Object.fromEntries(image.configs.get(`${ConfigResourceType.TOPIC}:orders`)!), { 'retention.ms': '1000', 'cleanup.policy': 'compact' });
  t.same(topicsFileToRecords(JSON.stringify({ version: 1, topics: [] }), { nodeId: 1 }), []);

  for (const [bad, why] of [
    ['{', /not JSON/],
    [JSON.stringify({ version: 2, topics: [] }), /version/],
    [JSON.stringify({ version: 1, topics: [{ name: 'a', topicId: 'short', partitions: 1 }] }), /bad topic id/],
    [JSON.stringify({ version: 1, topics: [{ name: 'a', topicId: A, partitions: 0 }] }), /partition count/],
    [JSON.stringify({ version: 1, topics: [{ name: 'a', topicId: A, partitions: 1 }, { name: 'a', topicId: B, partitions: 1 }] }), /twice/],
    [JSON.stringify({ version: 1, topics: [{ name: 'a', topicId: A, partitions: 1, configs: { x: 1 } }] }), /not a string/],
  ] as const) t.throws(() => topicsFileToRecords(bad, { nodeId: 1 }), why instanceof RegExp ? { name: TopicsFileError.name, message: why } : TopicsFileError);
});
