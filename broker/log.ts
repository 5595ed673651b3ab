// A tiny leveled logger. Injected everywhere so tests can silence or capture it.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function consoleLogger(level: LogLevel = 'info', out: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const min = rank[level];
  const at = (lvl: LogLevel) => (msg: string) => {
    if (rank[lvl] >= min) out(`[${new Date().toISOString()}] ${lvl.toUpperCase()} ${msg}`);
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
