// The image as users run it: built from the Dockerfile (or GREGOR_TEST_IMAGE from .ci/run), started by podman with
// the environment of the apache/kafka image, driven from the host by kcat and kafkajs. Health, non-root, a clean
// `stop` with clients connected, and data kept in a volume across containers. Skips, naming the reason, where
// podman or kcat is missing (.ci/run provides both).
import t from 'tap';
import { spawn } from 'node:child_process';
import { freePort, podman, removeContainer, runContainer, testImage, uniqueName, waitForPort } from './support/container.ts';
import { kafkajs, kcat, kcatAvailable, waitFor } from './support/clients.ts';

const found = await testImage();
const skip = 'skip' in found ? found.skip : (await kcatAvailable()) ? false : 'kcat is not installed (Debian package kcat)';
const image = 'image' in found ? found.image : '';

/** apache/kafka's documented single-node env: a client listener, a second (inter-broker) one and a controller one. */
function apacheKafkaEnv(client: number, broker: number, controller: number, http: number): Record<string, string> {
  return {
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `PLAINTEXT://:${client},BROKER://:${broker},CONTROLLER://:${controller}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${client},BROKER://localhost:${broker}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_CONTROLLER_QUORUM_VOTERS: `1@localhost:${controller}`,
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_NUM_PARTITIONS: '3',
    GREGOR_HTTP_LISTENER: `127.0.0.1:${http}`, // the image's :9644 would collide between containers on the host network
    GREGOR_HEALTHCHECK_PORT: String(client),
    // The image's :8081 / :8082 would collide likewise (another container, another checkout's test): off here.
    GREGOR_SCHEMA_REGISTRY_LISTENER: '',
    GREGOR_REST_PROXY_LISTENER: '',
  };
}

async function ports(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) { const p = await freePort(); if (!out.includes(p)) out.push(p); }
  return out;
}

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `k${i % 7}\t${tag}-${i}`);
const consumeAll = async (bootstrap: string, topic: string) => {
  const c = await kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %k\t%s\n']);
  if (c.code !== 0) throw new Error(`kcat -C failed: ${c.stderr}`);
  return c.stdout.split('\n').filter(Boolean);
};

t.test('apache/kafka env: kcat and kafkajs from the host on both listeners; healthy; non-root; clean stop with clients connected', { skip }, async (t) => {
  const [client, broker, controller, httpPort] = await ports(4);
  const name = await runContainer(image, uniqueName('apache'), apacheKafkaEnv(client!, broker!, controller!, httpPort!));
  t.teardown(() => removeContainer(name));
  const startedAt = Date.now();
  await waitForPort(client!);
  t.comment(`podman run → port open: ${Date.now() - startedAt} ms (includes podman's own start)`);

  for (const port of [client, broker]) {
    const md = await kcat(['-b', `127.0.0.1:${port}`, '-L', '-J']);
    t.equal(md.code, 0, `kcat -L on :${port} ${md.stderr}`);
    t.same(JSON.parse(md.stdout).brokers.map((b: { name: string }) => b.name), [port === client ? `127.0.0.1:${client}` : `localhost:${broker}`],
      `:${port} advertises its own listener`);
  }

  const p = await kcat(['-b', `127.0.0.1:${client}`, '-P', '-t', 'from-kcat', '-K', '\t', '-z', 'zstd'], lines(300, 'kcat').join('\n') + '\n');
  t.equal(p.code, 0, `kcat -P ${p.stderr}`);
  const producer = kafkajs(`127.0.0.1:${client}`).producer();
  await producer.connect();
  t.teardown(() => producer.disconnect().catch(() => {}));
  await producer.send({ topic: 'from-kcat', messages: [{ key: 'kafkajs', value: 'kafkajs-0' }] });
  const got = await consumeAll(`localhost:${broker}`, 'from-kcat');
  t.equal(got.length, 301, 'kcat on the second listener reads all 301 records (3 partitions, auto-created)');
  t.ok(got.some((l) => l.endsWith('kafkajs\tkafkajs-0')) && got.some((l) => l.endsWith('\tkcat-299')), 'both producers\' records');
  const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
  t.equal(ready.status, 200, '/readyz from the host');
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  t.match(metrics, /kafka_server_brokertopicmetrics_messagesin_total\{topic="from-kcat"\} 301/, '/metrics counts the 301 records produced to from-kcat');

  const uid = await podman(['exec', name, 'sh', '-c', 'stat -c %u /proc/1 && id -u']);
  t.same(uid.stdout.trim().split('\n'), ['1000', '1000'], 'PID 1 (gregor) and exec sessions run as uid 1000, not root');

  // No systemd timers here: run the image's HEALTHCHECK as the engine's timer would.
  await waitFor('HEALTHCHECK healthy', async () => (await podman(['healthcheck', 'run', name])).code === 0, 20_000, 200);
  const health = await podman(['inspect', '--format', '{{.State.Health.Status}}', name]);
  t.equal(health.stdout.trim(), 'healthy', 'inspect reports healthy');
  const wrongPort = await podman(['exec', '-e', 'GREGOR_HTTP_LISTENER=', '-e', 'GREGOR_HEALTHCHECK_PORT=1', name, 'node', 'broker/bin/healthcheck.js']);
  t.not(wrongPort.code, 0, `the probe fails where no broker answers: ${wrongPort.stderr.trim()}`);
  const http = await podman(['exec', '-e', `GREGOR_HTTP_LISTENER=127.0.0.1:${controller}`, name, 'node', 'broker/bin/healthcheck.js']);
  t.not(http.code, 0, `with GREGOR_HTTP_LISTENER it asks /healthz there (a Kafka port answers no HTTP): ${http.stderr.trim()}`);

  // Clients connected while stopping: the kafkajs producer and a kcat consumer waiting for records.
  const tail = spawn('kcat', ['-b', `127.0.0.1:${client}`, '-C', '-t', 'from-kcat', '-o', 'end', '-q'], { stdio: 'ignore' });
  t.teardown(() => { tail.kill('SIGKILL'); });
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  const stop = await podman(['stop', '-t', '10', name], 30_000);
  const stopMs = Date.now() - t0;
  t.equal(stop.code, 0, `podman stop ${stop.stderr}`);
  const exit = await podman(['inspect', '--format', '{{.State.ExitCode}}', name]);
  t.equal(exit.stdout.trim(), '0', 'gregor exited 0 on SIGTERM (not killed after the 10 s grace period: 137)');
  t.ok(stopMs < 10_000, `stopped within the grace period (${stopMs} ms)`);
  t.comment(`podman stop with clients connected: ${stopMs} ms`);
  const logs = await podman(['logs', name]);
  t.match(logs.stdout + logs.stderr, /SIGTERM received, shutting down[\s\S]*stopped/, 'logged a clean shutdown');
});

t.test('data in a named volume survives the container: a new container on the same volume reads it and appends after it', { skip }, async (t) => {
  const volume = uniqueName('vol');
  t.teardown(() => podman(['volume', 'rm', '-f', volume]));
  const [client, broker, controller, httpPort] = await ports(4);
  const env = apacheKafkaEnv(client!, broker!, controller!, httpPort!);
  const first = await runContainer(image, uniqueName('vol-a'), env, ['-v', `${volume}:/var/lib/gregor`]);
  t.teardown(() => removeContainer(first));
  await waitForPort(client!);
  const p = await kcat(['-b', `127.0.0.1:${client}`, '-P', '-t', 'kept', '-p', '0', '-K', '\t'], lines(100, 'v').join('\n') + '\n');
  t.equal(p.code, 0, `kcat -P ${p.stderr}`);
  t.equal((await podman(['stop', '-t', '10', first], 30_000)).code, 0, 'first container stopped');
  await removeContainer(first);

  const second = await runContainer(image, uniqueName('vol-b'), env, ['-v', `${volume}:/var/lib/gregor`]);
  t.teardown(() => removeContainer(second));
  await waitForPort(client!);
  const got = await consumeAll(`127.0.0.1:${client}`, 'kept');
  t.same(got, lines(100, 'v').map((l, i) => `0 ${i} ${l}`), 'the 100 records at offsets 0..99');
  const more = await kcat(['-b', `127.0.0.1:${client}`, '-P', '-t', 'kept', '-p', '0', '-K', '\t'], 'after\trestart\n');
  t.equal(more.code, 0, `kcat -P ${more.stderr}`);
  const again = await consumeAll(`127.0.0.1:${client}`, 'kept');
  t.equal(again.at(-1), '0 100 after\trestart', 'the next record gets offset 100');
});
