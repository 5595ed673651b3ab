// The transaction coordinator with a fake log and marker writer and a manual clock: persistence before
// state changes, marker failures retried (CONCURRENT_TRANSACTIONS meanwhile), Prepare* completed after a
// reload, transactional.id.expiration.ms, epoch exhaustion.
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { ManualClock } from '../../storage/clock.ts';
import { StorageError } from '../../storage/index.ts';
import { memoryLogger } from '../log.ts';
import { type MarkerWriter, type TopicPartition, TransactionCoordinator, type TxnStore } from './coordinator.ts';
import type { TransactionLogValue } from './records.ts';
import { decodeTransactionLogValue, encodeTransactionLogValue } from './records.ts';

function harness(opts: { failAppends?: () => boolean; failMarkers?: () => boolean } = {}) {
  const clock = new ManualClock();
  const records: Array<[string, TransactionLogValue | null]> = [];
  const markers: Array<{ pid: bigint; epoch: number; commit: boolean; partitions: TopicPartition[] }> = [];
  const store: TxnStore = {
    ensure: async () => {},
    append: async (id, v) => {
      if (opts.failAppends?.()) throw new StorageError('KAFKA_STORAGE_ERROR', 'disk full');
      // Through the codec, as it would be stored.
      records.push([id, v === null ? null : decodeTransactionLogValue(encodeTransactionLogValue(v))]);
    },
  };
  const writer: MarkerWriter = {
    write: async (pid, epoch, commit, partitions) => {
      if (opts.failMarkers?.()) throw new Error('partition offline');
      markers.push({ pid, epoch, commit, partitions });
    },
  };
  let nextPid = 1000n;
  const make = () => new TransactionCoordinator({
    clock, log: memoryLogger(), store, markers: writer, generateProducerId: () => nextPid++,
    maxTimeoutMs: 900000, abortCheckIntervalMs: 1000, idExpirationMs: 60_000, idExpirationCheckIntervalMs: 10_000, markerRetryMs: 500,
  });
  return { clock, records, markers, make };
}

const flush = () => new Promise((r) => setImmediate(r));

