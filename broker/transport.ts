// How listeners accept connections, injectable (BrokerOptions.transport) so something other than TCP can carry
// them — an in-memory network for simulations (partitions between nodes) or a wrapper that injects network
// faults. The default is node:net. A connection is any Duplex byte stream; the broker reads the peer address
// and TCP_NODELAY where the stream has them.
import net from 'node:net';
import type { Duplex } from 'node:stream';

/** One accepted connection: a byte stream, with the peer's address when the transport has one. */
export type TransportSocket = Duplex & {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  setNoDelay?(noDelay?: boolean): unknown;
};

export interface ListenSpec {
  /** The listener name (PLAINTEXT, …). */
  readonly name: string;
  /** Host to bind; undefined: every interface. */
  readonly host: string | undefined;
  /** 0: the transport picks one. */
  readonly port: number;
  /** socket.listen.backlog.size. */
  readonly backlog: number;
  /** Errors of the listening server after it is bound (logged by the broker). */
  onError(err: Error): void;
}

export interface BoundServer {
  /** The port bound (the one picked when the spec asked for 0). */
  readonly port: number;
  /** Stops accepting; resolves once closed (open connections are the broker's to close). */
  close(): Promise<void>;
}

export interface Transport {
  /** Starts accepting connections for one listener; rejects when it cannot bind. */
  listen(spec: ListenSpec, onConnection: (socket: TransportSocket) => void): Promise<BoundServer>;
}

/** TCP through node:net. */
export const netTransport: Transport = {
  listen(spec, onConnection) {
    const server = net.createServer(onConnection);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: spec.port, host: spec.host, backlog: spec.backlog }, () => {
        server.off('error', reject);
        // Only once bound: a failure to bind is the caller's (rejected), not logged a second time.
        server.on('error', (err) => spec.onError(err));
        resolve({
          port: (server.address() as net.AddressInfo).port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  },
};
