// `_schemas` durability as a registry client sees it: gregor (the CLI, file storage) with the Schema Registry
// listener is SIGKILLed while clients register schemas; after a restart every registration that was answered
// is there with its id and version, and new ids continue above them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startGregor, type GregorProcess } from './support/gregor-process.ts';

const CT = 'application/vnd.schemaregistry.v1+json';

async function registryPort(g: GregorProcess, timeoutMs = 20000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /gregor\.schema\.registry\.listener listening on http:\/\/[^ ]*:(\d+)/.exec(g.output());
    if (m) return Number(m[1]);
    if (Date.now() > deadline || g.child.exitCode !== null) throw new Error(`no schema registry listener:\n${g.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function call(port: number, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method, headers: { 'content-type': CT }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const schema = (i: number) => JSON.stringify({ type: 'record', name: `R${i}`, fields: [{ name: 'a', type: 'int' }] });
const overrides = { 'gregor.schema.registry.listener': '127.0.0.1:0' };

t.test('SIGKILL while registering: every answered registration is back after the restart', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-sr-crash-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const g1 = await startGregor({ dataDir: dir, overrides });
  t.teardown(() => g1.stop());
  const port1 = await registryPort(g1);
  t.same((await call(port1, 'PUT', '/config', { compatibility: 'NONE' })).json, { compatibility: 'NONE' });
  t.same((await call(port1, 'PUT', '/config/keep', { compatibility: 'FULL' })).json, { compatibility: 'FULL' });

  const acked = new Map<string, { id: number }>(); // "subject/schema index" → answer
  let stop = false;
  const workers = Array.from({ length: 4 }, (_, w) => (async () => {
    for (let i = 0; !stop; i++) {
      const n = i * 4 + w;
      const subject = `s${n % 7}`;
      try {
        const r = await call(port1, 'POST', `/subjects/${subject}/versions`, { schema: schema(n) });
        if (r.status === 200) acked.set(`${subject}/${n}`, r.json);
      } catch {
        return; // the process is gone
      }
    }
  })());
  const deadline = Date.now() + 20000;
  while (acked.size < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  g1.child.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await g1.stop();
  t.ok(acked.size >= 60, `${acked.size} registrations answered before the kill`);

  const g2 = await startGregor({ dataDir: dir, overrides });
  t.teardown(() => g2.stop());
  const port2 = await registryPort(g2);
  let missing = 0;
  for (const [key, { id }] of acked) {
    const [subject, n] = key.split('/');
    const r = await call(port2, 'POST', `/subjects/${subject}`, { schema: schema(Number(n)) });
    if (r.status !== 200 || r.json.id !== id) missing++;
    const byId = await call(port2, 'GET', `/schemas/ids/${id}`);
    if (byId.json.schema !== schema(Number(n))) missing++;
  }
  t.equal(missing, 0, 'every answered registration is there with its id');
  t.same((await call(port2, 'GET', '/config/keep')).json, { compatibilityLevel: 'FULL' }, 'configs are back');
  const maxId = Math.max(...[...acked.values()].map((x) => x.id));
  const next = await call(port2, 'POST', '/subjects/after/versions', { schema: schema(1_000_000) });
  t.ok(next.json.id > maxId, `a new schema gets an id (${next.json.id}) above every earlier one (${maxId})`);
  t.equal(await g2.stop(), 0);
});