t.test('every transition is written before it takes effect; a failed write changes nothing', async (t) => {
  let fail = false;
  const h = harness({ failAppends: () => fail });
  const c = h.make();
  const r = await c.initProducerId('a', 30000, null);
  t.same([r.errorCode, r.producerId, r.producerEpoch], [0, 1000n, 0]);
  t.same(h.records.map(([id, v]) => [id, v?.state, v?.producerEpoch]), [['a', 'Empty', 0]]);
  fail = true;
  t.equal(await c.addPartitions('a', 1000n, 0, [{ topic: 't', partition: 0 }]), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.equal(c.get('a')?.state, 'Empty', 'unchanged');
  t.equal(c.verify(1000n, 0, 't', 0), ErrorCode.TRANSACTION_ABORTABLE, 'not in the transaction (Kafka: TRANSACTION_ABORTABLE)');
  fail = false;
  t.equal(await c.addPartitions('a', 1000n, 0, [{ topic: 't', partition: 0 }]), 0);
  t.equal(c.verify(1000n, 0, 't', 0), 0);
  t.equal(await c.addPartitions('a', 1000n, 0, [{ topic: 't', partition: 0 }]), 0);
  t.equal(h.records.length, 2, 'adding a partition already in the transaction writes nothing');
  t.equal(await c.endTxn('a', 1000n, 0, true), 0);
  t.same(h.records.slice(2).map(([, v]) => v?.state), ['PrepareCommit', 'CompleteCommit']);
  t.same(h.markers, [{ pid: 1000n, epoch: 0, commit: true, partitions: [{ topic: 't', partition: 0 }] }]);
  t.same(h.records[2]![1]!.partitions, [{ topic: 't', partitionIds: [0] }], 'the prepare record names the partitions');
});

t.test('markers that cannot be written: EndTxn succeeds, retries in the background, CONCURRENT_TRANSACTIONS meanwhile', async (t) => {
  let failMarkers = true;
  const h = harness({ failMarkers: () => failMarkers });
  const c = h.make();
  await c.initProducerId('a', 30000, null);
  await c.addPartitions('a', 1000n, 0, [{ topic: 't', partition: 1 }]);
  t.equal(await c.endTxn('a', 1000n, 0, false), 0, 'the decision is durable');
  t.equal(c.get('a')?.state, 'PrepareAbort');
  t.equal(await c.addPartitions('a', 1000n, 0, [{ topic: 't', partition: 1 }]), ErrorCode.CONCURRENT_TRANSACTIONS);
  t.equal(await c.endTxn('a', 1000n, 0, false), ErrorCode.CONCURRENT_TRANSACTIONS);
  t.equal(await c.endTxn('a', 1000n, 0, true), ErrorCode.INVALID_TXN_STATE);
  t.equal((await c.initProducerId('a', 30000, null)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  failMarkers = false;
  h.clock.advance(500);
  await flush();
  await flush();
  t.equal(c.get('a')?.state, 'CompleteAbort', 'completed by the retry');
  t.equal(h.markers.length, 1);
});

t.test('a reload completes Prepare* states and keeps ongoing ones', async (t) => {
  const h = harness();
  const c = h.make();
  c.replay('p', { producerId: 5n, previousProducerId: -1n, nextProducerId: -1n, producerEpoch: 3, transactionTimeoutMs: 60000, state: 'PrepareCommit', partitions: [{ topic: 'x', partitionIds: [0, 2] }], lastUpdateTimestamp: 1, startTimestamp: 1 });
  c.replay('o', { producerId: 6n, previousProducerId: -1n, nextProducerId: -1n, producerEpoch: 0, transactionTimeoutMs: 60000, state: 'Ongoing', partitions: [{ topic: 'x', partitionIds: [1] }], lastUpdateTimestamp: h.clock.now(), startTimestamp: h.clock.now() });
  c.replay('gone', { producerId: 7n, previousProducerId: -1n, nextProducerId: -1n, producerEpoch: 0, transactionTimeoutMs: 60000, state: 'Empty', partitions: [], lastUpdateTimestamp: 1, startTimestamp: -1 });
  c.replay('gone', null);
  c.start();
  t.teardown(() => c.close());
  await flush();
  await flush();
  t.same(h.markers, [{ pid: 5n, epoch: 3, commit: true, partitions: [{ topic: 'x', partition: 0 }, { topic: 'x', partition: 2 }] }]);
  t.equal(c.get('p')?.state, 'CompleteCommit');
  t.equal(c.get('o')?.state, 'Ongoing');
  t.equal(c.verify(6n, 0, 'x', 1), 0, 'verification works on loaded state');
  t.equal(c.get('gone'), undefined, 'a tombstone removes the id');
});

t.test('timeouts abort with a bumped epoch; transactional.id.expiration.ms removes idle ids', async (t) => {
  const h = harness();
  const c = h.make();
  c.start();
  t.teardown(() => c.close());
  await c.initProducerId('slow', 2000, null);
  await c.initProducerId('idle', 2000, null);
  await c.addPartitions('slow', 1000n, 0, [{ topic: 't', partition: 0 }]);
  h.clock.advance(1000);
  await flush();
  t.equal(c.get('slow')?.state, 'Ongoing', 'not yet');
  h.clock.advance(2000);
  await flush();
  await flush();
  t.same([c.get('slow')?.state, c.get('slow')?.producerEpoch], ['CompleteAbort', 1]);
  t.same(h.markers.map((m) => [m.pid, m.epoch, m.commit]), [[1000n, 1, false]], 'abort marker carries the bumped epoch');
  t.equal(await c.endTxn('slow', 1000n, 0, true), ErrorCode.PRODUCER_FENCED);
  // slow is idle from 3 s on: expired by the first 10-second expiration check after 63 s, the one at 70 s.
  h.clock.advance(67_000);
  await flush();
  await flush();
  await flush();
  t.equal(c.get('idle'), undefined, 'idle id expired');
  t.equal(c.get('slow'), undefined, 'the aborted one too, once idle');
  t.same(h.records.filter(([, v]) => v === null).map(([id]) => id).sort(), ['idle', 'slow'], 'tombstones written');
});

t.test('an exhausted epoch rolls over to a new producer id; a retry with the old id is accepted', async (t) => {
  const h = harness();
  const c = h.make();
  c.replay('e', { producerId: 42n, previousProducerId: -1n, nextProducerId: -1n, producerEpoch: 32766, transactionTimeoutMs: 60000, state: 'CompleteCommit', partitions: [], lastUpdateTimestamp: 1, startTimestamp: 1 });
  const r = await c.initProducerId('e', 60000, { producerId: 42n, producerEpoch: 32766 });
  t.same([r.errorCode, r.producerId, r.producerEpoch], [0, 1000n, 0]);
  const retry = await c.initProducerId('e', 60000, { producerId: 42n, producerEpoch: 32766 });
  t.equal(retry.errorCode, 0, 'the previous id with an exhausted epoch is not fenced');
});

t.test('transaction version 2: an epoch bump at every end, retries recognised, epoch overflow rotates the producer id', async (t) => {
  const h = harness();
  const c = h.make();
  const { producerId: pid } = await c.initProducerId('v2', 30000, null);
  const tp = [{ topic: 't', partition: 0 }];
  t.equal(await c.addPartitions('v2', pid, 0, tp, 2), 0);
  t.same(await c.endTransaction('v2', pid, 0, true, 2), { errorCode: 0, producerId: pid, producerEpoch: 1 }, 'commit answers the bumped epoch');
  t.same(h.markers.at(-1), { pid, epoch: 1, commit: true, partitions: tp }, 'the markers carry the bumped epoch');
  t.same(await c.endTransaction('v2', pid, 0, true, 2), { errorCode: 0, producerId: pid, producerEpoch: 1 }, 'a retry (old epoch) gets the same answer');
  t.equal((await c.endTransaction('v2', pid, 0, false, 2)).errorCode, ErrorCode.INVALID_TXN_STATE, 'a retry with the other decision');
  t.equal(await c.addPartitions('v2', pid, 0, tp, 2), ErrorCode.PRODUCER_FENCED, 'the old epoch cannot start a transaction');
  t.equal((await c.endTransaction('v2', pid, 1, true, 2)).errorCode, ErrorCode.INVALID_TXN_STATE, 'commit with nothing added');
  t.same(await c.endTransaction('v2', pid, 1, false, 2), { errorCode: 0, producerId: pid, producerEpoch: 2 }, 'abort with nothing added still bumps');
  t.equal(h.markers.length, 1, 'an empty abort writes no markers');
  t.equal((await c.endTransaction('v2', pid, 5, false, 2)).errorCode, ErrorCode.PRODUCER_FENCED, 'a newer epoch is fenced');

  // At the last usable epoch (Short.MaxValue - 1) the markers use Short.MaxValue and the producer continues
  // with a new producer id at epoch 0; a retry with the old id and epoch gets that answer too.
  c.replay('x', { producerId: 77n, previousProducerId: -1n, nextProducerId: -1n, producerEpoch: 32766, transactionTimeoutMs: 60000, state: 'Ongoing', partitions: [{ topic: 't', partitionIds: [1] }], lastUpdateTimestamp: h.clock.now(), startTimestamp: h.clock.now(), clientTransactionVersion: 2 });
  const r = await c.endTransaction('x', 77n, 32766, false, 2);
  t.equal(r.errorCode, 0);
  t.not(r.producerId, 77n, 'a new producer id');
  t.equal(r.producerEpoch, 0);
  t.same(h.markers.at(-1), { pid: 77n, epoch: 32767, commit: false, partitions: [{ topic: 't', partition: 1 }] });
  t.same(await c.endTransaction('x', 77n, 32766, false, 2), r, 'a retry across the rotation');
  t.same(h.records.filter(([id]) => id === 'x').map(([, v]) => [v!.state, v!.producerId, v!.producerEpoch, v!.nextProducerId, v!.clientTransactionVersion]),
    [['PrepareAbort', 77n, 32767, r.producerId, 2], ['CompleteAbort', r.producerId, 0, -1n, 2]], 'the rotation is in the log (value v1)');
  t.equal(await c.addPartitions('x', r.producerId, 0, tp, 2), 0, 'the new id starts the next transaction');

  // Transaction version 1 keeps its epoch at the end (EndTxn v0-4).
  const { producerId: p1 } = await c.initProducerId('v1', 30000, null);
  await c.addPartitions('v1', p1, 0, tp);
  t.equal(await c.endTxn('v1', p1, 0, true), 0);
  t.equal(c.get('v1')?.producerEpoch, 0, 'no bump for version 1');
  t.equal(await c.endTxn('v1', p1, 0, true), 0, 'retry');
  t.equal(await c.endTxn('v1', p1, 0, false), ErrorCode.INVALID_TXN_STATE);
});
