#!/usr/bin/env node
// gregor [server.properties] [--override name=value]... [--default name=value]... [--data-dir DIR]
//        [--storage file|memory] [--log-level LEVEL] [--log-format text|json]
import fs from 'node:fs';
import os from 'node:os';
import { type Broker, buildBrokerConfig, ConfigError, consoleLogger, type LogLevel, parseProperties, startBroker } from '../index.ts';
import { readEnvironment } from '../config.ts';
import { formatLine, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../log.ts';

const usage = `usage: gregor [server.properties] [options]
  --override name=value   set a broker config (Kafka's names), repeatable; wins over everything
  --default name=value    a default for a config, below the properties file and the environment, repeatable
  --data-dir DIR          where partitions and metadata live (sets log.dirs, as --override does)
  --storage file|memory   memory keeps nothing on disk (default: file)
  --log-level LEVEL       debug, info, warn or error (default: $GREGOR_LOG_LEVEL, else info)
  --log-format FORMAT     text or json: JSON lines in pino's shape (default: $GREGOR_LOG_FORMAT, else text)
Environment: KAFKA_<NAME> or KAFKA_CFG_<NAME> (e.g. KAFKA_AUTO_CREATE_TOPICS_ENABLE=false), CLUSTER_ID,
KAFKA_CREATE_TOPICS / GREGOR_CREATE_TOPICS, GREGOR_<NAME> for gregor.<name> settings. See README.md.`;

/** A command-line mistake: the message and the usage, exit code 2. */
function usageError(msg: string): never {
  process.stderr.write(`gregor: ${msg}\n${usage}\n`);
  process.exit(2);
}

export interface MainOptions {
  /** Awaited after the stop signal, before the broker closes (tests make shutdown slow with it). */
  beforeClose?: () => Promise<void>;
}

/** How close together two identical signals count as one (see onStopSignals). */
export const REPEAT_MS = 200;

/** log4j's levels (KAFKA_LOG4J_ROOT_LOGLEVEL in cp-kafka and apache/kafka compose files) → gregor's. */
const LOG4J_LEVELS: Record<string, LogLevel> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'error', OFF: 'error' };

/**
 * The log level and format: the command line, else GREGOR_LOG_LEVEL / GREGOR_LOG_FORMAT, else (level only)
 * KAFKA_LOG4J_ROOT_LOGLEVEL as the Kafka images read it, else info and text. A bad value is a usage error.
 */
export function logSettings(args: { level?: string; format?: string }, env: NodeJS.ProcessEnv): { level: LogLevel; format: LogFormat } {
  let level: LogLevel = 'info';
  const log4j = env.KAFKA_LOG4J_ROOT_LOGLEVEL?.trim().toUpperCase();
  if (log4j) {
    if (!LOG4J_LEVELS[log4j]) usageError(`KAFKA_LOG4J_ROOT_LOGLEVEL: unknown level ${env.KAFKA_LOG4J_ROOT_LOGLEVEL} (${Object.keys(LOG4J_LEVELS).join(', ')})`);
    level = LOG4J_LEVELS[log4j];
  }
  const [lvl, from] = args.level !== undefined ? [args.level, '--log-level'] : [env.GREGOR_LOG_LEVEL, 'GREGOR_LOG_LEVEL'];
  if (lvl !== undefined && lvl !== '') {
    if (!(LOG_LEVELS as readonly string[]).includes(lvl.toLowerCase())) usageError(`${from}: unknown log level ${lvl} (${LOG_LEVELS.join(', ')})`);
    level = lvl.toLowerCase() as LogLevel;
  }
  const [fmt, fmtFrom] = args.format !== undefined ? [args.format, '--log-format'] : [env.GREGOR_LOG_FORMAT, 'GREGOR_LOG_FORMAT'];
  let format: LogFormat = 'text';
  if (fmt !== undefined && fmt !== '') {
    if (!(LOG_FORMATS as readonly string[]).includes(fmt.toLowerCase())) usageError(`${fmtFrom}: unknown log format ${fmt} (${LOG_FORMATS.join(', ')})`);
    format = fmt.toLowerCase() as LogFormat;
  }
  return { level, format };
}

