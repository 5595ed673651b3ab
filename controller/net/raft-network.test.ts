// RaftNetwork against a fake voter speaking Kafka frames (the generated codecs): requests reach it with request
// header v2 after an ApiVersions handshake, responses come back to the core under the voter's id, a peer that does
// not serve the Raft versions is refused, an unanswered request times out and closes the connection, a voter that
// is down is reached once it comes up (reconnect with backoff), and inbound requests are answered by the core.
import net from 'node:net';
import t from 'tap';
import { FrameDecoder } from '../../protocol/frame.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { ApiVersionsApi, makeApiVersionsResponse } from '../../protocol/generated/api-versions.ts';
import { VoteApi, makeVoteRequest, makeVoteResponse } from '../../protocol/generated/vote.ts';
import { RAFT_API_KEYS, RaftNetwork } from './raft-network.ts';
import { RAFT_API_VERSIONS, type RaftApi, type RaftMessage } from '../raft/types.ts';

interface Fake {
  port: number;
  connections: number;
  requests: Array<{ apiKey: number; version: number; correlationId: number; clientId: string | null }>;
  close(): Promise<void>;
}

/** A voter: answers ApiVersions (with `apis`) and, unless `silent`, Vote with a granted vote. */
async function fakeVoter(o: { apis?: Array<{ apiKey: number; minVersion: number; maxVersion: number }>; silent?: boolean; port?: number } = {}): Promise<Fake> {
  const apis = o.apis ?? [{ apiKey: 18, minVersion: 0, maxVersion: 4 }, ...(Object.keys(RAFT_API_KEYS) as RaftApi[]).map((a) => ({ apiKey: RAFT_API_KEYS[a], minVersion: 0, maxVersion: RAFT_API_VERSIONS[a] }))];
  const sockets = new Set<net.Socket>();
  const fake: Fake = { port: 0, connections: 0, requests: [], close: async () => {} };
  const server = net.createServer((s) => {
    fake.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    const dec = new FrameDecoder((frame) => {
      const r = new Reader(frame);
      const apiKey = r.int16();
      const version = r.int16();
      const correlationId = r.int32();
      const clientId = r.nullableString();
      r.uvarint(); // tagged fields (header v2)
      fake.requests.push({ apiKey, version, correlationId, clientId });
      const w = new Writer(64);
      w.int32(correlationId);
      if (apiKey === 18) {
        ApiVersionsApi.encodeResponse(w, version, makeApiVersionsResponse({ apiKeys: apis }));
      } else if (apiKey === 52 && !o.silent) {
        VoteApi.decodeRequest(r, version);
        w.uvarint(0);
        VoteApi.encodeResponse(w, version, makeVoteResponse({ errorCode: 0 }));
      } else {
        return;
      }
      const body = w.finishBuffer();
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      s.write(Buffer.concat([size, body]));
    });
    s.on('data', (d) => dec.push(d));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', r));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.close = () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); });
  return fake;
}

function logs() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) } };
}

async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const vote = (correlationId: number): RaftMessage => ({ kind: 'request', api: 'Vote', correlationId, body: makeVoteRequest({ clusterId: 'c', voterId: 2, topics: [] }) });

t.test('a request reaches the voter after ApiVersions; its response goes to the core under the voter id', async (t) => {
  const peer = await fakeVoter();
  t.teardown(() => peer.close());
  const { log } = logs();
  const netw = new RaftNetwork({ nodeId: 1, voters: [{ id: 1, host: '127.0.0.1', port: 1 }, { id: 2, host: '127.0.0.1', port: peer.port }], log });
  t.teardown(() => netw.close());
  const got: Array<{ from: number; msg: RaftMessage }> = [];
  netw.attach({ handle: (from, msg) => got.push({ from, msg }) });
  netw.send(2, vote(7));
  await waitFor('the response', () => got.length === 1);
  t.same(peer.requests.map((r) => [r.apiKey, r.version]), [[18, 3], [52, RAFT_API_VERSIONS.Vote]], 'ApiVersions v3 first, then Vote at the core\'s version');
  t.equal(peer.requests[1]!.correlationId, 7, 'the core\'s correlation id on the wire');
  t.equal(got[0]!.from, 2);
  t.match(got[0]!.msg, { kind: 'response', api: 'Vote', correlationId: 7, body: { errorCode: 0 } });
  t.ok(netw.connected(2));
});

