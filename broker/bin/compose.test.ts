// The CLI as compose files and operators use it: the environment dialects of Kafka's Docker images, topics
// from configuration, log level and format from the environment, and one clear line (exit code 2) for the
// start failures that are the operator's to fix. Each case spawns the real bin on port 0 with a temp dir.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { RawClient } from '../testing/raw-client.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, 'gregor.js');
const DEADLINE_MS = 20_000;
// The test runner's own environment minus anything a compose file would set, so each case controls it.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(KAFKA_|GREGOR_|CLUSTER_ID$)/.test(k)));

interface Run { child: ChildProcess; out(): string; stderr(): string; exited: Promise<number | null> }

function run(tt: any, args: string[], env: Record<string, string> = {}, opts: { uid?: number; gid?: number } = {}): Run {
  // As another user: without the runner's hooks (tap adds NODE_OPTIONS to what it spawns; they would write its
  // process info as that user and fail).
  const [cmd, argv] = opts.uid === undefined ? [process.execPath, [bin, ...args]] : ['env', ['-u', 'NODE_OPTIONS', process.execPath, bin, ...args]];
  const child = spawn(cmd, argv, { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; err += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  tt.teardown(() => { child.kill('SIGKILL'); });
  return { child, out: () => out, stderr: () => err, exited };
}

async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${DEADLINE_MS} ms`)), DEADLINE_MS); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

/** Resolves once the broker logs that it started (rejects if it exits first). */
function started(r: Run): Promise<void> {
  return within(new Promise<void>((resolve, reject) => {
    const check = () => { if (/gregor node \d+ started/.test(r.out())) resolve(); };
    r.child.stdout!.on('data', check);
    r.child.stderr!.on('data', check);
    r.exited.then((code) => reject(new Error(`exited with ${code}:\n${r.out()}`)));
    check();
  }), 'broker start');
}

async function stop(r: Run): Promise<number | null> {
  r.child.kill('SIGTERM');
  return within(r.exited, 'clean stop');
}

/** The listeners the broker logged: name → [bound port, advertised host:port]. */
function listenersOf(out: string): Map<string, [number, string]> {
  const m = new Map<string, [number, string]>();
  for (const x of out.matchAll(/listening on (\w+):\/\/[^ ]*:(\d+), advertised as (\S+)/g)) m.set(x[1], [Number(x[2]), x[3]]);
  return m;
}

async function metadata(port: number): Promise<{ brokers: string[]; topics: Map<string, number>; clusterId: string }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(3, 12, makeMetadataRequest({ topics: null, allowAutoTopicCreation: false }));
    return {
      brokers: res.brokers.map((b: any) => `${b.host}:${b.port}`),
      topics: new Map(res.topics.map((x: any) => [x.name, x.partitions.length])),
      clusterId: res.clusterId,
    };
  } finally { c.close(); }
}

const tmpDir = (tt: any) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-compose-'));
  tt.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
};

/** Expects a failed start: exit code 2, one line saying why (the last; before it only info lines), no stack trace. */
async function failsWithOneLine(tt: any, r: Run, message: RegExp): Promise<void> {
  tt.equal(await within(r.exited, 'exit'), 2, 'exit code 2');
  const lines = r.stderr().trim().split('\n');
  const notInfo = lines.filter((l) => !/^\[[^\]]+\] INFO /.test(l));
  tt.equal(notInfo.length, 1, `one line besides info: ${r.stderr()}`);
  tt.match(lines.at(-1), message);
  tt.notMatch(r.stderr(), /\n\s+at /, 'no stack trace');
}

t.test("cp-kafka's classic two-listener file: both listeners served, each advertising its own address", async (tt) => {
  // Port 0 stands in for 29092 / 9092: the advertised port 0 becomes the bound one.
  const r = run(tt, ['--data-dir', tmpDir(tt)], {
    KAFKA_BROKER_ID: '1',
    KAFKA_ZOOKEEPER_CONNECT: 'zookeeper:2181',
    KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:0,PLAINTEXT_HOST://localhost:0',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_JMX_PORT: '9101',
  });
  await started(r);
  const ls = listenersOf(r.out());
  tt.same([...ls.keys()], ['PLAINTEXT', 'PLAINTEXT_HOST'], 'both listeners bound');
  const [internal, host] = [ls.get('PLAINTEXT')!, ls.get('PLAINTEXT_HOST')!];
  tt.same((await metadata(internal[0])).brokers, [`kafka:${internal[0]}`], 'the container network listener advertises kafka');
  tt.same((await metadata(host[0])).brokers, [`localhost:${host[0]}`], 'the host listener advertises localhost');
  tt.match(r.out(), /derived listeners=PLAINTEXT:\/\/:0,PLAINTEXT_HOST:\/\/:0 from advertised\.listeners/);
  tt.match(r.out(), /environment: ignored KAFKA_JMX_PORT \(a JVM setting\), KAFKA_ZOOKEEPER_CONNECT \(ZooKeeper/);
  tt.equal(await stop(r), 0);
});

t.test('an advertised listener that nothing serves, an unmapped listener name, an unknown KAFKA_* name: one line, exit 2', async (tt) => {
  const d = tmpDir(tt);
  await failsWithOneLine(tt, run(tt, ['--data-dir', d], { KAFKA_LISTENERS: 'PLAINTEXT://127.0.0.1:0', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092', KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT' }),
    /^\[.*\] FATAL gregor: advertised\.listeners: PLAINTEXT_HOST is not one of the listeners \(PLAINTEXT\)/);
  await failsWithOneLine(tt, run(tt, ['--data-dir', d], { KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092' }),
    /listener PLAINTEXT_HOST has no security protocol: add PLAINTEXT_HOST:PLAINTEXT to listener\.security\.protocol\.map/);
  await failsWithOneLine(tt, run(tt, ['--data-dir', d, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'], { KAFKA_AUTO_CREATE_TOPIC_ENABLE: 'false' }),
    /unknown config "auto\.create\.topic\.enable" \(from environment variable KAFKA_AUTO_CREATE_TOPIC_ENABLE\)/);
});

t.test('CLUSTER_ID sets the cluster id; a data directory of another cluster is refused', async (tt) => {
  const d = tmpDir(tt);
  const listen = ['--data-dir', d, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'];
  const r = run(tt, listen, { CLUSTER_ID: 'MkU3OEVBNTcwNTJENDM2Qk' });
  await started(r);
  tt.equal((await metadata(listenersOf(r.out()).get('PLAINTEXT')![0])).clusterId, 'MkU3OEVBNTcwNTJENDM2Qk');
  tt.equal(await stop(r), 0);
  const bitnami = run(tt, listen, { KAFKA_KRAFT_CLUSTER_ID: 'MkU3OEVBNTcwNTJENDM2Qk' });
  await started(bitnami);
  tt.equal(await stop(bitnami), 0);
  await failsWithOneLine(tt, run(tt, listen, { KAFKA_KRAFT_CLUSTER_ID: 'abcdefghijklmnopqrstuv' }),
    /cluster id abcdefghijklmnopqrstuv .* does not match MkU3OEVBNTcwNTJENDM2Qk, the cluster id of the data in /);
});

t.test("the image's --default log.dirs loses to KAFKA_LOG_DIRS and KAFKA_CFG_LOG_DIRS", async (tt) => {
  const d = tmpDir(tt);
  for (const name of ['KAFKA_LOG_DIRS', 'KAFKA_CFG_LOG_DIRS']) {
    const dir = path.join(d, name);
    const r = run(tt, ['--default', `log.dirs=${path.join(d, 'image-default')}`, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'], { [name]: dir });
    await started(r);
    tt.ok(fs.existsSync(path.join(dir, 'meta.properties')), `${name}: data in ${dir}`);
    tt.equal(await stop(r), 0);
  }
  tt.notOk(fs.existsSync(path.join(d, 'image-default')), 'the default directory was never used');
});

t.test('KAFKA_CREATE_TOPICS / GREGOR_CREATE_TOPICS: there at the first connection, left alone on restart', async (tt) => {
  const d = tmpDir(tt);
  const args = ['--data-dir', d, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'];
  const env = { KAFKA_CREATE_TOPICS: 'orders:3:1,users:1:1:compact', GREGOR_CREATE_TOPICS: 'events:2' };
  const r = run(tt, args, env);
  await started(r);
  tt.same((await metadata(listenersOf(r.out()).get('PLAINTEXT')![0])).topics, new Map([['orders', 3], ['users', 1], ['events', 2]]));
  tt.equal(await stop(r), 0);
  const again = run(tt, args, env);
  await started(again);
  tt.notMatch(again.out(), /created topic/, 'nothing created the second time');
  tt.match(again.out(), /topic orders exists/);
  tt.equal(await stop(again), 0);
  await failsWithOneLine(tt, run(tt, args, { KAFKA_CREATE_TOPICS: 'orders:3:3' }), /gregor\.create\.topics: "orders:3:3": 3 replicas asked for, but this single node holds one replica/);
});

t.test('log level and format from the environment', async (tt) => {
  const args = ['--storage', 'memory', '--override', 'listeners=PLAINTEXT://127.0.0.1:0'];
  const json = run(tt, args, { GREGOR_LOG_FORMAT: 'json' });
  await started(json);
  const lines = json.stderr().trim().split('\n').map((l) => JSON.parse(l));
  tt.ok(lines.length >= 2);
  for (const l of lines) {
    tt.same(Object.keys(l), ['level', 'time', 'pid', 'hostname', 'msg'], "pino's fields");
    tt.equal(l.pid, json.child.pid);
  }
  tt.ok(lines.some((l) => l.level === 30 && /gregor node 1 started/.test(l.msg)));
  tt.equal(await stop(json), 0);

  // warn: the start's info lines are not written (the readiness check can then only wait for the port).
  for (const env of [{ GREGOR_LOG_LEVEL: 'warn' }, { KAFKA_LOG4J_ROOT_LOGLEVEL: 'WARN' }] as Record<string, string>[]) {
    const quiet = run(tt, [...args, '--override', 'num.io.threads=16'], env);
    await within(new Promise<void>((resolve) => quiet.child.stderr!.on('data', () => { if (/num\.io\.threads=16 has no effect/.test(quiet.out())) resolve(); })), 'warn line');
    quiet.child.kill('SIGTERM');
    tt.equal(await within(quiet.exited, 'stop'), 0);
    tt.notMatch(quiet.out(), /INFO/, `${Object.keys(env)[0]}: no info lines`);
  }
  // The command line wins over the environment; bad values are refused naming where they came from.
  const verbose = run(tt, [...args, '--log-level', 'info'], { GREGOR_LOG_LEVEL: 'error' });
  await started(verbose);
  tt.equal(await stop(verbose), 0);
  tt.equal(await within(run(tt, args, { GREGOR_LOG_LEVEL: 'loud' }).exited, 'exit'), 2);
  const badFormat = run(tt, args, { GREGOR_LOG_FORMAT: 'xml' });
  tt.equal(await within(badFormat.exited, 'exit'), 2);
  tt.match(badFormat.stderr(), /GREGOR_LOG_FORMAT: unknown log format xml \(text, json\)/);
  // A failed start in JSON mode is one JSON line.
  const failed = run(tt, args, { GREGOR_LOG_FORMAT: 'json', KAFKA_NO_SUCH_THING: '1' });
  tt.equal(await within(failed.exited, 'exit'), 2);
  const last = JSON.parse(failed.stderr().trim());
  tt.equal(last.level, 60);
  tt.match(last.msg, /KAFKA_NO_SUCH_THING/);
});

t.test('operator mistakes: one clear line and exit code 2, no stack trace', async (tt) => {
  await tt.test('port in use', async (t2) => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t2.teardown(() => blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    await failsWithOneLine(t2, run(t2, ['--storage', 'memory', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`]),
      new RegExp(`FATAL gregor: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`));
  });
  await tt.test('unresolvable host', async (t2) => {
    await failsWithOneLine(t2, run(t2, ['--storage', 'memory', '--override', 'listeners=PLAINTEXT://no-such-host.invalid:0']),
      /cannot listen on no-such-host\.invalid: the host name does not resolve/);
  });
  await tt.test('a file as data directory', async (t2) => {
    const file = path.join(tmpDir(t2), 'not-a-dir');
    fs.writeFileSync(file, 'x');
    await failsWithOneLine(t2, run(t2, ['--data-dir', file, '--override', 'listeners=PLAINTEXT://127.0.0.1:0']),
      new RegExp(`data directory ${file}: ${file} is a file, not a directory`));
    await failsWithOneLine(t2, run(t2, ['--data-dir', path.join(file, 'sub'), '--override', 'listeners=PLAINTEXT://127.0.0.1:0']),
      /is a file, not a directory \(ENOTDIR/);
  });
  await tt.test('an unwritable data directory', async (t2) => {
    const parent = tmpDir(t2);
    const dir = path.join(parent, 'ro');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o555);
    fs.chmodSync(parent, 0o755);
    // root writes anywhere: run the broker as nobody then (the repository and node are world-readable).
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    await failsWithOneLine(t2, run(t2, ['--data-dir', dir, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'], { NODE_DISABLE_COMPILE_CACHE: '1' }, asUser),
      new RegExp(`data directory ${dir}: permission denied on ${dir}/meta\\.properties`));
  });
});

