// Unmodified kafkajs 2.2.4, transactional consume-transform-produce (issue #6): a consumer group reads an
// input topic; each batch is transformed and written to an output topic in a transaction together with
// the consumer's offsets (sendOffsets = AddOffsetsToTxn + TxnOffsetCommit); every third transaction is
// aborted and its batch re-processed. A read_committed consumer of the output must see every input record
// exactly once, a read_uncommitted one also the aborted copies, and the group's committed offsets must be
// the input's end offsets. Then a restart of the broker in the middle of an open transaction.
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import { type Consumed, kafkajs, makeRecords, tempDir, toKafkajsMessage, waitFor } from './support/clients.ts';

const data = tempDir('gregor-compat-txn-kjs-');
let g = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '3' } });
t.teardown(async () => { await g.stop(); data.remove(); });

const N = 900;

/** Reads `topic` from the beginning with a fresh group until `count` records (deadline), with the given isolation. */
async function readAll(bootstrap: string, topic: string, count: number, readUncommitted: boolean, settleMs = 1500): Promise<Consumed[]> {
  const kafka = kafkajs(bootstrap, 'compat-txn-reader');
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${readUncommitted}-${Date.now()}`, readUncommitted, maxWaitTimeInMs: 200 });
  const out: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? null, value: message.value, headers: { seq: String(message.headers?.seq ?? '') }, timestamp: Number(message.timestamp) });
      },
    });
    await waitFor(`${readUncommitted ? 'read_uncommitted' : 'read_committed'} reader to see ${count} records of ${topic} (has ${out.length})`, () => out.length >= count, 60000);
    // Anything beyond `count` (a duplicate, an aborted record) would arrive with the rest: give it time.
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

t.test('kafkajs consume-transform-produce with sendOffsets, every third transaction aborted', async (t) => {
  const kafka = kafkajs(g.bootstrap, 'compat-txn-kjs');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'ctp-in', numPartitions: 3 }, { topic: 'ctp-out', numPartitions: 3 }] });

  const input = makeRecords(N, { source: 'ctp', keys: 90 });
  const plain = kafka.producer();
  await plain.connect();
  for (let i = 0; i < N; i += 300) await plain.send({ topic: 'ctp-in', acks: -1, messages: input.slice(i, i + 300).map((r) => toKafkajsMessage(r)) });
  await plain.disconnect();

  const producer = kafka.producer({ transactionalId: 'ctp-txn', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: 'ctp', maxWaitTimeInMs: 200, maxBytesPerPartition: 8 * 1024 });
  await consumer.connect();
  t.teardown(async () => { await consumer.disconnect(); await producer.disconnect(); });
  await consumer.subscribe({ topics: ['ctp-in'], fromBeginning: true });

  let txns = 0;
  let aborted = 0;
  let abortedRecords = 0;
  const errors: string[] = [];
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (batch.messages.length === 0) return;
      const txn = await producer.transaction();
      const n = ++txns;
      try {
        await txn.send({
          topic: 'ctp-out',
          messages: batch.messages.map((m) => ({ key: m.key, value: Buffer.concat([Buffer.from('T:'), m.value ?? Buffer.alloc(0)]), headers: { seq: m.headers?.seq ?? '' } })),
        });
        const next = String(Number(batch.lastOffset()) + 1);
        await txn.sendOffsets({ consumerGroupId: 'ctp', topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
        if (n % 3 === 0) {
          await txn.abort();
          aborted++;
          abortedRecords += batch.messages.length;
          // Re-process the batch in a later transaction.
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset()! });
          return;
        }
        await txn.commit();
        for (const m of batch.messages) resolveOffset(m.offset);
      } catch (err) {
        errors.push(String(err));
        await txn.abort().catch(() => {});
        throw err;
      }
    },
  });

  // Done when the group's committed offsets (written by the transactions) reach the input's end.
  const ends = new Map((await admin.fetchTopicOffsets('ctp-in')).map((p) => [p.partition, Number(p.high)]));
  await waitFor('transactions to commit offsets up to the input end', async () => {
    const [o] = await admin.fetchOffsets({ groupId: 'ctp', topics: ['ctp-in'] });
    return o!.partitions.every((p) => Number(p.offset) === ends.get(p.partition));
  }, 120000, 250);
  await consumer.stop();
  t.same(errors, [], 'no transactional operation failed');
  t.ok(aborted >= 3, `at least three transactions aborted (${aborted} of ${txns}, ${abortedRecords} records)`);

  const committed = await readAll(g.bootstrap, 'ctp-out', N, false);
  const seqs = committed.map((c) => Number(c.headers.seq));
  t.equal(committed.length, N, 'read_committed sees exactly the input count');
  t.equal(new Set(seqs).size, N, 'each input record exactly once');
  t.ok(committed.every((c) => c.value?.subarray(0, 2).toString() === 'T:'), 'transformed values');

  const all = await readAll(g.bootstrap, 'ctp-out', N + abortedRecords, true);
  t.equal(all.length, N + abortedRecords, 'read_uncommitted also sees the aborted copies');

  const [offsets] = await admin.fetchOffsets({ groupId: 'ctp', topics: ['ctp-in'] });
  t.same(offsets!.partitions.map((p) => [p.partition, Number(p.offset)]).sort(), [...ends].sort(), 'committed offsets equal the input end offsets');
});

for (const kill of [false, true]) t.test(`kafkajs: a broker ${kill ? 'SIGKILL' : 'clean restart'} in the middle of an open transaction`, async (t) => {
  const topic = kill ? 'restart-kill-out' : 'restart-out';
  const txnId = kill ? 'restart-kill-txn' : 'restart-txn';
  let kafka = kafkajs(g.bootstrap, 'compat-txn-kjs-restart');
  let producer = kafka.producer({ transactionalId: txnId, maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const before = makeRecords(100, { source: 'before' });
  const open = makeRecords(50, { source: 'open' });
  const tx1 = await producer.transaction();
  await tx1.send({ topic, messages: before.map((r) => toKafkajsMessage(r)) });
  await tx1.commit();
  const tx2 = await producer.transaction();
  await tx2.send({ topic, messages: open.map((r) => toKafkajsMessage(r)) });
  await producer.disconnect().catch(() => {});

  // Stop (cleanly, or SIGKILL: no snapshots, every state rebuilt from the logs) and restart on the same
  // data: the open transaction survives in __transaction_state.
  if (kill) {
    const exited = new Promise((r) => g.child.once('exit', r));
    g.child.kill('SIGKILL');
    await exited;
  } else {
    await g.stop();
  }
  g = await startGregor({ dataDir: data.dir, overrides: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '3' } });
  kafka = kafkajs(g.bootstrap, 'compat-txn-kjs-restart');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  // The open transaction holds the last stable offset: read_committed sees only the committed records.
  const early = await readAll(g.bootstrap, topic, 100, false, 1000);
  t.equal(early.length, 100, 'only the committed transaction is visible while the other is open');

  // A new producer with the same transactional id fences the old one: its open transaction is aborted.
  producer = kafka.producer({ transactionalId: txnId, maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const after = makeRecords(30, { source: 'after' });
  const tx3 = await producer.transaction();
  await tx3.send({ topic, messages: after.map((r) => toKafkajsMessage(r)) });
  await tx3.commit();
  await producer.disconnect();

  const seen = await readAll(g.bootstrap, topic, 130, false);
  const sources = seen.map((c) => c.value!.toString().split('-')[0]);
  t.equal(seen.length, 130, 'committed records once each, none of the aborted transaction');
  t.equal(sources.filter((s) => s === 'open').length, 0, 'the interrupted transaction was aborted');
  t.equal(sources.filter((s) => s === 'before').length, 100);
  t.equal(sources.filter((s) => s === 'after').length, 30);
});
