// Bad input and persistence of one Raft node, driven by hand: each request answered with Kafka's error code,
// nothing crashes, the log is untouched by corrupt data.

import t from 'tap';
import { ManualClock } from '../../storage/clock.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import { makeVoteRequest, makeVoteRequestTopicData, makeVoteRequestPartitionData, type VoteResponse } from '../../protocol/generated/vote.ts';
import { makeBeginQuorumEpochRequest, makeBeginQuorumEpochRequestTopicData, makeBeginQuorumEpochRequestPartitionData, type BeginQuorumEpochResponse } from '../../protocol/generated/begin-quorum-epoch.ts';
import { makeFetchRequest, makeFetchTopic, makeFetchPartition, makeReplicaState, makeFetchResponse, makeFetchableTopicResponse, makePartitionData, makeLeaderIdAndEpoch, makeSnapshotId, type FetchResponse } from '../../protocol/generated/fetch.ts';
import { makeFetchSnapshotResponse, makeFetchSnapshotResponseTopicSnapshot, makeFetchSnapshotResponsePartitionSnapshot, makeFetchSnapshotResponseSnapshotId, makeLeaderIdAndEpoch as makeSnapLeader, type FetchSnapshotRequest } from '../../protocol/generated/fetch-snapshot.ts';
import { MemoryRaftLog } from './raft-log.ts';
import { MemoryQuorumStateStore, formatQuorumState, parseQuorumState } from './quorum-state.ts';
import { loadRaftMessages, RaftClient } from './raft-client.ts';
import { decodeRaftMessage, encodeRaftMessage } from './wire.ts';
import { METADATA_TOPIC, METADATA_TOPIC_ID, NotLeaderError, parseQuorumVoters, type RaftMessage } from './types.ts';

// Clients with peers exchange messages: their codecs load on demand.
await loadRaftMessages();

const CLUSTER = 'test-cluster';

function node(store = new MemoryQuorumStateStore(), log = new MemoryRaftLog()) {
  const clock = new ManualClock(0);
  const sent: Array<{ to: number; msg: RaftMessage }> = [];
  const loaded: number[] = [];
  const client = new RaftClient({
    nodeId: 1, voters: [1, 2, 3], clusterId: CLUSTER, clock, random: () => 0.5, log, store,
    transport: { send: (to, msg) => sent.push({ to, msg: decodeRaftMessage(msg.kind, msg.api, msg.correlationId, encodeRaftMessage(msg)) }) },
    listener: { handleCommit: () => {}, handleLoadSnapshot: (id) => loaded.push(id.offset), handleLeaderChange: () => {} },
  });
  client.start();
  const last = () => sent[sent.length - 1]!.msg;
  return { client, clock, sent, last, store, log, loaded };
}

const vote = (o: { cluster?: string | null; epoch: number; from: number; lastEpoch?: number; lastOffset?: bigint; preVote?: boolean }) => makeVoteRequest({
  clusterId: o.cluster === undefined ? CLUSTER : o.cluster, voterId: 1,
  topics: [makeVoteRequestTopicData({ topicName: METADATA_TOPIC, partitions: [makeVoteRequestPartitionData({ replicaEpoch: o.epoch, replicaId: o.from, lastOffsetEpoch: o.lastEpoch ?? 0, lastOffset: o.lastOffset ?? 0n, preVote: o.preVote ?? false })] })],
});
const bqe = (epoch: number, leader: number, cluster = CLUSTER) => makeBeginQuorumEpochRequest({
  clusterId: cluster, voterId: 1, topics: [makeBeginQuorumEpochRequestTopicData({ topicName: METADATA_TOPIC, partitions: [makeBeginQuorumEpochRequestPartitionData({ leaderId: leader, leaderEpoch: epoch })] })],
});

