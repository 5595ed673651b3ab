// The broker's side of membership (Kafka's BrokerLifecycleManager): registers with the active controller at
// every start under a new incarnation id, heartbeats until the controller unfences it (it has caught up to its
// registration), then every `broker.heartbeat.interval.ms`; on shutdown asks for a controlled shutdown
// (wantShutDown) and waits until the controller says it may go. Transport-agnostic: everything goes through a
// ControllerChannel (in-process for a node running its own controller).
import type { Clock } from '../storage/clock.ts';
import type { Logger } from './log.ts';
import { ErrorCode, errorInfo } from '../protocol/generated/errors.ts';
import { BrokerRegistrationApi, makeBrokerRegistrationRequest, makeFeature, makeListener } from '../protocol/generated/broker-registration.ts';
import { BrokerHeartbeatApi, makeBrokerHeartbeatRequest } from '../protocol/generated/broker-heartbeat.ts';
import { SUPPORTED_FEATURES } from '../controller/features.ts';
import type { ControllerChannel } from './controller-channel.ts';

export interface LifecycleOptions {
  nodeId: number;
  clusterId: string;
  channel: ControllerChannel;
  clock: Clock;
  log: Logger;
  /** Advertised listeners to register (securityProtocol: Kafka's id, 0 = PLAINTEXT). */
  listeners: ReadonlyArray<{ name: string; host: string; port: number; securityProtocol?: number }>;
  rack: string | null;
  /** The highest metadata offset this broker has applied (sent in heartbeats). */
  metadataOffset: () => number;
  randomBytes: (n: number) => Buffer;
  /** `broker.heartbeat.interval.ms` (2000). */
  heartbeatIntervalMs?: number;
  /** `initial.broker.registration.timeout.ms` (60000): start fails if not unfenced by then. */
  registrationTimeoutMs?: number;
}

/** Kafka's BrokerState as far as the lifecycle goes. */
export type LifecycleState = 'starting' | 'recovery' | 'running' | 'pendingControlledShutdown' | 'shuttingDown';

/** Retry delay after an error answer or a lost request (Kafka backs off exponentially from 100 ms). */
const RETRY_MS = 100;
/** Between heartbeats while fenced and catching up, and during controlled shutdown. */
const FAST_MS = 10;

export class BrokerLifecycle {
  readonly incarnationId: string;
  state: LifecycleState = 'starting';
  brokerEpoch = -1n;
  readonly #o: LifecycleOptions;
  #timer: unknown = null;
  /** Ends the current wait early (close). */
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(o: LifecycleOptions) {
    this.#o = o;
    // A fresh UUID (v4) per start: Kafka re-registers with a new incarnation every time the process starts.
    const b = o.randomBytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    this.incarnationId = b.toString('base64url');
  }

