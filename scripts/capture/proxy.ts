// Recording TCP proxy: forwards bytes both ways untouched and, on the side, splits each direction into Kafka frames
// (int32 big-endian size prefix) and pairs every request with its response by correlation id.
import * as net from 'node:net';

export interface Exchange {
  seq: number;
  /** connection number (1-based, in accept order) */
  conn: number;
  /** tag active on the proxy when the request was seen (phase of the capture driver) */
  tag: string;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** null when the header has a null client id */
  clientId: string | null;
  /** frame bytes after the size prefix: header + body */
  request: Buffer;
  response: Buffer;
}

interface Pending {
  tag: string;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  request: Buffer;
}

/** Accumulates chunks and yields complete frames (without the 4-byte size prefix). */
class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (size < 0) throw new Error(`negative frame size ${size}`);
      if (this.buf.length < 4 + size) break;
      onFrame(Buffer.from(this.buf.subarray(4, 4 + size)));
      this.buf = this.buf.subarray(4 + size);
    }
  }
}

export class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  /** Requests that never got a response (e.g. Produce acks=0) or were cut off. */
  unmatched = 0;
  /** Tag for new requests; overridable with a getter (e.g. one reading shared memory written by another thread). */
  tag = 'setup';
  getTag: () => string = () => this.tag;
  port = 0;
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private seq = 0;
  private conns = 0;
  private upstreamHost: string;
  private upstreamPort: number;

  constructor(upstreamHost: string, upstreamPort: number) {
    this.upstreamHost = upstreamHost;
    this.upstreamPort = upstreamPort;
    this.server = net.createServer((client) => this.onConnection(client));
  }

  /** The upstream port may be set after listen() (the proxy must be listening before Kafka advertises it). */
  setUpstream(host: string, port: number): void {
    this.upstreamHost = host;
    this.upstreamPort = port;
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        this.port = typeof a === 'object' && a ? a.port : 0;
        resolve(this.port);
      });
    });
  }

  private onConnection(client: net.Socket): void {
    const conn = ++this.conns;
    const upstream = net.connect({ host: this.upstreamHost, port: this.upstreamPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pending = new Map<number, Pending>();
    const reqSplit = new FrameSplitter();
    const resSplit = new FrameSplitter();
    let broken = false;

    const onRequest = (frame: Buffer) => {
      if (frame.length < 8) return;
      const apiKey = frame.readInt16BE(0);
      const apiVersion = frame.readInt16BE(2);
      const correlationId = frame.readInt32BE(4);
      let clientId: string | null = null;
      if (frame.length >= 10) {
        const len = frame.readInt16BE(8);
        if (len >= 0 && frame.length >= 10 + len) clientId = frame.toString('utf8', 10, 10 + len);
      }
      pending.set(correlationId, { tag: this.getTag(), apiKey, apiVersion, correlationId, clientId, request: frame });
    };
    const onResponse = (frame: Buffer) => {
      if (frame.length < 4) return;
      const correlationId = frame.readInt32BE(0);
      const req = pending.get(correlationId);
      if (!req) return;
      pending.delete(correlationId);
      this.exchanges.push({ seq: ++this.seq, conn, ...req, response: frame });
    };

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (broken) return;
      try {
        reqSplit.push(chunk, onRequest);
      } catch {
        broken = true;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (broken) return;
      try {
        resSplit.push(chunk, onResponse);
      } catch {
        broken = true;
      }
    });
    const close = () => {
      this.unmatched += pending.size;
      pending.clear();
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
