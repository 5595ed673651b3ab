#!/usr/bin/env node
// gregor [server.properties] [--override name=value]... [--data-dir DIR] [--storage file|memory] [--log-level LEVEL]
import fs from 'node:fs';
import os from 'node:os';
import { type Broker, buildBrokerConfig, ConfigError, configFromEnv, consoleLogger, type LogLevel, parseProperties, startBroker } from '../index.ts';

const usage = `usage: gregor [server.properties] [options]
  --override name=value   set a broker config (Kafka's names), repeatable
  --data-dir DIR          where partitions and metadata live (sets log.dirs)
  --storage file|memory   memory keeps nothing on disk (default: file)
  --log-level LEVEL       debug, info, warn or error (default: info)
Environment: KAFKA_<NAME> or KAFKA_CFG_<NAME> (e.g. KAFKA_AUTO_CREATE_TOPICS_ENABLE=false).`;

function fail(msg: string): never {
  process.stderr.write(`gregor: ${msg}\n${usage}\n`);
  process.exit(2);
}

export interface MainOptions {
  /** Awaited after the stop signal, before the broker closes (tests make shutdown slow with it). */
  beforeClose?: () => Promise<void>;
}

/** How close together two identical signals count as one (see onStopSignals). */
export const REPEAT_MS = 200;

/**
 * Runs the broker with these command-line arguments until SIGTERM/SIGINT, then closes it and exits 0; a second
 * signal while closing exits at once with 128 + the signal's number, as a shell reports a killed process.
 */
export async function main(args: string[], opts: MainOptions = {}): Promise<void> {
  const overrides = new Map<string, string>();
  let file: Map<string, string> | undefined;
  let storage: 'file' | 'memory' = 'file';
  let level: LogLevel = 'info';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => args[++i] ?? fail(`${a} needs a value`);
    if (a === '--help' || a === '-h') { process.stdout.write(usage + '\n'); process.exit(0); }
    else if (a === '--override') {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq <= 0) fail(`--override expects name=value, got "${kv}"`);
      overrides.set(kv.slice(0, eq), kv.slice(eq + 1));
    } else if (a === '--data-dir') overrides.set('log.dirs', value());
    else if (a === '--storage') {
      const s = value();
      if (s !== 'file' && s !== 'memory') fail(`--storage must be file or memory`);
      storage = s;
    } else if (a === '--log-level') {
      const l = value();
      if (!['debug', 'info', 'warn', 'error'].includes(l)) fail(`unknown log level ${l}`);
      level = l as LogLevel;
    } else if (!a.startsWith('-') && !file) {
      try { file = parseProperties(fs.readFileSync(a, 'utf8')); } catch (e) { fail(`cannot read ${a}: ${(e as Error).message}`); }
    } else fail(`unknown argument ${a}`);
  }

  const log = consoleLogger(level);
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
  try {
    const config = buildBrokerConfig({ file, env: configFromEnv(process.env), overrides });
    broker = await startBroker({ config, storage, logger: log });
    if (stopping) stop();
  } catch (err) {
    signals.remove();
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
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

// Run directly (`node broker/bin/gregor.ts`); gregor.js imports this module and calls main itself.
if (import.meta.main) await main(process.argv.slice(2));