const nameValue = (flag: string, kv: string): [string, string] => {
  const eq = kv.indexOf('=');
  if (eq <= 0) usageError(`${flag} expects name=value, got "${kv}"`);
  return [kv.slice(0, eq), kv.slice(eq + 1)];
};

/**
 * Runs the broker with these command-line arguments until SIGTERM/SIGINT, then closes it and exits 0; a second
 * signal while closing exits at once with 128 + the signal's number, as a shell reports a killed process.
 * A configuration or operator mistake (port in use, unwritable data directory, …) is one line and exit code 2.
 */
export async function main(args: string[], opts: MainOptions = {}): Promise<void> {
  const overrides = new Map<string, string>();
  const defaults = new Map<string, string>();
  let file: Map<string, string> | undefined;
  let storage: 'file' | 'memory' = 'file';
  const logArgs: { level?: string; format?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => args[++i] ?? usageError(`${a} needs a value`);
    if (a === '--help' || a === '-h') { process.stdout.write(usage + '\n'); process.exit(0); }
    else if (a === '--override') overrides.set(...nameValue(a, value()));
    else if (a === '--default') defaults.set(...nameValue(a, value()));
    else if (a === '--data-dir') overrides.set('log.dirs', value());
    else if (a === '--storage') {
      const s = value();
      if (s !== 'file' && s !== 'memory') usageError(`--storage must be file or memory`);
      storage = s;
    } else if (a === '--log-level') logArgs.level = value();
    else if (a === '--log-format') logArgs.format = value();
    else if (!a.startsWith('-') && !file) {
      try { file = parseProperties(fs.readFileSync(a, 'utf8')); } catch (e) { usageError(`cannot read ${a}: ${(e as Error).message}`); }
    } else usageError(`unknown argument ${a}`);
  }

  const { level, format } = logSettings(logArgs, process.env);
  const log = consoleLogger(level, undefined, format);
  /** The last line of a start that cannot go on: one line (in the log format), exit code 2. */
  const fatal = (msg: string): never => {
    process.stderr.write(formatLine(format, 'fatal', `gregor: ${msg}`) + '\n');
    process.exit(2);
  };
  // Installed before the broker starts: a signal during a long start (log recovery) is not lost, and as PID 1
  // in a container (no default action for SIGTERM/SIGINT) it is the only way to stop.
  let broker: Broker | undefined;
  let stopping = false;
  const stop = () => {
    const b = broker!;
    (opts.beforeClose?.() ?? Promise.resolve()).then(() => b.close())
      .then(() => process.exit(0), (err) => { log.error(String(err)); process.exit(1); });
  };
  const signals = onStopSignals((signal) => {
    if (!stopping) {
      stopping = true;
      log.info(`${signal} received, shutting down`);
      if (broker) stop();
    } else {
      log.warn(`${signal} received again, exiting without a clean shutdown`);
      process.exit(128 + os.constants.signals[signal]);
    }
  });
  let dataDir: string | undefined;
  try {
    const env = readEnvironment(process.env);
    const config = buildBrokerConfig({ defaults, file, env: env.configs, envOrigins: env.origins, overrides });
    if (env.ignored.length > 0) log.info(`environment: ignored ${env.ignored.map((e) => `${e.name} (${e.why})`).join(', ')}`);
    for (const name of env.unknownGregor) log.warn(`environment: ${name} is not a gregor setting; ignored`);
    dataDir = storage === 'file' ? config.list('log.dirs')[0] : undefined;
    broker = await startBroker({ config, storage, logger: log });
    if (stopping) stop();
  } catch (err) {
    signals.remove();
    if (err instanceof ConfigError) fatal(err.message);
    const mistake = operatorMistake(err, dataDir);
    if (mistake) fatal(mistake);
    throw err;
  }
}

