// Three in-process nodes as one combined quorum over TCP (controller listeners on 127.0.0.1): what the controller
// listener serves, NOT_CONTROLLER on a node that is not the active controller, DescribeQuorum from the leader and
// from a follower, Metadata naming the active controller and the partition leaders from the image, and a single
// node's start without these settings loading none of the network modules.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildBrokerConfig } from './config.ts';
import { memoryLogger } from './log.ts';
import { type Broker, startBroker } from './server.ts';
import { RawClient } from './testing/raw-client.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => r(s)); })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Node { broker: Broker; port: number; controllerPort: number }

async function startQuorum(t: { teardown(fn: () => unknown): void }, extra: Array<[string, string]> = []): Promise<Node[]> {
  const ports = await freePorts(6);
  const ids = [1, 2, 3];
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${ports[3 + i]}`).join(',');
  const brokers = await Promise.all(ids.map((id, i) => startBroker({
    storage: 'memory', logger: memoryLogger(),
    config: buildBrokerConfig({ overrides: new Map([
      ['node.id', String(id)], ['process.roles', 'broker,controller'], ['controller.quorum.voters', voters],
      ['controller.listener.names', 'CONTROLLER'], ['cluster.id', 'AAAAAAAAAAAAAAAAAAAAAA'],
      ['listeners', `PLAINTEXT://127.0.0.1:${ports[i]},CONTROLLER://127.0.0.1:${ports[3 + i]}`],
      ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'], ...extra,
    ]) }),
  })));
  t.teardown(() => Promise.all(brokers.map((b) => b.close())));
  return brokers.map((broker, i) => ({ broker, port: ports[i]!, controllerPort: ports[3 + i]! }));
}

