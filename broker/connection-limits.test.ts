import t from 'tap';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { buildBrokerConfig } from './config.ts';
import { startBroker } from './server.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker } from './testing/start.ts';

const API_VERSIONS = 18;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true if a frame arrives within `ms`, false if none does (the client stays usable). */
async function answeredWithin(c: RawClient, ms: number): Promise<boolean> {
  try { await c.nextFrame(ms); return true; } catch { return false; }
}

async function apiVersions(c: RawClient): Promise<number> {
  const res = await c.request(API_VERSIONS, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1', clusterId: null, nodeId: -1 });
  return res.errorCode;
}

/** An ApiVersions v3 request of about `bytes` bytes (a long client software name). */
function bigRequest(c: RawClient, bytes: number): Buffer {
  return c.encodeRequest(API_VERSIONS, 3, { clientSoftwareName: 'x'.repeat(bytes), clientSoftwareVersion: '1', clusterId: null, nodeId: -1 });
}

t.test('connections.max.idle.ms closes idle connections, including a slowly trickled frame', async (t) => {
  const tb = await startTestBroker({ 'connections.max.idle.ms': '300' });
  t.teardown(() => tb.close());
  const idle = await Promise.all([1, 2, 3].map(() => RawClient.connect(tb.port)));
  const used = await RawClient.connect(tb.port);
  const busy = await RawClient.connect(tb.port);
  const slow = await RawClient.connect(tb.port);
  t.teardown(() => { for (const c of [...idle, used, busy, slow]) c.close(); });
  t.equal(await apiVersions(used), ErrorCode.NONE);

  // A client that keeps making requests stays; one trickling a frame a byte at a time does not.
  const frame = bigRequest(slow, 100);
  let stop = false;
  const trickle = (async () => { for (let i = 0; i < frame.length && !stop && !slow.closed; i++) { slow.sendRaw(frame.subarray(i, i + 1)); await sleep(20); } })();
  const start = Date.now();
  const keepBusy = (async () => { while (!stop && Date.now() - start < 1200) { t.equal(await apiVersions(busy), ErrorCode.NONE); await sleep(100); } })();

  await Promise.all([...idle, used, slow].map((c) => c.waitClosed(5000)));
  t.ok(slow.closed, 'the slowloris connection is closed although bytes kept arriving');
  await keepBusy;
  stop = true;
  await trickle;
  t.notOk(busy.closed, 'an active connection stays open past the idle limit');
  t.ok(tb.logLines.some((l) => l.includes('connections.max.idle.ms')));
});

t.test('connections.max.idle.ms=-1 never closes', async (t) => {
  const tb = await startTestBroker({ 'connections.max.idle.ms': '-1' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await sleep(200);
  t.equal(await apiVersions(c), ErrorCode.NONE);
});

t.test('max.connections: a connection over the limit waits for a slot', async (t) => {
  const tb = await startTestBroker({ 'max.connections': '2' });
  t.teardown(() => tb.close());
  const a = await RawClient.connect(tb.port);
  const b = await RawClient.connect(tb.port);
  const c = await RawClient.connect(tb.port);
  t.teardown(() => { a.close(); b.close(); c.close(); });
  t.equal(await apiVersions(a), ErrorCode.NONE);
  t.equal(await apiVersions(b), ErrorCode.NONE);
  c.sendRaw(c.encodeRequest(API_VERSIONS, 0, {}));
  t.equal(await answeredWithin(c, 300), false, 'third connection is not served while two are open');
  t.notOk(c.closed, 'and not closed either');
  a.close();
  await c.nextFrame(5000);
  t.pass('served once a slot freed');
});

t.test('max.connections: beyond socket.listen.backlog.size waiting connections, new ones are closed', async (t) => {
  const tb = await startTestBroker({ 'max.connections': '1', 'socket.listen.backlog.size': '1' });
  t.teardown(() => tb.close());
  const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(tb.port)));
  t.teardown(() => { for (const c of clients) c.close(); });
  await clients[2].waitClosed(5000);
  t.notOk(clients[1].closed, 'one waits');
  t.equal(await apiVersions(clients[0]), ErrorCode.NONE);
});

t.test('max.connections.per.ip and its overrides close new connections over the limit', async (t) => {
  const tb = await startTestBroker({ 'max.connections.per.ip': '2' });
  t.teardown(() => tb.close());
  const cs = await Promise.all([1, 2, 3].map(() => RawClient.connect(tb.port)));
  t.teardown(() => { for (const c of cs) c.close(); });
  await cs[2].waitClosed(5000);
  t.equal(await apiVersions(cs[0]), ErrorCode.NONE);
  t.equal(await apiVersions(cs[1]), ErrorCode.NONE);
  t.ok(tb.logLines.some((l) => l.includes('max.connections.per.ip')));
  // A slot frees when a connection closes.
  cs[0].close();
  await sleep(50);
  const d = await RawClient.connect(tb.port);
  t.teardown(() => d.close());
  t.equal(await apiVersions(d), ErrorCode.NONE);

  const tb2 = await startTestBroker({ 'max.connections.per.ip': '1', 'max.connections.per.ip.overrides': 'localhost:3,127.0.0.1:3' });
  t.teardown(() => tb2.close());
  const es = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(tb2.port)));
  t.teardown(() => { for (const c of es) c.close(); });
  await es[3].waitClosed(5000);
  for (const e of es.slice(0, 3)) t.equal(await apiVersions(e), ErrorCode.NONE);
});

