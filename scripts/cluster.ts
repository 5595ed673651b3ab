// `npm run cluster [-- --nodes 3 --dir DIR]`: a local cluster of gregor processes on 127.0.0.1 as one combined
// KRaft quorum (process.roles=broker,controller, every node a voter), each on free ports with its own data
// directory; prints the bootstrap string and forwards each node's log prefixed with its id. Ctrl-C stops them.
// compat-tests/cluster.test.ts drives the same cluster through `startCluster` (kill, restart).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'broker/bin/gregor.js');

export interface ClusterNode {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  child: ChildProcess | null;
  /** Everything the current process wrote (stdout and stderr). */
  output: string;
}

export interface Cluster {
  readonly nodes: ClusterNode[];
  readonly bootstrap: string;
  readonly clusterId: string;
  /** Starts node `id` (again) with its data directory; resolves once it logs "started" (deadline `timeoutMs`). */
  start(id: number, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and waits for the exit (SIGKILL after 10 s). */
  stop(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** Stops every node (SIGTERM, then SIGKILL after 10 s). */
  close(): Promise<void>;
}

/** Free TCP ports on 127.0.0.1 (bound at once, then released: the OS does not hand them out again soon). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function startCluster(o: { nodes?: number; dir?: string; timeoutMs?: number; onLine?: (id: number, line: string) => void; extra?: Record<string, string> } = {}): Promise<Cluster> {
  const n = o.nodes ?? 3;
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'gregor-cluster-'));
  const ports = await freePorts(2 * n);
  // A fixed cluster id: every node's meta.properties must agree (Kafka's storage tool formats each with the same).
  const clusterId = 'Z3JlZ29yLWNsdXN0ZXIwMQ';
  const nodes: ClusterNode[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1, port: ports[i]!, controllerPort: ports[n + i]!, dataDir: path.join(dir, `node-${i + 1}`), child: null, output: '',
  }));
  const voters = nodes.map((x) => `${x.id}@127.0.0.1:${x.controllerPort}`).join(',');
  const exits = new Map<number, Promise<void>>();

  const start = (id: number, timeoutMs = o.timeoutMs ?? 60_000): Promise<void> => {
    const node = nodes.find((x) => x.id === id)!;
    if (node.child !== null) throw new Error(`node ${id} is running`);
    mkdirSync(node.dataDir, { recursive: true });
    const settings: Record<string, string> = {
      'node.id': String(id),
      'process.roles': 'broker,controller',
      'controller.quorum.voters': voters,
      'controller.listener.names': 'CONTROLLER',
      'listeners': `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'cluster.id': clusterId,
      ...o.extra,
    };
    const args = [cli, '--data-dir', node.dataDir];
    for (const [k, v] of Object.entries(settings)) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    node.output = '';
    let partial = '';
    const onData = (d: Buffer) => {
      node.output += d.toString();
      partial += d.toString();
      let i;
      while ((i = partial.indexOf('\n')) >= 0) {
        o.onLine?.(id, partial.slice(0, i));
        partial = partial.slice(i + 1);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exits.set(id, new Promise<void>((resolve) => child.once('exit', () => { if (node.child === child) node.child = null; resolve(); })));
    return new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => { cleanup(); reject(new Error(`node ${id} did not start within ${timeoutMs} ms:\n${node.output}`)); }, timeoutMs);
      const check = () => { if (/gregor node \d+ started/.test(node.output)) { cleanup(); resolve(); } };
      const exited = (code: number | null) => { cleanup(); reject(new Error(`node ${id} exited with ${code}:\n${node.output}`)); };
      const cleanup = () => { clearTimeout(deadline); child.stderr!.off('data', check); child.off('exit', exited); };
      child.stderr!.on('data', check);
      child.once('exit', exited);
    });
  };

  const stop = async (id: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const node = nodes.find((x) => x.id === id)!;
    const child = node.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exits.get(id);
    clearTimeout(t);
  };

  const cluster: Cluster = {
    nodes, clusterId, bootstrap: nodes.map((x) => `127.0.0.1:${x.port}`).join(','),
    start, stop,
    async close() { await Promise.all(nodes.map((x) => stop(x.id))); },
  };
  // The voters elect once a majority runs: start them together.
  try {
    await Promise.all(nodes.map((x) => start(x.id)));
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const cluster = await startCluster({
    nodes: Number(arg('--nodes') ?? 3), dir: arg('--dir'),
    onLine: (id, line) => process.stderr.write(`[node ${id}] ${line}\n`),
  });
  process.stdout.write(`${cluster.bootstrap}\n`);
  process.stderr.write(`cluster ${cluster.clusterId}: ${cluster.nodes.map((x) => `node ${x.id} (pid ${x.child?.pid}, controller 127.0.0.1:${x.controllerPort}, data ${x.dataDir})`).join('; ')}\n`);
  let stopping = false;
  const shutdown = () => {
    if (stopping) process.exit(130);
    stopping = true;
    void cluster.close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
