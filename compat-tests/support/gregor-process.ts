// Runs gregor exactly as `npm start` does (the CLI, in a child process) on an ephemeral port.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'broker/bin/gregor.js');

export interface GregorProcess {
  port: number;
  bootstrap: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, waits for a clean exit (SIGKILL after the deadline); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startGregor(opts: { overrides?: Record<string, string>; dataDir?: string; timeoutMs?: number } = {}): Promise<GregorProcess> {
  const args = [cli, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'];
  for (const [k, v] of Object.entries(opts.overrides ?? {})) args.push('--override', `${k}=${v}`);
  if (opts.dataDir) args.push('--data-dir', opts.dataDir);
  else args.push('--storage', 'memory');
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => { out += d.toString(); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gregor did not start within deadline:\n${out}`)); }, opts.timeoutMs ?? 20000);
    const check = () => {
      const m = /listening on PLAINTEXT:\/\/[^ ]*:(\d+)/.exec(out);
      if (m) { clearTimeout(deadline); child.stderr!.off('data', check); resolve(Number(m[1])); }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => { clearTimeout(deadline); reject(new Error(`gregor exited with ${code}:\n${out}`)); });
  });

  return {
    port, bootstrap: `127.0.0.1:${port}`, child, output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
