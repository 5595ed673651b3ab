// Client telemetry (KIP-714) as a Kafka 4.4 broker answers it without a metrics receiver plugin (its
// ClientMetricsManager with no subscriptions): every client gets an empty subscription — no requested metrics,
// push interval 5 min — so a client that asks anyway never has anything to push. Kafka then also leaves
// GetTelemetrySubscriptions and PushTelemetry out of ApiVersions, so clients (the Java client's default
// enable.metrics.push=true) do not ask at all; gregor does the same (their rows in handlers/index.ts are hidden).
//
// Per client instance (Kafka's ClientMetricsInstance): the subscription id, the last get/push times (a get or a
// push within the push interval is THROTTLING_QUOTA_EXCEEDED, except the first push after a get and a terminating
// push), and the terminating flag (nothing accepted after it). Kafka drops an instance when its connection closes;
// gregor keeps it until it has been idle for max(60 s, 3 × push interval) — Kafka's expiry timer — with at most
// 16,384 instances (Kafka's cache size; the least recently used goes first).
import { crc32c } from '@node-rs/crc32';
import { ErrorCode } from '../protocol/generated/errors.ts';
import type { GetTelemetrySubscriptionsResponse } from '../protocol/generated/get-telemetry-subscriptions.ts';
import type { PushTelemetryRequest } from '../protocol/generated/push-telemetry.ts';
import type { BrokerContext } from './context.ts';
import { randomUuid, ZERO_UUID } from './topics.ts';

/** ClientMetricsConfigs.DEFAULT_INTERVAL_MS. */
export const PUSH_INTERVAL_MS = 300_000;
/** Kafka's telemetry.max.bytes default (ServerConfigs.CLIENT_TELEMETRY_MAX_BYTES). */
export const TELEMETRY_MAX_BYTES = 1_048_576;
/** ZSTD, LZ4, GZIP, SNAPPY: ClientMetricsManager.SUPPORTED_COMPRESSION_TYPES, in its order. */
const ACCEPTED_COMPRESSION = [4, 3, 1, 2];
const CACHE_MAX_SIZE = 16_384;
const EXPIRY_MS = Math.max(60_000, 3 * PUSH_INTERVAL_MS);
/** Uuid.RESERVED: the zero UUID and the metadata topic id. */
const RESERVED = new Set([ZERO_UUID, 'AAAAAAAAAAAAAAAAAAAAAQ']);

interface Instance { subscriptionId: number; lastGet: number; lastPush: number; terminating: boolean; lastSeen: number }

/** Kafka's computeSubscriptionId: CRC32C of `metrics.toString() + pushIntervalMs`, XOR the id's Uuid.hashCode(). */
export function subscriptionId(clientInstanceId: string): number {
  const b = Buffer.from(clientInstanceId, 'base64url');
  const hash = b.readInt32BE(0) ^ b.readInt32BE(4) ^ b.readInt32BE(8) ^ b.readInt32BE(12);
  return (crc32c(Buffer.from(`[]${PUSH_INTERVAL_MS}`)) | 0) ^ hash;
}

export class ClientTelemetry {
  readonly #instances = new Map<string, Instance>();
  readonly #randomBytes: (n: number) => Buffer;

  constructor(randomBytes: (n: number) => Buffer) { this.#randomBytes = randomBytes; }

  get size(): number { return this.#instances.size; }

  #instance(id: string, now: number): Instance {
    for (const [k, v] of this.#instances) {
      if (now - v.lastSeen < EXPIRY_MS && this.#instances.size < CACHE_MAX_SIZE) break;
      this.#instances.delete(k); // oldest first: expired, or over the cap
    }
    let inst = this.#instances.get(id);
    if (inst) this.#instances.delete(id);
    else inst = { subscriptionId: subscriptionId(id), lastGet: 0, lastPush: 0, terminating: false, lastSeen: now };
    inst.lastSeen = now;
    this.#instances.set(id, inst); // most recently used last
    return inst;
  }

  getSubscription(requestedId: string, now: number): Partial<GetTelemetrySubscriptionsResponse> {
    let id = requestedId;
    if (id === ZERO_UUID) {
      do id = randomUuid(this.#randomBytes); while (this.#instances.has(id));
    }
    const inst = this.#instance(id, now);
    if (now - Math.max(inst.lastGet, inst.lastPush) < PUSH_INTERVAL_MS) return { errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED };
    inst.lastGet = now;
    return {
      errorCode: ErrorCode.NONE, clientInstanceId: id, subscriptionId: inst.subscriptionId,
      acceptedCompressionTypes: ACCEPTED_COMPRESSION, pushIntervalMs: PUSH_INTERVAL_MS,
      telemetryMaxBytes: TELEMETRY_MAX_BYTES, deltaTemporality: true, requestedMetrics: [],
    };
  }

  /** The error code for a push (the metrics go nowhere: there is no receiver). */
  push(req: PushTelemetryRequest, now: number): number {
    if (RESERVED.has(req.clientInstanceId)) return ErrorCode.INVALID_REQUEST;
    const inst = this.#instance(req.clientInstanceId, now);
    try {
      if (inst.terminating) return ErrorCode.INVALID_REQUEST;
      // The first push after a get is accepted early: clients jitter the interval.
      const accepted = inst.lastGet > inst.lastPush || now - inst.lastPush >= PUSH_INTERVAL_MS;
      if (accepted) inst.lastPush = now;
      else if (!req.terminating) return ErrorCode.THROTTLING_QUOTA_EXCEEDED;
      if (req.subscriptionId !== inst.subscriptionId) return ErrorCode.UNKNOWN_SUBSCRIPTION_ID;
      if (req.compressionType < 0 || req.compressionType > 4) return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
      if (req.metrics.length > TELEMETRY_MAX_BYTES) return ErrorCode.TELEMETRY_TOO_LARGE;
      return ErrorCode.NONE;
    } finally {
      inst.terminating = req.terminating;
    }
  }
}

const perBroker = new WeakMap<BrokerContext, ClientTelemetry>();

export function clientTelemetry(broker: BrokerContext): ClientTelemetry {
  let t = perBroker.get(broker);
  if (!t) perBroker.set(broker, (t = new ClientTelemetry(broker.randomBytes)));
  return t;
}
