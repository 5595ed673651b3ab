// Kafka's own `kafka-dump-log.sh --cluster-metadata-decoder` (org.apache.kafka.tools.DumpLogSegments, Kafka
// 4.4.0's kafka-tools fetched through mvn by scripts/kafka-ref.ts) decodes a `__cluster_metadata-0`
// segment and snapshot written by controller/metadata: every record decodes (the tool prints "Error at
// <offset>, skipping" for one it cannot), as the record type and version gregor wrote, with the same data.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ensureKafkaTools } from '../../scripts/kafka-ref.ts';
import { type MetadataRecord, MetadataRecordType as T, metadataRecords } from '../../protocol/generated/metadata/index.ts';
import { makeBrokerRegistrationChangeRecord } from '../../protocol/generated/metadata/broker-registration-change-record.ts';
import { makePartitionChangeRecord } from '../../protocol/generated/metadata/partition-change-record.ts';
import { makeRegisterBrokerRecord } from '../../protocol/generated/metadata/register-broker-record.ts';
import { makeRegisterControllerRecord } from '../../protocol/generated/metadata/register-controller-record.ts';
import {
  ConfigResourceType, EMPTY_IMAGE, METADATA_PARTITION_DIR, MetadataVersion, imageToRecords, leaderChangeBatch, metadataBatch,
  replayAll, snapshotFileName, topicsFileToRecords, writeSnapshot,
} from './index.ts';

const javaBin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
const hasJava = spawnSync(javaBin, ['-version']).status === 0;

const ORDERS = 'rBWa0_kXQ8eK5o7dC2dRkw';
const GONE = 'Q2x1c3Rlci1JRC0wMDAwMQ';
const DIR = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** A log exercising every record type the image supports. */
function logRecords(): MetadataRecord[] {
  const broker = (brokerId: number): MetadataRecord => ({
    type: T.RegisterBroker, version: 4,
    data: makeRegisterBrokerRecord({
      brokerId, brokerEpoch: BigInt(brokerId * 10), incarnationId: 'AAAAAAAAAAAAAAAAAAAABw', rack: brokerId === 1 ? 'r1' : null,
      endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 + brokerId, securityProtocol: 0 }],
      features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }], logDirs: [DIR],
    }),
  });
  return [
    { type: T.FeatureLevel, version: 0, data: { name: 'metadata.version', featureLevel: MetadataVersion.LATEST_PRODUCTION } },
    { type: T.FeatureLevel, version: 0, data: { name: 'kraft.version', featureLevel: 1 } },
    {
      type: T.RegisterController, version: 0,
      data: makeRegisterControllerRecord({
        controllerId: 1, incarnationId: 'AAAAAAAAAAAAAAAAAAAACA', zkMigrationReady: false,
        endPoints: [{ name: 'CONTROLLER', host: 'localhost', port: 9093, securityProtocol: 0 }],
        features: [{ name: 'kraft.version', minSupportedVersion: 0, maxSupportedVersion: 1 }],
      }),
    },
    broker(1),
    broker(2),
    { type: T.UnfenceBroker, version: 0, data: { id: 1, epoch: 10n } },
    { type: T.BrokerRegistrationChange, version: 2, data: makeBrokerRegistrationChangeRecord({ brokerId: 2, brokerEpoch: 20n, fenced: -1 }) },
    { type: T.FenceBroker, version: 0, data: { id: 2, epoch: 20n } },
    ...topicsFileToRecords(JSON.stringify({
      version: 1,
      topics: [
        { name: 'orders', topicId: ORDERS, partitions: 3, configs: { 'cleanup.policy': 'compact', 'retention.ms': '86400000' } },
        { name: 'gone', topicId: GONE, partitions: 1, configs: { 'segment.bytes': '1048576' } },
      ],
    }), { nodeId: 1 }),
    { type: T.PartitionChange, version: 2, data: makePartitionChangeRecord({ partitionId: 1, topicId: ORDERS, replicas: [1, 2], isr: [1, 2], directories: [DIR, DIR] }) },
    { type: T.PartitionChange, version: 2, data: makePartitionChangeRecord({ partitionId: 1, topicId: ORDERS, leader: 2, isr: [2], eligibleLeaderReplicas: [1] }) },
    { type: T.RemoveTopic, version: 0, data: { topicId: GONE } },
    { type: T.Config, version: 0, data: { resourceType: ConfigResourceType.BROKER, resourceName: '1', name: 'log.retention.ms', value: '1000' } },
    { type: T.Config, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: 'orders', name: 'retention.ms', value: null } },
    { type: T.ProducerIds, version: 0, data: { brokerId: 1, brokerEpoch: 10n, nextProducerId: 1000n } },
    { type: T.NoOp, version: 0, data: {} },
  ];
}

/** RemoveTopicRecord → REMOVE_TOPIC_RECORD, as MetadataRecordType names them in Kafka's JSON output. */
const kafkaTypeName = (type: number): string => metadataRecords[type]!.name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

/** Kafka's JSON for a record: int64s as numbers, absent tagged fields left out; compare what both print. */
function jsonOf(x: unknown): unknown {
  if (typeof x === 'bigint') return Number(x);
  if (Array.isArray(x)) return x.map(jsonOf);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('_')).map(([k, v]) => [k, jsonOf(v)]));
  return x;
}

