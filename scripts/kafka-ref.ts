#!/usr/bin/env node
// Reference Apache Kafka broker for compatibility tests, fixture capture and benchmarks.
//
// Everything is fetched by `mvn` as the machine has it configured (its settings.xml repositories and mirrors;
// no repository address is written here): the jars with a throwaway pom.xml + `mvn dependency:copy-dependencies`
// into a cache folder outside git (<repo>/.cache/kafka/<version>/libs, or $GREGOR_CACHE_DIR/kafka/<version>/libs),
// the list of published versions from the maven-metadata.xml that `mvn dependency:get` keeps in the local repository.
// Nothing downloaded here is ever committed.
//
// CLI:
//   node scripts/kafka-ref.ts fetch [--version 4.4.0]
//   node scripts/kafka-ref.ts start [--port 19092] [--controller-port 0] [--data-dir DIR] [--version V]
//                                   [--advertised-listeners PLAINTEXT://127.0.0.1:PORT] [--set key=value ...]
//   node scripts/kafka-ref.ts latest        (prints the newest published 4.x version)

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Used when the Maven repository cannot be reached and nothing else is cached. */
export const FALLBACK_KAFKA_VERSION = '4.4.0';
/** Kafka 4.x logs through slf4j 1.7 -> log4j2 (the distribution ships log4j-slf4j-impl + log4j-core). */
const LOG4J2_VERSION = '2.25.3';
const DEPENDENCY_PLUGIN_VERSION = '3.8.1';
const STORAGE_TOOL_MAIN = 'kafka.tools.StorageTool';
const KAFKA_MAIN = 'kafka.Kafka';

export function cacheRoot(): string {
  return process.env.GREGOR_CACHE_DIR ? path.resolve(process.env.GREGOR_CACHE_DIR) : path.join(REPO_ROOT, '.cache');
}

export function kafkaHome(version: string): string {
  return path.join(cacheRoot(), 'kafka', version);
}

