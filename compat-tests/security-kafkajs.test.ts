// kafkajs over SASL_SSL (SCRAM-SHA-512), SASL_PLAINTEXT (PLAIN) and mutual TLS, and the refusals: wrong
// password, unknown user (answered exactly as a wrong password), unknown mechanism, requests before
// authentication, plaintext bytes and a garbage handshake on a TLS port; SCRAM credentials managed with
// AlterUserScramCredentials / DescribeUserScramCredentials and kept across a restart.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import kafkajsPkg from 'kafkajs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { startGregor } from './support/gregor-process.ts';
import { kafkajsConsume, makeRecords, registerKafkajsCodecs, toKafkajsMessage, verifyConsumed } from './support/clients.ts';
import { startSecureGregor } from './support/secure-gregor.ts';
import { RawConnection } from './support/raw-kafka.ts';
import { ApiVersionsApi, makeApiVersionsRequest } from '../protocol/generated/api-versions.ts';
import { makeMetadataRequest, MetadataApi } from '../protocol/generated/metadata.ts';
import { SaslHandshakeApi } from '../protocol/generated/sasl-handshake.ts';
import { SaslAuthenticateApi } from '../protocol/generated/sasl-authenticate.ts';
import { AlterUserScramCredentialsApi } from '../protocol/generated/alter-user-scram-credentials.ts';
import { DescribeUserScramCredentialsApi } from '../protocol/generated/describe-user-scram-credentials.ts';

const { Kafka, logLevel } = kafkajsPkg;
const s = await startSecureGregor();
t.teardown(() => s.stop());
registerKafkajsCodecs();

const client = (broker: string, extra: Partial<KafkaConfig>) =>
  new Kafka({ clientId: 'compat-sec', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 }, connectionTimeout: 5000, ...extra });
const caOnly = { ca: [s.certs.caCert] };

async function roundTrip(t: Test, kafka: InstanceType<typeof Kafka>, topic: string): Promise<void> {
  const records = makeRecords(50, { source: topic });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: records.map((r) => toKafkajsMessage(r, 0)) });
  await producer.disconnect();
  const got = await kafkajsConsume(kafka, topic, records.length);
  t.same(verifyConsumed(records, got).problems, [], `${topic}: every record consumed as produced`);
}

