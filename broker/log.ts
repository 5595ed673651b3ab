// A tiny leveled logger. Injected everywhere so tests can silence or capture it.
//
// Two line formats: text (`[ISO time] LEVEL message`, the default) and JSON lines in pino's shape
// (`{"level":30,"time":<epoch ms>,"pid":…,"hostname":"…","msg":"…"}`, levels 20 debug, 30 info, 40 warn,
// 50 error, 60 fatal), so pino-pretty and log shippers that read pino output take it as is. Written here
// rather than with pino: the broker logs a few lines at start and stop, not per request, so pino's speed buys
// nothing, and a dependency (plus its worker-thread transports) would cost install size and RSS.

import os from 'node:os';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** pino's numeric levels. */
const PINO_LEVEL: Record<LogLevel | 'fatal', number> = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const stderrLine = (l: string) => { process.stderr.write(l + '\n'); };

/** One log line in `format` (also used for the CLI's last line before a failed start: level 'fatal'). */
export function formatLine(format: LogFormat, level: LogLevel | 'fatal', msg: string, now = new Date()): string {
  if (format === 'json') {
    return JSON.stringify({ level: PINO_LEVEL[level], time: now.getTime(), pid: process.pid, hostname: os.hostname(), msg });
  }
  return `[${now.toISOString()}] ${level.toUpperCase()} ${msg}`;
}

export function consoleLogger(level: LogLevel = 'info', out: (line: string) => void = stderrLine, format: LogFormat = 'text'): Logger {
  const min = rank[level];
  const at = (lvl: LogLevel) => (msg: string) => {
    if (rank[lvl] >= min) out(formatLine(format, lvl, msg));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Collects lines in memory; for tests that assert a log line was written. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (lvl: string) => (msg: string) => { lines.push(`${lvl} ${msg}`); };
  return { lines, debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}
