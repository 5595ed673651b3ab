// The answer to a request whose real response could not be encoded (a bug of ours): Kafka's getErrorResponse
// shape for the API, so the client gets an error for that request instead of losing its connection.
import { Writer } from '../protocol/writer.ts';
import type { HandlerImpl } from './handler.ts';

/**
 * The handler's own errorResponse if it has one; otherwise the generated empty response with its top-level
 * errorCode set — what most of Kafka's getErrorResponse implementations build — provided that field exists
 * in `version` (checked on the encoded bytes). null: this version cannot carry the error as a whole.
 */
export function errorResponseFor(handler: Pick<HandlerImpl, 'api' | 'errorResponse'>, req: unknown, version: number, errorCode: number): unknown | null {
  if (handler.errorResponse) return handler.errorResponse(req, version, errorCode);
  const res = handler.api.makeResponse() as Record<string, unknown>;
  if (!('errorCode' in res)) return null;
  res.errorCode = errorCode;
  const bytes = (r: unknown): Buffer => {
    const w = new Writer();
    handler.api.encodeResponse(w, version, r);
    return Buffer.concat(w.finish());
  };
  // A field absent from this version is refused by the encoder (not ignorable) or skipped (ignorable): either
  // way the error would not reach the client.
  try {
    if (bytes(res).equals(bytes({ ...res, errorCode: 0 }))) return null;
  } catch {
    return null;
  }
  return res;
}