/** The error a kafkajs admin connect ends with (null: it connected). */
async function connectError(kafka: InstanceType<typeof Kafka>): Promise<Error | null> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return null;
  } catch (e) {
    return e as Error;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

t.test('SASL_SSL with SCRAM-SHA-512 (bootstrapped user)', async (t) => {
  await roundTrip(t, client(s.ports.SASL_SSL, { ssl: caOnly, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' } }), 'sec-scram512');
});

t.test('SASL_PLAINTEXT with PLAIN (JAAS users)', async (t) => {
  await roundTrip(t, client(s.ports.SASL_PLAINTEXT, { sasl: { mechanism: 'plain', username: 'bob', password: 'bob-secret' } }), 'sec-plain');
});

t.test('SASL_PLAINTEXT with OAUTHBEARER (unsecured JWS); an expired token or a missing scope refused', async (t) => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = (claims: Record<string, unknown>) => `${b64({ alg: 'none' })}.${b64(claims)}.`;
  const oauth = (value: string): SASLOptions => ({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value }) });
  const exp = Math.floor(Date.now() / 1000) + 600;
  await roundTrip(t, client(s.ports.SASL_PLAINTEXT, { sasl: oauth(token({ sub: 'svc', exp, scope: 'kafka' })) }), 'sec-oauth');
  // kafkajs does not answer the error challenge; its next request closes the connection, as with Kafka.
  t.ok(await connectError(client(s.ports.SASL_PLAINTEXT, { sasl: oauth(token({ sub: 'svc', exp: 1000, scope: 'kafka' })) })), 'expired token refused');
  t.ok(await connectError(client(s.ports.SASL_PLAINTEXT, { sasl: oauth(token({ sub: 'svc', exp })) })), 'token without the required scope refused');
  // On the wire (RFC 7628): the error challenge, the client's %x01, then SASL_AUTHENTICATION_FAILED and a close.
  const c = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => c.close());
  t.match(await c.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' }), { errorCode: 0 });
  const challenge = await c.request(SaslAuthenticateApi, 1, { authBytes: Buffer.from(`n,,\x01auth=Bearer ${token({ sub: 'svc', exp: 1000 })}\x01\x01`) });
  t.match(challenge, { errorCode: 0 });
  t.equal(challenge?.authBytes.toString(), '{"status":"invalid_token"}');
  t.match(await c.request(SaslAuthenticateApi, 1, { authBytes: Buffer.from('\x01') }), { errorCode: 58, errorMessage: '{"status":"invalid_token"}' });
  t.ok(await c.closesWithin());
});

t.test('mutual TLS (PKCS12 keystore, client certificate required)', async (t) => {
  await roundTrip(t, client(s.ports.SSL, { ssl: { ...caOnly, cert: s.certs.clientCert, key: s.certs.clientKey } }), 'sec-mtls');
  const noCert = await connectError(client(s.ports.SSL, { ssl: caOnly }));
  t.ok(noCert, `no client certificate: refused (${noCert?.message})`);
  const rogue = await connectError(client(s.ports.SSL, { ssl: { ...caOnly, cert: s.certs.rogueCert, key: s.certs.rogueKey } }));
  t.ok(rogue, `untrusted client certificate: refused (${rogue?.message})`);
});

t.test('wrong password and unknown user: the same SASL_AUTHENTICATION_FAILED', async (t) => {
  const sasl = (username: string, password: string, mechanism: 'scram-sha-512' | 'plain'): SASLOptions => ({ mechanism, username, password } as SASLOptions);
  const wrong = await connectError(client(s.ports.SASL_SSL, { ssl: caOnly, sasl: sasl('alice', 'nope', 'scram-sha-512') }));
  const unknown = await connectError(client(s.ports.SASL_SSL, { ssl: caOnly, sasl: sasl('nobody', 'nope', 'scram-sha-512') }));
  t.match(wrong, { name: 'KafkaJSSASLAuthenticationError', message: /SASL_AUTHENTICATION_FAILED|invalid credentials/ });
  t.equal(unknown?.message, wrong?.message, 'an unknown user is answered exactly as a wrong password');
  const plainWrong = await connectError(client(s.ports.SASL_PLAINTEXT, { sasl: sasl('bob', 'nope', 'plain') }));
  const plainUnknown = await connectError(client(s.ports.SASL_PLAINTEXT, { sasl: sasl('nobody', 'nope', 'plain') }));
  t.match(plainWrong, { name: 'KafkaJSSASLAuthenticationError' });
  t.equal(plainUnknown?.message, plainWrong?.message);

  // On the wire: SaslAuthenticate answers SASL_AUTHENTICATION_FAILED (58), then the connection closes.
  const c = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => c.close());
  t.match(await c.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), { errorCode: 0 });
  const res = await c.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from('\u0000bob\u0000nope') });
  t.match(res, { errorCode: 58, errorMessage: 'Authentication failed: Invalid username or password' });
  t.ok(await c.closesWithin(), 'closed after the failure');
});

t.test('unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled ones, then closed', async (t) => {
  const c = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => c.close());
  t.match(await c.request(ApiVersionsApi, 3, makeApiVersionsRequest({ clientSoftwareName: 'raw', clientSoftwareVersion: '1' })), { errorCode: 0 });
  const res = await c.request(SaslHandshakeApi, 1, { mechanism: 'GSSAPI' });
  t.same(res, { errorCode: 33, mechanisms: ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN', 'OAUTHBEARER'] });
  t.ok(await c.closesWithin());
});

t.test('a request before authentication closes the connection unanswered (ILLEGAL_SASL_STATE)', async (t) => {
  const c = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => c.close());
  t.equal(await c.request(MetadataApi, 12, makeMetadataRequest({ topics: null, allowAutoTopicCreation: false })), null);
  t.ok(c.closed);
  const after = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => after.close());
  t.match(await after.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), { errorCode: 0 });
  t.match(await after.request(SaslAuthenticateApi, 1, { authBytes: Buffer.from('\u0000bob\u0000bob-secret') }), { errorCode: 0 });
  t.match(await after.request(MetadataApi, 12, makeMetadataRequest({ topics: null, allowAutoTopicCreation: false })), { brokers: [{ nodeId: 1 }] }, 'authenticated: requests are served');
  t.match(await after.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), { errorCode: 34 }, 'a second handshake: ILLEGAL_SASL_STATE');
});

