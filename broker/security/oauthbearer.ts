// SASL/OAUTHBEARER (RFC 7628) with unsecured JWS tokens, for development, as Kafka's OAuthBearerSaslServer with
// its default OAuthBearerUnsecuredValidatorCallbackHandler: the client's `n,,\x01auth=Bearer <token>\x01\x01`,
// a token `base64url(header).base64url(claims).` whose header says alg "none"; claims: the principal claim
// (`sub`, or JAAS option unsecuredValidatorPrincipalClaimName) a non-empty string, `exp` (seconds, required) not
// past (allowing unsecuredValidatorAllowableClockSkewMs), `iat` if present not in the future, and the scopes of
// unsecuredValidatorRequiredScope present in the scope claim (`scope`, or unsecuredValidatorScopeClaimName).
// A refused token gets `{"status":"invalid_token"}` as a challenge; the client's `\x01` reply then fails with
// that JSON as the error message (Kafka's; the reason is only logged). A client that does not answer the
// challenge (kafkajs) sends its next request instead, which closes the connection, as with Kafka.

const INVALID_TOKEN = JSON.stringify({ status: 'invalid_token' });

export interface OAuthBearerOptions {
  readonly principalClaim: string;
  readonly scopeClaim: string;
  readonly requiredScopes: readonly string[];
  readonly clockSkewMs: number;
  readonly now: () => number;
}

type Step = { kind: 'challenge'; reply: Buffer } | { kind: 'done'; reply: Buffer; user: string } | { kind: 'failed'; message: string; reason?: string };

export function oauthOptions(jaasOptions: ReadonlyMap<string, string>, now: () => number): OAuthBearerOptions {
  const skew = jaasOptions.get('unsecuredValidatorAllowableClockSkewMs') ?? '0';
  if (!/^\d+$/.test(skew)) throw new Error(`unsecuredValidatorAllowableClockSkewMs: expected a non-negative integer, got "${skew}"`);
  return {
    principalClaim: jaasOptions.get('unsecuredValidatorPrincipalClaimName') || 'sub',
    scopeClaim: jaasOptions.get('unsecuredValidatorScopeClaimName') || 'scope',
    requiredScopes: (jaasOptions.get('unsecuredValidatorRequiredScope') ?? '').split(/[\s,]+/).filter(Boolean),
    clockSkewMs: Number(skew),
    now,
  };
}

function json(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** The principal name of a valid unsecured token, or why it is refused. */
export function validateUnsecuredJws(token: string, o: OAuthBearerOptions): { user: string } | { error: string } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[2] !== '') return { error: 'an unsecured JWS has 3 dot-separated parts, the last empty' };
  const header = json(parts[0]);
  const claims = json(parts[1]);
  if (!header || !claims) return { error: 'the JOSE header and claims must be base64url-encoded JSON objects' };
  if (header.alg !== 'none') return { error: 'the JOSE header alg must be "none" for an unsecured JWS' };
  const user = claims[o.principalClaim];
  if (typeof user !== 'string' || user.trim() === '') return { error: `the principal claim ${o.principalClaim} must be a non-empty string` };
  const now = o.now();
  const exp = claims.exp;
  if (typeof exp !== 'number') return { error: 'the exp claim is required and must be a number' };
  if (now - o.clockSkewMs >= exp * 1000) return { error: 'the token has expired' };
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat * 1000 > now + o.clockSkewMs)) return { error: 'the iat claim must be a number not in the future' };
  if (o.requiredScopes.length > 0) {
    const raw = claims[o.scopeClaim];
    const scopes = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.map(String) : [];
    const missing = o.requiredScopes.filter((s) => !scopes.includes(s));
    if (missing.length > 0) return { error: `the token lacks the required scope(s) ${missing.join(', ')}` };
  }
  return { user };
}

export class OAuthBearerServer {
  readonly #o: OAuthBearerOptions;
  #failure: string | null = null;
  #over = false;
  constructor(options: OAuthBearerOptions) { this.#o = options; }

  evaluate(token: Buffer): Step {
    if (this.#over) return { kind: 'failed', message: 'OAUTHBEARER exchange already complete' };
    const text = token.toString('utf8');
    if (this.#failure !== null) {
      // RFC 7628: after the error challenge the client answers a lone %x01, and the exchange fails.
      this.#over = true;
      return { kind: 'failed', message: INVALID_TOKEN, reason: this.#failure };
    }
    const m = /^([ny]),(a=[^,]*)?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]*\x01)*)\x01$/.exec(text);
    if (!m) { this.#over = true; return { kind: 'failed', message: 'Invalid OAUTHBEARER client first message' }; }
    const kv = new Map(m[3].split('\x01').filter(Boolean).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const auth = /^Bearer ([\x21-\x7E]+)$/i.exec(kv.get('auth') ?? '');
    if (!auth) { this.#over = true; return { kind: 'failed', message: 'Invalid OAUTHBEARER client first message: no auth=Bearer <token>' }; }
    const r = validateUnsecuredJws(auth[1], this.#o);
    const authzid = m[2] ? m[2].slice(2) : '';
    if ('user' in r && authzid !== '' && authzid !== r.user) {
      this.#over = true;
      return { kind: 'failed', message: 'Authentication failed: Client requested an authorization id that is different from the token\'s principal' };
    }
    if ('error' in r) {
      this.#failure = r.error;
      return { kind: 'challenge', reply: Buffer.from(INVALID_TOKEN) };
    }
    this.#over = true;
    return { kind: 'done', reply: Buffer.alloc(0), user: r.user };
  }
}
