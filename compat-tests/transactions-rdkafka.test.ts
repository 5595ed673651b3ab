// Unmodified node-rdkafka (librdkafka) transactional producer against a gregor process (issue #6):
// commit and abort as read_committed / read_uncommitted consumers see them (also 24,000 records read in
// small fetches, and two producers' transactions interleaved over several partitions and topics),
// sendOffsetsToTransaction, the last stable offset (LSO) holding back later records while a transaction
// is open, fencing by a second producer with the same transactional.id (librdkafka: fatal ERR__FENCED),
// the broker aborting a transaction older than transaction.timeout.ms (the producer is fenced: fatal
// ERR__FENCED at commit, as with Kafka's transaction version 1), and a broker restart (SIGTERM and
// SIGKILL, same port and data dir) with a transaction open: the same producer continues and commits, or,
// with the producer gone, the restored transaction is aborted by its timeout or by a new instance.
//
// Reads are bounded by a sentinel: a record committed (or written non-transactionally) after everything
// under test in the same partition. A consumer that has seen the sentinel has seen every record before
// it that it is ever going to see, so "never seen" is checked without a sleep.
import t from 'tap';
import { startGregor, type GregorProcess } from './support/gregor-process.ts';
import { RdProducer, Rdkafka, rdConnect, rdConsumer, rdDisconnect, sleep, tempDir, type Consumed } from './support/clients.ts';

type Isolation = 'read_committed' | 'read_uncommitted';
type TxnMethod = 'initTransactions' | 'beginTransaction' | 'commitTransaction' | 'abortTransaction';

const TXN_TIMEOUT_MS = 3000;
const data = tempDir('gregor-compat-txn-rd-');
const g = await startGregor({
  dataDir: data.dir,
  overrides: { 'num.partitions': '1', 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500', 'group.initial.rebalance.delay.ms': '0' },
});
t.teardown(async () => { await g.stop(); data.remove(); });

let topicSeq = 0;
/** A topic name no other test (or run against a reused data dir) uses. */
const topicName = (what: string) => `txn-rd-${what}-${process.pid}-${topicSeq++}`;

/** A node-rdkafka transactional method as a promise of its error (null on success), with a deadline of our own. */
function txn(p: RdProducer, method: TxnMethod, timeoutMs = 10000): Promise<any> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`${method} did not call back within ${timeoutMs + 15000} ms`)), timeoutMs + 15000);
    const cb = (err: any) => { clearTimeout(guard); resolve(err ?? null); };
    if (method === 'beginTransaction') p.producer.beginTransaction(cb);
    else p.producer[method](timeoutMs, cb);
  });
}

/** Fails the test (throws) when a transactional call fails. */
async function ok(p: RdProducer, method: TxnMethod, timeoutMs?: number): Promise<void> {
  const err = await txn(p, method, timeoutMs);
  if (err) throw new Error(`${method} failed: ${describeErr(err)}`);
}

function describeErr(err: any): string {
  if (!err) return 'no error';
  return `${err.message} (code ${err.code}${err.isFatal ? ', fatal' : ''}${err.isRetriable ? ', retriable' : ''}${err.isTxnRequiresAbort ? ', abortable' : ''})`;
}

async function txnProducer(bootstrap: string, transactionalId: string, config: Record<string, unknown> = {}): Promise<RdProducer> {
  const p = await new RdProducer(bootstrap, {
    'transactional.id': transactionalId, 'client.id': `compat-txn-${transactionalId}`, 'linger.ms': 1,
    'reconnect.backoff.ms': 100, 'reconnect.backoff.max.ms': 1000, ...config,
  }).connect();
  await ok(p, 'initTransactions', 20000);
  return p;
}

/** Produces `values` to one partition and waits for their delivery reports; returns those that failed. */
async function produce(p: RdProducer, topic: string, values: string[], partition = 0): Promise<string[]> {
  const reports = await Promise.all(values.map((v) => p.produce(topic, partition, Buffer.from(v), v)));
  return reports.map((r, i) => (r.err ? `${values[i]}: ${r.err.message ?? r.err}` : null)).filter((x): x is string => x !== null);
}

