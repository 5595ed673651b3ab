// A small HTTP/1.1 server (node:http) for gregor's operational endpoints — health and metrics today, and the
// base later HTTP features (a Schema Registry, a REST proxy) reuse: a routes table (exact paths; an unknown
// path answers 404, a known one with another method 405 with Allow), limits enforced by node:http before a
// handler runs (header size and count, header/request/keep-alive timeouts, open connections) plus a body
// limit here (413), errors of handlers answered 500 and logged, never a crash. close() stops accepting and
// destroys every open connection, so broker.close() never waits on an idle keep-alive client.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../config.ts';
import type { Logger } from '../log.ts';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** The query string's parameters. */
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** The request body (at most limits.maxBodyBytes). */
  readonly body: Buffer;
  /** Values of the route's `{name}` path segments, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** An exact path, or one with `{name}` segments matching one non-empty segment each (req.params). */
  path: string;
  handle(req: HttpRequest): HttpResponse | Promise<HttpResponse>;
}

export interface HttpLimits {
  /** Bytes of the request line and headers (node:http answers 431 beyond). */
  maxHeaderBytes: number;
  maxHeadersCount: number;
  /** Bytes of a request body (answered 413 beyond). */
  maxBodyBytes: number;
  /** Until the headers are complete / the whole request is received (408). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections beyond are refused (closed at once). */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxHeaderBytes: 16 * 1024, maxHeadersCount: 100, maxBodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 256,
};

export interface HttpServerOptions {
  /** Host to bind; '' binds every interface. */
  host: string;
  port: number;
  routes: readonly Route[];
  log: Logger;
  limits?: Partial<HttpLimits>;
  /** Names the server in log lines (e.g. the config it comes from). */
  name?: string;
  /** The body of the server's own answers (404, 405, 413, 500); default plain text. */
  errorBody?(status: number, message: string): { contentType: string; body: string };
}

export interface HttpServer {
  readonly host: string;
  /** The port bound (the one picked when 0 was asked). */
  readonly port: number;
  close(): Promise<void>;
}

/** Parses `HOST:PORT`, `:PORT` or `[IPv6]:PORT` (as `config` names it in errors); empty → null (off). */
export function parseHostPort(config: string, value: string | null): { host: string; port: number } | null {
  const v = (value ?? '').trim();
  if (v === '') return null;
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`${config}: expected HOST:PORT, :PORT or [IPv6]:PORT, got "${v}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const name = opts.name ?? 'http';
  const log = opts.log;
  const byPath = new Map<string, Route[]>();
  // Paths with {name} segments: tried in order after the exact paths.
  const patterns: Array<{ re: RegExp; names: string[]; path: string }> = [];
  for (const r of opts.routes) {
    if (!byPath.has(r.path) && r.path.includes('{')) {
      const names: string[] = [];
      const re = new RegExp('^' + r.path.split('/').map((seg) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1]);
        return '([^/]+)';
      }).join('/') + '$');
      patterns.push({ re, names, path: r.path });
    }
    byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  }
  const match = (pathname: string): { routes: Route[]; params: Record<string, string> } | null => {
    const exact = byPath.get(pathname);
    if (exact && !pathname.includes('{')) return { routes: exact, params: {} };
    for (const p of patterns) {
      const m = p.re.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      try {
        p.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      } catch {
        continue; // a malformed %-escape matches nothing
      }
      return { routes: byPath.get(p.path)!, params };
    }
    return null;
  };

  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  }, (req, res) => { void serve(req, res); });
  server.maxHeadersCount = limits.maxHeadersCount;
  server.maxConnections = limits.maxConnections;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  // Malformed requests, oversized headers, timeouts: node:http's own answer (400/408/431), then close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    log.debug(`${name}: bad request from ${(socket as Socket).remoteAddress}: ${err.code ?? err.message}`);
    if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  const send = (res: http.ServerResponse, r: HttpResponse): void => {
    if (res.headersSent || res.destroyed) return;
    const body = r.body ?? '';
    res.writeHead(r.status, { 'content-length': Buffer.byteLength(body), ...r.headers });
    res.end(body);
  };

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const found = match(url.pathname);
    const candidates = found?.routes;
    const method = req.method ?? 'GET';
    // HEAD is served by the GET route (node:http sends no body for it).
    const route = candidates?.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      const custom = opts.errorBody?.(status, body);
      send(res, custom
        ? { status, body: custom.body, headers: { 'content-type': custom.contentType, ...headers } }
        : { status, body: body + '\n', headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
    };
    if (!candidates) { req.resume(); return text(404, 'not found'); }
    if (!route) {
      req.resume();
      const allow = [...new Set(candidates.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))].join(', ');
      return text(405, 'method not allowed', { allow });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.maxBodyBytes) {
      res.setHeader('connection', 'close');
      text(413, 'request body too large');
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limits.maxBodyBytes) {
          res.setHeader('connection', 'close');
          text(413, 'request body too large');
          req.destroy();
          return;
        }
        chunks.push(chunk);
      }
    } catch {
      return; // the client went away mid-body
    }
    try {
      const out = await route.handle({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks), params: found!.params });
      send(res, out);
    } catch (err) {
      log.error(`${name}: ${method} ${url.pathname} failed: ${(err as Error)?.stack ?? err}`);
      text(500, 'internal error');
    }
  }

  const host = opts.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, host: host === '' ? undefined : host }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    err.message = `${name} ${host || '*'}:${opts.port}: ${err.message}`;
    throw err;
  });
  server.on('error', (err) => log.error(`${name}: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  log.info(`${name} listening on http://${host.includes(':') ? `[${host}]` : host || '*'}:${port}`);
  let closing: Promise<void> | undefined;
  return {
    host, port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
