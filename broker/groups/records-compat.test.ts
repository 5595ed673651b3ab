// Byte identity of the `__consumer_offsets` records across the switch from hand-written to generated
// codecs: the fixtures were written by the hand-written encoders/decoders (gregor before the switch,
// `RECORDS_FIXTURES=write`), so the records gregor writes stay byte-for-byte the same (the consumer group
// persistence diffs encoded values) and data written by earlier versions still replays.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Writer } from '../../protocol/writer.ts';
import {
  type ConsumerGroupKey, decodeCurrentAssignmentValue, decodeEpochValue, decodeGroupMetadataValue, decodeKey, decodeMemberValue,
  decodeOffsetCommitValue, decodePartitionMetadataValue, decodeTargetMemberValue, encodeConsumerGroupKey, encodeCurrentAssignmentValue,
  encodeEpochValue, encodeGroupMetadataKey, encodeGroupMetadataValue, encodeMemberValue, encodeOffsetCommitKey, encodeOffsetCommitValue,
  encodePartitionMetadataValue, encodeTargetMemberValue,
} from './records.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'records-compat.fixtures.json');

/** JSON form of a decoded value: bigint → "<n>n", Buffer → { hex }. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
      return { hex: Buffer.from((x as { data: number[] }).data).toString('hex') };
    }
    return x;
  }));
}

type Decoder = (b: Buffer) => unknown;
const decoders: Record<string, Decoder> = {
  key: decodeKey,
  offsetCommitValue: decodeOffsetCommitValue,
  groupMetadataValue: decodeGroupMetadataValue,
  epochValue: decodeEpochValue,
  partitionMetadataValue: decodePartitionMetadataValue,
  memberValue: decodeMemberValue,
  targetMemberValue: decodeTargetMemberValue,
  currentAssignmentValue: decodeCurrentAssignmentValue,
};

const uuid1 = 'AAAAAAAAAAAAAAAAAAAAAQ';
const uuid2 = 'q83vEjRWeJCrze8SNFZ4kA';
const tp = (topicId: string, partitions: number[]) => ({ topicId, partitions });

/** Records gregor writes: [name, decoder, bytes from the encoder]. */
function written(): Array<[string, string, Buffer]> {
  const cg = (k: ConsumerGroupKey): Buffer => encodeConsumerGroupKey(k);
  return [
    ['offset key', 'key', encodeOffsetCommitKey('group-1', 'topic-a', 0)],
    ['offset key, unicode, max partition', 'key', encodeOffsetCommitKey('grüppe-☃', 'tøpic.𝄞', 2147483647)],
    ['offset key, empty group', 'key', encodeOffsetCommitKey('', 'x', 7)],
    ['group key', 'key', encodeGroupMetadataKey('group-1')],
    ['group key, empty', 'key', encodeGroupMetadataKey('')],
    ['cg-metadata key', 'key', cg({ type: 'cg-metadata', group: 'g' })],
    ['cg-partition-metadata key', 'key', cg({ type: 'cg-partition-metadata', group: 'g' })],
    ['cg-member key', 'key', cg({ type: 'cg-member', group: 'g', member: 'm-1' })],
    ['cg-target-metadata key', 'key', cg({ type: 'cg-target-metadata', group: 'g' })],
    ['cg-target-member key', 'key', cg({ type: 'cg-target-member', group: 'g', member: 'm-1' })],
    ['cg-current-assignment key', 'key', cg({ type: 'cg-current-assignment', group: 'g', member: '' })],
    ['offset value v3', 'offsetCommitValue', encodeOffsetCommitValue({ offset: 42, leaderEpoch: 3, metadata: 'meta ☃', commitTimestamp: 1_700_000_000_000, expireTimestamp: -1 })],
    ['offset value v3, no epoch, empty metadata, big offset', 'offsetCommitValue', encodeOffsetCommitValue({ offset: Number.MAX_SAFE_INTEGER, leaderEpoch: -1, metadata: '', commitTimestamp: 0, expireTimestamp: -1 })],
    ['offset value v1 (expire timestamp)', 'offsetCommitValue', encodeOffsetCommitValue({ offset: 5, leaderEpoch: 9, metadata: 'x', commitTimestamp: 1000, expireTimestamp: 2000 })],
    ['offset value v1, expire 0', 'offsetCommitValue', encodeOffsetCommitValue({ offset: 0, leaderEpoch: -1, metadata: '', commitTimestamp: 1, expireTimestamp: 0 })],
    ['group value, empty', 'groupMetadataValue', encodeGroupMetadataValue({ protocolType: 'consumer', generation: 0, protocol: null, leader: null, currentStateTimestamp: -1, members: [] })],
    ['group value, members', 'groupMetadataValue', encodeGroupMetadataValue({
      protocolType: 'consumer', generation: 7, protocol: 'range', leader: 'm-1', currentStateTimestamp: 1_700_000_000_123,
      members: [
        { memberId: 'm-1', groupInstanceId: null, clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeout: 300000, sessionTimeout: 45000, subscription: Buffer.from('0001000000', 'hex'), assignment: Buffer.alloc(0) },
        { memberId: 'm-2', groupInstanceId: 'static-☃', clientId: '', clientHost: '', rebalanceTimeout: 10, sessionTimeout: 6000, subscription: Buffer.alloc(0), assignment: Buffer.from('ff', 'hex') },
      ],
    })],
    ['group value, empty protocol type', 'groupMetadataValue', encodeGroupMetadataValue({ protocolType: '', generation: 1, protocol: '', leader: '', currentStateTimestamp: 0, members: [] })],
    ['epoch value 0', 'epochValue', encodeEpochValue(0)],
    ['epoch value max', 'epochValue', encodeEpochValue(2147483647)],
    ['epoch value -1', 'epochValue', encodeEpochValue(-1)],
    ['partition metadata, empty', 'partitionMetadataValue', encodePartitionMetadataValue([])],
    ['partition metadata', 'partitionMetadataValue', encodePartitionMetadataValue([{ topicId: uuid1, topicName: 'a', numPartitions: 3 }, { topicId: uuid2, topicName: 'bé', numPartitions: 1 }])],
    ['member value, nulls', 'memberValue', encodeMemberValue({ instanceId: null, rackId: null, clientId: '', clientHost: '', subscribedTopicNames: [], subscribedTopicRegex: null, rebalanceTimeoutMs: -1, serverAssignor: null })],
    ['member value, full', 'memberValue', encodeMemberValue({ instanceId: 'i', rackId: 'r1', clientId: 'c', clientHost: '/10.0.0.1', subscribedTopicNames: ['a', 'b☃'], subscribedTopicRegex: 'a.*', rebalanceTimeoutMs: 300000, serverAssignor: 'uniform' })],
    ['member value, classic null', 'memberValue', encodeMemberValue({ instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: ['a'], subscribedTopicRegex: null, rebalanceTimeoutMs: 1, serverAssignor: null, classic: null })],
    ['member value, classic without protocols', 'memberValue', encodeMemberValue({ instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: [], subscribedTopicRegex: null, rebalanceTimeoutMs: 1, serverAssignor: null, classic: { sessionTimeoutMs: 45000, protocols: [] } })],
    ['member value, classic', 'memberValue', encodeMemberValue({
      instanceId: 'inst', rackId: null, clientId: 'rdkafka', clientHost: '/1.2.3.4', subscribedTopicNames: ['t1'], subscribedTopicRegex: null, rebalanceTimeoutMs: 60000, serverAssignor: null,
      classic: { sessionTimeoutMs: 10000, protocols: [{ name: 'range', metadata: Buffer.from('000300000001', 'hex') }, { name: 'roundrobin', metadata: Buffer.alloc(0) }] },
    })],
    ['member value, classic with a large protocol (multi-byte sizes)', 'memberValue', encodeMemberValue({
      instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: [], subscribedTopicRegex: null, rebalanceTimeoutMs: 1, serverAssignor: null,
      classic: { sessionTimeoutMs: 1, protocols: [{ name: 'cooperative-sticky', metadata: Buffer.alloc(300, 7) }] },
    })],
    ['target member, empty', 'targetMemberValue', encodeTargetMemberValue([])],
    ['target member', 'targetMemberValue', encodeTargetMemberValue([tp(uuid1, [0, 1, 2]), tp(uuid2, [])])],
    ['current assignment, empty', 'currentAssignmentValue', encodeCurrentAssignmentValue({ memberEpoch: 0, previousMemberEpoch: -1, state: 0, assigned: [], pendingRevocation: [] })],
    ['current assignment', 'currentAssignmentValue', encodeCurrentAssignmentValue({ memberEpoch: 5, previousMemberEpoch: 4, state: 1, assigned: [tp(uuid1, [0])], pendingRevocation: [tp(uuid2, [3, 4])] })],
    ['current assignment, unknown state', 'currentAssignmentValue', encodeCurrentAssignmentValue({ memberEpoch: 1, previousMemberEpoch: 0, state: 127, assigned: [], pendingRevocation: [tp(uuid1, [])] })],
  ];
}

