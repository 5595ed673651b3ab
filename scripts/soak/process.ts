// The gregor process the soak owns (the CLI, as `npm start` runs it, with file storage in a temp dir) and
// what is sampled from it: RSS and file descriptors from /proc, heap from its Prometheus endpoint, disk use by
// walking the data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Broker {
  pid: number;
  bootstrap: string;
  metricsPort: number;
  dataDir: string;
  child: ChildProcess;
  /** The last lines of its log (kept bounded). */
  tail(): string;
  /** Lines at warn level or above seen so far (bounded list plus a count). */
  warnings: { count: number; first: string[] };
  stop(): Promise<number | null>;
}

export async function startBroker(dataDir: string, overrides: Record<string, string>): Promise<Broker> {
  const args = [path.join(root, 'broker/bin/gregor.js'), '--data-dir', dataDir,
    '--override', 'listeners=PLAINTEXT://127.0.0.1:0', '--override', 'gregor.http.listener=127.0.0.1:0'];
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let pending = '';
  const warnings = { count: 0, first: [] as string[] };
  const onData = (d: Buffer): void => {
    tail = (tail + d.toString()).slice(-20_000);
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) {
      if (/\b(WARN|ERROR|FATAL)\b/i.test(l)) {
        warnings.count++;
        if (warnings.first.length < 20) warnings.first.push(l);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [port, metricsPort] = await new Promise<[number, number]>((resolve, reject) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gregor did not start in 30 s:\n${tail}`)); }, 30_000);
    const check = (): void => {
      const k = /listening on PLAINTEXT:\/\/[^\s,]*:(\d+)/.exec(tail);
      const h = /gregor\.http\.listener listening on http:\/\/[^\s,]*:(\d+)/.exec(tail);
      if (k && h) { clearTimeout(deadline); child.stderr!.off('data', check); resolve([Number(k[1]), Number(h[1])]); }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => { clearTimeout(deadline); reject(new Error(`gregor exited with ${code}:\n${tail}`)); });
  });
  return {
    pid: child.pid!, bootstrap: `127.0.0.1:${port}`, metricsPort, dataDir, child, warnings,
    tail: () => tail,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Bytes of every file under `dir` (files vanishing mid-walk are skipped). */
export function diskBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) total += diskBytes(p);
      else total += fs.statSync(p).size;
    } catch { /* deleted meanwhile */ }
  }
  return total;
}

/** Bytes per top-level entry of `dir` whose name starts with `prefix` (a topic's partition dirs). */
export function topicBytes(dir: string, prefix: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix) && /-\d+$/.test(name)) total += diskBytes(path.join(dir, name));
  }
  return total;
}

/** Heap used and external (Buffers) memory from gregor's /metrics (NaN when not readable within 5 s). */
export async function heapBytes(port: number): Promise<{ heap: number; external: number }> {
  try {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const gauge = (name: string): number => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(body);
      return m ? Number(m[1]) : NaN;
    };
    return { heap: gauge('nodejs_heap_size_used_bytes'), external: gauge('nodejs_external_memory_bytes') };
  } catch {
    return { heap: NaN, external: NaN };
  }
}