t.test('a peer that does not serve the Raft versions is refused (no request sent)', async (t) => {
  const peer = await fakeVoter({ apis: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }, { apiKey: 3, minVersion: 0, maxVersion: 13 }] });
  t.teardown(() => peer.close());
  const { lines, log } = logs();
  const netw = new RaftNetwork({ nodeId: 1, voters: [{ id: 2, host: '127.0.0.1', port: peer.port }], log });
  t.teardown(() => netw.close());
  netw.attach({ handle: () => t.fail('nothing is delivered') });
  netw.send(2, vote(1));
  await waitFor('the refusal', () => lines.some((l) => /does not serve Vote v2/.test(l)));
  t.same(peer.requests.map((r) => r.apiKey), [18], 'only ApiVersions was sent');
  t.notOk(netw.connected(2));
});

t.test('an unanswered request times out and closes the connection; the next request reconnects', async (t) => {
  const peer = await fakeVoter({ silent: true });
  t.teardown(() => peer.close());
  const { lines, log } = logs();
  const netw = new RaftNetwork({ nodeId: 1, voters: [{ id: 2, host: '127.0.0.1', port: peer.port }], log, requestTimeoutMs: 150, reconnectBackoffMs: 10 });
  t.teardown(() => netw.close());
  netw.attach({ handle: () => {} });
  netw.send(2, vote(1));
  await waitFor('the timeout', () => lines.some((l) => /Vote request to voter 2 timed out after 150 ms: disconnecting/.test(l)));
  t.notOk(netw.connected(2));
  netw.send(2, vote(2));
  await waitFor('a second connection with the request', () => peer.connections === 2 && peer.requests.some((r) => r.correlationId === 2));
  t.pass('reconnected and sent');
});

t.test('a voter that is down is reached once it is up (reconnect with backoff)', async (t) => {
  const probe = await fakeVoter();
  const port = probe.port;
  await probe.close(); // the port is free: nothing listens there yet
  const { lines, log } = logs();
  const netw = new RaftNetwork({ nodeId: 1, voters: [{ id: 2, host: '127.0.0.1', port }], log, reconnectBackoffMs: 20, reconnectBackoffMaxMs: 100 });
  t.teardown(() => netw.close());
  const got: RaftMessage[] = [];
  netw.attach({ handle: (_f, m) => got.push(m) });
  netw.send(2, vote(1));
  await waitFor('the connection error', () => lines.some((l) => /voter 2 at 127\.0\.0\.1:\d+: .*retrying/.test(l)));
  const peer = await fakeVoter({ port });
  t.teardown(() => peer.close());
  // The core re-sends what it still needs (election and fetch timers); here: one more Vote.
  await waitFor('a delivered response', () => { netw.send(2, vote(got.length + 10)); return got.length > 0; }, 5000);
  t.ok(lines.some((l) => /connected to voter 2/.test(l)), 'the recovery is logged');
});

t.test('inbound requests are handed to the core and answered with its response', async (t) => {
  const { log } = logs();
  const netw = new RaftNetwork({ nodeId: 1, voters: [{ id: 1, host: '127.0.0.1', port: 1 }], log });
  t.teardown(() => netw.close());
  const froms: number[] = [];
  netw.attach({
    handle: (from, msg) => {
      froms.push(from);
      // The core answers later (e.g. a parked Fetch), through send(from, response).
      setTimeout(() => netw.send(from, { kind: 'response', api: msg.api, correlationId: msg.correlationId, body: makeVoteResponse({ errorCode: 94 }) } as RaftMessage), 5);
    },
  });
  const [a, b] = await Promise.all([netw.serve('Vote', makeVoteRequest()), netw.serve('Vote', makeVoteRequest())]);
  t.match(a, { kind: 'response', api: 'Vote', body: { errorCode: 94 } });
  t.match(b, { kind: 'response', api: 'Vote' });
  t.equal(new Set(froms).size, 2, 'each inbound request has its own source id');
  t.ok(froms.every((f) => f < 0), 'never a voter id');
});