/** Records gregor does not write but must read (Kafka's other versions, tagged fields, other record types). */
function foreign(): Array<[string, string, Buffer]> {
  const w = (f: (w: Writer) => void): Buffer => {
    const x = new Writer(64);
    f(x);
    return x.finishBuffer();
  };
  const tag = (x: Writer, n: number, body: Buffer): void => x.rawTaggedField(n, body);
  const i64 = (v: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return b; };
  const i32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
  const member = (x: Writer, flex: boolean, v: number): void => {
    const s = (t: string) => (flex ? x.compactString(t) : x.string(t));
    s('m');
    if (v >= 3) flex ? x.compactNullableString('i') : x.nullableString('i');
    s('c');
    s('h');
    if (v >= 1) x.int32(100);
    x.int32(50);
    flex ? x.compactBytes(Buffer.from('01', 'hex')) : x.bytes(Buffer.from('01', 'hex'));
    flex ? x.compactBytes(Buffer.alloc(0)) : x.bytes(Buffer.alloc(0));
    if (flex) x.uvarint(0);
  };
  const groupValue = (v: number) => w((x) => {
    const flex = v >= 4;
    x.int16(v);
    flex ? x.compactString('consumer') : x.string('consumer');
    x.int32(3);
    flex ? x.compactNullableString('range') : x.nullableString('range');
    flex ? x.compactNullableString(null) : x.nullableString(null);
    if (v >= 2) x.int64(99n);
    flex ? x.compactArrayLength(1) : x.arrayLength(1);
    member(x, flex, v);
    if (flex) x.uvarint(0);
  });
  return [
    ['legacy offset key (type 0)', 'key', w((x) => { x.int16(0); x.string('g'); x.string('t'); x.int32(4); })],
    ['share group key (type 10): not ours', 'key', w((x) => { x.int16(10); x.string('g'); })],
    ['streams group key (type 17): not ours', 'key', w((x) => { x.int16(17); x.string('g'); })],
    ['offset value v0', 'offsetCommitValue', w((x) => { x.int16(0); x.int64(10n); x.string('m'); x.int64(20n); })],
    ['offset value v2', 'offsetCommitValue', w((x) => { x.int16(2); x.int64(10n); x.string('m'); x.int64(20n); })],
    ['offset value v4 with topic id and an unknown tag', 'offsetCommitValue', w((x) => {
      x.int16(4); x.int64(10n); x.int32(2); x.compactString('m'); x.int64(20n);
      x.uvarint(2); tag(x, 0, Buffer.from('abcdef1234567890abcdef1234567890', 'hex')); tag(x, 9, Buffer.from('00', 'hex'));
    })],
    ['group value v0', 'groupMetadataValue', groupValue(0)],
    ['group value v1', 'groupMetadataValue', groupValue(1)],
    ['group value v2', 'groupMetadataValue', groupValue(2)],
    ['group value v4 (flexible)', 'groupMetadataValue', groupValue(4)],
    ['epoch value with metadata hash (tag 0)', 'epochValue', w((x) => { x.int16(0); x.int32(8); x.uvarint(1); tag(x, 0, i64(-5n)); })],
    ['target metadata with assignment timestamp (tag 0)', 'epochValue', w((x) => { x.int16(0); x.int32(8); x.uvarint(1); tag(x, 0, i64(1234n)); })],
    ['partition metadata with racks', 'partitionMetadataValue', w((x) => {
      x.int16(0); x.compactArrayLength(1); x.uuid(uuid1); x.compactString('a'); x.int32(2);
      x.compactArrayLength(1); x.int32(0); x.compactArrayLength(2); x.compactString('r1'); x.compactString('r2'); x.uvarint(0);
      x.uvarint(0); x.uvarint(0);
    })],
    ['member value with an unknown tag before classic metadata', 'memberValue', w((x) => {
      x.int16(0); x.compactNullableString(null); x.compactNullableString(null); x.compactString('c'); x.compactString('h');
      x.compactArrayLength(0); x.compactNullableString(null); x.int32(5); x.compactNullableString('range');
      x.uvarint(1); tag(x, 7, Buffer.from('0102', 'hex'));
    })],
    ['current assignment with assignment epochs (tag 0 in TopicPartitions)', 'currentAssignmentValue', w((x) => {
      x.int16(0); x.int32(3); x.int32(2); x.int8(0);
      x.compactArrayLength(1); x.uuid(uuid2); x.compactArrayLength(1); x.int32(0);
      x.uvarint(1); tag(x, 0, Buffer.concat([Buffer.from([2]), i32(3)]));
      x.compactArrayLength(0); x.uvarint(0);
    })],
  ];
}

