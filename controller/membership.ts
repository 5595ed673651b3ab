// Broker membership on the active controller (Kafka's ClusterControlManager + BrokerHeartbeatManager +
// ReplicationControlManager.processBrokerHeartbeat, reduced to what gregor needs): registration with a broker
// epoch (the offset of the RegisterBrokerRecord), heartbeats that unfence a broker once it has caught up to its
// registration, controlled shutdown, and fencing of a broker whose session (`broker.session.timeout.ms`) expired.
//
// Sessions are in memory on the active controller only, as Kafka's: on activation every unfenced broker gets a
// fresh session (Kafka's ClusterControlManager.activate). Records are computed against the controller's latest
// image (committed + in flight) and proposed in the same synchronous step.
import type { Clock } from '../storage/clock.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { type MetadataRecord, MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { makeBrokerEndpoint, makeBrokerFeature, makeRegisterBrokerRecord } from '../protocol/generated/metadata/register-broker-record.ts';
import { makeBrokerRegistrationChangeRecord } from '../protocol/generated/metadata/broker-registration-change-record.ts';
import { makePartitionChangeRecord } from '../protocol/generated/metadata/partition-change-record.ts';
import type { BrokerRegistrationRequest } from '../protocol/generated/broker-registration.ts';
import type { BrokerHeartbeatRequest } from '../protocol/generated/broker-heartbeat.ts';
import { type MetadataImage, METADATA_VERSION_FEATURE } from './metadata/image.ts';
import { isDirectoryAssignmentSupported, MetadataVersion, registerBrokerRecordVersion } from './metadata/metadata-version.ts';

/** Kafka's defaults: `broker.session.timeout.ms`, `broker.heartbeat.interval.ms`. */
export const DEFAULT_SESSION_TIMEOUT_MS = 9000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 2000;

/** A refused membership request: `code` is the Kafka error code to answer. */
export class MembershipError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'MembershipError';
    this.code = code;
  }
}

/** What a heartbeat answers (BrokerHeartbeatResponse's fields). */
export interface HeartbeatReply {
  isCaughtUp: boolean;
  isFenced: boolean;
  shouldShutDown: boolean;
}

/** Kafka's BrokerControlState. */
type BrokerState = 'fenced' | 'unfenced' | 'controlledShutdown' | 'shutdownNow';

interface Session {
  /** Last heartbeat (or activation) time; only unfenced brokers' sessions expire. */
  lastContactMs: number;
  metadataOffset: number;
  /** Offset of the record that put the broker in controlled shutdown (Kafka's controlledShutdownOffset). */
  controlledShutdownOffset: number;
}

export class BrokerMembership {
  readonly #sessions = new Map<number, Session>();
  readonly #clock: Clock;
  readonly #sessionTimeoutMs: number;
  readonly #clusterId: string;