  /** Registers, then heartbeats until unfenced (Kafka's initialUnfenceFuture). Rejects after the registration timeout. */
  async start(): Promise<void> {
    const o = this.#o;
    const deadline = o.clock.now() + (o.registrationTimeoutMs ?? 60_000);
    const wait = (ms: number) => this.#wait(ms);
    const check = (what: string) => {
      if (this.#closed) throw new Error('broker lifecycle closed');
      if (o.clock.now() >= deadline) throw new Error(`${what} did not complete within ${o.registrationTimeoutMs ?? 60_000} ms (initial.broker.registration.timeout.ms)`);
    };
    for (;;) {
      check('broker registration');
      const res = await this.#bounded(deadline, o.channel.send(BrokerRegistrationApi, makeBrokerRegistrationRequest({
        brokerId: o.nodeId, clusterId: o.clusterId, incarnationId: this.incarnationId, rack: o.rack,
        listeners: o.listeners.map((l) => makeListener({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol ?? 0 })),
        // Every feature this broker serves, as Kafka's broker sends its supported ranges.
        features: [...SUPPORTED_FEATURES].map(([name, r]) => makeFeature({ name, minSupportedVersion: r.min, maxSupportedVersion: r.max })),
      })));
      if (res?.errorCode === ErrorCode.NONE) { this.brokerEpoch = res.brokerEpoch; break; }
      if (res) o.log.warn(`broker registration refused: ${errorInfo(res.errorCode)?.name ?? res.errorCode}; retrying`);
      await wait(RETRY_MS);
    }
    this.state = 'recovery';
    for (;;) {
      check('unfencing after registration');
      const r = await this.#bounded(deadline, this.#heartbeat(false));
      if (r && r.errorCode === ErrorCode.NONE && !r.isFenced) break;
      await wait(r ? FAST_MS : RETRY_MS);
    }
    this.state = 'running';
    o.log.info(`broker ${o.nodeId} registered at epoch ${this.brokerEpoch} and unfenced`);
  }

  /** Periodic heartbeats once serving (Kafka's steady state). */
  startHeartbeats(): void {
    const o = this.#o;
    const tick = (): void => {
      this.#timer = null;
      if (this.#closed || this.state !== 'running') return;
      void this.#heartbeat(false).then((r) => {
        if (r?.errorCode === ErrorCode.STALE_BROKER_EPOCH) o.log.error(`broker heartbeat: STALE_BROKER_EPOCH (epoch ${this.brokerEpoch}); this broker's registration was replaced`);
        if (!this.#closed && this.state === 'running') this.#timer = o.clock.setTimeout(tick, o.heartbeatIntervalMs ?? 2000);
      });
    };
    this.#timer = o.clock.setTimeout(tick, o.heartbeatIntervalMs ?? 2000);
  }

  /**
   * Controlled shutdown: heartbeats with wantShutDown until the controller answers shouldShutDown (it has moved
   * this broker's leadership away and fenced it). Gives up after `timeoutMs` (the controller fences a silent
   * broker after its session timeout anyway).
   */
  async controlledShutdown(timeoutMs: number): Promise<boolean> {
    const o = this.#o;
    if (this.state !== 'running') return false;
    this.#clearTimer();
    this.state = 'pendingControlledShutdown';
    const deadline = o.clock.now() + timeoutMs;
    // The answer that starts the controlled shutdown has committed its records; ask again at once (nothing but
    // this loop may be keeping the process alive: timers are unref'd), then back off.
    let again = true;
    while (o.clock.now() < deadline) {
      const r = await this.#bounded(deadline, this.#heartbeat(true));
      if (r?.errorCode === ErrorCode.NONE && r.shouldShutDown) {
        this.state = 'shuttingDown';
        return true;
      }
      if (r?.errorCode === ErrorCode.STALE_BROKER_EPOCH || this.#closed) break;
      if (r?.errorCode === ErrorCode.NONE && again) { again = false; continue; }
      await this.#wait(r ? FAST_MS : RETRY_MS);
    }
    o.log.warn(`controlled shutdown of broker ${o.nodeId} did not complete`);
    this.state = 'shuttingDown';
    return false;
  }

  close(): void {
    this.#closed = true;
    this.#clearTimer();
    this.#wake?.();
  }

  /**
   * `p`, or null once `deadline` passes first (a controller whose log is stuck never answers: start and shutdown
   * must still end) or it fails (no answer).
   */
  #bounded<T>(deadline: number, p: Promise<T>): Promise<T | null> {
    const clock = this.#o.clock;
    let timer: unknown = null;
    const expiry = new Promise<null>((resolve) => { timer = clock.setTimeout(() => resolve(null), Math.max(0, deadline - clock.now())); });
    return Promise.race([p.catch(() => null), expiry]).finally(() => clock.clearTimeout(timer));
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => { this.#wake = null; this.#timer = null; resolve(); };
      this.#wake = () => { this.#clearTimer(); done(); };
      this.#timer = this.#o.clock.setTimeout(done, ms);
    });
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #heartbeat(wantShutDown: boolean) {
    const o = this.#o;
    return o.channel.send(BrokerHeartbeatApi, makeBrokerHeartbeatRequest({
      brokerId: o.nodeId, brokerEpoch: this.brokerEpoch, currentMetadataOffset: BigInt(o.metadataOffset()), wantFence: false, wantShutDown,
    })).catch(() => null);
  }
}
