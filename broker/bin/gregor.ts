#!/usr/bin/env node
// gregor [server.properties] [--override name=value]... [--data-dir DIR] [--storage file|memory] [--log-level LEVEL]
import fs from 'node:fs';
import { buildBrokerConfig, ConfigError, configFromEnv, consoleLogger, type LogLevel, parseProperties, startBroker } from '../index.ts';

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

/** Runs the broker with these command-line arguments until SIGTERM/SIGINT. */
export async function main(args: string[]): Promise<void> {
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
  try {
    const config = buildBrokerConfig({ file, env: configFromEnv(process.env), overrides });
    const broker = await startBroker({ config, storage, logger: log });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, shutting down`);
      broker.close().then(() => process.exit(0), (err) => { log.error(String(err)); process.exit(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

// Run directly (`node broker/bin/gregor.ts`); gregor.js imports this module and calls main itself.
if (import.meta.main) await main(process.argv.slice(2));
