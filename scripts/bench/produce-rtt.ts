// node scripts/bench/produce-rtt.ts [root] [seconds] — the broker's cost per Produce request by codec: an in-process
// broker (memory storage) and 4 RawClient connections, one partition and one request in flight each, batches of
// 200 × 100-byte records (a…z value runs, as main.ts's lz4 case), acks=-1. Prints req/s, value MiB/s and the
// process's CPU µs per request (broker + clients; the figure to compare on a loaded machine). `root` is a gregor
// checkout (default this one), for A/B runs against another worktree.
const root = process.argv[2] || new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const seconds = Number(process.argv[3] ?? 3);
const { startTestBroker } = await import(`${root}/broker/testing/start.ts`);
const { RawClient } = await import(`${root}/broker/testing/raw-client.ts`);
const { produce } = await import(`${root}/broker/testing/produce.ts`);
const { buildRecordBatch } = await import(`${root}/protocol/records.ts`);
const tb = await startTestBroker({});
const out: string[] = [];
for (const [name, codec] of [['none', 0], ['lz4', 3], ['zstd', 4], ['gzip', 1]] as const) {
  await tb.broker.context.createTopic(`rtt-${name}`, 4);
  const batch = buildRecordBatch({ records: Array.from({ length: 200 }, (_, i) => ({ key: null, value: Buffer.alloc(88, 0x61 + (i % 26)), timestamp: Date.now() })), compression: codec });
  const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(tb.port)));
  let n = 0;
  const end = Date.now() + seconds * 1000;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(clients.map(async (c: any, p: number) => {
    while (Date.now() < end) {
      const r = await produce(c, `rtt-${name}`, p, Buffer.from(batch), 9, -1);
      if (r.errorCode !== 0) throw new Error(`error ${r.errorCode}`);
      n++;
    }
  }));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  for (const c of clients) c.close();
  out.push(`${name}: ${(n / (ms / 1000)).toFixed(0)} req/s, ${((n * 200 * 88) / 1048576 / (ms / 1000)).toFixed(1)} MiB/s values, ${(((cpu.user + cpu.system) / 1000) / n * 1000).toFixed(0)} µs CPU/req`);
}
console.log(out.join(' | '));
await tb.close();
process.exit(0);
