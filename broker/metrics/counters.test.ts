import t from 'tap';
import { bucketUpperMs, BrokerMetrics, LATENCY_WINDOW_MS, latencyBucket, latencyQuantile } from './counters.ts';

t.test('a latency falls in a bucket whose upper bound is at most 19 % above it', async (t) => {
  for (const ms of [0.002, 0.05, 0.3, 1, 7.5, 120, 4000, 3_600_000]) {
    const i = latencyBucket(ms);
    t.ok(bucketUpperMs(i) >= ms - 1e-12 && bucketUpperMs(i) <= ms * 1.19 + 1e-12, `${ms} ms → bucket ${i} (≤ ${bucketUpperMs(i)})`);
    t.ok(i === 0 || bucketUpperMs(i - 1) < ms, 'the first bucket that holds it');
  }
  t.equal(latencyBucket(0), 0);
  t.equal(latencyBucket(-1), 0);
  t.equal(latencyBucket(Number.NaN), 0);
  t.equal(latencyBucket(1e30), latencyBucket(1e31), 'huge values share the last bucket');
});

t.test('request counts per API and version; quantiles over the current and previous window only', async (t) => {
  let now = 1000;
  const m = new BrokerMetrics(() => now);
  // 90 requests of 1 ms and 10 of 100 ms to Produce v9, one Fetch v12.
  for (let i = 0; i < 100; i++) { const start = now; now += i < 90 ? 1 : 100; m.request(0, 9, start); }
  const start = now; now += 5; m.request(1, 12, start);
  const produce = m.requests[0]!;
  t.equal(produce.count, 100);
  t.equal(produce.byVersion[9], 100);
  t.equal(m.requests[1]!.byVersion[12], 1);
  t.ok(Math.abs(produce.sumMs - (90 + 1000)) < 1e-6);
  const p50 = latencyQuantile(produce, 0.5);
  const p99 = latencyQuantile(produce, 0.99);
  t.ok(p50 >= 1 && p50 <= 1.19, `p50 ${p50}`);
  t.ok(p99 >= 100 && p99 <= 119, `p99 ${p99}`);
  // One window later the data is the previous window: still counted.
  now += LATENCY_WINDOW_MS;
  m.rotate();
  t.ok(latencyQuantile(produce, 0.99) >= 100, 'previous window still in the quantiles');
  // Two windows later it is gone; counts stay (they are counters).
  now += LATENCY_WINDOW_MS;
  m.rotate();
  t.equal(latencyQuantile(produce, 0.99), 0, 'old observations dropped');
  t.equal(produce.count, 100);
  // A long quiet period drops both windows at once.
  const s2 = now; now += 2; m.request(0, 9, s2);
  now += 5 * LATENCY_WINDOW_MS;
  m.rotate();
  t.equal(latencyQuantile(produce, 0.5), 0);
});

t.test('topics and connections', async (t) => {
  const m = new BrokerMetrics(() => 0);
  m.produced('a', 3, 300);
  m.produced('a', 2, 100);
  m.fetched('a', 50);
  m.fetched('b', 7);
  t.same(m.topics.get('a'), { messagesIn: 5, bytesIn: 400, bytesOut: 50 });
  t.same(m.topics.get('b'), { messagesIn: 0, bytesIn: 0, bytesOut: 7 });
  const listeners: Array<() => void> = [];
  const socket = { once: (_e: 'close', fn: () => void) => { listeners.push(fn); } };
  m.connectionOpened('PLAINTEXT', socket);
  m.connectionOpened('PLAINTEXT', socket);
  t.same(m.listeners.get('PLAINTEXT'), { open: 2, created: 2, closed: 0 });
  listeners[0]();
  t.same(m.listeners.get('PLAINTEXT'), { open: 1, created: 2, closed: 1 });
});