const vals = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const valuesOf = (cs: Consumed[]) => cs.map((c) => c.value?.toString() ?? '<null>');

/**
 * Reads partitions 0..partitions-1 (default 1) of `topic` from offset 0 with the given isolation until
 * `until` holds (deadline) or, with `forMs`, for that long. Returns the records by partition, then offset.
 */
async function read(bootstrap: string, topic: string, isolation: Isolation, opts: { until?: (vs: string[]) => boolean; forMs?: number; timeoutMs?: number; partitions?: number; config?: Record<string, unknown> }): Promise<Consumed[]> {
  const c = rdConsumer(bootstrap, { 'isolation.level': isolation, 'group.id': `compat-txn-${topic}-${isolation}`, ...opts.config });
  await rdConnect(c);
  const out: Consumed[] = [];
  try {
    c.assign(Array.from({ length: opts.partitions ?? 1 }, (_, partition) => ({ topic, partition, offset: 0 })));
    const start = Date.now();
    const deadline = start + (opts.timeoutMs ?? 30000);
    for (;;) {
      if (opts.forMs !== undefined && Date.now() - start >= opts.forMs) break;
      if (opts.until?.(valuesOf(out))) break;
      if (Date.now() > deadline) {
        throw new Error(`${isolation} read of ${topic}: condition not met within ${opts.timeoutMs ?? 30000} ms; got ${JSON.stringify(valuesOf(out))}`);
      }
      const msgs: any[] = await new Promise((resolve, reject) => c.consume(100, (err: any, m: any[]) => (err ? reject(err) : resolve(m))));
      for (const m of msgs) out.push({ partition: m.partition, offset: m.offset, key: m.key?.toString() ?? null, value: m.value, headers: {}, timestamp: m.timestamp });
    }
  } finally {
    await rdDisconnect(c);
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Reads until the sentinel value is seen. */
const readToSentinel = (bootstrap: string, topic: string, isolation: Isolation, sentinel: string, timeoutMs = 30000) =>
  read(bootstrap, topic, isolation, { until: (vs) => vs.includes(sentinel), timeoutMs }).then(valuesOf);

/** Writes a sentinel in its own committed transaction (a fresh transactional.id). */
async function commitSentinel(bootstrap: string, topic: string, sentinel: string): Promise<void> {
  const p = await txnProducer(bootstrap, `sentinel-${topic}-${sentinel}`);
  try {
    await ok(p, 'beginTransaction');
    const failed = await produce(p, topic, [sentinel]);
    if (failed.length) throw new Error(`sentinel not delivered: ${failed.join(', ')}`);
    await ok(p, 'commitTransaction');
  } finally {
    await p.disconnect();
  }
}

const count = (vs: string[], v: string) => vs.filter((x) => x === v).length;
/** The values of `expected` not seen exactly once in `seen`. */
const notExactlyOnce = (seen: string[], expected: string[]) => expected.filter((v) => count(seen, v) !== 1).map((v) => `${v}×${count(seen, v)}`);
const anyOf = (seen: string[], unexpected: string[]) => unexpected.filter((v) => seen.includes(v));

// ---------------------------------------------------------------------------------------------------- commit

t.test('commit: committed transactions are read exactly once by read_committed and read_uncommitted consumers', async (t) => {
  const topic = topicName('commit');
  const p = await txnProducer(g.bootstrap, `commit-${topic}`);
  t.teardown(() => p.disconnect());
  const committed: string[] = [];
  for (let n = 0; n < 3; n++) {
    t.equal(await txn(p, 'beginTransaction'), null, `beginTransaction ${n}`);
    const values = vals(`commit${n}`, 50);
    t.same(await produce(p, topic, values), [], `transaction ${n}: 50 records delivered`);
    t.equal(await txn(p, 'commitTransaction'), null, `commitTransaction ${n}`);
    committed.push(...values);
  }
  const last = committed[committed.length - 1];
  for (const iso of ['read_committed', 'read_uncommitted'] as const) {
    const seen = await readToSentinel(g.bootstrap, topic, iso, last);
    t.same(notExactlyOnce(seen, committed), [], `${iso}: all ${committed.length} committed records exactly once`);
    t.same(seen, committed, `${iso}: in production order, nothing else (control records are not delivered)`);
  }
  // The log holds 3 control records (one per commit) besides the data: the high watermark is past them.
  const c = rdConsumer(g.bootstrap);
  await rdConnect(c);
  t.teardown(() => rdDisconnect(c));
  const wm: any = await new Promise((resolve, reject) => c.queryWatermarkOffsets(topic, 0, 10000, (e: any, o: any) => (e ? reject(e) : resolve(o))));
  t.equal(wm.highOffset, committed.length + 3, 'high watermark = 150 records + 3 commit markers');
});

// ----------------------------------------------------------------------------------------------------- abort

t.test('abort: aborted records are never seen by read_committed, but are by read_uncommitted', async (t) => {
  const topic = topicName('abort');
  const p = await txnProducer(g.bootstrap, `abort-${topic}`);
  t.teardown(() => p.disconnect());
  const before = vals('before', 10);
  const aborted = [...vals('aborted-a', 20), ...vals('aborted-b', 20)];
  const after = vals('after', 10);

  await ok(p, 'beginTransaction');
  t.same(await produce(p, topic, before), [], 'first transaction delivered');
  await ok(p, 'commitTransaction');
  // Two aborted transactions in a row (the second produced after an abort, same producer).
  for (const part of [aborted.slice(0, 20), aborted.slice(20)]) {
    await ok(p, 'beginTransaction');
    t.same(await produce(p, topic, part), [], 'records of the transaction to abort delivered');
    t.equal(await txn(p, 'abortTransaction'), null, 'abortTransaction succeeds');
  }
  await ok(p, 'beginTransaction');
  t.same(await produce(p, topic, after), [], 'transaction after the aborts delivered');
  await ok(p, 'commitTransaction');

  const sentinel = after[after.length - 1];
  const rc = await readToSentinel(g.bootstrap, topic, 'read_committed', sentinel);
  t.same(anyOf(rc, aborted), [], 'read_committed: no aborted record');
  t.same(rc, [...before, ...after], 'read_committed: the committed records exactly once, in order');
  const ru = await readToSentinel(g.bootstrap, topic, 'read_uncommitted', sentinel);
  t.same(ru, [...before, ...aborted, ...after], 'read_uncommitted: every record, the aborted ones included, exactly once');
});

t.test('volume: 12 transactions of 2,000 records, every third aborted, read in small fetches', async (t) => {
  const topic = topicName('volume');
  const p = await txnProducer(g.bootstrap, `volume-${topic}`, { 'linger.ms': 5, 'batch.num.messages': 500 });
  t.teardown(() => p.disconnect());
  const committed: string[] = [];
  const aborted: string[] = [];
  for (let n = 0; n < 12; n++) {
    await ok(p, 'beginTransaction');
    const values = vals(`vol${n}`, 2000);
    const failed = await produce(p, topic, values);
    t.equal(failed.length, 0, `transaction ${n}: 2,000 records delivered`);
    const abort = n % 3 === 1;
    t.equal(await txn(p, abort ? 'abortTransaction' : 'commitTransaction'), null, `transaction ${n}: ${abort ? 'aborted' : 'committed'}`);
    (abort ? aborted : committed).push(...values);
  }
  const last = committed[committed.length - 1];
  // Small fetches: each response holds a few batches, so aborted ranges straddle fetch boundaries.
  const small = { 'message.max.bytes': 16384, 'fetch.max.bytes': 16384, 'max.partition.fetch.bytes': 8192, 'fetch.message.max.bytes': 8192 };
  const rc = valuesOf(await read(g.bootstrap, topic, 'read_committed', { until: (vs) => vs.includes(last), timeoutMs: 60000, config: small }));
  t.equal(rc.length, committed.length, `read_committed: ${committed.length} records`);
  t.ok(rc.length === committed.length && rc.every((v, i) => v === committed[i]), 'read_committed: exactly the committed records, in order');
  t.same(anyOf(rc, aborted).slice(0, 5), [], 'read_committed: no aborted record');
  const ru = valuesOf(await read(g.bootstrap, topic, 'read_uncommitted', { until: (vs) => vs.includes(last), timeoutMs: 60000, config: small }));
  t.equal(ru.length, committed.length + aborted.length, 'read_uncommitted: every record once');
});

// ----------------------------------------------------------------------------------------------- interleaved

t.test('interleaved: two producers\' transactions over 3 partitions and 2 topics, one aborts, one commits', async (t) => {
  const topics = [topicName('inter-a'), topicName('inter-b')];
  const admin = Rdkafka.AdminClient.create({ 'metadata.broker.list': g.bootstrap, 'client.id': 'compat-txn-admin' });
  t.teardown(() => admin.disconnect());
  for (const topic of topics) {
    const err = await new Promise<any>((resolve) => admin.createTopic({ topic, num_partitions: 3, replication_factor: 1 }, 10000, (e: any) => resolve(e ?? null)));
    t.equal(err, null, `created ${topic} with 3 partitions`);
  }
  const pa = await txnProducer(g.bootstrap, `inter-commit-${topics[0]}`);
  t.teardown(() => pa.disconnect());
  const pb = await txnProducer(g.bootstrap, `inter-abort-${topics[0]}`);
  t.teardown(() => pb.disconnect());
  await ok(pa, 'beginTransaction');
  await ok(pb, 'beginTransaction');
  // Batches of the two transactions alternate in every partition of both topics.
  const kept = new Map<string, string[]>(); // "topic/partition" → committed values in order
  const dropped: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (const topic of topics) {
      for (let partition = 0; partition < 3; partition++) {
        const key = `${topic}/${partition}`;
        const a = vals(`commit-${topics.indexOf(topic)}-${partition}-${round}`, 5);
        const b = vals(`abort-${topics.indexOf(topic)}-${partition}-${round}`, 5);
        t.same(await produce(pa, topic, a, partition), [], `${key} round ${round}: committing producer's batch delivered`);
        t.same(await produce(pb, topic, b, partition), [], `${key} round ${round}: aborting producer's batch delivered`);
        kept.set(key, [...(kept.get(key) ?? []), ...a]);
        dropped.push(...b);
      }
    }
  }
  // Abort first: the committing producer's transaction is still open, the LSO stays at its first batch.
  t.equal(await txn(pb, 'abortTransaction'), null, 'abortTransaction');
  t.equal(await txn(pa, 'commitTransaction'), null, 'commitTransaction');
  // Sentinels: one more committed transaction with a record at the end of every partition.
  await ok(pa, 'beginTransaction');
  const sentinels: string[] = [];
  for (const topic of topics) {
    for (let partition = 0; partition < 3; partition++) {
      const v = `sentinel-${topics.indexOf(topic)}-${partition}`;
      sentinels.push(v);
      t.same(await produce(pa, topic, [v], partition), [], `sentinel into ${topic}/${partition}`);
      kept.set(`${topic}/${partition}`, [...kept.get(`${topic}/${partition}`)!, v]);
    }
  }
  await ok(pa, 'commitTransaction');

  for (const topic of topics) {
    const mine = sentinels.filter((v) => v.startsWith(`sentinel-${topics.indexOf(topic)}-`));
    const rc = await read(g.bootstrap, topic, 'read_committed', { partitions: 3, until: (vs) => mine.every((v) => vs.includes(v)) });
    for (let partition = 0; partition < 3; partition++) {
      const seen = valuesOf(rc.filter((c) => c.partition === partition));
      t.same(seen, kept.get(`${topic}/${partition}`), `read_committed ${topic}/${partition}: the committed records exactly once, in order, none aborted`);
    }
    const ru = valuesOf(await read(g.bootstrap, topic, 'read_uncommitted', { partitions: 3, until: (vs) => mine.every((v) => vs.includes(v)) }));
    const mineDropped = dropped.filter((v) => v.startsWith(`abort-${topics.indexOf(topic)}-`));
    t.same(notExactlyOnce(ru, mineDropped), [], `read_uncommitted ${topic}: the aborted records once each`);
  }
});

// ------------------------------------------------------------------------------------------ sendOffsets

t.test('consume-transform-produce: sendOffsetsToTransaction commits the group offsets with the transaction (and not on abort)', async (t) => {
  const input = topicName('ctp-in');
  const output = topicName('ctp-out');
  const groupId = `compat-txn-ctp-${input}`;
  const plain = await new RdProducer(g.bootstrap, { 'linger.ms': 1 }).connect();
  let p: RdProducer | null = null;
  let consumer: any = null;
  // One teardown, in order: the transactional producer, then the group consumer (unsubscribed first), then
  // the plain producer. (One CI run died with librdkafka's "terminate called without an active exception"
  // while this test's clients were being torn down concurrently.)
  t.teardown(async () => {
    await p?.disconnect();
    if (consumer) {
      try { consumer.unsubscribe(); } catch { /* not subscribed */ }
      await rdDisconnect(consumer);
    }
    await plain.disconnect();
  });
  const inputs = vals('in', 20);
  t.same(await produce(plain, input, inputs), [], '20 input records');

  consumer = rdConsumer(g.bootstrap, { 'group.id': groupId, 'isolation.level': 'read_committed' });
  await rdConnect(consumer);
  consumer.subscribe([input]);
  const got: any[] = [];
  const deadline = Date.now() + 30000;
  while (got.length < inputs.length) {
    if (Date.now() > deadline) throw new Error(`the group consumer got ${got.length} of ${inputs.length} input records before the deadline`);
    got.push(...await new Promise<any[]>((resolve, reject) => consumer.consume(100, (err: any, m: any[]) => (err ? reject(err) : resolve(m)))));
  }
  t.same(got.map((m) => m.value.toString()), inputs, 'the group consumer read the input');
  const committedOffset = () => new Promise<number>((resolve, reject) =>
    consumer.committed([{ topic: input, partition: 0 }], 10000, (err: any, tps: any[]) => (err ? reject(err) : resolve(tps[0].offset))));
  const sendOffsets = (p: RdProducer, offset: number) => new Promise<any>((resolve) =>
    p.producer.sendOffsetsToTransaction([{ topic: input, partition: 0, offset }], consumer, 10000, (err: any) => resolve(err ?? null)));

  p = await txnProducer(g.bootstrap, `ctp-${input}`);
  // An aborted attempt for the first half: neither its output nor its offsets count.
  await ok(p, 'beginTransaction');
  t.same(await produce(p, output, inputs.slice(0, 10).map((v) => `out-aborted-${v}`)), [], 'aborted attempt: output delivered');
  t.equal(await sendOffsets(p, 10), null, 'aborted attempt: sendOffsetsToTransaction(offset 10)');
  t.equal(await txn(p, 'abortTransaction'), null, 'abortTransaction');
  const afterAbort = await committedOffset();
  // node-rdkafka leaves `offset` out of committed()'s answer for OFFSET_INVALID (no committed offset).
  t.equal(afterAbort, undefined, 'no committed offset after the abort');

  await ok(p, 'beginTransaction');
  const outs = inputs.map((v) => `out-${v}`);
  t.same(await produce(p, output, outs), [], 'output delivered');
  t.equal(await sendOffsets(p, 20), null, 'sendOffsetsToTransaction(offset 20)');
  t.equal(await txn(p, 'commitTransaction'), null, 'commitTransaction');
  t.equal(await committedOffset(), 20, 'the group\'s committed offset is 20 after the commit');
  const rc = await readToSentinel(g.bootstrap, output, 'read_committed', outs[outs.length - 1]);
  t.same(rc, outs, 'read_committed: the committed output once, none of the aborted attempt');
});

// ------------------------------------------------------------------------------------------------------- LSO

t.test('LSO: while a transaction is open, read_committed sees nothing from its first record on (not even non-transactional records); all once it commits', async (t) => {
  const topic = topicName('lso');
  const p = await txnProducer(g.bootstrap, `lso-${topic}`);
  t.teardown(() => p.disconnect());
  const plain = await new RdProducer(g.bootstrap, { 'linger.ms': 1 }).connect();
  t.teardown(() => plain.disconnect());

  const early = ['plain-early'];
  t.same(await produce(plain, topic, early), [], 'a non-transactional record before the transaction');
  await ok(p, 'beginTransaction');
  const open = vals('open', 5);
  t.same(await produce(p, topic, open), [], 'records of the open transaction delivered');
  const late = ['plain-late'];
  t.same(await produce(plain, topic, late), [], 'a non-transactional record after the open transaction\'s first record');

  const ru = valuesOf(await read(g.bootstrap, topic, 'read_uncommitted', { until: (vs) => vs.includes('plain-late'), timeoutMs: 20000 }));
  t.same(ru, [...early, ...open, ...late], 'read_uncommitted sees everything while the transaction is open');
  const rcOpen = valuesOf(await read(g.bootstrap, topic, 'read_committed', { forMs: 3000 }));
  t.same(rcOpen, early, 'read_committed (3 s) sees only the record before the open transaction');

  await ok(p, 'commitTransaction');
  const rc = await readToSentinel(g.bootstrap, topic, 'read_committed', 'plain-late');
  t.same(rc, [...early, ...open, ...late], 'after the commit read_committed sees all of them, once each');
});

// ------------------------------------------------------------------------------------------------- fencing

t.test('fencing: a second producer with the same transactional.id fences the first', async (t) => {
  const topic = topicName('fence');
  const id = `fence-${topic}`;
  const p1 = await txnProducer(g.bootstrap, id);
  t.teardown(() => p1.disconnect());
  const fatal: any[] = [];
  p1.producer.on('event.error', (e: any) => { if (e?.isFatal || e?.code === Rdkafka.CODES.ERRORS.ERR__FATAL) fatal.push(e); });

  const p1Open = vals('p1-open', 10);
  await ok(p1, 'beginTransaction');
  t.same(await produce(p1, topic, p1Open), [], 'producer 1: records of its open transaction delivered');

  const p2 = await txnProducer(g.bootstrap, id); // InitProducerId: aborts p1's transaction, bumps the epoch
  t.teardown(() => p2.disconnect());
  t.pass('producer 2 initialised with the same transactional.id while producer 1 has a transaction open');

  // Producer 1's next operations: more records, then the commit.
  const late = vals('p1-late', 3);
  let lateFailed: string[] = [];
  try {
    lateFailed = await produce(p1, topic, late);
  } catch (e: any) {
    lateFailed = late.map((v) => `${v}: produce() threw ${e.message}`);
  }
  const commitErr = await txn(p1, 'commitTransaction');
  t.comment(`producer 1 after being fenced: delivery reports ${JSON.stringify(lateFailed)}; commitTransaction: ${describeErr(commitErr)}`);
  t.ok(commitErr, 'producer 1: commitTransaction fails');
  t.equal(commitErr?.code, Rdkafka.CODES.ERRORS.ERR__FENCED, 'librdkafka reports ERR__FENCED (-144)');
  t.equal(commitErr?.isFatal, true, 'the error is fatal');
  t.equal(lateFailed.length, late.length, 'producer 1: the records produced after the fence all fail delivery');
  const beginErr = await txn(p1, 'beginTransaction');
  t.ok(beginErr, `producer 1 cannot begin another transaction: ${describeErr(beginErr)}`);
  if (fatal.length) t.comment(`producer 1 fatal event.error: ${describeErr(fatal[0])}`);

  const p2Values = vals('p2', 10);
  await ok(p2, 'beginTransaction');
  t.same(await produce(p2, topic, p2Values), [], 'producer 2: records delivered');
  t.equal(await txn(p2, 'commitTransaction'), null, 'producer 2: commitTransaction succeeds');
  await ok(p2, 'beginTransaction');
  t.same(await produce(p2, topic, ['p2-second']), [], 'producer 2: a second transaction');
  t.equal(await txn(p2, 'commitTransaction'), null, 'producer 2: second commit succeeds');

  const rc = await readToSentinel(g.bootstrap, topic, 'read_committed', 'p2-second');
  t.same(anyOf(rc, [...p1Open, ...late]), [], 'read_committed: none of producer 1\'s records');
  t.same(rc, [...p2Values, 'p2-second'], 'read_committed: producer 2\'s records exactly once');
  const ru = await readToSentinel(g.bootstrap, topic, 'read_uncommitted', 'p2-second');
  t.same(notExactlyOnce(ru, p1Open), [], 'read_uncommitted: producer 1\'s aborted records are in the log (once)');
});

// ------------------------------------------------------------------------------------------------- timeout

t.test('timeout: the broker aborts a transaction open longer than transaction.timeout.ms', async (t) => {
  const topic = topicName('timeout');
  const p = await txnProducer(g.bootstrap, `timeout-${topic}`, {
    // librdkafka requires message.timeout.ms <= transaction.timeout.ms and socket.timeout.ms <= it + 100.
    'transaction.timeout.ms': TXN_TIMEOUT_MS, 'message.timeout.ms': TXN_TIMEOUT_MS, 'socket.timeout.ms': TXN_TIMEOUT_MS,
  });
  t.teardown(() => p.disconnect());
  const errors: any[] = [];
  p.producer.on('event.error', (e: any) => errors.push(e));

  const stale = vals('stale', 10);
  await ok(p, 'beginTransaction');
  t.same(await produce(p, topic, stale), [], 'records of the transaction delivered');
  const waitMs = TXN_TIMEOUT_MS + 3000;
  const logBefore = g.output().length;
  await sleep(waitMs); // > transaction.timeout.ms + the 500 ms abort check interval
  t.match(g.output().slice(logBefore), /aborting, open for more than 3000 ms/, 'the broker logs the timeout abort');

  // The broker ended the transaction: its records are settled (aborted) — read_committed reaches the
  // sentinel (written by another producer afterwards) without any of them.
  const sentinel = 'after-timeout';
  await commitSentinel(g.bootstrap, topic, sentinel);
  const rc = await readToSentinel(g.bootstrap, topic, 'read_committed', sentinel, 20000);
  t.same(rc, [sentinel], 'read_committed: none of the timed-out transaction\'s records, only the sentinel');

  const commitErr = await txn(p, 'commitTransaction');
  t.comment(`commitTransaction after the broker's timeout abort: ${describeErr(commitErr)}`);
  if (errors.length) t.comment(`event.error: ${errors.map(describeErr).join('; ')}`);
  t.ok(commitErr, 'commitTransaction fails');
  // Transaction version 1 (as Kafka's): the timeout abort bumped the epoch, so EndTxn answers
  // PRODUCER_FENCED and librdkafka raises its fatal fenced error — the producer must be recreated.
  t.equal(commitErr?.code, Rdkafka.CODES.ERRORS.ERR__FENCED, 'librdkafka reports ERR__FENCED (-144)');
  t.equal(commitErr?.isFatal, true, 'the error is fatal');
  const ru = await readToSentinel(g.bootstrap, topic, 'read_uncommitted', sentinel);
  t.same(notExactlyOnce(ru, stale), [], 'read_uncommitted: the timed-out records are in the log (once)');
});

// ------------------------------------------------------------------------------------------------- restart

// `then` — what happens to the transaction left open across the restart:
//   continue:     the same producer (librdkafka reconnects to the same port) produces more and commits;
//   timeout:      the producer is gone (closed while the broker was down); the restarted broker aborts the
//                 restored transaction when transaction.timeout.ms has passed;
//   new-instance: the producer is gone; a new one with the same transactional.id fences it (abort).
const RESTART_CASES = [
  { how: 'SIGTERM', then: 'continue' }, { how: 'SIGKILL', then: 'continue' },
  { how: 'SIGKILL', then: 'timeout' }, { how: 'SIGTERM', then: 'new-instance' },
] as const;

for (const { how, then } of RESTART_CASES) {
  t.test(`restart (${how}) with a transaction open, then ${then}: committed records once, nothing uncommitted`, async (t) => {
    const dir = tempDir(`gregor-compat-txn-restart-${how}-`);
    t.teardown(() => dir.remove());
    const overrides = { 'num.partitions': '1', 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500' };
    let g1: GregorProcess = await startGregor({ dataDir: dir.dir, overrides });
    t.teardown(() => g1.stop());
    const port = g1.port;
    const topic = topicName(`restart-${how.toLowerCase()}-${then}`);
    const id = `restart-${topic}`;
    const txnTimeoutMs = then === 'timeout' ? 5000 : 20000;
    const p = await txnProducer(g1.bootstrap, id, { 'transaction.timeout.ms': txnTimeoutMs, 'message.timeout.ms': txnTimeoutMs, 'socket.timeout.ms': 5000 });
    t.teardown(() => p.disconnect());
    const events: string[] = [];
    p.producer.on('event.error', (e: any) => events.push(describeErr(e)));

    const done = vals('committed-before', 10);
    await ok(p, 'beginTransaction');
    t.same(await produce(p, topic, done), [], 'a first transaction delivered');
    await ok(p, 'commitTransaction');
    const open1 = vals('open-before', 10);
    await ok(p, 'beginTransaction');
    t.same(await produce(p, topic, open1), [], 'records of the open transaction delivered before the stop');

    if (how === 'SIGKILL') g1.child.kill('SIGKILL');
    const code = await g1.stop();
    if (how === 'SIGTERM') t.equal(code, 0, 'gregor exits 0 on SIGTERM');
    if (then !== 'continue') await p.disconnect(); // gone while the broker is down: it cannot end anything
    // Same port, so the producer (bootstrapped with it) can reconnect.
    g1 = await startGregor({ dataDir: dir.dir, overrides: { ...overrides, listeners: `PLAINTEXT://127.0.0.1:${port}` } });
    t.equal(g1.port, port, 'restarted on the same port');

    // The open transaction is restored as open: its records stay behind the LSO.
    const rcOpen = valuesOf(await read(g1.bootstrap, topic, 'read_committed', { forMs: 2000 }));
    t.same(rcOpen, done, 'after the restart read_committed (2 s) sees the committed transaction only, once');

    let committed = false;
    const open2 = vals('open-after', 10);
    if (then === 'continue') {
      // The same producer continues its transaction: more records, then commit.
      let failed: string[];
      try {
        failed = await produce(p, topic, open2);
      } catch (e: any) {
        failed = [`produce() threw ${e.message}`];
      }
      const endErr = failed.length ? await txn(p, 'abortTransaction', 15000).then((e) => e ?? 'aborted') : await txn(p, 'commitTransaction', 20000);
      committed = failed.length === 0 && endErr === null;
      t.comment(`after the ${how} restart: delivery failures ${JSON.stringify(failed.slice(0, 3))}; ${failed.length ? 'abort' : 'commit'}: ${endErr === null ? 'ok' : typeof endErr === 'string' ? endErr : describeErr(endErr)}; event.error: ${JSON.stringify(events.slice(0, 3))}`);
      t.ok(committed, 'librdkafka survives the restart: the open transaction continues and commits');
    } else if (then === 'timeout') {
      await sleep(txnTimeoutMs + 1000); // the broker was down for part of it: the start timestamp is restored
      t.match(g1.output(), /aborting, open for more than 5000 ms/, 'the restarted broker aborts the restored transaction on its timeout');
    } else {
      const p2 = await txnProducer(g1.bootstrap, id); // fences the restored transaction (aborts it)
      t.teardown(() => p2.disconnect());
      await ok(p2, 'beginTransaction');
      t.same(await produce(p2, topic, ['new-instance']), [], 'the new instance produces');
      t.equal(await txn(p2, 'commitTransaction'), null, 'and commits');
    }

    const sentinel = `sentinel-${how}-${then}`;
    await commitSentinel(g1.bootstrap, topic, sentinel);
    const rc = await readToSentinel(g1.bootstrap, topic, 'read_committed', sentinel, 40000);
    const expected = [...done, ...(committed ? [...open1, ...open2] : []), ...(then === 'new-instance' ? ['new-instance'] : []), sentinel];
    t.same(notExactlyOnce(rc, expected), [], 'read_committed: every committed record exactly once');
    t.same(anyOf(rc, committed ? [] : [...open1, ...open2]), [], 'read_committed: no record of an aborted transaction');
    t.same(rc, expected, 'read_committed: exactly those, in order');
    const ru = await readToSentinel(g1.bootstrap, topic, 'read_uncommitted', sentinel);
    t.same(notExactlyOnce(ru, [...done, ...open1]), [], 'read_uncommitted: no record duplicated by the restart');
  });
}