  constructor(o: { clock: Clock; clusterId: string; sessionTimeoutMs?: number }) {
    this.#clock = o.clock;
    this.#clusterId = o.clusterId;
    this.#sessionTimeoutMs = o.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  }

  get sessionTimeoutMs(): number { return this.#sessionTimeoutMs; }

  /**
   * Becoming active: every registered broker gets a session starting now (Kafka's activate). `exempt`: a broker
   * id whose previous holder is known to be gone (the co-located broker of this controller's own process).
   */
  activate(image: MetadataImage, exempt?: number): void {
    this.#sessions.clear();
    const now = this.#clock.now();
    for (const b of image.brokers.values()) {
      if (b.id === exempt) continue;
      this.#sessions.set(b.id, { lastContactMs: b.fenced ? -Infinity : now, metadataOffset: -1, controlledShutdownOffset: -1 });
    }
  }

  #hasValidSession(id: number, image: MetadataImage): boolean {
    const s = this.#sessions.get(id);
    const b = image.brokers.get(id);
    if (!s || !b || b.fenced) return false;
    return s.lastContactMs + this.#sessionTimeoutMs > this.#clock.now();
  }

  /**
   * BrokerRegistration → the RegisterBrokerRecord (fenced) whose offset will be `nextOffset`, its epoch.
   * Errors as Kafka's ClusterControlManager.registerBroker.
   */
  register(req: BrokerRegistrationRequest, image: MetadataImage, nextOffset: number, metadataVersion: number): { record: MetadataRecord; epoch: bigint } {
    if (req.clusterId !== this.#clusterId) {
      throw new MembershipError(ErrorCode.INCONSISTENT_CLUSTER_ID, `Expected cluster ID ${this.#clusterId}, but got cluster ID ${req.clusterId}`);
    }
    const existing = image.brokers.get(req.brokerId);
    // A fenced broker (a clean shutdown ends fenced) has no session; previousBrokerEpoch only matters to Kafka's
    // unclean-shutdown ELR handling, which gregor leaves out.
    if (existing && existing.incarnationId !== req.incarnationId) {
      if (this.#hasValidSession(req.brokerId, image)) {
        throw new MembershipError(ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'Another broker is registered with that broker id. If the broker was recently restarted this should self-resolve once the heartbeat manager expires the broker\'s session.');
      }
    }
    if (req.isMigratingZkBroker) throw new MembershipError(ErrorCode.BROKER_ID_NOT_REGISTERED, 'Controller does not support registering ZK brokers.');
    const features = req.features.map((f) => ({ name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion }));
    // Brokers that send no metadata.version range are taken to support only the oldest level (Kafka's rule).
    if (!features.some((f) => f.name === METADATA_VERSION_FEATURE)) {
      features.push({ name: METADATA_VERSION_FEATURE, minSupportedVersion: MetadataVersion.MINIMUM, maxSupportedVersion: MetadataVersion.MINIMUM });
    }
    // Every finalized feature must be in the broker's range; one it does not name counts as 0–0 (Kafka's
    // ClusterControlManager), so a broker unaware of group.version=1 is refused.
    for (const [name, finalized] of image.features) {
      const f = features.find((x) => x.name === name) ?? { name, minSupportedVersion: 0, maxSupportedVersion: 0 };
      if (finalized < f.minSupportedVersion || finalized > f.maxSupportedVersion) {
        throw new MembershipError(ErrorCode.UNSUPPORTED_VERSION, `Unable to register because the broker does not support version ${finalized} of ${name}. It wants a version between ${f.minSupportedVersion} and ${f.maxSupportedVersion}, inclusive.`);
      }
    }
    const epoch = BigInt(nextOffset);
    const record: MetadataRecord = {
      type: T.RegisterBroker,
      version: registerBrokerRecordVersion(metadataVersion),
      data: makeRegisterBrokerRecord({
        brokerId: req.brokerId, incarnationId: req.incarnationId, brokerEpoch: epoch, rack: req.rack, fenced: true,
        endPoints: req.listeners.map((l) => makeBrokerEndpoint({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })),
        features: features.map((f) => makeBrokerFeature(f)),
        logDirs: req.logDirs,
      }),
    };
    // A new registration starts fenced: no session until it heartbeats.
    this.#sessions.set(req.brokerId, { lastContactMs: -Infinity, metadataOffset: -1, controlledShutdownOffset: -1 });
    return { record, epoch };
  }

  /**
   * BrokerHeartbeat → the records of the broker's state change (if any) and the reply (Kafka's
   * processBrokerHeartbeat and BrokerHeartbeatManager.calculateNextBrokerState). `nextOffset`: where the
   * records will land (the controlled-shutdown offset).
   */
  heartbeat(req: BrokerHeartbeatRequest, image: MetadataImage, nextOffset: number, mv: number): { records: MetadataRecord[]; reply: HeartbeatReply } {
    const b = image.brokers.get(req.brokerId);
    if (!b) throw new MembershipError(ErrorCode.STALE_BROKER_EPOCH, `No broker registration found for broker id ${req.brokerId}`);
    if (b.epoch !== req.brokerEpoch) throw new MembershipError(ErrorCode.STALE_BROKER_EPOCH, `Expected broker epoch ${b.epoch}, but got broker epoch ${req.brokerEpoch}`);
    const registrationOffset = Number(b.epoch);
    const offset = Number(req.currentMetadataOffset);
    let s = this.#sessions.get(b.id);
    if (!s) this.#sessions.set(b.id, s = { lastContactMs: -Infinity, metadataOffset: -1, controlledShutdownOffset: -1 });
    const current: BrokerState = b.fenced ? 'fenced' : b.inControlledShutdown ? 'controlledShutdown' : 'unfenced';
    const leads = leadsPartitions(image, b.id);
    let next: BrokerState;
    switch (current) {
      case 'fenced':
        next = req.wantShutDown ? 'shutdownNow' : !req.wantFence && offset >= registrationOffset ? 'unfenced' : 'fenced';
        break;
      case 'unfenced':
        if (req.wantFence) next = req.wantShutDown ? 'shutdownNow' : 'fenced';
        else if (req.wantShutDown) next = leads ? 'controlledShutdown' : 'shutdownNow';
        else next = 'unfenced';
        break;
      default:
        // In controlled shutdown: done once it leads nothing and every active broker has seen the record.
        next = !leads && s.controlledShutdownOffset <= this.#lowestActiveOffset(image, b.id) ? 'shutdownNow' : 'controlledShutdown';
    }
    const records: MetadataRecord[] = [];
    const change = (fenced: number, inControlledShutdown: number): void => {
      records.push(changeRecord(mv, b.id, b.epoch, fenced, inControlledShutdown));
    };
    if (next !== current) {
      if (next === 'fenced' || next === 'shutdownNow') change(1, 0);
      else if (next === 'unfenced') {
        change(-1, 0);
        // Kafka's handleBrokerUnfenced: partitions left leaderless with this broker in their ISR get it back.
        records.push(...electLeaderless(image, b.id));
      } else {
        // Kafka's handleBrokerInControlledShutdown: leadership moves to another active ISR member, else none.
        records.push(...moveLeadership(image, b.id));
        change(0, 1);
        s.controlledShutdownOffset = nextOffset + records.length - 1;
      }
    }
    s.metadataOffset = offset;
    s.lastContactMs = next === 'unfenced' || next === 'controlledShutdown' ? this.#clock.now() : -Infinity;
    return {
      records,
      reply: { isCaughtUp: offset >= registrationOffset, isFenced: next === 'fenced' || next === 'shutdownNow', shouldShutDown: next === 'shutdownNow' },
    };
  }

  /** The lowest metadata offset active brokers (unfenced, not shutting down) have reported; +∞ without any. */
  #lowestActiveOffset(image: MetadataImage, except: number): number {
    let low = Infinity;
    for (const b of image.brokers.values()) {
      if (b.id === except || b.fenced || b.inControlledShutdown) continue;
      low = Math.min(low, this.#sessions.get(b.id)?.metadataOffset ?? -1);
    }
    return low;
  }

  /** When the next session expires (ms since epoch), or null when no unfenced broker has one. */
  nextExpiryMs(image: MetadataImage): number | null {
    let next: number | null = null;
    for (const [id, s] of this.#sessions) {
      const b = image.brokers.get(id);
      if (!b || b.fenced || s.lastContactMs === -Infinity) continue;
      const at = s.lastContactMs + this.#sessionTimeoutMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Records fencing one broker whose session has expired (Kafka fences one per event), or null. */
  fenceOneStale(image: MetadataImage, mv: number): { id: number; records: MetadataRecord[] } | null {
    const now = this.#clock.now();
    for (const [id, s] of this.#sessions) {
      const b = image.brokers.get(id);
      if (!b || b.fenced || s.lastContactMs === -Infinity || s.lastContactMs + this.#sessionTimeoutMs > now) continue;
      s.lastContactMs = -Infinity;
      // Kafka's handleBrokerFenced: leadership moves away (or to none), then the fence.
      const records = moveLeadership(image, id);
      records.push(changeRecord(mv, id, b.epoch, 1, 0));
      return { id, records };
    }
    return null;
  }
}

/** BrokerRegistrationChangeRecord: v1 has InControlledShutdown (every level Kafka 4 reads), v2 log dirs. */
function changeRecord(mv: number, brokerId: number, brokerEpoch: bigint, fenced: number, inControlledShutdown: number): MetadataRecord {
  return {
    type: T.BrokerRegistrationChange,
    version: isDirectoryAssignmentSupported(mv) ? 2 : 1,
    data: makeBrokerRegistrationChangeRecord({ brokerId, brokerEpoch, fenced, inControlledShutdown }),
  };
}

function leadsPartitions(image: MetadataImage, id: number): boolean {
  for (const t of image.topics.byId.values()) for (const p of t.partitions.values()) if (p.leader === id) return true;
  return false;
}

/**
 * PartitionChangeRecords moving leadership off `id`: to the first other ISR member that is active, else to no
 * leader (-1) with the ISR kept, as Kafka does for the last ISR member.
 */
function moveLeadership(image: MetadataImage, id: number): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  const active = (n: number) => { const b = image.brokers.get(n); return !!b && !b.fenced && !b.inControlledShutdown; };
  for (const t of image.topics.byId.values()) {
    for (const [partitionId, p] of t.partitions) {
      if (p.leader !== id) continue;
      const others = p.isr.filter((n) => n !== id && active(n));
      const isr = others.length > 0 ? p.isr.filter((n) => n !== id) : null;
      out.push({ type: T.PartitionChange, version: 0, data: makePartitionChangeRecord({ partitionId, topicId: t.id, leader: others[0] ?? -1, isr }) });
    }
  }
  return out;
}

function electLeaderless(image: MetadataImage, id: number): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const t of image.topics.byId.values()) {
    for (const [partitionId, p] of t.partitions) {
      if (p.leader === -1 && p.isr.includes(id)) out.push({ type: T.PartitionChange, version: 0, data: makePartitionChangeRecord({ partitionId, topicId: t.id, leader: id }) });
    }
  }
  return out;
}
