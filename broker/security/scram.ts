// SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer serves them: the stored
// credential is salt + StoredKey + ServerKey + iterations (never the password); the client proof is
// checked in constant time; an unknown user gets a server-first message with a salt derived from the
// name (stable across attempts) and fails at the proof exactly as a wrong password does.
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
/** Kafka's ScramMechanism type ids (DescribeUserScramCredentials / AlterUserScramCredentials). */
export const MECHANISM_TYPE: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
export const MECHANISM_BY_TYPE = new Map<number, ScramMechanism>([[1, 'SCRAM-SHA-256'], [2, 'SCRAM-SHA-512']]);
/** Kafka's bounds on iterations (ScramMechanism.minIterations; AlterUserScramCredentials' maximum). */
export const MIN_ITERATIONS = 4096;
export const MAX_ITERATIONS = 16384;

const HASH: Record<ScramMechanism, 'sha256' | 'sha512'> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

const hmac = (alg: string, key: Buffer, data: string | Buffer) => createHmac(alg, key).update(data).digest();

/** Hi(password, salt, i) of RFC 5802 (PBKDF2 with the mechanism's HMAC). */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  const alg = HASH[mechanism];
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, createHash(alg).digest().length, alg);
}

/** The stored credential for a salted password (what AlterUserScramCredentials carries). */
export function credentialFromSalted(mechanism: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const alg = HASH[mechanism];
  const clientKey = hmac(alg, salted, 'Client Key');
  return { salt, iterations, storedKey: createHash(alg).update(clientKey).digest(), serverKey: hmac(alg, salted, 'Server Key') };
}

export function credentialFromPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): ScramCredential {
  return credentialFromSalted(mechanism, saltedPassword(mechanism, password, salt, iterations), salt, iterations);
}

/** `=2C` → `,`, `=3D` → `=`; null for another `=` escape (RFC 5802 saslname). */
function unescapeName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export type ScramStep =
  | { kind: 'challenge'; reply: Buffer }
  | { kind: 'done'; reply: Buffer; user: string }
  | { kind: 'failed'; message: string };

/** Kafka's answer to bad credentials (SaslServerAuthenticator), the same for an unknown user. */
export const invalidCredentials = (mechanism: string) => `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;

/** One SCRAM exchange on the server side: client-first → server-first, client-final → server-final. */
export class ScramServer {
  readonly mechanism: ScramMechanism;
  readonly #lookup: (user: string) => ScramCredential | undefined;
  readonly #fakeKey: Buffer;
  readonly #nonce: () => string;
  #state: 'first' | 'final' | 'over' = 'first';
  #user = '';
  #cred: ScramCredential | undefined;
  #known = false;
  #clientFirstBare = '';
  #serverFirst = '';
  #nonceAll = '';
  #gs2 = '';

  /** `fakeKey`: a per-broker secret salting unknown users' fake credentials; `nonce`: the server nonce. */
  constructor(mechanism: ScramMechanism, lookup: (user: string) => ScramCredential | undefined, fakeKey: Buffer, nonce: () => string) {
    this.mechanism = mechanism;
    this.#lookup = lookup;
    this.#fakeKey = fakeKey;
    this.#nonce = nonce;
  }

  evaluate(token: Buffer): ScramStep {
    const text = token.toString('utf8');
    if (this.#state === 'first') return this.#first(text);
    if (this.#state === 'final') return this.#final(text);
    return { kind: 'failed', message: 'SCRAM exchange already complete' };
  }

  #fail(message: string): ScramStep {
    this.#state = 'over';
    return { kind: 'failed', message };
  }

  #first(text: string): ScramStep {
    // gs2-header: n|y|p=..., [a=authzid], then client-first-message-bare: n=user,r=nonce[,extensions]
    const m = /^([ny]),(a=[^,]*)?,(n=([^,]*),r=([^,]+)(,.*)?)$/.exec(text);
    if (!m) return this.#fail(text.startsWith('p=') ? 'Authentication failed: channel binding is not supported' : 'Invalid SCRAM client first message');
    const user = unescapeName(m[4]);
    if (user === null || user === '') return this.#fail('Invalid SCRAM client first message: malformed user name');
    const authzid = m[2] ? unescapeName(m[2].slice(2)) : '';
    if (authzid && authzid !== user) return this.#fail('Authentication failed: Client requested an authorization id that is different from username');
    const ext = (m[6] ?? '').slice(1);
    // Kafka accepts extensions; tokenauth=true asks for delegation-token credentials, which gregor has none of.
    if (/(^|,)tokenauth=true(,|$)/.test(ext)) return this.#fail(invalidCredentials(this.mechanism));
    this.#gs2 = text.slice(0, text.length - m[3].length);
    this.#clientFirstBare = m[3];
    this.#user = user;
    this.#cred = this.#lookup(user);
    this.#known = this.#cred !== undefined;
    // Unknown user: the same salt every time for this name (a probing client sees nothing change), iterations 4096.
    const salt = this.#cred?.salt ?? hmac('sha256', this.#fakeKey, `${this.mechanism}\0${user}`).subarray(0, 20);
    const iterations = this.#cred?.iterations ?? MIN_ITERATIONS;
    this.#nonceAll = m[5] + this.#nonce();
    this.#serverFirst = `r=${this.#nonceAll},s=${salt.toString('base64')},i=${iterations}`;
    this.#state = 'final';
    return { kind: 'challenge', reply: Buffer.from(this.#serverFirst, 'utf8') };
  }

  #final(text: string): ScramStep {
    const m = /^c=([^,]*),r=([^,]*)((?:,[^,]*)*),p=([A-Za-z0-9+/=]+)$/.exec(text);
    if (!m) return this.#fail('Invalid SCRAM client final message');
    // Kafka checks only that the nonce ends with the server-first one (ScramSaslServer); some librdkafka
    // versions (kcat's) send the client nonce twice, so an exact comparison would refuse them.
    if (!m[2].endsWith(this.#nonceAll)) return this.#fail('Invalid SCRAM client final message: nonce mismatch');
    if (Buffer.from(m[1], 'base64').toString('utf8') !== this.#gs2) return this.#fail('Invalid SCRAM client final message: channel binding mismatch');
    const alg = HASH[this.mechanism];
    const withoutProof = text.slice(0, text.length - m[4].length - 3);
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const proof = Buffer.from(m[4], 'base64');
    // Unknown user: a random stored key, so the comparison below runs and fails like a wrong password.
    const cred = this.#cred ?? { storedKey: hmac(alg, this.#fakeKey, `stored\0${this.#user}`), serverKey: Buffer.alloc(0) };
    const signature = hmac(alg, cred.storedKey, authMessage);
    let ok = proof.length === signature.length;
    const clientKey = Buffer.alloc(signature.length);
    for (let i = 0; i < signature.length; i++) clientKey[i] = (proof[i] ?? 0) ^ signature[i];
    const computed = createHash(alg).update(clientKey).digest();
    ok = timingSafeEqual(computed, cred.storedKey.length === computed.length ? cred.storedKey : computed.map((b) => b ^ 0xff)) && ok && this.#known;
    this.#state = 'over';
    if (!ok) return { kind: 'failed', message: invalidCredentials(this.mechanism) };
    const serverSignature = hmac(alg, cred.serverKey, authMessage);
    return { kind: 'done', reply: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user: this.#user };
  }
}
