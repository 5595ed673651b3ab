// Shared types of the Raft core: messages (the generated Kafka codecs' request/response types), the injected
// transport, the state-machine listener and the quorum configuration.

import type { VoteRequest, VoteResponse } from '../../protocol/generated/vote.ts';
import type { BeginQuorumEpochRequest, BeginQuorumEpochResponse } from '../../protocol/generated/begin-quorum-epoch.ts';
import type { EndQuorumEpochRequest, EndQuorumEpochResponse } from '../../protocol/generated/end-quorum-epoch.ts';
import type { FetchRequest, FetchResponse } from '../../protocol/generated/fetch.ts';
import type { FetchSnapshotRequest, FetchSnapshotResponse } from '../../protocol/generated/fetch-snapshot.ts';

export const METADATA_TOPIC = '__cluster_metadata';
/** Kafka's Uuid.METADATA_TOPIC_ID (0, 1) in base64. */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The API versions the core speaks (Kafka 4.x's latest for each). */
export const RAFT_API_VERSIONS = { Vote: 2, BeginQuorumEpoch: 1, EndQuorumEpoch: 1, Fetch: 17, FetchSnapshot: 1 } as const;
export type RaftApi = keyof typeof RAFT_API_VERSIONS;

export interface RequestBodies {
  Vote: VoteRequest;
  BeginQuorumEpoch: BeginQuorumEpochRequest;
  EndQuorumEpoch: EndQuorumEpochRequest;
  Fetch: FetchRequest;
  FetchSnapshot: FetchSnapshotRequest;
}
export interface ResponseBodies {
  Vote: VoteResponse;
  BeginQuorumEpoch: BeginQuorumEpochResponse;
  EndQuorumEpoch: EndQuorumEpochResponse;
  Fetch: FetchResponse;
  FetchSnapshot: FetchSnapshotResponse;
}

export type RaftRequest = { [K in RaftApi]: { kind: 'request'; api: K; correlationId: number; body: RequestBodies[K] } }[RaftApi];
export type RaftResponse = { [K in RaftApi]: { kind: 'response'; api: K; correlationId: number; body: ResponseBodies[K] } }[RaftApi];
export type RaftMessage = RaftRequest | RaftResponse;

/** Outbound side of the network: a request goes to a voter id; a response goes back to the request's source. */
export interface RaftTransport {
  send(to: number, message: RaftMessage): void;
}

export interface OffsetAndEpoch {
  offset: number;
  epoch: number;
}

export function compareOffsetAndEpoch(a: OffsetAndEpoch, b: OffsetAndEpoch): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.offset - b.offset;
}

/** A committed data batch as handed to the state machine (control batches are not delivered). */
export interface CommittedBatch {
  baseOffset: number;
  lastOffset: number;
  epoch: number;
  /** Record values (opaque bytes; the metadata-record layer decodes them). */
  records: Buffer[];
  /** The batch bytes as stored. */
  bytes: Buffer;
}

export interface LeaderAndEpoch {
  leaderId: number; // -1: unknown
  epoch: number;
}

/** Kafka's RaftClient.Listener. */
export interface RaftListener {
  handleCommit(batch: CommittedBatch): void;
  /** Called with the records of a snapshot (data records only) before commits after its end offset. */
  handleLoadSnapshot(snapshotId: OffsetAndEpoch, records: Buffer[]): void;
  handleLeaderChange(leader: LeaderAndEpoch): void;
  /** The high watermark advanced (after the commits up to it were delivered); lets a starting leader wait without polling. */
  handleHighWatermark?(hw: number): void;
}

/** controller.quorum.* settings with Kafka's defaults. */
export interface QuorumConfig {
  electionTimeoutMs: number;
  fetchTimeoutMs: number;
  electionBackoffMaxMs: number;
  /** Fetch long-poll wait (Kafka's fetchMaxWaitMs 500). */
  fetchMaxWaitMs: number;
  /** Retry backoff for requests that failed or timed out (controller.quorum.retry.backoff.ms 20). */
  retryBackoffMs: number;
  /** Request timeout (controller.quorum.request.timeout.ms 2000). */
  requestTimeoutMs: number;
  /** Bytes per Fetch / FetchSnapshot response. */
  fetchMaxBytes: number;
}

export const DEFAULT_QUORUM_CONFIG: QuorumConfig = {
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  fetchMaxWaitMs: 500,
  retryBackoffMs: 20,
  requestTimeoutMs: 2000,
  fetchMaxBytes: 8 * 1024 * 1024,
};

export interface VoterEndpoint {
  id: number;
  host: string;
  port: number;
}

/** Parses controller.quorum.voters: `id@host:port,...` (Kafka's QuorumConfig.parseVoterConnections). */
export function parseQuorumVoters(value: string): VoterEndpoint[] {
  const out: VoterEndpoint[] = [];
  if (value.trim() === '') return out;
  for (const entry of value.split(',')) {
    const m = /^\s*(\d+)@(\[[^\]]+\]|[^:]+):(\d+)\s*$/.exec(entry);
    if (!m) throw new Error(`controller.quorum.voters: invalid entry "${entry}" (expected id@host:port)`);
    const id = Number(m[1]);
    const port = Number(m[3]);
    if (port > 65535) throw new Error(`controller.quorum.voters: invalid port in "${entry}"`);
    if (out.some((v) => v.id === id)) throw new Error(`controller.quorum.voters: duplicate voter id ${id}`);
    out.push({ id, host: m[2]!.replace(/^\[|\]$/g, ''), port });
  }
  return out;
}

/** Thrown by propose()/append() on a node that is not the leader (Kafka's NotLeaderException → NOT_CONTROLLER). */
export class NotLeaderError extends Error {
  readonly errorCode = 41; // NOT_CONTROLLER
  constructor(message: string) {
    super(message);
    this.name = 'NotLeaderError';
  }
}
