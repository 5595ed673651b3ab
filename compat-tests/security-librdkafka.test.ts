// librdkafka (node-rdkafka, and kcat with its own librdkafka) over SASL_SSL (SCRAM-SHA-512), SASL_PLAINTEXT
// (PLAIN) and mutual TLS, and a wrong password refused while the others keep working.
import path from 'node:path';
import t from 'tap';
import { kcat, kcatAvailable, makeRecords, RdProducer, rdConnect, rdConsume, rdDisconnect, rdProduceAll, Rdkafka, verifyConsumed } from './support/clients.ts';
import { startSecureGregor } from './support/secure-gregor.ts';

const s = await startSecureGregor();
t.teardown(() => s.stop());
const ca = path.join(s.certs.dir, 'ca.pem');
const kcatSkip = (await kcatAvailable()) ? false : 'kcat is not installed (/usr/bin/kcat; Debian package kcat)';

const modes: Array<[string, string, Record<string, string>]> = [
  ['SASL_SSL SCRAM-SHA-512', s.ports.SASL_SSL, { 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'alice', 'sasl.password': 'alice-secret', 'ssl.ca.location': ca }],
  ['SASL_PLAINTEXT PLAIN', s.ports.SASL_PLAINTEXT, { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'bob', 'sasl.password': 'bob-secret' }],
  ['mutual TLS', s.ports.SSL, { 'security.protocol': 'SSL', 'ssl.ca.location': ca, 'ssl.certificate.location': path.join(s.certs.dir, 'client.pem'), 'ssl.key.location': path.join(s.certs.dir, 'client.key') }],
];

for (const [name, bootstrap, config] of modes) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  t.test(`node-rdkafka: ${name}`, async (t) => {
    const topic = `rd-${slug}`;
    const records = makeRecords(100, { source: topic });
    const p = await new RdProducer(bootstrap, config).connect();
    const reports = await rdProduceAll(p, topic, records, 0);
    await p.disconnect();
    t.same(reports.filter((r) => r.err), [], 'every record delivered');
    const got = await rdConsume(bootstrap, topic, records.length, { config });
    t.same(verifyConsumed(records, got).problems, []);
  });

  t.test(`kcat: ${name}`, { skip: kcatSkip }, async (t) => {
    const topic = `kcat-${slug}`;
    const x = Object.entries(config).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
    const lines = Array.from({ length: 20 }, (_, i) => `v-${i}`);
    const pr = await kcat(['-b', bootstrap, ...x, '-P', '-t', topic, '-p', '0'], lines.join('\n') + '\n');
    t.equal(pr.code, 0, `kcat -P exits 0 ${pr.stderr}`);
    const c = await kcat(['-b', bootstrap, ...x, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q']);
    t.equal(c.code, 0, `kcat -C exits 0 ${c.stderr}`);
    t.same(c.stdout.split('\n').filter(Boolean), lines);
  });
}

t.test('a wrong password is refused (librdkafka reports the broker\'s SASL failure); others unaffected', async (t) => {
  const bad = new Rdkafka.Producer({ 'metadata.broker.list': s.ports.SASL_SSL, ...modes[0][2], 'sasl.password': 'wrong', 'socket.timeout.ms': 5000, event_cb: true });
  // librdkafka logs the broker's SASL failure (FAIL, level 3); connect() itself only reports a transport failure.
  const logs: string[] = [];
  bad.on('event.log', (l: { message: string }) => logs.push(l.message));
  bad.on('event.error', () => {});
  await rdConnect(bad, 5000).catch(() => {});
  await rdDisconnect(bad);
  t.ok(logs.some((m) => /SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/.test(m)), `refused with the broker's message: ${logs.filter((m) => /SASL|auth/i.test(m)).join(' | ')}`);
  if (!kcatSkip) {
    const x = Object.entries({ ...modes[0][2], 'sasl.password': 'wrong' }).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
    const r = await kcat(['-b', s.ports.SASL_SSL, ...x, '-L', '-m', '5']);
    t.not(r.code, 0, 'kcat -L fails');
    t.match(r.stderr, /Authentication failed|invalid credentials/i);
  }
  const okTopic = 'rd-after-refusal';
  const p = await new RdProducer(s.ports.SASL_SSL, modes[0][2]).connect();
  const reports = await rdProduceAll(p, okTopic, makeRecords(5, { source: okTopic }), 0);
  await p.disconnect();
  t.same(reports.filter((r) => r.err), [], 'alice still produces');
});
