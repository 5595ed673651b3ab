// A 3-voter combined cluster of gregor processes (scripts/cluster.ts) with kafkajs: a leader is elected, a topic
// created through the active controller appears on every node, the active controller is SIGKILLed, a new leader is
// elected and creation keeps working, and the killed node, restarted, catches up (its Metadata lists the topics).
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ensureKafkaTools } from '../scripts/kafka-ref.ts';
import { startCluster, type Cluster } from '../scripts/cluster.ts';
import kafkajsPkg from 'kafkajs';
import { Rdkafka, waitFor } from './support/clients.ts';

const { Kafka, logLevel } = kafkajsPkg; // CommonJS: no static named exports
const kafkajs = (bootstrap: string, clientId: string) => new Kafka({ clientId, brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
const adminOf = (bootstrap: string) => kafkajs(bootstrap, 'compat-cluster').admin({ retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });

/** The active controller as one node's DescribeCluster (kafkajs describeCluster) reports it. */
async function controllerSeenBy(port: number): Promise<number> {
  const admin = kafkajs(`127.0.0.1:${port}`, 'compat-cluster-probe').admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const d = await admin.describeCluster();
    // Only a controller the node also lists among its brokers can be reached by clients.
    return d.controller !== null && d.brokers.some((b) => b.nodeId === d.controller) ? d.controller : -1;
  } catch {
    return -1;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function topicsOn(port: number): Promise<string[]> {
  const admin = kafkajs(`127.0.0.1:${port}`, 'compat-cluster-probe').admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return await admin.listTopics();
  } catch {
    return [];
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Waits until every running node reports the same active controller; returns it. */
async function agreedController(cluster: Cluster, except?: number): Promise<number> {
  return (await waitFor('an active controller every node agrees on', async () => {
    const ids = await Promise.all(cluster.nodes.filter((n) => n.id !== except).map((n) => controllerSeenBy(n.port)));
    return ids.every((id) => id > 0 && id === ids[0] && id !== except) ? ids[0] : undefined;
  }, 30_000, 200))!;
}

t.test('3-node combined quorum: election, topics on every node, failover, catch-up', async (t) => {
  const cluster = await startCluster({ nodes: 3, timeoutMs: 60_000 });
  t.teardown(() => cluster.close());
  const first = await agreedController(cluster);
  t.ok([1, 2, 3].includes(first), `node ${first} is the active controller`);

  // Created through any bootstrap node: kafkajs sends CreateTopics to the controller Metadata names.
  const admin = adminOf(cluster.bootstrap);
  await admin.connect();
  t.equal(await admin.createTopics({ topics: [{ topic: 'before-failover', numPartitions: 2, replicationFactor: 1 }], waitForLeaders: false }), true, 'CreateTopics through the cluster');
  await admin.disconnect();
  for (const n of cluster.nodes) {
    await waitFor(`node ${n.id} lists before-failover`, async () => (await topicsOn(n.port)).includes('before-failover'), 20_000, 200);
  }
  t.pass('the topic is in every node\'s Metadata');

  // Kafka's own tool against a controller that is not the leader (DescribeCluster for controllers, then DescribeQuorum).
  const javaBin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
  const hasJava = spawnSync(javaBin, ['-version']).status === 0;
  await t.test('kafka-metadata-quorum.sh --bootstrap-controller', { skip: hasJava ? false : 'no java on this machine' }, async (t) => {
    const tools = await ensureKafkaTools();
    const other = cluster.nodes.find((n) => n.id !== first)!;
    const run = (...args: string[]) => spawnSync(javaBin, ['-Xmx256m', '-Dlog4j2.level=warn', '-cp', `${tools.libs}/*`, 'org.apache.kafka.tools.MetadataQuorumCommand', '--bootstrap-controller', `127.0.0.1:${other.controllerPort}`, 'describe', ...args], { encoding: 'utf8', timeout: 120_000 });
    const status = run('--status');
    t.equal(status.status, 0, status.stderr);
    t.match(status.stdout, new RegExp(`LeaderId:\\s+${first}\\n`));
    t.match(status.stdout, `ClusterId:              ${cluster.clusterId}`);
    for (const n of cluster.nodes) t.match(status.stdout, `{"id": ${n.id}, "endpoints": ["CONTROLLER://127.0.0.1:${n.controllerPort}"]}`);
    const repl = run('--replication');
    t.equal(repl.status, 0, repl.stderr);
    const rows = repl.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    t.same(rows.map((r) => [Number(r[0]), r.at(-1)]).sort(), cluster.nodes.map((n) => [n.id, n.id === first ? 'Leader' : 'Follower']).sort());
    t.ok(rows.every((r) => r[3] === '0'), 'no follower lags');
  });

  // SIGKILL the active controller: the other two elect a new one and creation keeps working.
  await cluster.stop(first, 'SIGKILL');
  const second = await agreedController(cluster, first);
  t.not(second, first, `node ${second} took over`);
  const survivors = cluster.nodes.filter((n) => n.id !== first).map((n) => `127.0.0.1:${n.port}`).join(',');
  const admin2 = adminOf(survivors);
  await admin2.connect();
  t.equal(await admin2.createTopics({ topics: [{ topic: 'after-failover', numPartitions: 1, replicationFactor: 1 }], waitForLeaders: false }), true, 'CreateTopics after the failover');
  await admin2.disconnect();
  // librdkafka's admin client finds the new controller the same way (Metadata's controller id).
  const rd = Rdkafka.AdminClient.create({ 'metadata.broker.list': survivors, 'client.id': 'compat-cluster-rdkafka' });
  const rdErr = await new Promise((resolve) => rd.createTopic({ topic: 'after-failover-rd', num_partitions: 1, replication_factor: 1 }, 20_000, resolve));
  rd.disconnect();
  t.equal(rdErr ?? null, null, 'node-rdkafka CreateTopics after the failover');
  for (const n of cluster.nodes.filter((x) => x.id !== first)) {
    await waitFor(`node ${n.id} lists after-failover-rd`, async () => (await topicsOn(n.port)).includes('after-failover-rd'), 20_000, 200);
    await waitFor(`node ${n.id} lists after-failover`, async () => (await topicsOn(n.port)).includes('after-failover'), 20_000, 200);
  }

  // The killed node restarts from its data directory and catches up from the new leader.
  await cluster.start(first);
  const back = cluster.nodes.find((n) => n.id === first)!;
  const topics = await waitFor(`restarted node ${first} lists both topics`, async () => {
    const l = await topicsOn(back.port);
    return l.includes('before-failover') && l.includes('after-failover') ? l : undefined;
  }, 30_000, 200);
  t.ok(topics!.includes('after-failover'), 'the restarted node has the topic created while it was down');
  t.equal(await controllerSeenBy(back.port), second, 'and follows the new active controller');
});
