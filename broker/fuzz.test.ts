// Fuzz: 100,000 random and mutated frames against a running broker. The process must not crash or
// hang, memory must stay bounded, and a well-formed client on another connection is served throughout.
// FUZZ_FRAMES and FUZZ_SEED override the defaults (the seed is printed so a failure can be replayed).
import net from 'node:net';
import t from 'tap';
import { apis, requestHeaderVersion } from '../protocol/generated/index.ts';
import { encodeRequestHeader } from '../protocol/generated/request-header.ts';
import { Writer } from '../protocol/writer.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker } from './testing/start.ts';

const TOTAL = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
// Few frames per connection: the first bad frame closes it, and frames after it would go unparsed.
const MAX_FRAMES_PER_CONNECTION = 4;
const CONCURRENT = 16;

// xorshift32: deterministic from the seed.
let state = SEED || 1;
function rnd(): number {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state / 0x100000000;
}
const int = (n: number) => Math.floor(rnd() * n);

/** Well-formed requests for every API and version the codec knows (defaults), as mutation seeds. */
function seedCorpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const api of apis) {
    if (!api) continue;
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      try {
        const w = new Writer();
        w.int32(0);
        encodeRequestHeader(w, requestHeaderVersion(api.apiKey, v), { requestApiKey: api.apiKey, requestApiVersion: v, correlationId: v, clientId: 'fuzz' });
        api.encodeRequest(w, v, api.makeRequest());
        const b = w.finishBuffer();
        b.writeInt32BE(b.length - 4, 0);
        out.push(b);
        // ApiVersions and Metadata are served, so weight them up: their decoders see most mutations.
        if (api.apiKey === 18 || api.apiKey === 3) for (let i = 0; i < 20; i++) out.push(b);
      } catch {
        // A default value some version cannot encode: skip that seed.
      }
    }
  }
  return out;
}

function mutate(seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  const kind = int(8);
  if (kind === 0) { // bit flips in the body or header
    for (let i = int(4) + 1; i > 0; i--) { const p = 4 + int(b.length - 4); b[p] ^= 1 << int(8); }
    return b;
  }
  if (kind === 1) { // interesting values over a random int16/int32 position
    const p = 4 + int(Math.max(1, b.length - 8));
    const vals = [0x00, 0xff, 0x7f, 0x80];
    for (let i = 0; i < 4 && p + i < b.length; i++) b[p + i] = vals[int(vals.length)];
    return b;
  }
  if (kind === 2) { // truncate, keep the size prefix consistent
    const cut = b.subarray(0, 4 + int(b.length - 3));
    cut.writeInt32BE(cut.length - 4, 0);
    return cut;
  }
  if (kind === 3) { // append garbage, consistent size
    const extra = Buffer.alloc(int(64));
    for (let i = 0; i < extra.length; i++) extra[i] = int(256);
    const out = Buffer.concat([b, extra]);
    out.writeInt32BE(out.length - 4, 0);
    return out;
  }
  if (kind === 4) { // random api key / version in a valid frame
    b.writeInt16BE(int(100) - 5, 4);
    b.writeInt16BE(int(40) - 5, 6);
    return b;
  }
  if (kind === 5) { // size prefix lies (bigger or negative); the connection ends with a partial frame
    b.writeInt32BE(int(3) === 0 ? -int(1000) - 1 : b.length + int(1 << 20), 0);
    return b;
  }
  if (kind === 6) { // entirely random frame
    const len = int(200);
    const out = Buffer.alloc(4 + len);
    out.writeInt32BE(len, 0);
    for (let i = 4; i < out.length; i++) out[i] = int(256);
    return out;
  }
  return b; // unmodified
}

const stats = { connections: 0, responses: 0 };

function runConnection(port: number, frames: Buffer[]): Promise<void> {
  stats.connections++;
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const done = () => { clearTimeout(timer); s.destroy(); resolve(); };
    // The server closes on bad input or after our FIN; a lying size prefix may leave it waiting for
    // bytes, so the client gives up after a deadline (the server must not care).
    const timer = setTimeout(done, 2000);
    s.on('error', done);
    s.on('close', done);
    s.on('data', (d: Buffer) => { stats.responses += d.length > 0 ? 1 : 0; });
    s.on('connect', () => { s.end(Buffer.concat(frames)); });
  });
}

t.test(`fuzz: ${TOTAL} frames (seed ${SEED})`, async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const corpus = seedCorpus();
  t.ok(corpus.length > 500, `seed corpus of ${corpus.length} well-formed requests`);

  const healthy = await RawClient.connect(tb.port);
  t.teardown(() => healthy.close());
  let healthyRequests = 0;
  const probe = async () => {
    const res = await healthy.request(3, 12, apis[3]!.makeRequest({ topics: null }));
    if (res.brokers.length !== 1) throw new Error('healthy client got a bad answer');
    healthyRequests++;
  };

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let sent = 0;
  let rssPeak = rssBefore;
  while (sent < TOTAL) {
    const batch: Promise<void>[] = [];
    for (let c = 0; c < CONCURRENT && sent < TOTAL; c++) {
      const frames: Buffer[] = [];
      for (let i = 1 + int(MAX_FRAMES_PER_CONNECTION); i > 0 && sent < TOTAL; i--, sent++) frames.push(mutate(corpus[int(corpus.length)]));
      batch.push(runConnection(tb.port, frames));
    }
    await Promise.all(batch);
    if (stats.connections % 1024 < CONCURRENT) await probe();
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  t.equal(sent, TOTAL);
  t.ok(stats.responses > TOTAL / 20, `${stats.connections} connections, ${stats.responses} response chunks received`);
  t.ok(healthyRequests > 0, `healthy connection served ${healthyRequests} times during the run`);
  t.notOk(healthy.closed, 'healthy connection was never closed');
  const growthMb = (rssPeak - rssBefore) / 1048576;
  t.ok(growthMb < 512, `RSS growth during the run bounded (${growthMb.toFixed(1)} MiB)`);
  await probe();
  t.pass(`broker still serving after ${TOTAL} fuzzed frames`);
});
