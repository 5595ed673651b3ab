// Raft messages to and from bytes with the generated Kafka codecs (the request/response bodies, without the
// request header: the transport owns framing). The simulation sends every message through here so the wire
// format is exercised on each delivery.

import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { VoteApi } from '../../protocol/generated/vote.ts';
import { BeginQuorumEpochApi } from '../../protocol/generated/begin-quorum-epoch.ts';
import { EndQuorumEpochApi } from '../../protocol/generated/end-quorum-epoch.ts';
import { FetchApi } from '../../protocol/generated/fetch.ts';
import { FetchSnapshotApi } from '../../protocol/generated/fetch-snapshot.ts';
import { RAFT_API_VERSIONS, type RaftApi, type RaftMessage } from './types.ts';

interface Codec {
  encodeRequest(w: Writer, v: number, m: never): void;
  encodeResponse(w: Writer, v: number, m: never): void;
  decodeRequest(r: Reader, v: number): unknown;
  decodeResponse(r: Reader, v: number): unknown;
}

const CODECS: Record<RaftApi, Codec> = {
  Vote: VoteApi as unknown as Codec,
  BeginQuorumEpoch: BeginQuorumEpochApi as unknown as Codec,
  EndQuorumEpoch: EndQuorumEpochApi as unknown as Codec,
  Fetch: FetchApi as unknown as Codec,
  FetchSnapshot: FetchSnapshotApi as unknown as Codec,
};

export function encodeRaftMessage(msg: RaftMessage): Buffer {
  const c = CODECS[msg.api];
  const v = RAFT_API_VERSIONS[msg.api];
  const w = new Writer(256);
  if (msg.kind === 'request') c.encodeRequest(w, v, msg.body as never);
  else c.encodeResponse(w, v, msg.body as never);
  return w.finishBuffer();
}

/** Throws ProtocolError on malformed bytes. */
export function decodeRaftMessage(kind: 'request' | 'response', api: RaftApi, correlationId: number, buf: Buffer): RaftMessage {
  const c = CODECS[api];
  const v = RAFT_API_VERSIONS[api];
  const r = new Reader(buf);
  const body = kind === 'request' ? c.decodeRequest(r, v) : c.decodeResponse(r, v);
  return { kind, api, correlationId, body } as RaftMessage;
}
