import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { iterateBatches, parseBatchHeader } from '../../protocol/records.ts';
import type { Clock } from '../../storage/clock.ts';
import { RawClient } from '../testing/raw-client.ts';
import { batchOf, FETCH, fetchRequest, produce } from '../testing/produce.ts';
import { startTestBroker } from '../testing/start.ts';

async function setup(t: any, overrides: Record<string, string> = {}, clock?: Clock) {
  const tb = await startTestBroker(overrides, clock ? { clock } : {});
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

function batchesIn(records: Buffer | null): Array<{ base: number; count: number; size: number }> {
  if (!records) return [];
  return [...iterateBatches(records)].map((b) => {
    const h = parseBatchHeader(records, b.offset);
    return { base: h.baseOffset, count: h.recordsCount, size: b.size };
  });
}

t.test('every version returns the stored batches, v13+ by topic id', async (t) => {
  const { tb, c } = await setup(t);
  const topic = await tb.broker.context.createTopic('f', 1);
  await produce(c, 'f', 0, batchOf(3));
  await produce(c, 'f', 0, batchOf(2));
  for (let v = 4; v <= 18; v++) {
    const res = await c.request(FETCH, v, fetchRequest([{ topic: v >= 13 ? '' : 'f', topicId: topic.topicId, partition: 0, offset: 0 }]));
    const p = res.responses[0].partitions[0];
    t.equal(p.errorCode, 0, `v${v}`);
    t.equal(p.highWatermark, 5n);
    if (v >= 5) t.equal(p.logStartOffset, 0n);
    t.same(batchesIn(p.records).map((b) => [b.base, b.count]), [[0, 3], [3, 2]], `v${v} both batches`);
    if (v >= 13) t.equal(res.responses[0].topicId, topic.topicId);
  }
});

t.test('a fetch from the middle of a batch returns that whole batch', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('m', 1);
  await produce(c, 'm', 0, batchOf(10));
  const res = await c.request(FETCH, 11, fetchRequest([{ topic: 'm', partition: 0, offset: 4 }]));
  t.same(batchesIn(res.responses[0].partitions[0].records).map((b) => [b.base, b.count]), [[0, 10]]);
});

