// The image under Testcontainers for Node as users write it instead of @testcontainers/kafka: a GenericContainer
// with Kafka's two-listener env (PLAINTEXT for the host on a published port, BROKER for containers on the
// network), waiting for the start log line, then kafkajs from the host. Talks to the Docker API: podman's socket
// here (DOCKER_HOST=unix:///run/podman.sock, from `../shared/container/setup.sh --docker-socket`).
import t from 'tap';
import fs from 'node:fs';
import { freePort, testImage } from './support/container.ts';
import { kafkajs } from './support/clients.ts';

if (!process.env.DOCKER_HOST && fs.existsSync('/run/podman.sock')) process.env.DOCKER_HOST = 'unix:///run/podman.sock';
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // the reaper's image cannot be pulled offline; teardown removes ours

// A computed specifier: the type check passes on installs made before the devDependency was added.
const specifier = 'testcontainers';
const tc: any = await import(specifier).catch(() => undefined);
const found = tc ? await testImage() : { skip: 'the testcontainers devDependency is not installed (npm install)' };
const skip = 'skip' in found ? found.skip
  : !process.env.DOCKER_HOST && !fs.existsSync('/var/run/docker.sock') ? 'no Docker API socket (run ../shared/container/setup.sh --docker-socket)'
  : false;

t.test('GenericContainer with the two-listener env: kafkajs produces and consumes through the published port', { skip }, async (t) => {
  const { GenericContainer, Wait } = tc!;
  const hostPort = await freePort();
  const container = await new GenericContainer((found as { image: string }).image)
    .withExposedPorts({ container: 9092, host: hostPort })
    .withEnvironment({
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,BROKER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:${hostPort},BROKER://gregor:9093`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      // The image's :9644, :8081 and :8082 would collide with another container on the host network.
      GREGOR_HTTP_LISTENER: '', GREGOR_SCHEMA_REGISTRY_LISTENER: '', GREGOR_REST_PROXY_LISTENER: '',
    })
    .withNetworkAliases('gregor')
    .withWaitStrategy(Wait.forLogMessage(/gregor node \d+ started/))
    .withStartupTimeout(30_000)
    .start();
  t.teardown(() => container.stop({ timeout: 10 }));

  const kafka = kafkajs(`localhost:${hostPort}`);
  const producer = kafka.producer();
  await producer.connect();
  const [meta] = await producer.send({ topic: 'tc', messages: [{ key: 'a', value: 'from testcontainers' }] });
  await producer.disconnect();
  t.equal(meta?.errorCode, 0, 'produced');
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets('tc');
  await admin.disconnect();
  t.same(offsets.map((o) => o.high), ['1'], 'the record is there (high watermark 1)');

  // The image's HEALTHCHECK command, run through the API (Wait.forHealthCheck needs the engine's health timer,
  // which podman without systemd does not run).
  const probe = await container.exec(['node', 'broker/bin/healthcheck.js']);
  t.equal(probe.exitCode, 0, `healthcheck passes inside the container ${probe.output}`);
});
