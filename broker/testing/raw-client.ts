// A minimal Kafka client for tests: sends requests encoded with the generated codec over a raw socket
// and decodes responses. Also sends arbitrary bytes, for malformed-input tests.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { FrameDecoder } from '../../protocol/frame.ts';
import { apis, requestHeaderVersion, responseHeaderVersion } from '../../protocol/generated/index.ts';
import { encodeRequestHeader } from '../../protocol/generated/request-header.ts';
import { decodeResponseHeader } from '../../protocol/generated/response-header.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';

export interface RawResponse {
  correlationId: number;
  /** The response body bytes after the header. */
  frame: Buffer;
}

export class RawClient {
  readonly socket: Duplex;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 1 << 30 });
  readonly #frames: Buffer[] = [];
  readonly #waiters: Array<() => void> = [];
  #closed = false;
  #nextCorrelationId = 1;

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#decoder.push(chunk, (f) => { this.#frames.push(Buffer.from(f)); this.#wake(); }));
    socket.on('close', () => { this.#closed = true; this.#wake(); });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => { s.off('error', reject); resolve(new RawClient(s)); });
      s.once('error', reject);
    });
  }

  /** A client over any byte stream (a custom transport's connection). */
  static over(stream: Duplex): RawClient { return new RawClient(stream); }

  get closed(): boolean { return this.#closed; }

  #wake(): void { for (const w of this.#waiters.splice(0)) w(); }

  /** Resolves when the server has closed the connection, or rejects after the deadline. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.#until(() => this.#closed, timeoutMs, 'connection to close');
  }

  async #until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Encodes a request frame (size prefix included) without sending it. */
  encodeRequest(apiKey: number, version: number, body: unknown, correlationId = this.#nextCorrelationId++, clientId: string | null = 'raw-client'): Buffer {
    const api = apis[apiKey];
    if (!api) throw new Error(`no API ${apiKey}`);
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId });
    // Top-level fields left out of `body` take their defaults.
    api.encodeRequest(w, version, api.makeRequest(body as object));
    const buf = w.finishBuffer();
    buf.writeInt32BE(buf.length - 4, 0);
    return buf;
  }

  sendRaw(bytes: Buffer): void { this.socket.write(bytes); }

  /** Next response frame (header + body, without size prefix). */
  async nextFrame(timeoutMs = 5000): Promise<Buffer> {
    await this.#until(() => this.#frames.length > 0 || this.#closed, timeoutMs, 'a response');
    const f = this.#frames.shift();
    if (!f) throw new Error('connection closed before a response arrived');
    return f;
  }

  /** Sends one request and decodes its response. */
  async request<Res = any>(apiKey: number, version: number, body: unknown): Promise<Res & { correlationId: number }> {
    const correlationId = this.#nextCorrelationId++;
    this.sendRaw(this.encodeRequest(apiKey, version, body, correlationId));
    const frame = await this.nextFrame();
    return this.decodeResponse<Res>(apiKey, version, frame);
  }

  decodeResponse<Res = any>(apiKey: number, version: number, frame: Buffer): Res & { correlationId: number } {
    const r = new Reader(frame);
    const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
    const body = apis[apiKey]!.decodeResponse(r, version) as Res;
    if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after decoding ${apis[apiKey]!.name} v${version} response`);
    return Object.assign(body as object, { correlationId: header.correlationId }) as Res & { correlationId: number };
  }

  close(): void { this.socket.destroy(); }
}
