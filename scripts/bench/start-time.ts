// node scripts/bench/start-time.ts <checkout> <memory|file> <runs> — single-node start: spawn of
// `<checkout>/broker/bin/gregor.js` → its "started" log line, and RSS after 1.5 s idle; medians over `runs`
// (one warm-up run first, so the compile cache is filled). A/B: run it against two checkouts, alternating.
// `startOnce` is also used by scripts/bench/metadata.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One start of `<repo>/broker/bin/gregor.js`: ms to its "started" line, VmRSS (MiB) after 1.5 s idle. */
export async function startOnce(repo: string, mode: string): Promise<{ ready: number; rss: number }> {
  const args = [path.join(repo, 'broker/bin/gregor.js')];
  let dir: string | undefined;
  if (mode === 'memory') args.push('--storage', 'memory');
  else { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-start-')); args.push('--override', `log.dirs=${dir}`); }
  args.push('--override', 'listeners=PLAINTEXT://127.0.0.1:0');
  const t0 = performance.now();
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const on = (d: Buffer) => { buf += d; if (/ started, cluster/.test(buf)) resolve(performance.now() - t0); };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (c) => reject(new Error(`exited ${c}: ${buf}`)));
    setTimeout(() => reject(new Error(`no start within 20 s: ${buf}`)), 20_000).unref();
  });
  await new Promise((r) => setTimeout(r, 1500));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  p.kill('SIGTERM');
  await new Promise((r) => p.on('exit', r));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  return { ready, rss };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [repo = '.', mode = 'memory', runsArg = '10'] = process.argv.slice(2);
  const runs = Number(runsArg);
  const res: Array<{ ready: number; rss: number }> = [];
  for (let i = 0; i < runs + 1; i++) {
    const r = await startOnce(repo, mode);
    if (i > 0) res.push(r);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  console.log(JSON.stringify({ repo, mode, readyMs: median(res.map((r) => r.ready)).toFixed(1), rssMiB: median(res.map((r) => r.rss)).toFixed(1), all: res.map((r) => r.ready.toFixed(0)).join(',') }));
}
