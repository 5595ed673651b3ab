// One connection's frames against what the broker sent back: matches answers to requests by
// correlation id, in order, and says what the broker owed but did not deliver.
import { apis } from '../../protocol/generated/index.ts';
import { decodeResponseHeader } from '../../protocol/generated/response-header.ts';
import { Reader } from '../../protocol/reader.ts';
import type { FrameInfo } from './classify.ts';

export type DefectKind =
  | 'closed-without-answer' // a well-formed request got no answer: the connection was closed
  | 'closed-pipelined' // as above, but a malformed frame was pipelined behind it: the close dropped an answer already owed
  | 'no-answer' // a well-formed request got no answer by the deadline, connection open
  | 'wrong-correlation-id' // an answer whose correlation id matches no request it could answer
  | 'out-of-order' // an answer overtook the answer to an earlier well-formed request
  | 'answered-acks0' // Produce acks=0 got an answer
  | 'undecodable-response' // the answer does not decode with the codec for its request's version
  | 'decoder-bug' // the generated request decoder threw something other than ProtocolError
  | 'internal-error' // the broker logged an internal error (an exception from our code)
  | 'healthy-client' // the well-behaved connection was not served correctly
  | 'process-died';

export interface Defect {
  kind: DefectKind;
  /** Index of the frame the defect is about (-1: not tied to one frame). */
  frame: number;
  apiKey: number;
  version: number;
  detail: string;
  /** The decoded request, when well-formed. */
  request?: unknown;
}

export class ConnectionCheck {
  readonly infos: FrameInfo[];
  readonly indexes: number[];
  readonly answered: boolean[];
  readonly defects: Defect[] = [];
  /** Frames at or past this index may be lost to a close (the first one that is not owed an answer, or after a size lie). */
  readonly boundary: number;
  #next = 0;
  #desyncAt: number;
  unattributed = 0;

  constructor(infos: FrameInfo[], indexes: number[]) {
    this.infos = infos;
    this.indexes = indexes;
    this.answered = infos.map(() => false);
    let b = infos.length;
    this.#desyncAt = infos.findIndex((f) => f.desync);
    for (let j = 0; j < infos.length; j++) {
      if (infos[j]!.kind !== 'answer') { b = j; break; }
      if (infos[j]!.desync) { b = j + 1; break; }
    }
    this.boundary = b;
    for (let j = 0; j < infos.length; j++) if (infos[j]!.decoderBug) this.#defect('decoder-bug', j, infos[j]!.decoderBug!);
  }

  #defect(kind: DefectKind, j: number, detail: string): void {
    const f = this.infos[j]!;
    this.defects.push({ kind, frame: this.indexes[j]!, apiKey: f.apiKey, version: f.version, detail, request: f.request });
  }

  /** An answer frame (without its size prefix). */
  onResponse(frame: Buffer): void {
    if (frame.length < 4) { this.#defect('wrong-correlation-id', Math.min(this.#next, this.infos.length - 1), `answer of ${frame.length} bytes`); return; }
    const corr = frame.readInt32BE(0);
    for (let j = this.#next; j < this.infos.length; j++) {
      const f = this.infos[j]!;
      if (this.#desyncAt >= 0 && j > this.#desyncAt) { this.unattributed++; this.#next = j; return; } // bytes after a size lie
      if (f.corr === corr) {
        for (let k = this.#next; k < j; k++) {
          if (this.infos[k]!.kind === 'answer') this.#defect('out-of-order', k, `answer to frame ${this.indexes[j]} (correlation id ${corr}) came before this request's`);
        }
        this.answered[j] = true;
        this.#next = j + 1;
        if (f.kind === 'noAnswer') this.#defect('answered-acks0', j, 'Produce with acks=0 was answered');
        if (f.kind === 'answer') this.#checkDecodes(j, frame);
        return;
      }
    }
    this.#defect('wrong-correlation-id', Math.min(this.#next, this.infos.length - 1), `answer with correlation id ${corr}, expected one of [${this.infos.slice(this.#next).map((f) => f.corr).join(', ')}]`);
    this.#next = this.infos.length;
  }

  #checkDecodes(j: number, frame: Buffer): void {
    const f = this.infos[j]!;
    const api = apis[f.apiKey]!;
    try {
      const r = new Reader(frame);
      decodeResponseHeader(r, api.responseHeaderVersion(f.version));
      api.decodeResponse(r, f.version);
      if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left over`);
    } catch (err) {
      this.#defect('undecodable-response', j, String((err as Error).message ?? err));
    }
  }

  /** Every answer owed before the boundary has arrived. */
  get owedDone(): boolean {
    for (let j = 0; j < this.boundary; j++) if (!this.answered[j]) return false;
    return true;
  }

  /** Every frame is answered or may go unanswered (acks=0); nothing more to wait for. */
  get allDone(): boolean {
    for (let j = 0; j < this.infos.length; j++) {
      if (this.answered[j] || this.infos[j]!.kind === 'noAnswer') continue;
      if (this.#desyncAt >= 0 && j > this.#desyncAt) continue;
      return false;
    }
    return true;
  }

  /** The connection was closed by the broker (or we gave up at the deadline: `closed` false). */
  finish(closed: boolean, pipelined = false): { slow: number } {
    let slow = 0;
    let delayedBefore = false;
    for (let j = 0; j < this.boundary; j++) {
      if (this.answered[j]) continue;
      const f = this.infos[j]!;
      if (closed) {
        // Bytes past a shortened size prefix are a second (garbage) frame sent along with this one.
        if ((pipelined && j < this.infos.length - 1) || f.desync) this.#defect('closed-pipelined', j, 'the broker closed the connection, on account of a frame sent after this one, without sending this well-formed request\'s answer');
        else this.#defect('closed-without-answer', j, 'the broker closed the connection without answering this well-formed request');
        break;
      }
      // Answers go out in order, so everything behind a request that may legitimately wait, waits too.
      if (f.delayable) delayedBefore = true;
      if (delayedBefore) { slow++; continue; }
      this.#defect('no-answer', j, 'no answer by the deadline, connection still open');
      break;
    }
    return { slow };
  }
}