t.test('Vote: mismatched cluster id, non-voter, stale epoch, invalid epochs', async (t) => {
  const n = node();
  n.client.handle(2, { kind: 'request', api: 'Vote', correlationId: 1, body: vote({ cluster: 'other', epoch: 1, from: 2 }) });
  t.equal((n.last().body as VoteResponse).errorCode, ErrorCode.INCONSISTENT_CLUSTER_ID);
  n.client.handle(99, { kind: 'request', api: 'Vote', correlationId: 2, body: vote({ epoch: 1, from: 99 }) });
  const r2 = n.last().body as VoteResponse;
  t.equal(r2.topics[0]!.partitions[0]!.errorCode, ErrorCode.INCONSISTENT_VOTER_SET);
  t.equal(n.client.epoch, 0, 'a non-voter does not move the epoch');
  n.client.handle(2, { kind: 'request', api: 'BeginQuorumEpoch', correlationId: 3, body: bqe(5, 2) });
  t.equal(n.client.epoch, 5);
  n.client.handle(3, { kind: 'request', api: 'Vote', correlationId: 4, body: vote({ epoch: 4, from: 3 }) });
  t.equal((n.last().body as VoteResponse).topics[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  n.client.handle(3, { kind: 'request', api: 'Vote', correlationId: 5, body: vote({ epoch: 6, from: 3, lastEpoch: 6 }) });
  t.equal((n.last().body as VoteResponse).topics[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_REQUEST, 'last epoch >= candidate epoch');
  t.equal(n.client.epoch, 5);
});

t.test('a vote is granted once per epoch, also across a restart', async (t) => {
  const store = new MemoryQuorumStateStore();
  const log = new MemoryRaftLog();
  const a = node(store, log);
  a.client.handle(2, { kind: 'request', api: 'Vote', correlationId: 1, body: vote({ epoch: 3, from: 2 }) });
  t.equal((a.last().body as VoteResponse).topics[0]!.partitions[0]!.voteGranted, true);
  a.client.handle(3, { kind: 'request', api: 'Vote', correlationId: 2, body: vote({ epoch: 3, from: 3 }) });
  t.equal((a.last().body as VoteResponse).topics[0]!.partitions[0]!.voteGranted, false);
  t.same(parseQuorumState(formatQuorumState(store.durable!)), { epoch: 3, leaderId: -1, votedId: 2 });
  a.client.close();
  const b = node(store, log);
  b.client.handle(3, { kind: 'request', api: 'Vote', correlationId: 1, body: vote({ epoch: 3, from: 3 }) });
  t.equal((b.last().body as VoteResponse).topics[0]!.partitions[0]!.voteGranted, false, 'the persisted vote holds after restart');
  b.client.handle(2, { kind: 'request', api: 'Vote', correlationId: 2, body: vote({ epoch: 3, from: 2 }) });
  t.equal((b.last().body as VoteResponse).topics[0]!.partitions[0]!.voteGranted, true, 'the same candidate again');
});

t.test('BeginQuorumEpoch: stale epoch and cluster id; Fetch to a non-leader; propose on a follower', async (t) => {
  const n = node();
  n.client.handle(2, { kind: 'request', api: 'BeginQuorumEpoch', correlationId: 1, body: bqe(5, 2) });
  t.equal(n.client.stateKind, 'follower');
  n.client.handle(3, { kind: 'request', api: 'BeginQuorumEpoch', correlationId: 2, body: bqe(4, 3) });
  t.equal((n.last().body as BeginQuorumEpochResponse).topics[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  n.client.handle(3, { kind: 'request', api: 'BeginQuorumEpoch', correlationId: 3, body: bqe(9, 3, 'x') });
  t.equal((n.last().body as BeginQuorumEpochResponse).errorCode, ErrorCode.INCONSISTENT_CLUSTER_ID);
  t.equal(n.client.epoch, 5);
  const fetch = (cluster: string) => makeFetchRequest({ clusterId: cluster, replicaState: makeReplicaState({ replicaId: 3 }), maxWaitMs: 0, topics: [makeFetchTopic({ topicId: METADATA_TOPIC_ID, partitions: [makeFetchPartition({ currentLeaderEpoch: 5, fetchOffset: 0n, lastFetchedEpoch: 0 })] })] });
  n.client.handle(3, { kind: 'request', api: 'Fetch', correlationId: 4, body: fetch(CLUSTER) });
  const fr = n.last().body as FetchResponse;
  t.equal(fr.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  t.equal(fr.responses[0]!.partitions[0]!.currentLeader.leaderId, 2);
  n.client.handle(3, { kind: 'request', api: 'Fetch', correlationId: 5, body: fetch('x') });
  t.equal((n.last().body as FetchResponse).errorCode, ErrorCode.INCONSISTENT_CLUSTER_ID);
  t.throws(() => n.client.propose([Buffer.from('x')]), NotLeaderError);
});

t.test('a follower discards a snapshot that fails its CRC and corrupt fetched batches', async (t) => {
  const n = node();
  n.client.handle(2, { kind: 'request', api: 'BeginQuorumEpoch', correlationId: 1, body: bqe(5, 2) });
  const fetchReq = n.sent.find((s) => s.msg.kind === 'request' && s.msg.api === 'Fetch')!.msg;
  // The leader answers with corrupt records: nothing is appended.
  const good = buildRecordBatch({ baseOffset: 0, partitionLeaderEpoch: 5, now: 1, records: [{ value: 'a' }] });
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 0xff;
  const fetchResp = (records: Buffer | null, snapshot?: { offset: number; epoch: number }): FetchResponse => makeFetchResponse({
    responses: [makeFetchableTopicResponse({ topicId: METADATA_TOPIC_ID, partitions: [makePartitionData({ highWatermark: 0n, currentLeader: makeLeaderIdAndEpoch({ leaderId: 2, leaderEpoch: 5 }), records, ...(snapshot ? { snapshotId: makeSnapshotId({ endOffset: BigInt(snapshot.offset), epoch: snapshot.epoch }) } : {}) })] })],
  });
  n.client.handle(2, { kind: 'response', api: 'Fetch', correlationId: fetchReq.correlationId, body: fetchResp(bad) });
  t.equal(n.log.endOffset(), 0, 'corrupt batch not appended');
  // Next fetch (after the retry backoff) gets a snapshot id; the chunk fails its CRC.
  n.clock.advance(50);
  const f2 = n.last();
  t.equal(f2.api, 'Fetch');
  n.client.handle(2, { kind: 'response', api: 'Fetch', correlationId: f2.correlationId, body: fetchResp(null, { offset: 1, epoch: 5 }) });
  const fs = n.last();
  t.equal(fs.api, 'FetchSnapshot');
  t.equal((fs.body as FetchSnapshotRequest).topics[0]!.partitions[0]!.snapshotId.endOffset, 1n);
  const snapResp = (bytes: Buffer) => makeFetchSnapshotResponse({ topics: [makeFetchSnapshotResponseTopicSnapshot({ name: METADATA_TOPIC, partitions: [makeFetchSnapshotResponsePartitionSnapshot({ snapshotId: makeFetchSnapshotResponseSnapshotId({ endOffset: 1n, epoch: 5 }), currentLeader: makeSnapLeader({ leaderId: 2, leaderEpoch: 5 }), size: BigInt(bytes.length), position: 0n, unalignedRecords: bytes })] })] });
  n.client.handle(2, { kind: 'response', api: 'FetchSnapshot', correlationId: fs.correlationId, body: snapResp(bad) });
  t.equal(n.log.latestSnapshot(), null, 'a snapshot failing its CRC is not installed');
  t.same(n.loaded, []);
  n.clock.advance(50);
  const f3 = n.last();
  n.client.handle(2, { kind: 'response', api: 'Fetch', correlationId: f3.correlationId, body: fetchResp(null, { offset: 1, epoch: 5 }) });
  const fs2 = n.last();
  n.client.handle(2, { kind: 'response', api: 'FetchSnapshot', correlationId: fs2.correlationId, body: snapResp(good) });
  t.same(n.log.latestSnapshot(), { offset: 1, epoch: 5 }, 'a valid snapshot is installed');
  t.same(n.loaded, [1]);
  t.equal(n.log.startOffset(), 1);
});

t.test('a single voter elects itself and commits proposals; controller.quorum.voters parses', async (t) => {
  const clock = new ManualClock(0);
  const commits: number[] = [];
  const c = new RaftClient({
    nodeId: 1, voters: [1], clusterId: CLUSTER, clock, random: () => 0, log: new MemoryRaftLog(), store: new MemoryQuorumStateStore(),
    transport: { send: () => {} }, listener: { handleCommit: (b) => commits.push(b.baseOffset), handleLoadSnapshot: () => {}, handleLeaderChange: () => {} },
  });
  c.start();
  t.equal(c.isLeader(), true);
  const off = await c.proposeAsync([Buffer.from('x')]);
  t.equal(off, 1, 'offset 0 is the LeaderChange control record');
  t.same(commits, [1]);
  t.same(parseQuorumVoters('1@localhost:9093,2@[::1]:9094'), [{ id: 1, host: 'localhost', port: 9093 }, { id: 2, host: '::1', port: 9094 }]);
  t.throws(() => parseQuorumVoters('1@localhost'), /controller.quorum.voters/);
});