function log(msg: string): void {
  process.stderr.write(`[kafka-ref] ${msg}\n`);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Runs mvn (batch mode, the dependency plugin pinned, local repository in the cache) in `cwd`. */
function mvn(args: string[], cwd: string, timeoutMs = 15 * 60_000): void {
  fs.mkdirSync(cwd, { recursive: true });
  const r = spawnSync('mvn', ['-q', '-B', '-Dstyle.color=never', `-Dmaven.repo.local=${localRepo()}`, ...args], {
    // mvn's stdout goes to our stderr: stdout carries only results (`latest`, `fetch`'s JSON).
    cwd, stdio: ['ignore', 2, 2], timeout: timeoutMs,
  });
  if (r.error) throw new Error(`mvn failed to run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`mvn ${args.find((a) => a.includes(':')) ?? ''} exited with ${r.status ?? r.signal}`);
}

function localRepo(): string {
  return path.join(cacheRoot(), 'm2');
}

const dependencyPlugin = (goal: string) => `org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:${goal}`;

/**
 * Every published release version of `groupId:artifactId`, from the configured repositories: resolving RELEASE
 * makes mvn refresh (daily, Maven's default update policy) the artifact's maven-metadata.xml, which it keeps in the
 * local repository as maven-metadata-<repository or mirror id>.xml.
 */
export function mavenVersions(groupId: string, artifactId: string): string[] {
  mvn([dependencyPlugin('get'), `-Dartifact=${groupId}:${artifactId}:RELEASE:pom`, '-Dtransitive=false'],
    path.join(cacheRoot(), 'mvn-work'), 120_000);
  const dir = path.join(localRepo(), ...groupId.split('.'), artifactId);
  const versions = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((n) => /^maven-metadata.*\.xml$/.test(n))) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/<version>([^<]+)<\/version>/g)) versions.add(m[1]!.trim());
  }
  return [...versions];
}

/** Copies one artifact (`group:artifact:version[:type]`, checksums enforced) into `outDir`; returns its path. */
export function mavenCopyArtifact(coords: string, outDir: string): string {
  const [, artifactId, version, type = 'jar'] = coords.split(':');
  mvn(['-C', dependencyPlugin('copy'), `-Dartifact=${coords}`, `-DoutputDirectory=${outDir}`], path.join(cacheRoot(), 'mvn-work'));
  const file = path.join(outDir, `${artifactId}-${version}.${type}`);
  if (!fs.existsSync(file)) throw new Error(`${file} missing after mvn dependency:copy`);
  return file;
}

/** Newest `major`.x release of `artifactId` (release versions only, no RCs), not newer than `atMost`. */
export function newestVersion(artifactId: string, major = 4, atMost?: string): string | undefined {
  return mavenVersions('org.apache.kafka', artifactId)
    .filter((v) => new RegExp(`^${major}\\.\\d+\\.\\d+$`).test(v) && (!atMost || compareVersions(v, atMost) <= 0))
    .sort(compareVersions)
    .at(-1);
}

/** Newest 4.x release of kafka_2.13 in the configured Maven repositories. */
export async function resolveLatestVersion(major = 4): Promise<string> {
  const latest = newestVersion('kafka_2.13', major);
  if (!latest) throw new Error(`no ${major}.x version of org.apache.kafka:kafka_2.13 published`);
  return latest;
}

/** Resolves `version` (explicit > newest cached-or-remote 4.x). Falls back to a cached version when offline. */
export async function resolveVersion(version?: string): Promise<string> {
  if (version) return version;
  try {
    return await resolveLatestVersion(4);
  } catch (err) {
    const dir = path.join(cacheRoot(), 'kafka');
    const cached = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((v) => /^4\.\d+\.\d+$/.test(v) && isFetched(v)).sort(compareVersions)
      : [];
    const pick = cached.at(-1) ?? FALLBACK_KAFKA_VERSION;
    log(`could not resolve newest version (${(err as Error).message}); using ${pick}`);
    return pick;
  }
}

function isFetched(version: string): boolean {
  return fs.existsSync(path.join(kafkaHome(version), 'libs', '.complete'));
}

function pomXml(version: string, artifactId = 'kafka_2.13', extra = true): string {
  const dep = (g: string, a: string, v: string) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by gregor scripts/kafka-ref.ts: only used to download the reference Kafka broker's jars. -->
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.gregor</groupId>
  <artifactId>kafka-ref-jars-${artifactId}</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('org.apache.kafka', artifactId, version)}
${!extra ? '' : [
    dep('org.apache.logging.log4j', 'log4j-api', LOG4J2_VERSION),
    dep('org.apache.logging.log4j', 'log4j-core', LOG4J2_VERSION),
    dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J2_VERSION),
    dep('org.apache.logging.log4j', 'log4j-1.2-api', LOG4J2_VERSION),
  ].join('\n')}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

export interface FetchResult {
  version: string;
  home: string;
  libs: string;
  downloaded: boolean;
  seconds: number;
  bytes: number;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const f of fs.readdirSync(dir)) {
    const st = fs.statSync(path.join(dir, f));
    if (st.isFile()) total += st.size;
  }
  return total;
}

/** Runs `mvn dependency:copy-dependencies` for a throwaway pom into `outDir` (atomically: tmp dir + rename). */
function mavenCopy(workDir: string, pom: string, outDir: string, mustHave: string): { seconds: number; bytes: number; jars: number } {
  fs.mkdirSync(workDir, { recursive: true });
  const pomFile = path.join(workDir, 'pom.xml');
  fs.writeFileSync(pomFile, pom);
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const t0 = performance.now();
  mvn(['-f', pomFile, dependencyPlugin('copy-dependencies'), `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'], workDir);
  const jars = fs.readdirSync(tmp).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(mustHave))) throw new Error(`${mustHave}*.jar missing after download`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(tmp, outDir);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = dirBytes(outDir);
  fs.writeFileSync(
    path.join(outDir, '.complete'),
    JSON.stringify({ jars: jars.length, bytes, seconds: Math.round(seconds * 10) / 10, at: new Date().toISOString() }) + '\n',
  );
  return { seconds, bytes, jars: jars.length };
}

/** Downloads the broker jars (+ runtime deps, + log4j2 binding) unless already cached. */
export async function ensureKafka(versionArg?: string): Promise<FetchResult> {
  const version = await resolveVersion(versionArg);
  const home = kafkaHome(version);
  const libs = path.join(home, 'libs');
  if (isFetched(version)) {
    return { version, home, libs, downloaded: false, seconds: 0, bytes: dirBytes(libs) };
  }
  log(`downloading Apache Kafka ${version} broker jars into ${libs} (mvn) ...`);
  const r = mavenCopy(home, pomXml(version), libs, `kafka_2.13-${version}`);
  log(`fetched ${r.jars} jars, ${(r.bytes / 1048576).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s`);
  return { version, home, libs, downloaded: true, seconds: r.seconds, bytes: r.bytes };
}

export interface ToolsResult {
  /** Version of kafka-tools actually used (may be older than the broker if not published for it). */
  toolsVersion: string;
  /** Classpath dir for the tools; use it ALONE (`<dir>/*`), it carries its own kafka-clients. */
  libs: string;
  downloaded: boolean;
  seconds: number;
  bytes: number;
}

/**
 * kafka-tools (ProducerPerformance, ConsumerPerformance, ...) for the perf-test tools, in a separate classpath dir
 * `<cache>/kafka/<version>/tools-libs`. Some Kafka releases have no kafka-tools artifact published; then the newest
 * published 4.x kafka-tools not newer than `version` is used.
 */
export async function ensureKafkaTools(versionArg?: string): Promise<ToolsResult> {
  const version = await resolveVersion(versionArg);
  const home = kafkaHome(version);
  const libs = path.join(home, 'tools-libs');
  const marker = path.join(home, 'tools-version');
  if (fs.existsSync(path.join(libs, '.complete')) && fs.existsSync(marker)) {
    return { toolsVersion: fs.readFileSync(marker, 'utf8').trim(), libs, downloaded: false, seconds: 0, bytes: dirBytes(libs) };
  }
  const toolsVersion = newestVersion('kafka-tools', 4, version);
  if (!toolsVersion) throw new Error(`no kafka-tools 4.x <= ${version} published`);
  if (toolsVersion !== version) log(`kafka-tools ${version} is not published; using kafka-tools ${toolsVersion}`);
  log(`downloading kafka-tools ${toolsVersion} into ${libs} ...`);
  const r = mavenCopy(path.join(home, 'tools'), pomXml(toolsVersion, 'kafka-tools'), libs, `kafka-tools-${toolsVersion}`);
  fs.writeFileSync(marker, toolsVersion + '\n');
  log(`fetched ${r.jars} tool jars, ${(r.bytes / 1048576).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s`);
  return { toolsVersion, libs, downloaded: true, seconds: r.seconds, bytes: r.bytes };
}

/** Picks a currently-free TCP port on 127.0.0.1 (bind :0, read, close). Kafka needs fixed ports in its config. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * 22-char base64url UUID, the format Kafka's storage tool expects for a cluster id. Like Kafka's Uuid.randomUuid it
 * draws again when the text starts with '-' (kafka-storage would read it as a flag: 1 start in 64 failed).
 */
export function newClusterId(draw: () => string = randomUUID): string {
  for (;;) {
    const id = Buffer.from(draw().replace(/-/g, ''), 'hex').toString('base64url');
    if (id[0] !== '-') return id;
  }
}

export type ConfigValue = string | number | boolean;

export interface StartOptions {
  /** PLAINTEXT port on 127.0.0.1; 0 or undefined = pick a free one. */
  port?: number;
  /** CONTROLLER port on 127.0.0.1; 0 or undefined = pick a free one. */
  controllerPort?: number;
  /** Where config, KRaft metadata, logs and kafka.log go. Default: fresh temp dir, removed on stop(). */
  dataDir?: string;
  /** Kafka version (default: newest published 4.x). */
  version?: string;
  /** e.g. PLAINTEXT://127.0.0.1:PROXYPORT (default: same as the listener). */
  advertisedListeners?: string;
  /** Extra/overriding server.properties entries. */
  extraConfig?: Record<string, ConfigValue>;
  /** Max JVM heap (default 1g). */
  heap?: string;
  /** Ready deadline in ms (default 60 s). */
  readyTimeoutMs?: number;
  /** Remove the data dir in stop() (default: true iff we created it). */
  removeDataDirOnStop?: boolean;
}

export interface KafkaRef {
  host: string;
  port: number;
  controllerPort: number;
  pid: number;
  version: string;
  clusterId: string;
  dataDir: string;
  logFile: string;
  /** ms spent in the storage tool's format, 0 if the dir was already formatted. */
  formatMs: number;
  /** ms from spawning `kafka.Kafka` until a Metadata round trip answered. */
  startToReadyMs: number;
  stop(): Promise<void>;
}

function log4j2Xml(logFile: string): string {
  const esc = logFile.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="file" fileName="${esc}" append="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="state.change.logger" level="warn"/>
    <Logger name="org.apache.kafka.controller" level="info"/>
    <Root level="info"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
`;
}

function serverProperties(entries: Record<string, ConfigValue>): string {
  return (
    '# Generated by gregor scripts/kafka-ref.ts\n' +
    Object.entries(entries)
      .map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\')}`)
      .join('\n') +
    '\n'
  );
}

