#!/usr/bin/env node
// The image's HEALTHCHECK: exit 0 when this container's gregor answers, 1 otherwise. Needs nothing but node.
// With GREGOR_HTTP_LISTENER set (HOST:PORT or :PORT) it asks that listener's /healthz; otherwise it sends a Kafka
// ApiVersions v0 request to 127.0.0.1:$GREGOR_HEALTHCHECK_PORT (default 9092, the image's listener) and wants
// error code 0 back. Plain JavaScript: no TypeScript stripping on every probe.
import net from 'node:net';

const TIMEOUT_MS = Number(process.env.GREGOR_HEALTHCHECK_TIMEOUT_MS ?? 2500);
const done = (ok, why) => {
  if (!ok) process.stderr.write(`unhealthy: ${why}\n`);
  process.exit(ok ? 0 : 1);
};
setTimeout(() => done(false, `no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();

const http = process.env.GREGOR_HTTP_LISTENER;
if (http) {
  const colon = http.lastIndexOf(':');
  const host = http.slice(0, colon).replace(/^\[|\]$/g, '');
  const target = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${target.includes(':') ? `[${target}]` : target}:${http.slice(colon + 1)}/healthz`;
  fetch(url).then((res) => done(res.ok, `${url}: HTTP ${res.status}`), (err) => done(false, `${url}: ${err.message}`));
} else {
  const port = Number(process.env.GREGOR_HEALTHCHECK_PORT ?? 9092);
  const clientId = Buffer.from('healthcheck');
  // Request header v1: api_key 18 (ApiVersions), api_version 0, correlation_id, client_id; v0 has no body.
  const req = Buffer.alloc(4 + 10 + clientId.length);
  req.writeInt32BE(req.length - 4, 0);
  req.writeInt16BE(18, 4);
  req.writeInt16BE(0, 6);
  req.writeInt32BE(0x4845414c, 8);
  req.writeInt16BE(clientId.length, 12);
  clientId.copy(req, 14);
  let got = Buffer.alloc(0);
  const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write(req));
  sock.on('data', (d) => {
    got = Buffer.concat([got, d]);
    // Response: size, correlation_id, then (header v0) the body's error_code.
    if (got.length < 10) return;
    const correlated = got.readInt32BE(4) === 0x4845414c;
    const error = got.readInt16BE(8);
    done(correlated && error === 0, `ApiVersions on 127.0.0.1:${port}: ${correlated ? `error code ${error}` : 'wrong correlation id'}`);
  });
  sock.on('error', (err) => done(false, `127.0.0.1:${port}: ${err.message}`));
  sock.on('close', () => done(false, `127.0.0.1:${port} closed the connection`));
}
