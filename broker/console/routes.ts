// The web console on gregor.http.listener, with gregor.console.enable=true (off by default):
//
//   GET /console, /console/          the page (one HTML file; pages are #/cluster, #/topics, … in the browser)
//   GET /console/assets/<file>       its CSS and ES modules (assets/, shipped in the package; no build step)
//   GET /console/api/cluster         cluster id, nodes, listeners, log dirs, non-default broker configs
//   GET /console/api/topics          topics with partition count, messages (end − start) and bytes
//   GET /console/api/topic?name=T    partitions (leader, replicas, ISR, offsets, bytes) and configs
//   GET /console/api/messages?topic=T&partition=P[&offset=O|&timestamp=MS][&limit=N]   the message browser
//   GET /console/api/groups          groups with state, type, member count and total lag
//   GET /console/api/group?id=G      members, assignments, committed offsets and lag, lag history
//   GET /console/api/transactions    transactions (ListTransactions + DescribeTransactions) and producers
//   GET /console/api/faults          the broker's fault rules (broker.faults)
//
// Every answer is read through the broker's handlers in process (data.ts); 503 until the broker serves.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { Broker } from '../server.ts';
import type { HttpRequest, HttpResponse, Route } from '../http/server.ts';
import { ConsoleData, ConsoleError, MAX_MESSAGES } from './data.ts';
import { LagHistory } from './lag-history.ts';

const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

const json = (status: number, value: unknown): HttpResponse => ({
  status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(value) + '\n',
});

export interface Console {
  readonly routes: Route[];
  /** Starts lag sampling once the broker serves. */
  start(broker: Broker): void;
  stop(): void;
}

/** The console's routes; `faultsOverHttp` tells the page whether /faults takes changes. */
export function createConsole(opts: { log: Logger; lagSampleIntervalMs: number; faultsOverHttp: boolean }): Console {
  let data: ConsoleData | null = null;
  let broker: Broker | null = null;
  let lag: LagHistory | null = null;

  const api = (path: string, fn: (d: ConsoleData, b: Broker, q: URLSearchParams) => Promise<unknown> | unknown): Route => ({
    method: 'GET', path: `/console/api/${path}`,
    async handle(req: HttpRequest) {
      if (!data || !broker) return json(503, { error: 'the broker is not serving yet' });
      try {
        return json(200, await fn(data, broker, req.query));
      } catch (err) {
        if (err instanceof ConsoleError) return json(err.status, { error: err.message });
        throw err;
      }
    },
  });
  const need = (q: URLSearchParams, name: string): string => {
    const v = q.get(name);
    if (v === null || v === '') throw new ConsoleError(400, `the query parameter ${name} is missing`);
    return v;
  };
  const int = (q: URLSearchParams, name: string, min: number): number | undefined => {
    const v = q.get(name);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new ConsoleError(400, `${name}: expected an integer ≥ ${min}, got "${v}"`);
    return Number(v);
  };

  const assets: Route[] = [];
  for (const file of readdirSync(ASSETS_DIR)) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const body = readFileSync(path.join(ASSETS_DIR, file)); // a few KiB, read once at start
    assets.push({ method: 'GET', path: `/console/assets/${file}`, handle: () => ({ status: 200, headers: { 'content-type': type, 'cache-control': 'no-cache' }, body }) });
  }
  const index = readFileSync(path.join(ASSETS_DIR, 'index.html'));
  const page = (): HttpResponse => ({ status: 200, headers: { 'content-type': TYPES['.html'], 'cache-control': 'no-cache' }, body: index });

  const routes: Route[] = [
    { method: 'GET', path: '/console', handle: page },
    { method: 'GET', path: '/console/', handle: page },
    ...assets,
    api('cluster', (d) => d.cluster()),
    api('topics', (d) => d.topics()),
    api('topic', (d, _b, q) => d.topic(need(q, 'name'))),
    api('messages', (d, _b, q) => {
      const offset = int(q, 'offset', 0);
      const timestamp = int(q, 'timestamp', 0);
      if (offset !== undefined && timestamp !== undefined) throw new ConsoleError(400, 'give offset or timestamp, not both');
      const limit = Math.min(int(q, 'limit', 1) ?? 50, MAX_MESSAGES);
      return d.messages(need(q, 'topic'), int(q, 'partition', 0) ?? 0, { offset, timestamp }, limit);
    }),
    api('groups', async (d) => {
      const groups = await d.groupList();
      const offsets = await d.groupOffsets(groups.map((g) => g.groupId));
      return groups.map((g) => ({ ...g, lag: (offsets.get(g.groupId) ?? []).reduce((a, r) => a + (r.lag ?? 0), 0) }));
    }),
    api('group', async (d, _b, q) => {
      const id = need(q, 'id');
      return { ...(await d.group(id)), lagHistory: lag?.samples(id) ?? [], lagSampleIntervalMs: opts.lagSampleIntervalMs };
    }),
    api('transactions', (d) => d.transactions()),
    api('faults', (_d, b) => ({ httpApi: opts.faultsOverHttp, rules: b.faults.list() })),
  ];

  return {
    routes,
    start(b) {
      broker = b;
      data = new ConsoleData(b);
      lag = new LagHistory(data, b.context.clock, opts.log);
      lag.start(opts.lagSampleIntervalMs);
    },
    stop() {
      lag?.stop();
      data = null;
    },
  };
}