function javaBin(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** kafkajs admin: connect + describeCluster (Metadata) round trip, bounded by `deadline`. */
async function metadataRoundTrip(host: string, port: number, deadline: number): Promise<void> {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const kafka = new Kafka({
    clientId: 'gregor-kafka-ref-ready',
    brokers: [`${host}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  const remaining = Math.max(1000, deadline - Date.now());
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        const c = await admin.describeCluster();
        if (!c.brokers.length) throw new Error('no brokers in metadata yet');
      })(),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('metadata round trip timed out')), Math.min(remaining, 8000));
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: never leave a JVM behind when the Node process exits.
  process.on('exit', () => {
    for (const c of liveChildren) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Formats a KRaft single-node (broker+controller) data dir if needed and starts the reference broker. */
export async function formatAndStart(opts: StartOptions = {}): Promise<KafkaRef> {
  const host = '127.0.0.1';
  const fetched = await ensureKafka(opts.version);
  const { version, libs } = fetched;
  const port = opts.port || (await freePort());
  let controllerPort = opts.controllerPort || (await freePort());
  while (controllerPort === port) controllerPort = await freePort();

  const createdDataDir = !opts.dataDir;
  const dataDir = path.resolve(opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-kafka-ref-')));
  fs.mkdirSync(dataDir, { recursive: true });
  const removeDataDir = opts.removeDataDirOnStop ?? createdDataDir;
  const logDir = path.join(dataDir, 'kraft-logs');
  const logFile = path.join(dataDir, 'kafka.log');
  const stdoutFile = path.join(dataDir, 'kafka.stdout.log');
  const propsFile = path.join(dataDir, 'server.properties');
  const log4jFile = path.join(dataDir, 'log4j2.xml');

  const props: Record<string, ConfigValue> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': opts.advertisedListeners ?? `PLAINTEXT://${host}:${port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': logDir,
    'num.partitions': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 3000,
    'auto.create.topics.enable': true,
    'delete.topic.enable': true,
    ...opts.extraConfig,
  };
  fs.writeFileSync(propsFile, serverProperties(props));
  fs.writeFileSync(log4jFile, log4j2Xml(logFile));

  const cp = `${libs}/*`;
  const log4jOpt = `-Dlog4j2.configurationFile=${log4jFile}`;
  let clusterId = '';
  let formatMs = 0;
  const metaProps = path.join(logDir, 'meta.properties');
  if (fs.existsSync(metaProps)) {
    clusterId = /cluster\.id=(\S+)/.exec(fs.readFileSync(metaProps, 'utf8'))?.[1] ?? '';
  } else {
    clusterId = newClusterId();
    const t0 = performance.now();
    const r = spawnSync(
      javaBin(),
      ['-Xmx256m', log4jOpt, '-cp', cp, STORAGE_TOOL_MAIN, 'format', '-t', clusterId, '-c', propsFile, '--standalone'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    formatMs = performance.now() - t0;
    if (r.status !== 0) {
      throw new Error(`storage format failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stdout}\n${r.stderr}`);
    }
  }

  installExitHook();
  const out = fs.openSync(stdoutFile, 'a');
  const t0 = performance.now();
  const child = spawn(
    javaBin(),
    [
      `-Xmx${opts.heap ?? '1g'}`,
      `-Xms${opts.heap === undefined ? '256m' : opts.heap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:InitiatingHeapOccupancyPercent=35',
      '-XX:+ExplicitGCInvokesConcurrent',
      '-Djava.awt.headless=true',
      log4jOpt,
      `-Dkafka.logs.dir=${dataDir}`,
      '-cp',
      cp,
      KAFKA_MAIN,
      propsFile,
    ],
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  liveChildren.add(child);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      liveChildren.delete(child);
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = { code: -1, signal: null };
    liveChildren.delete(child);
    log(`failed to spawn java: ${err.message}`);
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (!exited) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, 20_000);
        await Promise.race([exitPromise, sleep(30_000)]);
        clearTimeout(killTimer);
      }
      if (removeDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  };

  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  try {
    let lastErr = '';
    for (;;) {
      if (exited) throw new Error(`kafka exited early (${exited.code ?? exited.signal})`);
      if (Date.now() > deadline) throw new Error(`not ready within ${readyTimeoutMs} ms (${lastErr})`);
      if (await tryConnect(host, port, 1000)) {
        try {
          await metadataRoundTrip(host, port, deadline);
          break;
        } catch (err) {
          lastErr = (err as Error).message;
        }
      } else {
        lastErr = 'connect refused';
      }
      await sleep(250);
    }
  } catch (err) {
    const msg = `${(err as Error).message}\n--- ${logFile} ---\n${tail(logFile)}\n--- ${stdoutFile} ---\n${tail(stdoutFile, 20)}`;
    await stop();
    throw new Error(msg);
  }
  const startToReadyMs = performance.now() - t0;
  return {
    host,
    port,
    controllerPort,
    pid: child.pid!,
    version,
    clusterId,
    dataDir,
    logFile,
    formatMs,
    startToReadyMs,
    stop,
  };
}

/** Resident set size of a process in bytes (Linux /proc), or undefined. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function parseArgs(argv: string[]): { cmd: string; flags: Map<string, string[]> } {
  const [cmd = 'help', ...rest] = argv;
  const flags = new Map<string, string[]>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    let key = a.slice(2);
    let val: string;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      val = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) val = 'true';
      else {
        val = next;
        i++;
      }
    }
    flags.set(key, [...(flags.get(key) ?? []), val]);
  }
  return { cmd, flags };
}

async function main(): Promise<void> {
  const { cmd, flags } = parseArgs(process.argv.slice(2));
  const one = (k: string) => flags.get(k)?.at(-1);
  const version = one('version');
  if (cmd === 'latest') {
    process.stdout.write((await resolveLatestVersion(4)) + '\n');
  } else if (cmd === 'fetch') {
    const r = await ensureKafka(version);
    const round = (n: number) => Math.round(n * 10) / 10;
    const out: Record<string, unknown> = {
      version: r.version,
      libs: r.libs,
      downloaded: r.downloaded,
      seconds: round(r.seconds),
      mib: round(r.bytes / 1048576),
    };
    if (one('no-tools') !== 'true') {
      const t = await ensureKafkaTools(r.version);
      out.tools = { version: t.toolsVersion, libs: t.libs, downloaded: t.downloaded, seconds: round(t.seconds), mib: round(t.bytes / 1048576) };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else if (cmd === 'start') {
    const extraConfig: Record<string, string> = {};
    for (const kv of flags.get('set') ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`--set expects key=value, got ${kv}`);
      extraConfig[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const dataDir = one('data-dir');
    const kafka = await formatAndStart({
      port: Number(one('port') ?? 19092),
      controllerPort: Number(one('controller-port') ?? 0),
      dataDir,
      version,
      advertisedListeners: one('advertised-listeners'),
      extraConfig,
      heap: one('heap'),
    });
    const rss = rssBytes(kafka.pid);
    process.stdout.write(
      `${JSON.stringify({
        ready: true,
        version: kafka.version,
        bootstrap: `${kafka.host}:${kafka.port}`,
        controllerPort: kafka.controllerPort,
        pid: kafka.pid,
        dataDir: kafka.dataDir,
        logFile: kafka.logFile,
        formatMs: Math.round(kafka.formatMs),
        startToReadyMs: Math.round(kafka.startToReadyMs),
        rssMiB: rss ? Math.round(rss / 1048576) : undefined,
      })}\n`,
    );
    log('running; Ctrl-C (SIGINT) or SIGTERM to stop');
    let stopping = false;
    const shutdown = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping kafka (pid ${kafka.pid})`);
      kafka.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    // Keep the event loop alive until a signal arrives.
    setInterval(() => {}, 1 << 30);
  } else {
    process.stdout.write(
      'usage: node scripts/kafka-ref.ts fetch|start|latest [--version V] [--port 19092] [--controller-port P] [--data-dir DIR] [--advertised-listeners L] [--heap 1g] [--set key=value]\n',
    );
    if (cmd !== 'help') process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    log(String(err instanceof Error ? err.message : err));
    process.exit(1);
  });
}
