// Running the project's image under podman (rootful, host network: ../shared/container/setup.sh) for the container
// tests. GREGOR_TEST_IMAGE names an image .ci/run built; otherwise the Dockerfile is built here on the local
// base image (podman's layer cache makes a rebuild of unchanged sources take seconds).
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
export const LOCAL_BASE = 'localhost/node24-bookworm:local';

export interface Exec { code: number; stdout: string; stderr: string }

export async function podman(args: string[], timeoutMs = 120_000): Promise<Exec> {
  try {
    const r = await run('podman', args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/** The image to test, or why the container tests cannot run here. */
export async function testImage(): Promise<{ image: string } | { skip: string }> {
  const info = await podman(['info', '--format', '{{.Host.OCIRuntime.Name}}'], 30_000);
  if (info.code !== 0) return { skip: `podman is not usable (${info.stderr.trim().split('\n').pop() || 'not installed'}); run ../shared/container/setup.sh` };
  const given = process.env.GREGOR_TEST_IMAGE;
  if (given) {
    if ((await podman(['image', 'exists', given])).code === 0) return { image: given };
    return { skip: `GREGOR_TEST_IMAGE=${given} does not exist` };
  }
  if ((await podman(['image', 'exists', LOCAL_BASE])).code !== 0) return { skip: `no base image ${LOCAL_BASE}; run ../shared/container/setup.sh` };
  const image = 'localhost/gregor:test';
  // --format docker: OCI images drop HEALTHCHECK.
  const b = await podman(['build', '--format', 'docker', '--network', 'host', '--build-arg', `BASE=${LOCAL_BASE}`, '-t', image, root], 600_000);
  if (b.code !== 0) throw new Error(`podman build failed:\n${b.stdout}\n${b.stderr}`);
  return { image };
}

/** A port free on the host now (containers share the host network, so each gets its own). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}

let seq = 0;
export const uniqueName = (what: string) => `gregor-test-${what}-${process.pid}-${++seq}`;

/** `podman run -d` with these env vars; returns the container name. */
export async function runContainer(image: string, name: string, env: Record<string, string>, extra: string[] = []): Promise<string> {
  const args = ['run', '-d', '--name', name, ...extra];
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  const r = await podman([...args, image]);
  if (r.code !== 0) throw new Error(`podman run ${name} failed: ${r.stderr}`);
  return name;
}

export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '-f', '-v', '-t', '0', name], 30_000); // -v: also its anonymous /var/lib/gregor volume
}

/** Resolves when a TCP connect to 127.0.0.1:port succeeds (deadline: timeoutMs). */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