interface Payload {
  offset: number;
  type: string;
  version: number;
  data: Record<string, unknown>;
}

function payloads(out: string): Payload[] {
  const res: Payload[] = [];
  for (const m of out.matchAll(/^\| offset: (\d+) .* payload: (\{.*\})$/gm)) {
    const p = JSON.parse(m[2]!) as Omit<Payload, 'offset'>;
    res.push({ offset: Number(m[1]), ...p });
  }
  return res;
}

/** Every key gregor's record has equals Kafka's (Kafka leaves out tagged fields at their defaults). */
function agrees(kafka: Record<string, unknown>, ours: Record<string, unknown>): string[] {
  const diffs: string[] = [];
  for (const [k, v] of Object.entries(kafka)) {
    if (JSON.stringify(v) !== JSON.stringify(ours[k])) diffs.push(`${k}: kafka ${JSON.stringify(v)} gregor ${JSON.stringify(ours[k])}`);
  }
  return diffs;
}

t.test('kafka-dump-log.sh --cluster-metadata-decoder reads gregor\'s __cluster_metadata', { skip: hasJava ? false : 'no java on this machine (the CI image has OpenJDK 17)' }, async (t) => {
  const tools = await ensureKafkaTools();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-metadata-dump-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = path.join(tmp, METADATA_PARTITION_DIR);
  fs.mkdirSync(dir);

  const recs = logRecords();
  const voter = { voterId: 1, voterDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' };
  const ts = 1_700_000_000_000;
  const segment = Buffer.concat([
    leaderChangeBatch({ leaderId: 1, voters: [voter], grantingVoters: [voter] }, { baseOffset: 0, epoch: 1, timestamp: ts }),
    metadataBatch(recs.slice(0, 8), { baseOffset: 1, epoch: 1, timestamp: ts }),
    leaderChangeBatch({ leaderId: 1, voters: [voter], grantingVoters: [voter] }, { baseOffset: 9, epoch: 2, timestamp: ts }),
    metadataBatch(recs.slice(8), { baseOffset: 10, epoch: 2, timestamp: ts }),
  ]);
  const segFile = path.join(dir, '00000000000000000000.log');
  fs.writeFileSync(segFile, segment);
  const endOffset = 10 + recs.length - 8;
  const image = replayAll(EMPTY_IMAGE, recs);
  const snapRecs = imageToRecords(image);
  const snapFile = path.join(dir, snapshotFileName(endOffset, 2));
  fs.writeFileSync(snapFile, writeSnapshot(snapRecs, { epoch: 2, lastContainedLogTimestamp: ts, timestamp: ts, maxRecordsPerBatch: 4 }));

  const r = spawnSync(javaBin, ['-Xmx256m', '-Dlog4j2.level=warn', '-cp', `${tools.libs}/*`, 'org.apache.kafka.tools.DumpLogSegments', '--cluster-metadata-decoder', '--files', `${segFile},${snapFile}`],
    { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `DumpLogSegments exits 0${r.status === 0 ? '' : `: ${r.stderr.slice(-1500)}`}`);
  const out = r.stdout;
  t.comment(out.split('\n').filter((l) => /payload|LeaderChange|Snapshot/.test(l)).slice(0, 6).join('\n'));
  t.same(out.split('\n').filter((l) => /Error at|Exception|isvalid: false/.test(l)), [], 'no record fails to decode, no batch fails its CRC');

  const [segPart, snapPart] = out.split(`Dumping ${snapFile}`);
  t.ok(snapPart, 'the snapshot was dumped');
  t.equal((segPart!.match(/LeaderChange: \{"version":0,"leaderId":1/g) ?? []).length, 2, 'both LeaderChange control records');
  for (const [part, written, firstOffset] of [[segPart!, recs, 1], [snapPart!, snapRecs, 1]] as const) {
    const decoded = payloads(part);
    t.equal(decoded.length, written.length, 'every record decoded');
    const wrong: string[] = [];
    decoded.forEach((p, i) => {
      const w = written[i]!;
      if (p.type !== kafkaTypeName(w.type) || p.version !== w.version) wrong.push(`#${i}: ${p.type} v${p.version}, wrote ${kafkaTypeName(w.type)} v${w.version}`);
      wrong.push(...agrees(p.data, jsonOf(w.data) as Record<string, unknown>).map((d) => `#${i} ${p.type}: ${d}`));
    });
    t.same(wrong, [], 'Kafka decodes the type, version and fields gregor wrote');
    if (part === segPart) t.same(decoded.map((p) => p.offset), [...Array(8).keys()].map((i) => i + firstOffset).concat([...Array(recs.length - 8).keys()].map((i) => i + 10)), 'offsets');
  }
  t.match(snapPart!, /Snapshot end offset: \d+, epoch: 2/);
  t.match(snapPart!, /SnapshotHeader \{"version":0,"lastContainedLogTimestamp":1700000000000\}/);
  t.match(snapPart!, /SnapshotFooter \{"version":0\}/);
});
