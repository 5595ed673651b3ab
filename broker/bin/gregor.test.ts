// Stop signals through every way the broker is started: `npm start`, the bin, and as PID 1 (a container).
// Each case spawns the real process on a free port (port 0, read from the log) with a temporary data dir.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { RawClient } from '../testing/raw-client.ts';
import { batchOf, FETCH, fetchRequest, produce } from '../testing/produce.ts';
import { REPEAT_MS } from './gregor.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.dirname(fileURLToPath(import.meta.url));
// `npm start` runs `node` from node_modules/.bin (Node 24), as it does for a user.
const env = { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}` };
const listen = ['--override', 'listeners=PLAINTEXT://127.0.0.1:0'];
const DEADLINE_MS = 10_000; // docker stop's grace period

interface Proc { child: ChildProcess; port: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; output(): string }

/** Spawns `cmd`, waits for the broker to listen; the process (group) is killed when `tt` ends. */
async function spawnBroker(tt: any, cmd: string, args: string[]): Promise<Proc> {
  // detached: its own process group, so a test can send a Ctrl-C to the whole group as a terminal does.
  const child = spawn(cmd, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  tt.teardown(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch {} });
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no broker within deadline:\n${out}`)), 30_000);
    const check = () => {
      const m = /listening on PLAINTEXT:\/\/[^ ]*:(\d+)/.exec(out);
      if (m) { clearTimeout(deadline); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    exited.then(({ code }) => { clearTimeout(deadline); reject(new Error(`exited with ${code}:\n${out}`)); });
  });
  return { child, port, exited, output: () => out };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

/** Whether any process of the group is alive (the spawned process and all it started: npm, sh, node). */
function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

/** Waits (bounded) until no process of the group is left: the broker must not outlive what was spawned. */
async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function waitFor(p: Proc, re: RegExp, ms: number): Promise<void> {
  return within(new Promise<void>((resolve) => {
    const check = () => { if (re.test(p.output())) resolve(); };
    p.child.stdout!.on('data', check);
    p.child.stderr!.on('data', check);
    check();
  }), ms, `waiting for ${re}`);
}

const tmpDir = (tt: any) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-signals-'));
  tt.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
};

async function produceOne(port: number, value: string): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    await c.request(19, 7, { topics: [{ name: 's', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
    const r = await produce(c, 's', 0, batchOf(1, { prefix: value }), 9, -1);
    if (r.errorCode !== 0) throw new Error(`produce failed: ${r.errorCode}`);
  } finally { c.close(); }
}

async function fetchedBytes(port: number): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(FETCH, 12, fetchRequest([{ topic: 's', partition: 0, offset: 0 }]));
    return Buffer.from(res.responses[0].partitions[0].records ?? []).toString('latin1');
  } finally { c.close(); }
}

/** Produces, sends `signal` to what was spawned, asserts a clean stop within the deadline and the data after a restart. */
async function stopsCleanly(tt: any, start: (dataDir: string) => Promise<Proc>, stop: (p: Proc) => void) {
  const dir = tmpDir(tt);
  const p = await start(dir);
  await produceOne(p.port, 'before-stop');
  stop(p);
  const { code } = await within(p.exited, DEADLINE_MS, 'spawned process exits');
  tt.equal(code, 0, 'exit code 0');
  tt.ok(await groupGone(p.child.pid!, DEADLINE_MS), 'no process left (the broker did not outlive its launcher)');
  tt.ok(await portClosed(p.port), 'port closed');
  tt.match(p.output(), /gregor node 1 stopped/, 'clean shutdown logged');
  const again = await spawnBroker(tt, process.execPath, [path.join(here, 'gregor.js'), '--data-dir', dir, ...listen]);
  tt.match(await fetchedBytes(again.port), /before-stop0/, 'the record produced before the stop is there after the restart');
  process.kill(again.child.pid!, 'SIGTERM');
  tt.equal((await within(again.exited, DEADLINE_MS, 'restarted broker exits')).code, 0);
}

const npmStart = (tt: any) => (dir: string) => spawnBroker(tt, 'npm', ['start', '--', '--data-dir', dir, ...listen]);
const bin = (tt: any) => (dir: string) => spawnBroker(tt, process.execPath, [path.join(here, 'gregor.js'), '--data-dir', dir, ...listen]);

t.test('npm start: SIGTERM to npm stops the broker cleanly', (tt) =>
  stopsCleanly(tt, npmStart(tt), (p) => process.kill(p.child.pid!, 'SIGTERM')));

t.test('npm start: Ctrl-C (SIGINT to the whole process group, and npm forwards it) is one clean stop', (tt) =>
  stopsCleanly(tt, npmStart(tt), (p) => process.kill(-p.child.pid!, 'SIGINT')));

t.test('the bin: SIGTERM and SIGINT stop the broker cleanly', async (tt) => {
  await tt.test('SIGTERM', (t2) => stopsCleanly(t2, bin(t2), (p) => process.kill(p.child.pid!, 'SIGTERM')));
  await tt.test('SIGINT', (t2) => stopsCleanly(t2, bin(t2), (p) => process.kill(p.child.pid!, 'SIGINT')));
});

// A container's entrypoint is PID 1, which the kernel gives no default action for SIGTERM/SIGINT.
const canUnshare = process.platform === 'linux' && spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;
t.test('as PID 1 of a pid namespace (docker stop), SIGTERM stops the broker cleanly', { skip: canUnshare ? false : 'unshare --pid not permitted here' }, (tt) =>
  stopsCleanly(tt,
    (dir) => spawnBroker(tt, 'unshare', ['--pid', '--fork', '--kill-child', process.execPath, path.join(here, 'gregor.js'), '--data-dir', dir, ...listen]),
    (p) => {
      // unshare waits for its child and passes on nothing: signal the broker itself (PID 1 inside).
      const children = fs.readFileSync(`/proc/${p.child.pid}/task/${p.child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      process.kill(children[0], 'SIGTERM');
    }));

t.test('a second signal while shutting down exits at once with 128 + its number', async (tt) => {
  const fixture = path.join(here, 'never-closes.fixture.ts');
  const cases: Array<[string, NodeJS.Signals, NodeJS.Signals, number]> = [
    ['SIGTERM then SIGINT', 'SIGTERM', 'SIGINT', 130],
    ['SIGINT then SIGTERM', 'SIGINT', 'SIGTERM', 143],
    ['SIGTERM twice', 'SIGTERM', 'SIGTERM', 143],
  ];
  for (const [name, first, second, code] of cases) {
    await tt.test(name, async (t2) => {
      const p = await spawnBroker(t2, process.execPath, [fixture, '--storage', 'memory', ...listen]);
      process.kill(p.child.pid!, first);
      await waitFor(p, /received, shutting down/, DEADLINE_MS);
      // The fixture's shutdown never ends: without the second signal the process would stay.
      await new Promise((r) => setTimeout(r, REPEAT_MS + 50));
      t2.ok(groupAlive(p.child.pid!), 'still shutting down before the second signal');
      process.kill(p.child.pid!, second);
      t2.equal((await within(p.exited, DEADLINE_MS, 'exit after the second signal')).code, code);
      t2.ok(await portClosed(p.port), 'port closed');
      t2.match(p.output(), /received again, exiting without a clean shutdown/);
    });
  }
});
