// Brokers to fuzz: gregor as a child process (the soak: it can die without taking the fuzzer along,
// and its RSS is its own) or in this process (tests).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestBroker } from '../../broker/testing/start.ts';
import type { Target } from './driver.ts';

/** Short group timeouts so members that fuzz connections leave behind expire, and joins answer promptly. */
export const FUZZ_OVERRIDES: Record<string, string> = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '100',
};

// Our bugs: exceptions (internal error) and responses that failed to encode (answered UNKNOWN_SERVER_ERROR).
const INTERNAL = /internal error|response failed, answering UNKNOWN_SERVER_ERROR/;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `nodeArgs` go to node before the script (diagnostics: `--heapsnapshot-signal=SIGUSR2`, `--expose-gc`). */
export async function childTarget(overrides: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Target & { pid: number; stop(): Promise<number | null>; tail(): string }> {
  const args = [...nodeArgs, path.join(root, 'broker/bin/gregor.js'), '--storage', 'memory', '--override', 'listeners=PLAINTEXT://127.0.0.1:0'];
  for (const [k, v] of Object.entries({ ...FUZZ_OVERRIDES, ...overrides })) args.push('--override', `${k}=${v}`);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep only a tail of the log (every malformed frame logs a line) and the internal errors.
  let tail: string[] = [];
  let partial = '';
  let errors: string[] = [];
  const onData = (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (INTERNAL.test(l)) errors.push(l);
      tail.push(l);
    }
    if (tail.length > 400) tail = tail.slice(-200);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gregor did not start:\n${tail.join('\n')}`)); }, 20000);
    const check = () => {
      const m = /listening on PLAINTEXT:\/\/[^ ]*:(\d+)/.exec(tail.join('\n') + partial);
      if (m) { clearTimeout(deadline); child.stderr!.off('data', check); resolve(Number(m[1])); }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => { clearTimeout(deadline); reject(new Error(`gregor exited with ${code}:\n${tail.join('\n')}`)); });
  });
  const rss = () => {
    try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024; } catch { return 0; }
  };
  return {
    port,
    pid: child.pid!,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss,
    takeInternalErrors: () => { const e = errors; errors = []; return e; },
    tail: () => tail.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function inProcessTarget(overrides: Record<string, string> = {}): Promise<Target & { stop(): Promise<void> }> {
  const tb = await startTestBroker({ ...FUZZ_OVERRIDES, ...overrides });
  let seen = 0;
  return {
    port: tb.port,
    alive: () => true,
    rss: () => process.memoryUsage().rss,
    takeInternalErrors: () => {
      const out: string[] = [];
      for (; seen < tb.logLines.length; seen++) if (INTERNAL.test(tb.logLines[seen]!)) out.push(tb.logLines[seen]!);
      // The log is kept in memory: drop what has been scanned.
      tb.logLines.splice(0, seen); seen = 0;
      return out;
    },
    stop: () => tb.close(),
  };
}