interface Fixture { name: string; decoder: string; hex: string; decoded: unknown }

function compute(): Fixture[] {
  return [...written(), ...foreign()].map(([name, decoder, bytes]) => ({ name, decoder, hex: bytes.toString('hex'), decoded: plain(decoders[decoder]!(bytes)) }));
}

if (process.env.RECORDS_FIXTURES === 'write') {
  fs.writeFileSync(FIXTURES, `${JSON.stringify(compute(), null, 1)}\n`);
}

const fixtures = JSON.parse(fs.readFileSync(FIXTURES, 'utf8')) as Fixture[];

t.test('encoders write the bytes the hand-written encoders wrote', async (t) => {
  const byName = new Map(fixtures.map((f) => [f.name, f]));
  const w = written();
  t.equal(w.length, 34);
  for (const [name, , bytes] of w) t.equal(bytes.toString('hex'), byName.get(name)?.hex, name);
});

t.test('decoders read every fixture as the hand-written decoders did', async (t) => {
  t.equal(fixtures.length, 34 + foreign().length);
  for (const f of fixtures) t.same(plain(decoders[f.decoder]!(Buffer.from(f.hex, 'hex'))), f.decoded, f.name);
});

t.test('foreign inputs are the fixture bytes', async (t) => {
  const byName = new Map(fixtures.map((f) => [f.name, f]));
  for (const [name, , bytes] of foreign()) t.equal(bytes.toString('hex'), byName.get(name)?.hex, name);
});