t.test('queued.max.request.bytes: reading pauses while incomplete requests hold the budget', async (t) => {
  const tb = await startTestBroker({ 'queued.max.request.bytes': '1000' });
  t.teardown(() => tb.close());
  const big = await RawClient.connect(tb.port);
  const other = await RawClient.connect(tb.port);
  t.teardown(() => { big.close(); other.close(); });
  t.equal(await apiVersions(other), ErrorCode.NONE);
  const frame = bigRequest(big, 2000);
  big.sendRaw(frame.subarray(0, 100)); // the frame's 2000+ bytes are allocated: over the budget
  await sleep(50);
  other.sendRaw(other.encodeRequest(API_VERSIONS, 0, {}));
  t.equal(await answeredWithin(other, 300), false, 'other connections wait while memory is exhausted');
  const late = await RawClient.connect(tb.port);
  t.teardown(() => late.close());
  late.sendRaw(late.encodeRequest(API_VERSIONS, 0, {}));
  t.equal(await answeredWithin(late, 200), false, 'a new connection waits too');
  big.sendRaw(frame.subarray(100)); // the connection holding memory finishes its frame
  await big.nextFrame(5000);
  await other.nextFrame(5000);
  await late.nextFrame(5000);
  t.pass('everyone is served once the frame completed');
});

t.test('queued.max.request.bytes: a slowloris holding the budget is closed by the idle limit, freeing the others', async (t) => {
  const tb = await startTestBroker({ 'queued.max.request.bytes': '1000', 'connections.max.idle.ms': '300' });
  t.teardown(() => tb.close());
  const big = await RawClient.connect(tb.port);
  const other = await RawClient.connect(tb.port);
  t.teardown(() => { big.close(); other.close(); });
  big.sendRaw(bigRequest(big, 5000).subarray(0, 100));
  await sleep(50);
  other.sendRaw(other.encodeRequest(API_VERSIONS, 0, {}));
  await big.waitClosed(5000);
  await other.nextFrame(5000);
  t.pass('served after the slowloris was closed');
});

t.test('bad connection-limit settings are refused at start, naming the config', async (t) => {
  const start = (o: Record<string, string>) => startBroker({
    storage: 'memory', config: buildBrokerConfig({ overrides: new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', ...o })) }),
  }).then((b) => b.close());
  await t.rejects(start({ 'max.connections.per.ip': '0' }), { name: 'ConfigError', message: /max\.connections\.per\.ip/ });
  await t.rejects(start({ 'max.connections.per.ip.overrides': '127.0.0.1' }), { name: 'ConfigError', message: /max\.connections\.per\.ip\.overrides/ });
  await t.rejects(start({ 'max.connections.per.ip.overrides': 'no-such-host.invalid:3' }), { name: 'ConfigError', message: /max\.connections\.per\.ip\.overrides/ });
});
