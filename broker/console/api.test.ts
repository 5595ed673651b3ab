// The console's JSON API and static files over plain HTTP (no browser), against an in-process broker with data.
import t from 'tap';
import { buildBrokerConfig, ConfigError } from '../config.ts';
import { silentLogger } from '../log.ts';
import { startBroker } from '../server.ts';
import { startTestBroker } from '../test-broker.ts';
import { ManualClock } from '../../storage/clock.ts';
import { RawClient } from '../testing/raw-client.ts';
import { LagHistory, LagRing } from './lag-history.ts';
import { EVENTS, seededBroker, T0 } from './testing/seed.ts';

async function get(url: string): Promise<{ status: number; type: string | null; text: string; json: any }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, type: r.headers.get('content-type'), text, json };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('off by default: no /console on the HTTP listener', async (t) => {
  const tb = await startTestBroker({ config: { 'gregor.http.listener': '127.0.0.1:0' } });
  t.teardown(() => tb.close());
  const base = `http://127.0.0.1:${tb.broker.http!.port}`;
  t.equal((await get(`${base}/console`)).status, 404);
  t.equal((await get(`${base}/console/api/topics`)).status, 404);
  t.equal((await get(`${base}/healthz`)).status, 200);
});

t.test('refused at start without the HTTP listener, or with a sample interval below 100 ms', async (t) => {
  const start = (o: Record<string, string>) => startBroker({
    config: buildBrokerConfig({ overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', ...o })) }), storage: 'memory', logger: silentLogger,
  });
  await t.rejects(start({ 'gregor.console.enable': 'true' }), new ConfigError('gregor.console.enable=true needs gregor.http.listener (the console is served there)'));
  await t.rejects(start({ 'gregor.console.enable': 'true', 'gregor.http.listener': '127.0.0.1:0', 'gregor.console.lag.sample.interval.ms': '50' }), /gregor\.console\.lag\.sample\.interval\.ms: at least 100/);
});

t.test('LagRing keeps the newest samples, oldest first', async (t) => {
  const r = new LagRing(3);
  t.same(r.samples(), []);
  for (let i = 1; i <= 5; i++) r.push(i * 10, i);
  t.same(r.samples(), [{ t: 30, lag: 3 }, { t: 40, lag: 4 }, { t: 50, lag: 5 }]);
});

t.test('LagHistory samples on its clock until stopped, and forgets groups no longer listed', async (t) => {
  const clock = new ManualClock(1000);
  let groups = ['a', 'b'];
  let lag = 5;
  const h = new LagHistory({
    groupList: async () => groups.map((groupId) => ({ groupId })),
    groupOffsets: async (ids) => new Map(ids.map((id) => [id, [{ lag }, { lag: null }]])),
  }, clock, silentLogger);
  const settle = () => new Promise((r) => setImmediate(r));
  h.start(100);
  await settle();
  t.same(h.samples('a'), [{ t: 1000, lag: 5 }], 'first sample at once');
  lag = 7;
  clock.advance(100);
  await settle();
  t.same(h.samples('a'), [{ t: 1000, lag: 5 }, { t: 1100, lag: 7 }]);
  groups = ['a'];
  clock.advance(100);
  await settle();
  t.same(h.samples('b'), [], 'b forgotten');
  t.equal(h.samples('a').length, 3);
  h.stop();
  clock.advance(1000);
  await settle();
  t.equal(h.samples('a').length, 3, 'no samples after stop()');
});

t.test('a KIP-848 consumer group: members, epochs and assignments from ConsumerGroupDescribe', async (t) => {
  const tb = await startTestBroker({ topics: [{ name: 't848', partitions: 2 }], config: { 'gregor.http.listener': '127.0.0.1:0', 'gregor.console.enable': true } });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const hb = await c.request(68, 0, {
    groupId: 'g848', memberId: 'member-a', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000,
    subscribedTopicNames: ['t848'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [],
  });
  t.equal(hb.errorCode, 0);
  const g = await get(`http://127.0.0.1:${tb.broker.http!.port}/console/api/group?id=g848`);
  t.equal(g.status, 200);
  t.match(g.json, { type: 'consumer', groupEpoch: 1, assignor: 'uniform' });
  t.match(g.json.members, [{ memberId: 'member-a', memberEpoch: 1, subscription: ['t848'], assignment: [{ topic: 't848', partitions: [0, 1] }] }]);
});

t.test('the console API against a broker with data', async (t) => {
  const s = await seededBroker();
  t.teardown(() => s.close());
  const api = (path: string) => get(`${s.http}/console/api/${path}`);

  t.test('page and assets', async (t) => {
    for (const p of ['/console', '/console/']) {
      const r = await get(`${s.http}${p}`);
      t.equal(r.status, 200);
      t.match(r.type, /^text\/html/);
      t.match(r.text, /<script type="module" src="\/console\/assets\/app.js">/);
    }
    for (const f of ['app.js', 'chart.js']) {
      const r = await get(`${s.http}/console/assets/${f}`);
      t.equal(r.status, 200, f);
      t.match(r.type, /^text\/javascript/);
    }
    t.match((await get(`${s.http}/console/assets/console.css`)).type, /^text\/css/);
    t.equal((await get(`${s.http}/console/assets/nope.js`)).status, 404);
  });

  t.test('cluster', async (t) => {
    const r = await api('cluster');
    t.equal(r.status, 200);
    t.equal(r.json.clusterId, s.tb.broker.clusterId);
    t.same(r.json.nodes.map((n: any) => n.nodeId), [s.tb.broker.nodeId]);
    t.equal(r.json.listeners[0].port, s.tb.port);
    t.ok(r.json.topics >= 2);
    t.ok(r.json.configs.some((c: any) => c.name === 'group.initial.rebalance.delay.ms' && c.value === '0'), 'non-default broker configs listed');
  });

  t.test('topics and one topic', async (t) => {
    const r = await api('topics');
    const events = r.json.find((x: any) => x.name === 'events');
    t.match(events, { partitions: 1, messages: EVENTS.length, internal: false });
    t.ok(events.sizeBytes > 0, 'size from DescribeLogDirs');
    t.equal(r.json.find((x: any) => x.name === 'orders').partitions, 3);
    const o = await api('topic?name=orders');
    t.equal(o.status, 200);
    t.same(o.json.partitions.map((p: any) => [p.partition, p.leader, p.startOffset]), [[0, s.tb.broker.nodeId, 0], [1, s.tb.broker.nodeId, 0], [2, s.tb.broker.nodeId, 0]]);
    t.equal(o.json.partitions[1].endOffset, 3, 'record, transactional record and commit marker');
    t.match(o.json.configs.find((c: any) => c.name === 'retention.ms'), { value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' });
    t.match(o.json.configs.find((c: any) => c.name === 'cleanup.policy'), { value: 'delete', source: 'DEFAULT_CONFIG' });
    const missing = await api('topic?name=not-there');
    t.equal(missing.status, 404);
    t.notOk((await api('topics')).json.some((x: any) => x.name === 'not-there'), 'asking does not create the topic');
    t.equal((await api('topic')).status, 400);
  });

  t.test('messages: JSON pretty-printed, text, binary as hex, headers', async (t) => {
    const r = await api('messages?topic=events&partition=0');
    t.equal(r.status, 200);
    const recs = r.json.records;
    t.same(recs.map((x: any) => x.offset), [0, 1, 2, 3]);
    t.same(recs.map((x: any) => x.timestamp), EVENTS.map((e) => e.timestamp));
    t.same(recs[0].key, { type: 'text', text: 'order-1', size: 7, truncated: false });
    t.same(recs[0].value, { type: 'json', text: JSON.stringify({ id: 1, item: 'book', qty: 2 }, null, 2), size: EVENTS[0].value.length, truncated: false });
    t.same(recs[0].headers.map((h: any) => [h.key, h.value.text]), [['source', 'web'], ['trace', 'abc']]);
    t.equal(recs[1].value.type, 'text');
    t.same(recs[2].key, { type: 'null' });
    t.same(recs[2].value, { type: 'binary', text: '00 01 fe ff', size: 4, truncated: false });
    t.same(recs[2].headers[0].value, { type: 'binary', text: 'ff 00', size: 2, truncated: false });
    t.equal(recs[3].value.text, '[\n  1,\n  2,\n  3\n]');
    t.equal(r.json.nextOffset, 4);
  });

  t.test('messages by offset, by timestamp, paged; transactional records without markers', async (t) => {
    const page = await api('messages?topic=events&partition=0&offset=1&limit=2');
    t.same(page.json.records.map((x: any) => x.offset), [1, 2]);
    t.equal(page.json.nextOffset, 3);
    const byTs = await api(`messages?topic=events&partition=0&timestamp=${T0 + 1500}`);
    t.same(byTs.json.records.map((x: any) => x.offset), [2, 3], 'first record at or after the timestamp');
    const after = await api(`messages?topic=events&partition=0&timestamp=${T0 + 10_000}`);
    t.same(after.json.records, []);
    const tx = await api('messages?topic=orders&partition=1');
    t.same(tx.json.records.map((x: any) => [x.offset, x.value.text, x.transactional]), [[0, 'order on 1', false], [1, 'in a transaction', true]]);
    t.equal((await api('messages?topic=events&partition=abc')).status, 400);
    t.equal((await api('messages?partition=0')).status, 400);
    t.equal((await api('messages?topic=events&offset=1&timestamp=5')).status, 400);
    t.equal((await api('messages?topic=events&partition=7')).status, 404);
    t.equal((await api('messages?topic=nope')).status, 404);
  });

  t.test('groups, members, assignments, lag and its history', async (t) => {
    const gs = await api('groups');
    t.match(gs.json.find((g: any) => g.groupId === 'billing'), { lag: EVENTS.length - 1 });
    t.match(gs.json.find((g: any) => g.groupId === 'live'), { type: 'classic' });
    const live = await until('the live group stable', async () => {
      const g = await api('group?id=live');
      return g.json.state === 'Stable' ? g : undefined;
    });
    t.equal(live.json.members.length, 1);
    t.same(live.json.members[0].assignment, [{ topic: 'orders', partitions: [0, 1, 2] }]);
    const billing = await until('two lag samples', async () => {
      const g = await api('group?id=billing');
      return g.json.lagHistory.length >= 2 ? g : undefined;
    });
    t.same(billing.json.offsets, [{ topic: 'events', partition: 0, committed: 1, end: EVENTS.length, lag: EVENTS.length - 1 }]);
    t.equal(billing.json.lagHistory.at(-1).lag, EVENTS.length - 1);
    t.equal(billing.json.lagSampleIntervalMs, 200);
    t.equal((await api('group?id=nobody')).status, 404);
  });

  t.test('producers and transactions', async (t) => {
    const r = await api('transactions');
    t.match(r.json.transactions, [
      { transactionalId: 'tx-1', state: 'CompleteCommit', partitions: [] },
      { transactionalId: 'tx-open', state: 'Ongoing', partitions: ['orders-2'], timeoutMs: 600_000 },
    ]);
    t.ok(r.json.producers.some((p: any) => p.topic === 'orders' && p.partition === 2 && p.currentTxnStartOffset === 1), 'the open transaction on orders-2');
    t.ok(r.json.producers.some((p: any) => p.topic === 'orders' && p.partition === 1), 'producer state on orders-1');
    t.ok(r.json.producers.some((p: any) => p.topic === 'events' && p.partition === 0 && p.lastSequence === EVENTS.length - 1), 'the idempotent producer on events-0');
  });

  t.test('fault rules', async (t) => {
    const r = await api('faults');
    t.equal(r.json.httpApi, true);
    t.match(r.json.rules, [{ name: 'slow-nothing', api: 'Fetch', delayMs: 5, times: 3, hits: 0 }]);
  });
});
