import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { lastSequence, PartitionProducerState } from './state.ts';

const b = (pid: number, epoch: number, seq: number, n = 1, ts = 1000) => ({ producerId: BigInt(pid), producerEpoch: epoch, baseSequence: seq, lastOffsetDelta: n - 1, maxTimestamp: ts });

function appendOk(t: any, st: PartitionProducerState, batch: ReturnType<typeof b>, offset: number) {
  const c = st.check(batch, offset);
  t.equal(c.kind, 'append', `seq ${batch.baseSequence} accepted`);
  if (c.kind === 'append') st.commit(c.reservation, offset, offset + batch.lastOffsetDelta, batch.maxTimestamp);
}

t.test('sequence wrap-around (Kafka incrementSequence)', async (t) => {
  t.equal(lastSequence(0, 4), 4);
  t.equal(lastSequence(2147483647, 0), 2147483647);
  t.equal(lastSequence(2147483646, 2), 0);
  const st = new PartitionProducerState('x-0');
  appendOk(t, st, b(1, 0, 2147483645, 3), 0); // 2147483645..2147483647
  appendOk(t, st, b(1, 0, 0, 2), 3);
  t.equal(st.check(b(1, 0, 5), 5).kind, 'error', 'gap after wrap');
});

t.test('unknown producer starts at any sequence (Kafka 4); then in order only', async (t) => {
  const st = new PartitionProducerState('x-0');
  appendOk(t, st, b(7, 3, 42), 0);
  const gap = st.check(b(7, 3, 44), 1);
  t.equal(gap.kind === 'error' && gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  appendOk(t, st, b(7, 3, 43), 1);
});

t.test('epochs: lower → INVALID_PRODUCER_EPOCH, a new epoch must start at 0', async (t) => {
  const st = new PartitionProducerState('x-0');
  appendOk(t, st, b(1, 2, 0), 0);
  const low = st.check(b(1, 1, 1), 1);
  t.equal(low.kind === 'error' && low.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  const bad = st.check(b(1, 3, 5), 1);
  t.equal(bad.kind === 'error' && bad.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  appendOk(t, st, b(1, 3, 0), 1);
  t.equal(st.entry(1n)!.batches.length, 1, 'a new epoch clears the cached batches');
});

t.test('duplicates of the last five batches; the sixth-oldest is out of order', async (t) => {
  const st = new PartitionProducerState('x-0');
  for (let i = 0; i < 6; i++) appendOk(t, st, b(1, 0, i * 2, 2, 100 + i), i * 2);
  for (let i = 1; i < 6; i++) {
    const d = st.check(b(1, 0, i * 2, 2), 99);
    t.same(d.kind === 'duplicate' && [d.batch.firstOffset, d.batch.timestamp], [i * 2, 100 + i], `batch ${i} is a duplicate`);
  }
  const old = st.check(b(1, 0, 0, 2), 99);
  t.equal(old.kind === 'error' && old.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'evicted batch');
  t.equal(st.check(b(1, 1, 2, 2), 99).kind, 'error', 'same range with another epoch is not a duplicate');
});

t.test('reservations: pipelined batches, a failed append rolls back, a retry of an in-flight batch waits', async (t) => {
  const st = new PartitionProducerState('x-0');
  const c0 = st.check(b(1, 0, 0), 0);
  const c1 = st.check(b(1, 0, 1), 1);
  t.equal(c0.kind, 'append');
  t.equal(c1.kind, 'append', 'second pipelined batch follows the reserved first');
  t.equal(st.check(b(1, 0, 1), 1).kind, 'in-flight', 'same batch twice in flight');
  const again = st.check(b(1, 0, 0), 1);
  t.equal(again.kind, 'in-flight');
  t.equal(st.check(b(1, 0, 3), 2).kind, 'error', 'gap against the in-flight end');
  if (c0.kind !== 'append' || c1.kind !== 'append' || again.kind !== 'in-flight') return;
  st.commit(c0.reservation, 0, 0, 5);
  t.same(await again.done, { firstSeq: 0, lastSeq: 0, firstOffset: 0, lastOffset: 0, timestamp: 5 });
  st.release(c1.reservation);
  t.notOk(st.hasPending);
  t.equal(st.check(b(1, 0, 2), 1).kind, 'error', 'after the failure the end is seq 0 again');
  const retry = st.check(b(1, 0, 1), 1);
  t.equal(retry.kind, 'append', 'the failed batch can be retried');
});

t.test('expiry by last batch timestamp, never with batches in flight', async (t) => {
  const st = new PartitionProducerState('x-0');
  appendOk(t, st, b(1, 0, 0, 1, 1000), 0);
  appendOk(t, st, b(2, 0, 0, 1, 1000), 1);
  const c = st.check(b(2, 0, 1, 1, 1000), 2);
  t.equal(st.expire(2000, 1000), 1, 'only the idle producer without in-flight batches');
  t.notOk(st.entry(1n));
  t.ok(st.entry(2n));
  if (c.kind === 'append') st.release(c.reservation);
  t.equal(st.expire(2000, 1000), 1);
});

t.test('transactions: first offsets, the first unstable offset, markers bump epochs, no expiry while open', async (t) => {
  const st = new PartitionProducerState('x-0');
  t.equal(st.firstUnstableOffset, undefined);
  t.ok(st.beginTxn(1n, 10));
  t.notOk(st.beginTxn(1n, 12), 'a later batch of the same transaction keeps the first offset');
  t.ok(st.beginTxn(2n, 11));
  t.equal(st.firstUnstableOffset, 10);
  st.abandonTxnStart(2n, 99);
  t.equal(st.txnFirstOffset(2n), 11, 'abandon only undoes its own start');
  t.equal(st.completeTxn(1n, 0, 0, 5000), 10, 'the marker closes it and reports the first offset');
  t.equal(st.firstUnstableOffset, 11);
  t.equal(st.completeTxn(1n, 0, 0, 5000), undefined, 'a second marker closes nothing');
  appendOk(t, st, b(2, 0, 0, 1, 1000), 13);
  t.equal(st.expire(10_000_000, 1000), 1, 'only producer 1 expires');
  t.ok(st.entry(2n), 'a producer with an open transaction never expires');
  t.equal(st.completeTxn(2n, 1, 0, 6000), 11, 'abort marker with a bumped epoch');
  const old = st.check(b(2, 0, 1), 20);
  t.equal(old.kind === 'error' && old.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'the old epoch is fenced by the marker');
  appendOk(t, st, b(2, 1, 0), 20);
  st.markerStarted(30);
  t.ok(st.hasPending);
  t.equal(st.snapshotFloor(31), 30, 'a snapshot taken now is exact below the marker in flight');
  const r = st.check(b(2, 1, 1), 31);
  t.equal(st.snapshotFloor(32), 30);
  st.markerSettled(30);
  t.equal(st.snapshotFloor(32), 31, 'then below the reserved batch');
  if (r.kind === 'append') st.commit(r.reservation, 31, 31, 1000);
  t.notOk(st.hasPending);
  t.equal(st.snapshotFloor(32), 32, 'nothing in flight: the log end');
});
