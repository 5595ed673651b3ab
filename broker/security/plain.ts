// SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer checks it: `[authzid] NUL authcid NUL passwd`, an
// authzid other than the user refused, the password compared with the JAAS user_<name> entry. The
// comparison hashes both sides first so it takes the same time whatever the password or user.
import { createHash, timingSafeEqual } from 'node:crypto';

export type PlainResult = { ok: true; user: string } | { ok: false; message: string };

export const PLAIN_FAILED = 'Authentication failed: Invalid username or password';

export function checkPlain(token: Buffer, users: ReadonlyMap<string, string>): PlainResult {
  const parts = token.toString('utf8').split('\u0000');
  if (parts.length !== 3) return { ok: false, message: 'Invalid SASL/PLAIN response: expected 3 tokens' };
  const [authzid, user, password] = parts;
  if (user === '') return { ok: false, message: 'Authentication failed: username not specified' };
  if (password === '') return { ok: false, message: 'Authentication failed: password not specified' };
  if (authzid !== '' && authzid !== user) return { ok: false, message: 'Authentication failed: Client requested an authorization id that is different from username' };
  const expected = users.get(user);
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  // An unknown user is compared against a value no password hashes to, as long as a real comparison.
  const same = timingSafeEqual(h(password), expected === undefined ? h(`\u0000${password}`) : h(expected));
  return same && expected !== undefined ? { ok: true, user } : { ok: false, message: PLAIN_FAILED };
}