const FS_SYSCALLS = new Set(['mkdir', 'open', 'write', 'rename', 'unlink', 'scandir', 'fsync', 'fdatasync', 'ftruncate', 'read', 'stat', 'lstat', 'rmdir', 'access']);

/**
 * One line for the start failures that are the operator's to fix (nothing for a bug: that keeps its stack):
 * a listener that cannot bind (port in use, host unknown or not this machine's, a privileged port), a data
 * directory that is a file, unwritable, read-only or on a full disk.
 */
export function operatorMistake(err: unknown, dataDir: string | undefined): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  const where = `${e.address ?? e.hostname ?? ''}${e.port !== undefined ? `:${e.port}` : ''}`;
  if (e.syscall === 'listen') {
    switch (e.code) {
      case 'EADDRINUSE': return `cannot listen on ${where}: the address is already in use (another broker or Kafka on this port?); change the port in listeners`;
      case 'EACCES': return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); use another port in listeners`;
      case 'EADDRNOTAVAIL': return `cannot listen on ${where}: no network interface of this machine has that address; a listener binds a local address (or none: PLAINTEXT://:9092), the name clients use goes in advertised.listeners`;
    }
  }
  if (e.syscall === 'getaddrinfo' && (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EAI_NONAME')) {
    return `cannot listen on ${e.hostname}: the host name does not resolve (${e.code}); a listener binds a local address (or none: PLAINTEXT://:9092), the name clients use goes in advertised.listeners`;
  }
  if (e.syscall && FS_SYSCALLS.has(e.syscall) && e.path !== undefined) {
    const dir = dataDir ? `data directory ${dataDir}` : 'storage';
    switch (e.code) {
      case 'ENOTDIR':
      case 'EEXIST': return `${dir}: ${e.path} is a file, not a directory (${e.code}, ${e.syscall}); give a directory, e.g. --data-dir ./data or KAFKA_LOG_DIRS`;
      case 'EACCES':
      case 'EPERM': return `${dir}: permission denied on ${e.path} (${e.code}, ${e.syscall}); make it writable by this user (uid ${process.getuid?.() ?? '?'}) or choose another directory`;
      case 'EROFS': return `${dir}: ${e.path} is on a read-only file system (${e.syscall}); choose a writable directory or mount a volume there`;
      case 'ENOSPC': return `${dir}: no space left on the device holding ${e.path} (${e.syscall})`;
      case 'EDQUOT': return `${dir}: disk quota exceeded writing ${e.path} (${e.syscall})`;
    }
  }
  return undefined;
}

/**
 * Calls `onSignal` for SIGTERM and SIGINT. The same signal again within REPEAT_MS is one event: a Ctrl-C under
 * `npm start` reaches the broker twice, from the terminal (to the whole process group) and forwarded by npm.
 */
export function onStopSignals(onSignal: (signal: 'SIGTERM' | 'SIGINT') => void): { remove(): void } {
  let last: { signal: string; at: number } | undefined;
  const handler = (signal: 'SIGTERM' | 'SIGINT') => {
    const now = performance.now();
    if (last?.signal === signal && now - last.at < REPEAT_MS) return;
    last = { signal, at: now };
    onSignal(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return { remove() { process.off('SIGTERM', handler); process.off('SIGINT', handler); } };
}

// Run directly (`node broker/bin/gregor.ts`, the npm package's bin); gregor.js imports this module and calls
// main itself. A client command (gregor topics …, ../cli/) runs instead of the broker (list as in gregor.js).
if (import.meta.main) {
  if (['topics', 'produce', 'consume', 'groups', 'configs', 'acls', 'cluster', 'help'].includes(process.argv[2] ?? '')) {
    await (await import('../cli/main.ts')).main(process.argv.slice(2));
  } else await main(process.argv.slice(2));
}
