import t from 'tap';
import { OAuthBearerServer, oauthOptions, validateUnsecuredJws } from './oauthbearer.ts';

const NOW = 1_800_000_000_000;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jws = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'none' }) => `${b64(header)}.${b64(claims)}.`;
const opts = (o: Record<string, string> = {}) => oauthOptions(new Map(Object.entries(o)), () => NOW);
const first = (token: string, gs2 = 'n,,') => Buffer.from(`${gs2}\x01host=localhost\x01auth=Bearer ${token}\x01\x01`);

t.test('unsecured JWS validation as Kafka\'s unsecured validator', async (t) => {
  const exp = NOW / 1000 + 60;
  t.same(validateUnsecuredJws(jws({ sub: 'alice', exp }), opts()), { user: 'alice' });
  t.same(validateUnsecuredJws(jws({ user: 'bob', exp }), opts({ unsecuredValidatorPrincipalClaimName: 'user' })), { user: 'bob' });
  t.match(validateUnsecuredJws(jws({ sub: 'alice', exp: NOW / 1000 - 1 }), opts()), { error: /expired/ });
  t.same(validateUnsecuredJws(jws({ sub: 'alice', exp: NOW / 1000 - 1 }), opts({ unsecuredValidatorAllowableClockSkewMs: '5000' })), { user: 'alice' }, 'within the allowed skew');
  t.match(validateUnsecuredJws(jws({ sub: 'alice' }), opts()), { error: /exp claim is required/ });
  t.match(validateUnsecuredJws(jws({ sub: '', exp }), opts()), { error: /principal claim sub/ });
  t.match(validateUnsecuredJws(jws({ sub: 'alice', exp }, { alg: 'HS256' }), opts()), { error: /alg must be "none"/ });
  t.match(validateUnsecuredJws(`${jws({ sub: 'alice', exp })}sig`, opts()), { error: /last empty/ });
  t.match(validateUnsecuredJws(jws({ sub: 'alice', exp, iat: NOW / 1000 + 60 }), opts()), { error: /iat/ });
  t.match(validateUnsecuredJws(jws({ sub: 'alice', exp, scope: 'read' }), opts({ unsecuredValidatorRequiredScope: 'read write' })), { error: /required scope\(s\) write/ });
  t.same(validateUnsecuredJws(jws({ sub: 'alice', exp, scope: 'write read' }), opts({ unsecuredValidatorRequiredScope: 'read write' })), { user: 'alice' });
  t.throws(() => opts({ unsecuredValidatorAllowableClockSkewMs: 'x' }), /non-negative integer/);
});

t.test('the exchange: success, error challenge then failure, malformed', async (t) => {
  const exp = NOW / 1000 + 60;
  t.match(new OAuthBearerServer(opts()).evaluate(first(jws({ sub: 'alice', exp }))), { kind: 'done', user: 'alice' });
  const s = new OAuthBearerServer(opts());
  const c = s.evaluate(first(jws({ sub: 'alice', exp: 1 })));
  t.same(c.kind === 'challenge' && JSON.parse(c.reply.toString()), { status: 'invalid_token' });
  t.match(s.evaluate(Buffer.from('\x01')), { kind: 'failed', message: '{"status":"invalid_token"}', reason: /the token has expired/ });
  t.match(new OAuthBearerServer(opts()).evaluate(Buffer.from('n,,auth=Bearer x')), { kind: 'failed' });
  t.match(new OAuthBearerServer(opts()).evaluate(first(jws({ sub: 'alice', exp }), 'n,a=bob,')), { kind: 'failed', message: /authorization id/ });
});
