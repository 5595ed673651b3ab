// KIP-368 re-authentication (connections.max.reauth.ms): SaslAuthenticate reports the session lifetime, a
// session that expires without re-authenticating is closed at its next request, re-authentication keeps
// mechanism and principal; librdkafka (node-rdkafka) re-authenticates on its own and keeps producing.
import t from 'tap';
import { startGregor } from './support/gregor-process.ts';
import { makeRecords, RdProducer, rdProduceAll, sleep, waitFor } from './support/clients.ts';
import { PLAIN_JAAS } from './support/secure-gregor.ts';
import { RawConnection } from './support/raw-kafka.ts';
import { makeMetadataRequest, MetadataApi } from '../protocol/generated/metadata.ts';
import { SaslHandshakeApi } from '../protocol/generated/sasl-handshake.ts';
import { SaslAuthenticateApi } from '../protocol/generated/sasl-authenticate.ts';

const LIFETIME = 1500;
const g = await startGregor({
  overrides: {
    'listeners': 'SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
    'listener.name.sasl_plaintext.connections.max.reauth.ms': String(LIFETIME),
  },
});
t.teardown(() => g.stop());
const port = `127.0.0.1:${/listening on SASL_PLAINTEXT:\/\/[^ ]*:(\d+),/.exec(g.output())![1]}`;
const metadata = makeMetadataRequest({ topics: null, allowAutoTopicCreation: false });
const login = async (c: RawConnection, user: string, password: string) => {
  await c.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' });
  return c.request(SaslAuthenticateApi, 1, { authBytes: Buffer.from(`\u0000${user}\u0000${password}`) });
};

t.test('session lifetime, re-authentication, expiry', async (t) => {
  const c = await RawConnection.connect(port);
  t.teardown(() => c.close());
  t.match(await login(c, 'bob', 'bob-secret'), { errorCode: 0, sessionLifetimeMs: BigInt(LIFETIME) });
  t.match(await c.request(MetadataApi, 12, metadata), { brokers: [{ nodeId: 1 }] });
  t.match(await login(c, 'bob', 'bob-secret'), { errorCode: 0, sessionLifetimeMs: BigInt(LIFETIME) }, 're-authenticated');
  t.match(await c.request(MetadataApi, 12, metadata), { brokers: [{ nodeId: 1 }] });
  await sleep(LIFETIME + 300);
  t.equal(await c.request(MetadataApi, 12, metadata), null, 'expired: the next request closes the connection');

  const other = await RawConnection.connect(port);
  t.teardown(() => other.close());
  t.match(await login(other, 'bob', 'bob-secret'), { errorCode: 0 });
  t.match(await login(other, 'admin', 'admin-secret'), { errorCode: 58, errorMessage: 'Cannot change principals during re-authentication' });
  t.ok(await other.closesWithin());
});

t.test('node-rdkafka re-authenticates by itself while producing', async (t) => {
  const p = await new RdProducer(port, { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'bob', 'sasl.password': 'bob-secret' }).connect();
  t.teardown(() => p.disconnect());
  const until = Date.now() + 3 * LIFETIME + 500;
  let sent = 0;
  while (Date.now() < until) {
    const reports = await rdProduceAll(p, 'reauth', makeRecords(20, { source: `reauth-${sent}` }), 0);
    t.same(reports.filter((r) => r.err).map((r) => String(r.err)), [], `batch ${sent} delivered`);
    sent++;
    await sleep(200);
  }
  await waitFor('a re-authentication in the broker log', () => /re-authenticated/.test(g.output()), 5000);
  t.ok(sent > 5);
});
