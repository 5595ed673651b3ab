// Transactions over the wire (raw client, in-process broker): the coordinator's state machine and error
// codes, transactional Produce verification, read_committed Fetch / ListOffsets, TxnOffsetCommit with
// require_stable, timeouts, fencing, the visibility APIs, and a restart with a transaction open.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { buildRecordBatch, RecordBatchView } from '../../protocol/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { FETCH, LIST_OFFSETS, batchOf, fetchRequest, produce } from '../testing/produce.ts';
import { restartTestBroker, startTestBroker } from '../testing/start.ts';

const INIT = 22, ADD_PARTITIONS = 24, ADD_OFFSETS = 25, END_TXN = 26, TXN_OFFSET_COMMIT = 28, OFFSET_FETCH = 9;
const DESCRIBE_PRODUCERS = 61, DESCRIBE_TRANSACTIONS = 65, LIST_TRANSACTIONS = 66, CREATE_TOPICS = 19, API_VERSIONS = 18;

async function setup(t: any, overrides: Record<string, string> = {}, options: Record<string, unknown> = {}) {
  const tb = await startTestBroker({ 'num.partitions': '1', ...overrides }, options);
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await c.request(CREATE_TOPICS, 7, { topics: [{ name: 'a', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }, { name: 'b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
  return { tb, c };
}

const init = (c: RawClient, id: string, v = 4, extra: Record<string, unknown> = {}) =>
  c.request(INIT, v, { transactionalId: id, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1, ...extra });
const addPartitions = (c: RawClient, id: string, pid: bigint, epoch: number, topics: Array<[string, number[]]>, v = 3) =>
  c.request(ADD_PARTITIONS, v, { v3AndBelowTransactionalId: id, v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: topics.map(([name, partitions]) => ({ name, partitions })) })
    .then((r: any) => r.resultsByTopicV3AndBelow.flatMap((x: any) => x.resultsByPartition.map((p: any) => p.partitionErrorCode)));
const endTxn = (c: RawClient, id: string, pid: bigint, epoch: number, committed: boolean, v = 3) =>
  c.request(END_TXN, v, { transactionalId: id, producerId: pid, producerEpoch: epoch, committed }).then((r: any) => r.errorCode);
const txnBatch = (pid: bigint, epoch: number, seq: number, n: number, prefix: string) =>
  buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${prefix}${i}` })), producerId: pid, producerEpoch: epoch, baseSequence: seq, isTransactional: true });

async function fetchPart(c: RawClient, topic: string, partition: number, offset: number, isolationLevel: number) {
  const r = await c.request(FETCH, 12, fetchRequest([{ topic, partition, offset }], { isolationLevel }));
  const p = r.responses[0].partitions[0];
  const batches: RecordBatchView[] = [];
  for (let pos = 0; p.records && pos < p.records.length;) {
    const v = new RecordBatchView(p.records, pos);
    batches.push(v);
    pos += v.size;
  }
  return { errorCode: p.errorCode, hw: Number(p.highWatermark), lso: Number(p.lastStableOffset), aborted: p.abortedTransactions, batches };
}

const latest = async (c: RawClient, topic: string, isolationLevel: number) => {
  const r = await c.request(LIST_OFFSETS, 5, { replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
  return Number(r.topics[0].partitions[0].offset);
};

t.test('advertised versions', async (t) => {
  const { c } = await setup(t);
  const r = await c.request(API_VERSIONS, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  const range = (k: number) => { const a = r.apiKeys.find((x: any) => x.apiKey === k); return a ? [a.minVersion, a.maxVersion] : null; };
  t.same([range(INIT), range(ADD_PARTITIONS), range(ADD_OFFSETS), range(END_TXN), range(TXN_OFFSET_COMMIT)], [[0, 5], [0, 5], [0, 4], [0, 5], [0, 5]]);
  t.same([range(DESCRIBE_PRODUCERS), range(DESCRIBE_TRANSACTIONS), range(LIST_TRANSACTIONS)], [[0, 0], [0, 0], [0, 2]]);
});

t.test('InitProducerId: epochs, KIP-360 checks, fencing errors by version', async (t) => {
  const { c } = await setup(t);
  const a = await init(c, 'x');
  t.same([a.errorCode, a.producerEpoch], [0, 0]);
  const b = await init(c, 'x');
  t.same([b.errorCode, b.producerId, b.producerEpoch], [0, a.producerId, 1], 'a new producer bumps the epoch, same id');
  const bump = await init(c, 'x', 4, { producerId: a.producerId, producerEpoch: 1 });
  t.same([bump.errorCode, bump.producerEpoch], [0, 2], 'KIP-360: the current epoch is bumped');
  const retry = await init(c, 'x', 4, { producerId: a.producerId, producerEpoch: 1 });
  t.same([retry.errorCode, retry.producerEpoch], [0, 2], 'a retry of that bump gets the same epoch');
  t.equal((await init(c, 'x', 4, { producerId: a.producerId, producerEpoch: 0 })).errorCode, ErrorCode.PRODUCER_FENCED, 'an older epoch is fenced');
  t.equal((await init(c, 'x', 3, { producerId: a.producerId, producerEpoch: 0 })).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'v3: INVALID_PRODUCER_EPOCH');
  t.equal((await init(c, 'x', 4, { producerId: 999999n, producerEpoch: 2 })).errorCode, ErrorCode.PRODUCER_FENCED, 'another producer id is fenced');
});

t.test('AddPartitionsToTxn, produce verification, EndTxn states, read_committed', async (t) => {
  const { c } = await setup(t);
  const { producerId: pid, producerEpoch: e } = await init(c, 'tx');
  t.same(await addPartitions(c, 'nope', pid, e, [['a', [0]]]), [ErrorCode.INVALID_PRODUCER_ID_MAPPING], 'unknown transactional id');
  t.same(await addPartitions(c, 'tx', pid + 1n, e, [['a', [0]]]), [ErrorCode.INVALID_PRODUCER_ID_MAPPING], 'other producer id');
  t.same(await addPartitions(c, 'tx', pid, e + 1, [['a', [0]]]), [ErrorCode.PRODUCER_FENCED], 'other epoch (v3)');
  t.same(await addPartitions(c, 'tx', pid, e + 1, [['a', [0]]], 1), [ErrorCode.INVALID_PRODUCER_EPOCH], 'other epoch (v1)');
  t.same(await addPartitions(c, 'tx', pid, e, [['a', [0, 7]], ['zz', [0]]]), [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  t.equal(await endTxn(c, 'tx', pid, e, true), ErrorCode.INVALID_TXN_STATE, 'EndTxn with no transaction');

  const notAdded = await produce(c, 'a', 0, txnBatch(pid, e, 0, 2, 'x'));
  t.equal(notAdded.errorCode, ErrorCode.INVALID_TXN_STATE, 'transactional produce before AddPartitionsToTxn');
  await produce(c, 'a', 0, batchOf(3)); // offsets 0-2, plain
  t.same(await addPartitions(c, 'tx', pid, e, [['a', [0]]]), [0]);
  const p1 = await produce(c, 'a', 0, txnBatch(pid, e, 0, 2, 'one'));
  t.same([p1.errorCode, Number(p1.baseOffset)], [0, 3]);
  await produce(c, 'a', 0, batchOf(2)); // offsets 5-6, plain, after the open transaction

  let f = await fetchPart(c, 'a', 0, 0, 1);
  t.same([f.hw, f.lso], [7, 3], 'the open transaction holds the last stable offset');
  t.same(f.batches.map((b) => b.baseOffset), [0], 'read_committed: only batches below the LSO');
  t.same(f.aborted, [], 'no aborted transactions');
  const u = await fetchPart(c, 'a', 0, 0, 0);
  t.same([u.lso, u.batches.length], [3, 3], 'read_uncommitted: everything, LSO reported');
  t.same([await latest(c, 'a', 0), await latest(c, 'a', 1)], [7, 3], 'ListOffsets latest by isolation');

  // KIP-890 verify-only form (v4).
  const ver = await c.request(ADD_PARTITIONS, 4, { transactions: [{ transactionalId: 'tx', producerId: pid, producerEpoch: e, verifyOnly: true, topics: [{ name: 'a', partitions: [0, 1] }] }] });
  t.same(ver.resultsByTransaction[0].topicResults[0].resultsByPartition.map((p: any) => p.partitionErrorCode), [0, ErrorCode.INVALID_TXN_STATE]);

  t.equal(await endTxn(c, 'tx', pid, e, true), 0, 'commit');
  t.equal(await endTxn(c, 'tx', pid, e, true), 0, 'a retried commit succeeds');
  t.equal(await endTxn(c, 'tx', pid, e, false), ErrorCode.INVALID_TXN_STATE, 'abort after commit');
  f = await fetchPart(c, 'a', 0, 0, 1);
  t.same([f.hw, f.lso], [8, 8], 'after the commit marker LSO = HW');
  t.equal(f.batches.filter((b) => b.isControl).length, 1, 'one commit marker batch');

  // An aborted transaction: listed for read_committed readers.
  t.same(await addPartitions(c, 'tx', pid, e, [['a', [0]]]), [0]);
  const p2 = await produce(c, 'a', 0, txnBatch(pid, e, 2, 3, 'two'));
  t.equal(p2.errorCode, 0);
  t.equal(await endTxn(c, 'tx', pid, e, false), 0, 'abort');
  f = await fetchPart(c, 'a', 0, 0, 1);
  t.same(f.aborted.map((a: any) => [a.producerId, Number(a.firstOffset)]), [[pid, Number(p2.baseOffset)]], 'the aborted transaction with its first offset');
  t.same(await fetchPart(c, 'a', 0, Number(p2.baseOffset) + 4, 1).then((x) => x.aborted), [], 'a fetch past the abort marker lists none');
});

t.test('TxnOffsetCommit: pending until the marker, require_stable, abort drops', async (t) => {
  const { c } = await setup(t);
  const { producerId: pid, producerEpoch: e } = await init(c, 'to');
  const commit = (offset: bigint) => c.request(TXN_OFFSET_COMMIT, 3, { transactionalId: 'to', groupId: 'grp', producerId: pid, producerEpoch: e, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'b', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: 'm' }] }] })
    .then((r: any) => r.topics[0].partitions[0].errorCode);
  const fetchOffset = (requireStable: boolean) => c.request(OFFSET_FETCH, 7, { groupId: 'grp', topics: [{ name: 'b', partitionIndexes: [0] }], requireStable })
    .then((r: any) => [r.topics[0].partitions[0].errorCode, Number(r.topics[0].partitions[0].committedOffset)]);
  t.equal(await commit(5n), ErrorCode.INVALID_TXN_STATE, 'without AddOffsetsToTxn');
  t.equal((await c.request(ADD_OFFSETS, 3, { transactionalId: 'to', producerId: pid, producerEpoch: e, groupId: 'grp' })).errorCode, 0);
  t.equal(await commit(5n), 0);
  t.same(await fetchOffset(false), [0, -1], 'not committed yet');
  t.same(await fetchOffset(true), [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1], 'require_stable: unstable');
  t.equal(await endTxn(c, 'to', pid, e, true), 0);
  t.same(await fetchOffset(true), [0, 5], 'committed by the marker');

  t.equal((await c.request(ADD_OFFSETS, 3, { transactionalId: 'to', producerId: pid, producerEpoch: e, groupId: 'grp' })).errorCode, 0);
  t.equal(await commit(9n), 0);
  t.equal(await endTxn(c, 'to', pid, e, false), 0);
  t.same(await fetchOffset(true), [0, 5], 'an aborted commit is dropped');
});

t.test('fencing: a new producer aborts the open transaction; the old epoch is rejected everywhere', async (t) => {
  const { c } = await setup(t);
  const old = await init(c, 'f');
  t.same(await addPartitions(c, 'f', old.producerId, old.producerEpoch, [['b', [0]]]), [0]);
  t.equal((await produce(c, 'b', 0, txnBatch(old.producerId, old.producerEpoch, 0, 2, 'old'))).errorCode, 0);
  const fresh = await init(c, 'f');
  t.same([fresh.errorCode, fresh.producerId, fresh.producerEpoch], [0, old.producerId, old.producerEpoch + 2], 'fence bump + new producer bump');
  t.equal((await produce(c, 'b', 0, txnBatch(old.producerId, old.producerEpoch, 2, 1, 'late'))).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'old epoch produce');
  t.equal(await endTxn(c, 'f', old.producerId, old.producerEpoch, true), ErrorCode.PRODUCER_FENCED, 'old epoch EndTxn');
  const f = await fetchPart(c, 'b', 0, 0, 1);
  t.same(f.aborted.map((a: any) => Number(a.firstOffset)), [0], 'the fenced transaction was aborted');
  t.equal(f.lso, f.hw);
});

t.test('transaction.timeout: an expired transaction is aborted and its producer fenced', async (t) => {
  const { c, tb } = await setup(t, { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '50' });
  const { producerId: pid, producerEpoch: e } = await init(c, 'slow', 4, { transactionTimeoutMs: 100 });
  t.same(await addPartitions(c, 'slow', pid, e, [['b', [0]]]), [0]);
  t.equal((await produce(c, 'b', 0, txnBatch(pid, e, 0, 1, 's'))).errorCode, 0);
  const deadline = Date.now() + 10000;
  let state = '';
  while (Date.now() < deadline) {
    const d = await c.request(DESCRIBE_TRANSACTIONS, 0, { transactionalIds: ['slow'] });
    state = d.transactionStates[0].transactionState;
    if (state === 'CompleteAbort') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(state, 'CompleteAbort', 'aborted by the coordinator');
  t.equal(tb.broker.context.transactions.get('slow')?.producerEpoch, e + 1, 'epoch bumped');
  t.equal(await endTxn(c, 'slow', pid, e, true), ErrorCode.PRODUCER_FENCED, 'the producer is fenced');
  const f = await fetchPart(c, 'b', 0, 0, 1);
  t.same([f.lso, f.hw, f.aborted.map((a: any) => [a.producerId, Number(a.firstOffset)])], [2, 2, [[pid, 0]]], 'listed as aborted for read_committed readers');
});

t.test('DescribeTransactions, ListTransactions, DescribeProducers', async (t) => {
  const { c } = await setup(t);
  const { producerId: pid, producerEpoch: e } = await init(c, 'd1');
  await init(c, 'other-2');
  t.same(await addPartitions(c, 'd1', pid, e, [['a', [1, 0]]]), [0, 0]);
  t.equal((await produce(c, 'a', 1, txnBatch(pid, e, 0, 2, 'd'))).errorCode, 0);
  const d = await c.request(DESCRIBE_TRANSACTIONS, 0, { transactionalIds: ['d1', 'missing'] });
  const s = d.transactionStates[0];
  t.same([s.errorCode, s.transactionState, s.producerId, s.producerEpoch, s.transactionTimeoutMs, s.topics], [0, 'Ongoing', pid, e, 60000, [{ topic: 'a', partitions: [0, 1] }]]);
  t.ok(s.transactionStartTimeMs > 0n);
  t.equal(d.transactionStates[1].errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  const l = await c.request(LIST_TRANSACTIONS, 2, { stateFilters: [], producerIdFilters: [], durationFilter: -1n, transactionalIdPattern: null });
  t.same(l.transactionStates.map((x: any) => x.transactionalId).sort(), ['d1', 'other-2']);
  const ongoing = await c.request(LIST_TRANSACTIONS, 2, { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [], durationFilter: -1n, transactionalIdPattern: null });
  t.same([ongoing.transactionStates.map((x: any) => x.transactionState), ongoing.unknownStateFilters], [['Ongoing'], ['Bogus']]);
  const pat = await c.request(LIST_TRANSACTIONS, 2, { stateFilters: [], producerIdFilters: [], durationFilter: -1n, transactionalIdPattern: 'oth.*' });
  t.same(pat.transactionStates.map((x: any) => x.transactionalId), ['other-2']);
  const bad = await c.request(LIST_TRANSACTIONS, 2, { stateFilters: [], producerIdFilters: [], durationFilter: -1n, transactionalIdPattern: '(' });
  t.equal(bad.errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION);
  const p = await c.request(DESCRIBE_PRODUCERS, 0, { topics: [{ name: 'a', partitionIndexes: [1, 9] }] });
  const ap = p.topics[0].partitions[0].activeProducers[0];
  t.same([ap.producerId, ap.producerEpoch, ap.lastSequence, Number(ap.currentTxnStartOffset)], [pid, e, 1, 0]);
  t.equal(p.topics[0].partitions[1].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

t.test('restart with a transaction open and an aborted one: state, LSO and aborted index survive', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-txn-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const overrides = { 'log.dirs': dir, 'num.partitions': '1' };
  let tb = await startTestBroker(overrides, { storage: 'file' });
  let c = await RawClient.connect(tb.port);
  await produce(c, 'r', 0, batchOf(1)); // auto-created
  const { producerId: pid, producerEpoch: e } = await init(c, 'r1');
  t.same(await addPartitions(c, 'r1', pid, e, [['r', [0]]]), [0]);
  await produce(c, 'r', 0, txnBatch(pid, e, 0, 2, 'ab')); // 1-2
  t.equal(await endTxn(c, 'r1', pid, e, false), 0); // marker 3
  t.same(await addPartitions(c, 'r1', pid, e, [['r', [0]]]), [0]);
  await produce(c, 'r', 0, txnBatch(pid, e, 2, 2, 'open')); // 4-5, left open
  ({ tb, c } = await restartTestBroker(t, tb, c, overrides));
  t.equal(tb.broker.context.transactions.get('r1')?.state, 'Ongoing', 'the open transaction is loaded');
  let f = await fetchPart(c, 'r', 0, 0, 1);
  t.same([f.hw, f.lso], [6, 4], 'the LSO still stops at the open transaction');
  t.same(f.aborted.map((a: any) => [Number(a.firstOffset)]), [[1]], 'the aborted transaction is still listed (.txnindex)');
  t.equal(await endTxn(c, 'r1', pid, e, true), 0, 'the producer commits after the restart');
  f = await fetchPart(c, 'r', 0, 0, 1);
  t.same([f.hw, f.lso], [7, 7]);
});

t.test('transaction version 2: Produce v12 adds partitions, TxnOffsetCommit v5 adds offsets, EndTxn v5 bumps; older versions keep TV1 answers', async (t) => {
  const { c } = await setup(t);
  const { producerId: pid, producerEpoch: e0 } = await init(c, 'v2');
  const send = (partition: number, epoch: number, seq: number, prefix: string, version = 12, transactionalId: string | null = 'v2') =>
    c.request(0, version, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: partition, records: txnBatch(pid, epoch, seq, 2, prefix) }] }] })
      .then((r: any) => r.responses[0].partitionResponses[0]);
  const end = (epoch: number, committed: boolean) => c.request(END_TXN, 5, { transactionalId: 'v2', producerId: pid, producerEpoch: epoch, committed });
  const offsets = (v: number, epoch: number) => c.request(TXN_OFFSET_COMMIT, v, { transactionalId: 'v2', groupId: 'g2', producerId: pid, producerEpoch: epoch, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'b', partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: '' }] }] })
    .then((r: any) => r.topics[0].partitions[0].errorCode);

  // Not in the transaction: TRANSACTION_ABORTABLE where Kafka answers it (Produce v11, TxnOffsetCommit v4), INVALID_TXN_STATE before.
  t.equal((await send(0, e0, 0, 'x', 10)).errorCode, ErrorCode.INVALID_TXN_STATE, 'Produce v10');
  t.equal((await send(0, e0, 0, 'x', 11)).errorCode, ErrorCode.TRANSACTION_ABORTABLE, 'Produce v11');
  t.equal(await offsets(3, e0), ErrorCode.INVALID_TXN_STATE, 'TxnOffsetCommit v3');
  t.equal(await offsets(4, e0), ErrorCode.TRANSACTION_ABORTABLE, 'TxnOffsetCommit v4');

  const p0 = await send(0, e0, 0, 'one');
  t.equal(p0.errorCode, 0, 'Produce v12 adds the partition itself (no AddPartitionsToTxn)');
  t.equal((await send(1, e0, 0, 'one')).errorCode, 0, 'a second partition');
  t.equal(await offsets(5, e0), 0, 'TxnOffsetCommit v5 adds the offsets partition itself (no AddOffsetsToTxn)');
  const committed = await end(e0, true);
  t.same([committed.errorCode, committed.producerId, committed.producerEpoch], [0, pid, e0 + 1], 'EndTxn v5 answers the bumped epoch');
  const retried = await end(e0, true);
  t.same([retried.errorCode, retried.producerId, retried.producerEpoch], [0, pid, e0 + 1], 'a retry of it');
  let f = await fetchPart(c, 'a', 0, 0, 1);
  t.same(f.batches.filter((b) => !b.isControl).map((b) => b.producerEpoch), [e0], 'read_committed sees the committed batch');
  t.same(f.batches.filter((b) => b.isControl).map((b) => b.producerEpoch), [e0 + 1], 'the marker carries the bumped epoch');
  t.equal((await send(0, e0, 2, 'late')).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'the old epoch is fenced');

  const e1 = e0 + 1;
  t.equal((await send(0, e1, 0, 'two')).errorCode, 0, 'the next transaction, sequence 0 at the new epoch');
  const aborted = await end(e1, false);
  t.same([aborted.errorCode, aborted.producerEpoch], [0, e1 + 1]);
  f = await fetchPart(c, 'a', 0, 0, 1);
  t.same(f.batches.filter((b) => !b.isControl).map((b) => b.producerEpoch), [e0, e1], 'fetched with the abort listed');
  t.equal(f.aborted.length, 1, 'the aborted transaction is listed');
  t.equal((await end(e1, false)).producerEpoch, e1 + 1, 'abort retry');

  // A client on transaction version 1 (EndTxn v3) still goes through AddPartitionsToTxn and keeps its epoch.
  const v1 = await init(c, 'v1');
  t.same(await addPartitions(c, 'v1', v1.producerId, v1.producerEpoch, [['b', [0]]]), [0]);
  t.equal(await endTxn(c, 'v1', v1.producerId, v1.producerEpoch, true), 0);
  t.equal(await endTxn(c, 'v1', v1.producerId, v1.producerEpoch, true), 0, 'same epoch after a TV1 end');
});
