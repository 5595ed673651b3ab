// What every CLI command shares: argument parsing (node:util parseArgs, strict), --bootstrap-server and
// --command-config, the output channels, and the two failure kinds scripts tell apart by exit code
// (UsageError → 2, anything else → 1).
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Client } from './client.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A command-line mistake: exit code 2 with the command's usage. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

/** The operation was refused or failed (the message says which part): exit code 1. */
export class OperationError extends Error {
  constructor(message: string) { super(message); this.name = 'OperationError'; }
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
  stdin: Readable;
  /** Resolves once `out` has room again (a slow pipe); absent: always room. */
  drain?: () => Promise<void>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS: Options = {
  'bootstrap-server': { type: 'string' },
  'command-config': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const COMMON_HELP = `  --bootstrap-server HOST:PORT[,HOST:PORT...]   brokers to connect to (required)
  --command-config FILE   client properties (client.id, request.timeout.ms, default.api.timeout.ms,
                          retry.backoff.ms, retry.backoff.max.ms, security.protocol=PLAINTEXT, and the
                          command's own settings listed above)
  --help                  this text`;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(args: string[], options: Options): Parsed {
  const all = { ...COMMON_OPTIONS, ...options };
  // parseArgs takes "-5" after an option for another option; a negative number is the value (--shift-by -5).
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a.startsWith('--') && all[a.slice(2)]?.type === 'string' && next !== undefined && /^-\d+$/.test(next)) { joined.push(`${a}=${next}`); i++; }
    else joined.push(a);
  }
  try {
    const r = parseArgs({ args: joined, options: all, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export const str = (p: Parsed, name: string): string | undefined => p.values[name] as string | undefined;
export const list = (p: Parsed, name: string): string[] => (p.values[name] as string[] | undefined) ?? [];

export function int(p: Parsed, name: string, min = -Infinity): number | undefined {
  const s = str(p, name);
  if (s === undefined) return undefined;
  if (!/^-?\d+$/.test(s) || Number(s) < min) throw new UsageError(`--${name} must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got "${s}"`);
  return Number(s);
}

/** Java properties (key=value or key: value, # and ! comments; no line continuations). */
export function readProperties(file: string): Map<string, string> {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new UsageError(`cannot read ${file}: ${(e as Error).message}`); }
  const m = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const i = line.search(/[=:]/);
    if (i <= 0) throw new UsageError(`${file}: "${line}" is not key=value`);
    m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** Client settings every command takes from --command-config. */
const CLIENT_KEYS = new Set(['bootstrap.servers', 'client.id', 'request.timeout.ms', 'default.api.timeout.ms', 'retry.backoff.ms', 'retry.backoff.max.ms', 'security.protocol']);

function msSetting(props: Map<string, string>, key: string): number | undefined {
  const v = props.get(key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--command-config: ${key} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

/**
 * The command's client, from --bootstrap-server and --command-config. `extraKeys` are the command's own
 * properties (a producer's acks, …); any other key is refused by name, as gregor supports only these.
 */
export function makeClient(p: Parsed, io: Io, extraKeys: readonly string[] = []): { client: Client; props: Map<string, string> } {
  const file = str(p, 'command-config');
  const props = file ? readProperties(file) : new Map<string, string>();
  for (const k of props.keys()) {
    if (!CLIENT_KEYS.has(k) && !extraKeys.includes(k)) throw new UsageError(`--command-config: ${k} is not a setting this command supports`);
  }
  const sec = props.get('security.protocol');
  if (sec !== undefined && sec.toUpperCase() !== 'PLAINTEXT') throw new UsageError(`--command-config: security.protocol=${sec} is not supported (PLAINTEXT only)`);
  const servers = str(p, 'bootstrap-server') ?? props.get('bootstrap.servers');
  if (!servers) throw new UsageError('--bootstrap-server is required');
  const bootstrap = servers.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of bootstrap) if (!/^\[?[^\]\s]+\]?:\d+$/.test(b)) throw new UsageError(`--bootstrap-server: "${b}" is not host:port`);
  const client = new Client({
    bootstrap,
    clientId: props.get('client.id') ?? 'gregor-cli',
    requestTimeoutMs: msSetting(props, 'request.timeout.ms'),
    apiTimeoutMs: msSetting(props, 'default.api.timeout.ms'),
    retryBackoffMs: msSetting(props, 'retry.backoff.ms'),
    retryBackoffMaxMs: msSetting(props, 'retry.backoff.max.ms'),
    note: (m) => io.err(`${m}\n`),
  });
  return { client, props };
}

/** Fixed-width columns, as Kafka's tools print them. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** k=v,k2=v2 (as kafka-configs.sh --add-config; values may be [a,b] lists). */
export function parseConfigList(s: string, flag: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq <= i) throw new UsageError(`${flag}: expected key=value in "${s.slice(i)}"`);
    const key = s.slice(i, eq).trim();
    let j = eq + 1;
    let value: string;
    if (s[j] === '[') {
      const close = s.indexOf(']', j);
      if (close < 0) throw new UsageError(`${flag}: unclosed [ in "${s}"`);
      value = s.slice(j + 1, close);
      j = close + 1;
    } else {
      const comma = s.indexOf(',', j);
      j = comma < 0 ? s.length : comma;
      value = s.slice(eq + 1, j);
    }
    out.push([key, value.trim()]);
    if (s[j] === ',') j++;
    i = j;
  }
  return out;
}
