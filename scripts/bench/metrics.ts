// What gregor.http.listener's metrics cost on the produce path: the gregor CLI (file storage, as in main.ts)
// with the listener off and on (then scraped every second, as a Prometheus would at a far slower rate),
// alternating, several rounds. Load: one client process pipelining the same acks=1 Produce v9 request (one
// batch of RECORDS × 100 B records) with WINDOW requests in flight, REQUESTS in all. Small batches are the
// worst case for the per-request part of the cost. Reports per mode the medians of throughput (requests/s,
// wall clock) and of the broker's CPU time per request (utime+stime from /proc, steadier than throughput on a
// shared machine), and the on/off ratios.
//
// Usage: node scripts/bench/metrics.ts [--rounds N] [--requests N] [--records N] [--window N]
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..', '..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('--rounds', 5);
const REQUESTS = arg('--requests', 40000);
const RECORDS = arg('--records', 10);
const WINDOW = arg('--window', 32);
const log = (m: string) => console.error(`[metrics-bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

// The load generator: run as a child (`--client PORT`), so the broker's process does nothing else.
if (process.argv[2] === '--client') {
  const { RawClient } = await import('../../broker/testing/raw-client.ts');
  const { batchOf } = await import('../../broker/testing/produce.ts');
  const { FrameDecoder } = await import('../../protocol/frame.ts');
  const port = Number(process.argv[3]);
  const c = await RawClient.connect(port);
  const value = 'x'.repeat(98);
  const batch = batchOf(RECORDS, { prefix: value });
  const frame = (id: number) => c.encodeRequest(0, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'metrics-bench', partitionData: [{ index: 0, records: batch }] }] }, id);
  // Warm-up creates the topic (auto-creation) and loads the handler.
  await c.request(0, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'metrics-bench', partitionData: [{ index: 0, records: batch }] }] });
  const f = frame(1_000_000);
  c.socket.removeAllListeners('data');
  const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
  let sent = 0;
  let answered = 0;
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const pump = () => { while (sent < REQUESTS && sent - answered < WINDOW) { c.socket.write(f); sent++; } };
    c.socket.on('data', (chunk: Buffer) => decoder.push(chunk, () => {
      answered++;
      if (answered === REQUESTS) done(); else pump();
    }));
    pump();
  });
  const ms = performance.now() - t0;
  c.close();
  process.stdout.write(JSON.stringify({ ms }) + '\n');
  process.exit(0);
}

function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}

async function startGregor(dataDir: string, httpPort: number | null): Promise<{ child: ChildProcess; port: number }> {
  const args = [path.join(root, 'broker/bin/gregor.js'), '--override', 'listeners=PLAINTEXT://127.0.0.1:0', '--data-dir', dataDir];
  if (httpPort !== null) args.push('--override', `gregor.http.listener=127.0.0.1:${httpPort}`);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gregor did not start:\n${out}`)); }, 30000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on PLAINTEXT:\/\/[^ ]*:(\d+)/.exec(out);
      if (m) { clearTimeout(deadline); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(deadline); reject(new Error(`gregor exited with ${code}:\n${out}`)); });
  });
  return { child, port };
}

async function run(mode: 'off' | 'on', tmp: string, round: number): Promise<{ reqPerSec: number; cpuUsPerReq: number; scrapes: number }> {
  const httpPort = mode === 'on' ? 19000 + Math.floor(Math.random() * 1000) : null;
  const { child, port } = await startGregor(path.join(tmp, `${mode}-${round}`), httpPort);
  let scrapes = 0;
  const scraper = httpPort === null ? undefined : setInterval(() => {
    fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text()).then(() => { scrapes++; }, () => {});
  }, 1000);
  try {
    const cpu0 = cpuMs(child.pid!);
    const client = spawn(process.execPath, [import.meta.filename, '--client', String(port), '--records', String(RECORDS), '--requests', String(REQUESTS), '--window', String(WINDOW)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout!.on('data', (d) => { out += d; });
    await new Promise<void>((resolve, reject) => client.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client exited ${code}`)))));
    const cpu1 = cpuMs(child.pid!);
    const { ms } = JSON.parse(out);
    return { reqPerSec: REQUESTS / (ms / 1000), cpuUsPerReq: ((cpu1 - cpu0) * 1000) / REQUESTS, scrapes };
  } finally {
    if (scraper) clearInterval(scraper);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-metrics-bench-'));
const results: Record<'off' | 'on', Array<{ reqPerSec: number; cpuUsPerReq: number; scrapes: number }>> = { off: [], on: [] };
try {
  log(`${ROUNDS} rounds × off/on; ${REQUESTS} Produce v9 requests of ${RECORDS} × 100 B records, ${WINDOW} in flight; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of (round % 2 === 0 ? ['off', 'on'] : ['on', 'off']) as Array<'off' | 'on'>) {
      const r = await run(mode, tmp, round);
      results[mode].push(r);
      log(`round ${round + 1} ${mode}: ${r.reqPerSec.toFixed(0)} req/s (${(r.reqPerSec * RECORDS).toFixed(0)} rec/s), broker CPU ${r.cpuUsPerReq.toFixed(1)} µs/request${mode === 'on' ? `, ${r.scrapes} scrapes` : ''}`);
    }
  }
  const off = { tput: median(results.off.map((r) => r.reqPerSec)), cpu: median(results.off.map((r) => r.cpuUsPerReq)) };
  const on = { tput: median(results.on.map((r) => r.reqPerSec)), cpu: median(results.on.map((r) => r.cpuUsPerReq)) };
  console.log(`| metrics | median req/s | median rec/s | median broker CPU µs/request |\n|---|---:|---:|---:|\n`
    + `| off | ${off.tput.toFixed(0)} | ${(off.tput * RECORDS).toFixed(0)} | ${off.cpu.toFixed(1)} |\n`
    + `| on (scraped every 1 s) | ${on.tput.toFixed(0)} | ${(on.tput * RECORDS).toFixed(0)} | ${on.cpu.toFixed(1)} |\n`
    + `| on/off | ${(on.tput / off.tput).toFixed(3)} | | ${(on.cpu / off.cpu).toFixed(3)} |\n\n`
    + `load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
