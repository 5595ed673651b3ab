// A raw Kafka connection for tests that must see exactly what the broker answers (or that it closes):
// requests encoded with the generated codecs, over TCP or TLS.
import net from 'node:net';
import tls from 'node:tls';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { encodeRequestHeader } from '../../protocol/generated/request-header.ts';
import { decodeResponseHeader } from '../../protocol/generated/response-header.ts';
import type { ApiDescriptor } from '../../protocol/generated/index.ts';

export class RawConnection {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #waiters: Array<(frame: Buffer | null) => void> = [];
  #frames: Buffer[] = [];
  #closed = false;
  #corr = 1;
  readonly closedPromise: Promise<void>;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readInt32BE(0)) {
        const n = this.#buf.readInt32BE(0);
        const f = this.#buf.subarray(4, 4 + n);
        this.#buf = this.#buf.subarray(4 + n);
        const w = this.#waiters.shift();
        if (w) w(f); else this.#frames.push(f);
      }
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((r) => socket.once('close', () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(null);
      r();
    }));
  }

  static connect(hostPort: string, opts?: { tls?: tls.ConnectionOptions }): Promise<RawConnection> {
    const [host, port] = hostPort.split(':');
    return new Promise((resolve, reject) => {
      const s = opts?.tls
        ? tls.connect({ host, port: Number(port), ...opts.tls }, () => resolve(new RawConnection(s)))
        : net.connect({ host, port: Number(port) }, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean { return this.#closed; }

  /** Writes bytes as they are. */
  write(bytes: Buffer): void { this.socket.write(bytes); }

  /** The next frame, or null when the connection closes first (deadline: an Error). */
  next(timeoutMs = 5000): Promise<Buffer | null> {
    const f = this.#frames.shift();
    if (f) return Promise.resolve(f);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame and no close before the deadline')), timeoutMs);
      this.#waiters.push((fr) => { clearTimeout(timer); resolve(fr); });
    });
  }

  /** Sends a request; resolves with its decoded response, or null when the broker closes instead. */
  async request<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, req: Req): Promise<Res | null> {
    const w = new Writer();
    const correlationId = this.#corr++;
    encodeRequestHeader(w, api.requestHeaderVersion(version), { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId: 'raw-test' });
    api.encodeRequest(w, version, req);
    const body = Buffer.concat(w.finish());
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    this.socket.write(Buffer.concat([size, body]));
    const frame = await this.next();
    if (frame === null) return null;
    const r = new Reader(frame);
    const header = decodeResponseHeader(r, api.responseHeaderVersion(version));
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`);
    return api.decodeResponse(r, version);
  }

  /** Resolves true when the broker closes the connection before the deadline. */
  async closesWithin(ms = 5000): Promise<boolean> {
    if (this.#closed) return true;
    return Promise.race([this.closedPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  close(): void { this.socket.destroy(); }
}