// ---- examples/: each file's environment, as the container would get it --------------------------------

/** The broker service (`kafka`, or `gregor` where it replaces more than Kafka) of a compose file and its `environment:` (map or list form; comments dropped). */
function kafkaEnvironment(yml: string): { service: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const lines = yml.split('\n');
  let i = lines.findIndex((l) => /^ {2}(kafka|gregor):\s*$/.test(l));
  const service = i >= 0 ? lines[i].trim().slice(0, -1) : '';
  while (i >= 0 && ++i < lines.length && !/^ {4}environment:/.test(lines[i]));
  for (i++; i < lines.length && /^ {6}/.test(lines[i]); i++) {
    const line = lines[i].replace(/\s+#.*$/, '').trim();
    const m = /^- ([A-Z0-9_]+)=(.*)$/.exec(line) ?? /^([A-Z0-9_]+):\s*(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return { service, env };
}

const examplesDir = path.join(here, '../../examples');
for (const dialect of fs.readdirSync(examplesDir).filter((d) => fs.existsSync(path.join(examplesDir, d, 'docker-compose.yml')))) {
  t.test(`examples/${dialect}: the kafka service's environment starts gregor with both client listeners`, async (tt) => {
    const { service, env } = kafkaEnvironment(fs.readFileSync(path.join(examplesDir, dialect, 'docker-compose.yml'), 'utf8'));
    tt.ok(Object.keys(env).length > 3, 'environment read');
    // Fixed ports become 0 (the bound port is then advertised); the data directory a temp dir.
    const local: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      local[k] = /^KAFKA_(CFG_)?(ADVERTISED_)?LISTENERS$/.test(k) ? v.replace(/:\d+(?=,|$)/g, ':0') : /^KAFKA_(CFG_)?LOG_DIRS$/.test(k) ? tmpDir(tt)
        : /^GREGOR_\w+_LISTENER$/.test(k) && v ? '127.0.0.1:0' : v;
    }
    const r = run(tt, [], local);
    await started(r);
    for (const [k, config] of [['GREGOR_SCHEMA_REGISTRY_LISTENER', 'gregor.schema.registry.listener'], ['GREGOR_REST_PROXY_LISTENER', 'gregor.rest.proxy.listener']]) {
      if (env[k]) await within(new Promise<void>((resolve) => { const c = () => { if (r.out().includes(`${config} listening`)) resolve(); }; r.child.stderr!.on('data', c); r.child.stdout!.on('data', c); c(); }), `${config} listening`);
    }
    const controllers = (env.KAFKA_CONTROLLER_LISTENER_NAMES ?? env.KAFKA_CFG_CONTROLLER_LISTENER_NAMES ?? '').split(',');
    const clientListeners = [...listenersOf(r.out())].filter(([name]) => !controllers.includes(name)).map(([, [port, adv]]) => [port, adv.replace(/:\d+$/, '')] as const);
    tt.same(clientListeners.map(([, h]) => h).sort(), [service, 'localhost'], `two client listeners: one advertised as ${service} (containers), one as localhost (the host)`);
    for (const [port, host] of clientListeners) tt.same((await metadata(port)).brokers, [`${host}:${port}`], `${host} listener advertises itself`);
    const topics = env.KAFKA_CREATE_TOPICS ?? env.GREGOR_CREATE_TOPICS;
    if (topics) tt.ok((await metadata(clientListeners[0][0])).topics.has('demo'), 'configured topics exist');
    tt.equal(await stop(r), 0);
  });
}
