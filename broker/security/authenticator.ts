// The SASL exchange before a SASL_PLAINTEXT / SASL_SSL connection may send requests, as Kafka's
// SaslServerAuthenticator runs it: ApiVersions (answered by the broker's handler) and then SaslHandshake
// (v0–1) choose a mechanism; v1 carries the tokens in SaslAuthenticate requests (v0–2), v0 sends them
// bare, each in a size-prefixed frame. Any other request before authentication, an unknown mechanism, a
// failed authentication or a malformed token closes the connection (Kafka: IllegalSaslStateException /
// UNSUPPORTED_SASL_MECHANISM / SASL_AUTHENTICATION_FAILED, answered first where Kafka answers).
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { ProtocolError, Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { decodeRequestHeader } from '../../protocol/generated/request-header.ts';
import { encodeResponseHeader } from '../../protocol/generated/response-header.ts';
import { SaslHandshakeApi } from '../../protocol/generated/sasl-handshake.ts';
import { SaslAuthenticateApi } from '../../protocol/generated/sasl-authenticate.ts';
import type { ApiDescriptor } from '../../protocol/generated/index.ts';
import type { PreAuthStep, PreAuthentication } from '../connection.ts';
import { checkPlain } from './plain.ts';
import { type OAuthBearerOptions, OAuthBearerServer } from './oauthbearer.ts';
import { ScramServer, type ScramMechanism } from './scram.ts';
import type { ScramStore } from './scram-store.ts';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const SASL_AUTHENTICATION_FAILED = 58;

/** What one SASL listener authenticates with (security/index.ts builds it at start). */
export interface SaslSettings {
  readonly listener: string;
  readonly mechanisms: readonly string[];
  /** PLAIN's users (JAAS user_<name>). */
  readonly plainUsers: ReadonlyMap<string, string>;
  readonly scram: Pick<ScramStore, 'get'>;
  /** OAUTHBEARER's validator options (unsecured JWS), when enabled. */
  readonly oauth: OAuthBearerOptions | null;
  /** Per-broker secret for unknown SCRAM users' fake salts. */
  readonly fakeKey: Buffer;
  readonly log: (msg: string) => void;
  /** connections.max.reauth.ms (KIP-368): > 0 gives each session this lifetime; 0: sessions never expire. */
  readonly reauthMs: number;
  readonly now: () => number;
}

function encode(api: ApiDescriptor<any, any>, version: number, correlationId: number, res: unknown): Buffer[] {
  const w = new Writer();
  encodeResponseHeader(w, api.responseHeaderVersion(version), { correlationId });
  api.encodeResponse(w, version, res);
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(w.byteLength, 0);
  const chunks = w.finish();
  chunks.unshift(size);
  return chunks;
}

function bare(token: Buffer): Buffer[] {
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(token.length, 0);
  return [size, token];
}

type Mechanism = { evaluate(token: Buffer): { kind: 'challenge'; reply: Buffer } | { kind: 'done'; reply: Buffer; user: string } | { kind: 'failed'; message: string; reason?: string } };

export class SaslAuthenticator implements PreAuthentication {
  readonly #s: SaslSettings;
  readonly #peer: string;
  #state: 'handshake' | 'authenticate' | 'authenticate-v0' | 'authenticated' = 'handshake';
  #mechanismName = '';
  #mechanism: Mechanism | null = null;
  /** Set once authenticated: re-authentication must keep mechanism and principal (KIP-368). */
  #principal: string | null = null;
  #expiresAt = 0;

  constructor(settings: SaslSettings, peer: string) {
    this.#s = settings;
    this.#peer = peer;
  }

  onFrame(frame: Buffer): PreAuthStep {
    if (this.#state === 'authenticate-v0') return this.#token(frame, null);
    if (frame.length < 8) return { kind: 'close', reason: `SASL: request frame of ${frame.length} bytes is too short for a header` };
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    if (this.#state === 'authenticated') {
      // Only with connections.max.reauth.ms > 0 does the connection keep asking (Connection.#preAuth).
      if (apiKey !== SASL_HANDSHAKE) {
        if (this.#s.now() < this.#expiresAt) return { kind: 'pass' };
        return { kind: 'close', reason: `SASL session of ${this.#principal} expired (connections.max.reauth.ms ${this.#s.reauthMs}) without re-authentication` };
      }
      this.#state = 'handshake';
    }
    if (this.#state === 'handshake') {
      if (apiKey === API_VERSIONS && this.#principal === null) return { kind: 'pass' };
      if (apiKey !== SASL_HANDSHAKE) return this.#illegal(`Unexpected Kafka request of type ${apiKey} during SASL handshake`);
      if (version < 0 || version > 1) return { kind: 'close', reason: `SASL: unsupported SaslHandshake version ${version}` };
      let mechanism: string;
      try {
        const r = new Reader(frame);
        decodeRequestHeader(r, SaslHandshakeApi.requestHeaderVersion(version));
        mechanism = SaslHandshakeApi.decodeRequest(r, version).mechanism;
      } catch (err) {
        if (err instanceof ProtocolError) return { kind: 'close', reason: `SASL: malformed SaslHandshake v${version}: ${err.message}` };
        throw err;
      }
      const mechanisms = [...this.#s.mechanisms];
      if (!this.#s.mechanisms.includes(mechanism)) {
        const chunks = encode(SaslHandshakeApi, version, correlationId, { errorCode: UNSUPPORTED_SASL_MECHANISM, mechanisms });
        return { kind: 'close', chunks, reason: `SASL: unsupported mechanism ${JSON.stringify(mechanism)} (enabled: ${mechanisms.join(', ')})` };
      }
      if (this.#principal !== null && mechanism !== this.#mechanismName) {
        const chunks = encode(SaslHandshakeApi, version, correlationId, { errorCode: UNSUPPORTED_SASL_MECHANISM, mechanisms: [this.#mechanismName] });
        return { kind: 'close', chunks, reason: `SASL re-authentication: mechanism ${mechanism} differs from ${this.#mechanismName}` };
      }
      this.#mechanismName = mechanism;
      this.#mechanism = mechanism === 'PLAIN'
        ? { evaluate: (token) => {
            const r = checkPlain(token, this.#s.plainUsers);
            return r.ok ? { kind: 'done', reply: Buffer.alloc(0), user: r.user } : { kind: 'failed', message: r.message };
          } }
        : mechanism === 'OAUTHBEARER' ? new OAuthBearerServer(this.#s.oauth!)
        : new ScramServer(mechanism as ScramMechanism, (u) => this.#s.scram.get(mechanism as ScramMechanism, u), this.#s.fakeKey, () => cryptoRandomBytes(18).toString('base64url'));
      this.#state = version === 0 ? 'authenticate-v0' : 'authenticate';
      return { kind: 'reply', chunks: encode(SaslHandshakeApi, version, correlationId, { errorCode: 0, mechanisms }) };
    }
    // authenticate (SaslHandshake v1): only SaslAuthenticate.
    if (apiKey !== SASL_AUTHENTICATE) return this.#illegal(`Unexpected Kafka request of type ${apiKey} during SASL authentication`);
    if (version < 0 || version > 2) return { kind: 'close', reason: `SASL: unsupported SaslAuthenticate version ${version}` };
    let authBytes: Buffer;
    try {
      const r = new Reader(frame);
      decodeRequestHeader(r, SaslAuthenticateApi.requestHeaderVersion(version));
      authBytes = SaslAuthenticateApi.decodeRequest(r, version).authBytes;
    } catch (err) {
      if (err instanceof ProtocolError) return { kind: 'close', reason: `SASL: malformed SaslAuthenticate v${version}: ${err.message}` };
      throw err;
    }
    return this.#token(authBytes, { version, correlationId });
  }

  #illegal(message: string): PreAuthStep {
    return { kind: 'close', reason: `SASL: ${message} (ILLEGAL_SASL_STATE ${ILLEGAL_SASL_STATE})` };
  }

  /** One SASL token; `framed`: the SaslAuthenticate request it came in (null: a bare v0 token). */
  #token(token: Buffer, framed: { version: number; correlationId: number } | null): PreAuthStep {
    let step = this.#mechanism!.evaluate(token);
    const principal = step.kind === 'done' ? `User:${step.user}` : null;
    if (principal !== null && this.#principal !== null && principal !== this.#principal) {
      step = { kind: 'failed', message: 'Cannot change principals during re-authentication' };
    }
    // KIP-368: the session lasts connections.max.reauth.ms from now; SaslAuthenticate v1+ tells the client.
    const lifetime = step.kind === 'done' && this.#s.reauthMs > 0 ? this.#s.reauthMs : 0;
    const answer = (res: { errorCode: number; errorMessage: string | null; authBytes: Buffer }) =>
      framed ? encode(SaslAuthenticateApi, framed.version, framed.correlationId, { ...res, sessionLifetimeMs: BigInt(lifetime) }) : bare(res.authBytes);
    if (step.kind === 'failed') {
      this.#s.log(`SASL: failed authentication from ${this.#peer} on listener ${this.#s.listener} (${this.#mechanismName}): ${'reason' in step && step.reason ? step.reason : step.message}`);
      // Kafka answers a framed failure with SASL_AUTHENTICATION_FAILED before closing; a bare one just closes.
      const chunks = framed ? answer({ errorCode: SASL_AUTHENTICATION_FAILED, errorMessage: step.message, authBytes: Buffer.alloc(0) }) : undefined;
      return { kind: 'close', chunks, reason: `SASL authentication failed (${this.#mechanismName})` };
    }
    const chunks = answer({ errorCode: 0, errorMessage: null, authBytes: step.reply });
    if (step.kind === 'challenge') return { kind: 'reply', chunks };
    const reauthenticated = this.#principal !== null;
    if (reauthenticated) this.#s.log(`SASL: ${principal} re-authenticated on connection from ${this.#peer} (${this.#mechanismName})`);
    this.#principal = principal;
    this.#state = 'authenticated';
    this.#expiresAt = this.#s.now() + lifetime;
    return { kind: 'done', chunks, principal: principal!, keep: lifetime > 0 };
  }
}
