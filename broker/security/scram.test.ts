import t from 'tap';
import { credentialFromPassword, ScramServer } from './scram.ts';

// RFC 7677 section 3: user "user", password "pencil", SCRAM-SHA-256, 4096 iterations.
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

const cred = credentialFromPassword('SCRAM-SHA-256', 'pencil', SALT, 4096);
const server = (users: Record<string, typeof cred>) =>
  new ScramServer('SCRAM-SHA-256', (u) => users[u], Buffer.alloc(32, 7), () => SERVER_NONCE);

t.test('RFC 7677 test vector', async (t) => {
  const s = server({ user: cred });
  const first = s.evaluate(Buffer.from(CLIENT_FIRST));
  t.same(first.kind === 'challenge' && first.reply.toString(), SERVER_FIRST);
  const final = s.evaluate(Buffer.from(CLIENT_FINAL));
  t.equal(final.kind, 'done');
  t.equal(final.kind === 'done' && final.reply.toString(), SERVER_FINAL);
  t.equal(final.kind === 'done' && final.user, 'user');
});

t.test('a wrong proof and an unknown user fail alike', async (t) => {
  const wrong = server({ user: credentialFromPassword('SCRAM-SHA-256', 'other', SALT, 4096) });
  wrong.evaluate(Buffer.from(CLIENT_FIRST));
  const a = wrong.evaluate(Buffer.from(CLIENT_FINAL));
  t.equal(a.kind, 'failed');

  const unknown = server({});
  const f1 = unknown.evaluate(Buffer.from(CLIENT_FIRST));
  const f2 = server({}).evaluate(Buffer.from(CLIENT_FIRST));
  t.equal(f1.kind, 'challenge', 'an unknown user gets a challenge too');
  t.same(f1.kind === 'challenge' && f1.reply.toString(), f2.kind === 'challenge' && f2.reply.toString(), 'the same fake salt each time');
  t.match(f1.kind === 'challenge' && f1.reply.toString(), /^r=rOprNGfwEbeRWgbNEkqO.*,s=[^,]+,i=4096$/);
  const b = unknown.evaluate(Buffer.from(CLIENT_FINAL));
  t.same(b, a, 'same failure message');
});

t.test('malformed and mismatched messages fail', async (t) => {
  t.equal(server({ user: cred }).evaluate(Buffer.from('garbage')).kind, 'failed');
  t.equal(server({ user: cred }).evaluate(Buffer.from('p=tls-unique,,n=user,r=x')).kind, 'failed');
  t.match(server({ user: cred }).evaluate(Buffer.from('n,a=admin,n=user,r=x')), { kind: 'failed', message: /authorization id/ });
  const s = server({ user: cred });
  s.evaluate(Buffer.from(CLIENT_FIRST));
  t.match(s.evaluate(Buffer.from(CLIENT_FINAL.replace('r=rOpr', 'r=XOpr'))), { kind: 'failed', message: /nonce/ });
  const s2 = server({ user: cred });
  s2.evaluate(Buffer.from(CLIENT_FIRST));
  t.match(s2.evaluate(Buffer.from(CLIENT_FINAL.replace('c=biws', 'c=eSws'))), { kind: 'failed', message: /channel binding/ });
  t.equal(s2.evaluate(Buffer.from(CLIENT_FINAL)).kind, 'failed', 'no second try on the same exchange');
});

t.test('a client-final nonce that ends with the server nonce is accepted, as Kafka accepts it (kcat\'s librdkafka repeats the client nonce)', async (t) => {
  const s = server({ user: cred });
  s.evaluate(Buffer.from(CLIENT_FIRST));
  // The proof covers the client-final message as sent, so it is recomputed for the repeated nonce.
  const { createHash, createHmac } = await import('node:crypto');
  const finalNoProof = `c=biws,r=rOprNGfwEbeRWgbNEkqO${SERVER_FIRST.slice(2, SERVER_FIRST.indexOf(','))}`;
  const authMessage = `${CLIENT_FIRST.slice(3)},${SERVER_FIRST},${finalNoProof}`;
  const salted = (await import('./scram.ts')).saltedPassword('SCRAM-SHA-256', 'pencil', SALT, 4096);
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const sig = createHmac('sha256', createHash('sha256').update(clientKey).digest()).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
  t.equal(s.evaluate(Buffer.from(`${finalNoProof},p=${proof.toString('base64')}`)).kind, 'done');
});