t.test('errors: out of range, unknown topic / id / partition, leader epochs', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('e', 1);
  await produce(c, 'e', 0, batchOf(2));
  const one = async (v: number, part: Parameters<typeof fetchRequest>[0][0]) => (await c.request(FETCH, v, fetchRequest([part]))).responses[0].partitions[0];
  const oor = await one(12, { topic: 'e', partition: 0, offset: 3 });
  t.equal(oor.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  t.equal(oor.highWatermark, 2n, 'out-of-range answers carry the high watermark');
  t.equal((await one(12, { topic: 'e', partition: 0, offset: 2 })).errorCode, 0, 'fetching at the HWM is fine (empty)');
  t.equal((await one(12, { topic: 'nope', partition: 0, offset: 0 })).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  t.equal((await one(12, { topic: 'e', partition: 9, offset: 0 })).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  t.equal((await one(13, { topic: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partition: 0, offset: 0 })).errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  t.equal((await one(12, { topic: 'e', partition: 0, offset: 0, currentLeaderEpoch: 3 })).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  t.equal((await one(12, { topic: 'e', partition: 0, offset: 0, currentLeaderEpoch: 0 })).errorCode, 0);
});

t.test('budgets: first batch even if larger (KIP-74), request maxBytes across partitions', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('b', 2);
  await produce(c, 'b', 0, batchOf(100));
  await produce(c, 'b', 0, batchOf(100));
  await produce(c, 'b', 1, batchOf(100));
  const res = await c.request(FETCH, 12, fetchRequest([
    { topic: 'b', partition: 0, offset: 0, maxBytes: 10 },
    { topic: 'b', partition: 1, offset: 0, maxBytes: 10 },
  ]));
  const [p0, p1] = res.responses[0].partitions;
  t.equal(batchesIn(p0.records).length, 1, 'partition 0: one batch despite a 10-byte partition budget');
  t.equal(p1.records.length, 0, 'partition 1: nothing, the first batch rule applies once per response');
  const res2 = await c.request(FETCH, 12, fetchRequest([{ topic: 'b', partition: 0, offset: 0 }, { topic: 'b', partition: 1, offset: 0 }], { maxBytes: 1 }));
  t.equal(batchesIn(res2.responses[0].partitions[0].records).length, 1);
  t.equal(res2.responses[0].partitions[1].records.length, 0);
});

t.test('long polling: woken by an append; answered empty at maxWaitMs', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('lp', 1);
  const other = await RawClient.connect(tb.port);
  t.teardown(() => other.close());
  const waiting = c.request(FETCH, 12, fetchRequest([{ topic: 'lp', partition: 0, offset: 0 }], { maxWaitMs: 30000, minBytes: 1 }));
  await new Promise((r) => setTimeout(r, 50));
  await produce(other, 'lp', 0, batchOf(4));
  const res = await waiting;
  t.same(batchesIn(res.responses[0].partitions[0].records).map((b) => b.count), [4], 'the append woke the fetch');
  const empty = await c.request(FETCH, 12, fetchRequest([{ topic: 'lp', partition: 0, offset: 4 }], { maxWaitMs: 50, minBytes: 1 }));
  t.equal(empty.responses[0].partitions[0].records.length, 0);
  t.equal(empty.responses[0].partitions[0].errorCode, 0);
});

t.test('read_committed: LSO = high watermark, empty aborted list; read_uncommitted: null list', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('iso', 1);
  await produce(c, 'iso', 0, batchOf(2));
  const rc = (await c.request(FETCH, 11, fetchRequest([{ topic: 'iso', partition: 0, offset: 0 }], { isolationLevel: 1 }))).responses[0].partitions[0];
  t.equal(rc.lastStableOffset, 2n);
  t.same(rc.abortedTransactions, []);
  const ru = (await c.request(FETCH, 11, fetchRequest([{ topic: 'iso', partition: 0, offset: 0 }]))).responses[0].partitions[0];
  t.equal(ru.abortedTransactions, null);
});

t.test('incremental fetch sessions (KIP-227)', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('s', 3);
  for (const p of [0, 1, 2]) await produce(c, 's', p, batchOf(2));
  const all = [0, 1, 2].map((partition) => ({ topic: 's', partition, offset: 0 }));

  const full = await c.request(FETCH, 12, fetchRequest(all, { sessionId: 0, sessionEpoch: 0 }));
  t.not(full.sessionId, 0, 'a session was created');
  t.equal(full.responses[0].partitions.length, 3, 'the first response is full');
  const id = full.sessionId;

  // The client consumed everything and sends its new positions: no news, no partitions listed.
  const quiet = await c.request(FETCH, 12, fetchRequest([0, 1, 2].map((partition) => ({ topic: 's', partition, offset: 2 })), { sessionId: id, sessionEpoch: 1 }));
  t.equal(quiet.errorCode, 0);
  t.equal(quiet.sessionId, id);
  t.same(quiet.responses, [], 'no news, no partitions');

  // The session remembers the positions; an append to partition 2 makes only it appear.
  await produce(c, 's', 2, batchOf(1));
  const inc = await c.request(FETCH, 12, fetchRequest([], { sessionId: id, sessionEpoch: 2 }));
  const shown = inc.responses.flatMap((x: any) => x.partitions.map((p: any) => [p.partitionIndex, p.highWatermark]));
  t.same(shown, [[2, 3n]], 'only partition 2, with its new high watermark and data');
  t.same(batchesIn(inc.responses[0].partitions[0].records).map((b) => b.base), [2]);

  const badEpoch = await c.request(FETCH, 12, fetchRequest([], { sessionId: id, sessionEpoch: 7 }));
  t.equal(badEpoch.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  const unknown = await c.request(FETCH, 12, fetchRequest([], { sessionId: id + 1, sessionEpoch: 1 }));
  t.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

  // Forget partition 2; append to it; it no longer appears.
  const forget = await c.request(FETCH, 12, fetchRequest([{ topic: 's', partition: 2, offset: 3 }], { sessionId: id, sessionEpoch: 3, forgottenTopicsData: [{ topic: 's', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [2] }] }));
  t.equal(forget.errorCode, 0);
  await produce(c, 's', 2, batchOf(1));
  const after = await c.request(FETCH, 12, fetchRequest([], { sessionId: id, sessionEpoch: 4 }));
  t.same(after.responses, [], 'a forgotten partition is no longer fetched');

  // Epoch -1 closes the session; it is gone afterwards.
  const closed = await c.request(FETCH, 12, fetchRequest(all, { sessionId: id, sessionEpoch: -1 }));
  t.equal(closed.sessionId, 0);
  t.equal((await c.request(FETCH, 12, fetchRequest([], { sessionId: id, sessionEpoch: 5 }))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
});

t.test('session cache slots: full cache evicts only sessions idle for 2 minutes', async (t) => {
  let now = 1_000_000;
  const clock: Clock = { now: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  const { tb, c } = await setup(t, { 'max.incremental.fetch.session.cache.slots': '1' }, clock);
  await tb.broker.context.createTopic('q', 1);
  const req = fetchRequest([{ topic: 'q', partition: 0, offset: 0 }], { sessionId: 0, sessionEpoch: 0 });
  const first = await c.request(FETCH, 12, req);
  t.not(first.sessionId, 0);
  const second = await c.request(FETCH, 12, req);
  t.equal(second.sessionId, 0, 'cache full of a recently used session: no new session');
  now += 120_001;
  const third = await c.request(FETCH, 12, req);
  t.not(third.sessionId, 0, 'the idle session was evicted for a new one');
  t.equal((await c.request(FETCH, 12, fetchRequest([], { sessionId: first.sessionId, sessionEpoch: 1 }))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
});