t.test('three nodes over TCP', async (t) => {
  const nodes = await startQuorum(t);
  const leaderId = await waitFor('one leader all agree on', () => {
    const ls = nodes.map((n) => n.broker.context.controller.leaderAndEpoch().leaderId);
    return ls[0]! > 0 && ls.every((l) => l === ls[0]) ? ls[0] : undefined;
  });
  const leader = nodes.find((n) => n.broker.nodeId === leaderId)!;
  const follower = nodes.find((n) => n.broker.nodeId !== leaderId)!;
  t.equal(follower.broker.listeners[0]!.name, 'PLAINTEXT', 'client listeners come first in broker.listeners');

  await t.test('the controller listener serves only the controller APIs', async (t) => {
    const c = await RawClient.connect(follower.controllerPort);
    t.teardown(() => c.close());
    const av = await c.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1', clusterId: null, nodeId: -1 });
    t.same(av.apiKeys.map((k: { apiKey: number; minVersion: number; maxVersion: number }) => [k.apiKey, k.minVersion, k.maxVersion]).sort((a: number[], b: number[]) => a[0]! - b[0]!),
      [[1, 17, 17], [18, 0, 5], [52, 2, 2], [53, 1, 1], [54, 1, 1], [55, 0, 2], [59, 1, 1], [60, 1, 2], [62, 0, 4], [63, 0, 2]]);
    c.sendRaw(c.encodeRequest(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
    await c.waitClosed();
    t.pass('Metadata on the controller listener closes the connection (an API it does not serve)');
  });

  await t.test('DescribeQuorum: the leader describes the voters, a follower answers NOT_LEADER_OR_FOLLOWER', async (t) => {
    const req = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };
    const c = await RawClient.connect(leader.controllerPort);
    t.teardown(() => c.close());
    const res = await c.request(55, 2, req);
    const p = res.topics[0].partitions[0];
    t.equal(p.errorCode, ErrorCode.NONE);
    t.equal(p.leaderId, leaderId);
    t.same(p.currentVoters.map((v: { replicaId: number }) => v.replicaId), [1, 2, 3]);
    t.ok(p.highWatermark > 0n, 'a high watermark');
    t.same(res.nodes.map((n: { nodeId: number; listeners: Array<{ port: number }> }) => [n.nodeId, n.listeners[0]!.port]), nodes.map((n) => [n.broker.nodeId, n.controllerPort]));
    const f = await RawClient.connect(follower.controllerPort);
    t.teardown(() => f.close());
    const fr = await f.request(55, 2, req);
    t.equal(fr.topics[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    t.equal(fr.topics[0].partitions[0].leaderId, leaderId, 'names the leader');
    const other = await f.request(55, 2, { topics: [{ topicName: 'x', partitions: [{ partitionIndex: 0 }] }] });
    t.equal(other.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  await t.test('CreateTopics: NOT_CONTROLLER on a follower, created on the leader and seen by every node', async (t) => {
    const body = (name: string) => ({ topics: [{ name, numPartitions: 2, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    const f = await RawClient.connect(follower.port);
    t.teardown(() => f.close());
    const refused = await f.request(19, 7, body('t-follower'));
    t.equal(refused.topics[0].errorCode, ErrorCode.NOT_CONTROLLER);
    t.notOk(follower.broker.context.storage.getTopic('t-follower'), 'no log was created');
    // The follower names the controller once the controller's registration is in its image (-1 before).
    await waitFor('the leader\'s registration on the follower', () => follower.broker.context.controller.image.brokers.has(leaderId));
    const md = await f.request(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    t.equal(md.controllerId, leaderId, 'Metadata names the active controller');
    t.ok(md.brokers.some((b: { nodeId: number; port: number }) => b.nodeId === leaderId && b.port === leader.port), 'and lists it with its client address');
    // Every node's broker registered with the active controller over the network (followers through its
    // controller listener) and was unfenced: each node's image and Metadata list all three.
    for (const n of nodes) {
      const live = () => [...n.broker.context.controller.image.brokers.values()].filter((b) => !b.fenced).map((b) => b.id).sort().join(',');
      await waitFor(`node ${n.broker.nodeId}: every broker registered and unfenced`, () => live() === '1,2,3');
      t.equal(live(), '1,2,3', `node ${n.broker.nodeId}: every broker registered and unfenced`);
    }
    const mdAll = await f.request(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    t.same(mdAll.brokers.map((b: { nodeId: number }) => b.nodeId).sort(), [1, 2, 3], 'Metadata on a follower lists every broker');

    const l = await RawClient.connect(leader.port);
    t.teardown(() => l.close());
    const created = await l.request(19, 7, body('t1'));
    t.equal(created.topics[0].errorCode, ErrorCode.NONE);
    for (const n of nodes) {
      await waitFor(`node ${n.broker.nodeId} has t1`, () => n.broker.context.topics.get('t1') !== undefined);
    }
    const md2 = await f.request(3, 12, { topics: [{ name: 't1', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    t.same(md2.topics[0].partitions.map((p: { leaderId: number }) => p.leaderId), [leaderId, leaderId], 'partition leaders from the image');
  });
});

t.test('a single node without quorum settings loads none of the network modules', async (t) => {
  // A child process, so that modules loaded by the test above do not count; a module hook records every load.
  const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(`
    import { registerHooks } from 'node:module';
    globalThis.__loaded = [];
    registerHooks({ load(url, ctx, next) { globalThis.__loaded.push(url); return next(url, ctx); } });
  `), '--input-type=module', '-e', `
    const { startBroker, buildBrokerConfig } = await import('./broker/index.ts');
    const b = await startBroker({ storage: 'memory', logger: { debug() {}, info() {}, warn() {}, error() {} }, config: buildBrokerConfig({ overrides: new Map([['listeners', 'PLAINTEXT://127.0.0.1:0']]) }) });
    await b.close();
    console.log(JSON.stringify(globalThis.__loaded.filter((u) => u.startsWith('file:'))));
  `], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const loaded: string[] = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  t.ok(loaded.some((u) => u.endsWith('/broker/server.ts')), 'the hook sees the broker\'s modules');
  for (const m of ['/controller/net/raft-network.ts', '/broker/raft-net.ts', '/controller/raft/messages.ts', '/protocol/generated/vote.ts', '/protocol/generated/describe-quorum.ts']) {
    t.notOk(loaded.some((u) => u.endsWith(m)), `${m} is not loaded`);
  }
  // Issue #15 item 6: what a fresh single node does not need before its first request stays off the start path.
  t.same(loaded.filter((u) => u.includes('/protocol/generated/coordinator/')), [], 'no __consumer_offsets/__transaction_state codec is loaded');
  for (const m of ['/broker/groups/record-codecs.ts', '/broker/transactions/record-codecs.ts', '/storage/cleaner-filter.ts', '/storage/cleaner-txn.ts']) {
    t.notOk(loaded.some((u) => u.endsWith(m)), `${m} is not loaded`);
  }
});

t.test('controller.quorum.* timers reach the Raft core and the network', async (t) => {
  const b = await startBroker({
    storage: 'memory', logger: memoryLogger(),
    config: buildBrokerConfig({ overrides: new Map([
      ['listeners', 'PLAINTEXT://127.0.0.1:0'], ['controller.quorum.election.timeout.ms', '1500'], ['controller.quorum.fetch.timeout.ms', '3000'],
      ['controller.quorum.election.backoff.max.ms', '700'], ['controller.quorum.retry.backoff.ms', '40'], ['controller.quorum.request.timeout.ms', '2500'],
    ]) }),
  });
  t.teardown(() => b.close());
  t.match(b.context.controller.raft.config, { electionTimeoutMs: 1500, fetchTimeoutMs: 3000, electionBackoffMaxMs: 700, retryBackoffMs: 40, requestTimeoutMs: 2500 });
});

t.test('a leader that shuts down resigns: the others elect without waiting for their fetch timeout', async (t) => {
  // With a 60 s fetch timeout the followers would wait a minute for a leader that just vanished.
  const nodes = await startQuorum(t, [['controller.quorum.fetch.timeout.ms', '60000']]);
  const leaderOf = (ns: Node[]) => {
    const ls = ns.map((n) => n.broker.context.controller.leaderAndEpoch().leaderId);
    return ls[0]! > 0 && ls.every((l) => l === ls[0]) ? ls[0] : undefined;
  };
  const first = await waitFor('a leader', () => leaderOf(nodes));
  await nodes.find((n) => n.broker.nodeId === first)!.broker.close();
  const rest = nodes.filter((n) => n.broker.nodeId !== first);
  const second = await waitFor('a new leader among the other two', () => { const l = leaderOf(rest); return l !== undefined && l !== first ? l : undefined; }, 20_000);
  t.not(second, first);
});
