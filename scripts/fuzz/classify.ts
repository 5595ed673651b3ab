// What the broker owes a frame, judged with the generated codec (the same one the broker uses):
//   answer   — well-formed request of a served API/version: an answer with its correlation id must come
//   noAnswer — well-formed Produce with acks=0: no answer; the broker closes if it fails (as Kafka)
//   mayClose — malformed, unknown API, unsupported version, Produce v0–2: an answer with its
//              correlation id, or the connection closed; never anything else
import { apis } from '../../protocol/generated/index.ts';
import { decodeRequestHeader } from '../../protocol/generated/request-header.ts';
import { ProtocolError, Reader } from '../../protocol/reader.ts';
import type { ServedApi } from './corpus.ts';

export type FrameKind = 'answer' | 'noAnswer' | 'mayClose';

export interface FrameInfo {
  kind: FrameKind;
  /** Correlation id the broker will read, if the frame is long enough to carry one. */
  corr: number | null;
  apiKey: number;
  version: number;
  /** The declared size differs from the bytes sent: later frames on this connection are not what we sent. */
  desync: boolean;
  /** The API may hold its answer (long poll, rebalance), so a missing answer at the deadline is tolerated. */
  delayable: boolean;
  /** The decoded request, for well-formed frames. */
  request?: unknown;
  /** The codec's decoder threw something other than ProtocolError: a codec bug. */
  decoderBug?: string;
}

const DELAYABLE = new Set([1, 11, 14]);

export function classify(frame: Buffer, served: ReadonlyMap<number, ServedApi>, maxFrameBytes: number): FrameInfo {
  const info: FrameInfo = { kind: 'mayClose', corr: null, apiKey: -1, version: -1, desync: false, delayable: false };
  if (frame.length < 4) { info.desync = true; return info; }
  const declared = frame.readInt32BE(0);
  const have = frame.length - 4;
  if (declared !== have) info.desync = true;
  if (declared < 0 || declared > maxFrameBytes || declared > have) return info;
  const body = frame.subarray(4, 4 + declared);
  if (body.length < 8) return info;
  info.apiKey = body.readInt16BE(0);
  info.version = body.readInt16BE(2);
  info.corr = body.readInt32BE(4);
  info.delayable = DELAYABLE.has(info.apiKey);
  const s = served.get(info.apiKey);
  if (!s || info.version < s.servedMin || info.version > s.max) return info;
  const api = apis[info.apiKey]!;
  try {
    const r = new Reader(body);
    decodeRequestHeader(r, api.requestHeaderVersion(info.version));
    info.request = api.decodeRequest(r, info.version);
  } catch (err) {
    if (!(err instanceof ProtocolError)) info.decoderBug = String((err as Error)?.stack ?? err);
    return info;
  }
  info.kind = info.apiKey === 0 && (info.request as { acks: number }).acks === 0 ? 'noAnswer' : 'answer';
  return info;
}