t.test('SaslHandshake v0: bare SASL tokens in size-prefixed frames (the path old clients use)', async (t) => {
  const bareToken = (c: RawConnection, token: string) => {
    const b = Buffer.from(token);
    const size = Buffer.alloc(4);
    size.writeInt32BE(b.length, 0);
    c.write(Buffer.concat([size, b]));
  };
  const ok = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => ok.close());
  t.match(await ok.request(SaslHandshakeApi, 0, { mechanism: 'PLAIN' }), { errorCode: 0 });
  bareToken(ok, '\u0000bob\u0000bob-secret');
  t.same(await ok.next(), Buffer.alloc(0), 'PLAIN done: an empty token back');
  t.match(await ok.request(MetadataApi, 12, makeMetadataRequest({ topics: null, allowAutoTopicCreation: false })), { brokers: [{ nodeId: 1 }] });

  const bad = await RawConnection.connect(s.ports.SASL_PLAINTEXT);
  t.teardown(() => bad.close());
  t.match(await bad.request(SaslHandshakeApi, 0, { mechanism: 'PLAIN' }), { errorCode: 0 });
  bareToken(bad, '\u0000bob\u0000wrong');
  t.equal(await bad.next(), null, 'a failed v0 exchange is closed without an answer, as Kafka does');
});

t.test('plaintext bytes and a garbage handshake on TLS ports close only that connection', async (t) => {
  for (const port of [s.ports.SSL, s.ports.SASL_SSL]) {
    const plain = await RawConnection.connect(port);
    t.teardown(() => plain.close());
    t.equal(await plain.request(ApiVersionsApi, 0, makeApiVersionsRequest()), null, `${port}: a Kafka request in plaintext gets no answer`);
    const garbage = await RawConnection.connect(port);
    t.teardown(() => garbage.close());
    garbage.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), randomBytes(64)]));
    t.ok(await garbage.closesWithin(), `${port}: a garbage TLS handshake is closed`);
  }
  await roundTrip(t, client(s.ports.SASL_SSL, { ssl: caOnly, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' } }), 'sec-after-garbage');
});

t.test('AlterUserScramCredentials / DescribeUserScramCredentials, used by a new client, kept across a restart', async (t) => {
  const admin = await RawConnection.connect(s.ports.PLAINTEXT);
  t.teardown(() => admin.close());
  // What kafka-configs.sh --add-config 'SCRAM-SHA-256=[iterations=8192,password=carol-secret]' sends: salt and salted password.
  const salt = randomBytes(24);
  const salted = pbkdf2Sync('carol-secret', salt, 8192, 32, 'sha256');
  const altered = await admin.request(AlterUserScramCredentialsApi, 0, {
    deletions: [{ name: 'ghost', mechanism: 1 }],
    upsertions: [{ name: 'carol', mechanism: 1, iterations: 8192, salt, saltedPassword: salted }, { name: 'weak', mechanism: 2, iterations: 100, salt, saltedPassword: salted }, { name: 'odd', mechanism: 9, iterations: 8192, salt, saltedPassword: salted }],
  });
  t.same(altered?.results, [
    { user: 'ghost', errorCode: 91, errorMessage: 'Attempt to delete a user credential that does not exist' },
    { user: 'carol', errorCode: 0, errorMessage: null },
    { user: 'weak', errorCode: 93, errorMessage: 'Too few iterations' },
    { user: 'odd', errorCode: 33, errorMessage: 'Unknown SCRAM mechanism' },
  ]);
  const described = await admin.request(DescribeUserScramCredentialsApi, 0, { users: null });
  t.same(described?.results, [
    { user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }, { mechanism: 2, iterations: 4096 }] },
    { user: 'carol', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 8192 }] },
  ]);
  t.match((await admin.request(DescribeUserScramCredentialsApi, 0, { users: [{ name: 'weak' }] }))?.results, [{ user: 'weak', errorCode: 91 }]);
  await roundTrip(t, client(s.ports.SASL_SSL, { ssl: caOnly, sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' } }), 'sec-carol');

  // Restart on the same data directory: carol's credential is still there.
  await s.g.stop();
  const g2 = await startGregor({ dataDir: s.dataDir, overrides: { 'listeners': 'SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256' } });
  t.teardown(() => g2.stop());
  const port = /listening on SASL_PLAINTEXT:\/\/[^ ]*:(\d+),/.exec(g2.output())![1];
  await roundTrip(t, client(`127.0.0.1:${port}`, { sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' } }), 'sec-carol-restarted');
  t.ok(await connectError(client(`127.0.0.1:${port}`, { sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'wrong' } })), 'and a wrong password still fails');
});
