// ACLs (issue 17 item 4) with real clients over SASL_PLAINTEXT (PLAIN users): an admin (super user) creates,
// describes and deletes ACLs with kafkajs admin; bob may use what his ACLs allow, eve (no ACLs, one DENY)
// gets TOPIC_AUTHORIZATION_FAILED / GROUP_AUTHORIZATION_FAILED as kafkajs and node-rdkafka surface them, and
// topics she may not describe are left out of her metadata; the ACLs survive a restart.
import t from 'tap';
import path from 'node:path';
import kafkajsPkg from 'kafkajs';
import type { KafkaConfig } from 'kafkajs';
import { startGregor, type GregorProcess } from './support/gregor-process.ts';
import { makeRecords, RdProducer, rdConsume, rdProduceAll, tempDir, toKafkajsMessage, verifyConsumed, waitFor } from './support/clients.ts';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajsPkg as any;
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_bob="bob-secret" user_eve="eve-secret";';

const tmp = tempDir('gregor-compat-acl-');
const dataDir = path.join(tmp.dir, 'data');
const overrides = {
  // PLAINTEXT last: startGregor waits for its line, logged after the others are bound.
  'listeners': 'SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
  'sasl.enabled.mechanisms': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'super.users': 'User:admin',
};
async function start(): Promise<{ g: GregorProcess; sasl: string }> {
  const g = await startGregor({ dataDir, overrides });
  const m = /listening on SASL_PLAINTEXT:\/\/[^ ]*:(\d+),/.exec(g.output());
  if (!m) throw new Error(`no SASL_PLAINTEXT listener in:\n${g.output()}`);
  return { g, sasl: `127.0.0.1:${m[1]}` };
}
let s = await start();
t.teardown(async () => { await s.g.stop(); tmp.remove(); });

const kafka = (user: string, extra: Partial<KafkaConfig> = {}) => new Kafka({
  clientId: `compat-acl-${user}`, brokers: [s.sasl], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 }, connectionTimeout: 5000,
  sasl: { mechanism: 'plain', username: user, password: `${user}-secret` }, ...extra,
});
const rdSasl = (user: string) => ({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': user, 'sasl.password': `${user}-secret` });
/** What a KafkaJSProtocolError with this broker error looks like (for t.rejects). */
const kjsError = (type: string) => ({ type }) as unknown as Error;
const acl = (o: Record<string, unknown>) => ({
  resourceType: AclResourceTypes.TOPIC, resourcePatternType: ResourcePatternTypes.LITERAL, host: '*', permissionType: AclPermissionTypes.ALLOW, ...o,
});

t.test('an admin creates and describes ACLs with kafkajs admin', async (t) => {
  const admin = kafka('admin').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  t.equal(await admin.createTopics({ topics: [{ topic: 'acl-orders', numPartitions: 1 }, { topic: 'acl-secret', numPartitions: 1 }] }), true);
  await admin.createAcls({ acl: [
    acl({ resourceName: 'acl-orders', principal: 'User:bob', operation: AclOperationTypes.ALL }),
    acl({ resourceType: AclResourceTypes.GROUP, resourceName: 'bob-describe-only', principal: 'User:bob', operation: AclOperationTypes.DESCRIBE }),
    acl({ resourceType: AclResourceTypes.GROUP, resourceName: 'bob-readers', resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:bob', operation: AclOperationTypes.READ }),
    acl({ resourceType: AclResourceTypes.GROUP, resourceName: 'compat-assign-', resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:*', operation: AclOperationTypes.READ }),
    acl({ resourceName: 'acl-orders', principal: 'User:eve', operation: AclOperationTypes.DESCRIBE }),
    acl({ resourceName: 'acl-', resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:eve', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.DENY }),
  ] });
  const bob = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal: 'User:bob',
    operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  });
  t.same(bob.resources.map((r: any) => [r.resourceType, r.resourceName, r.resourcePatternType]).sort(),
    [[AclResourceTypes.TOPIC, 'acl-orders', ResourcePatternTypes.LITERAL], [AclResourceTypes.GROUP, 'bob-readers', ResourcePatternTypes.PREFIXED], [AclResourceTypes.GROUP, 'bob-describe-only', ResourcePatternTypes.LITERAL]].sort());
  const matching = await admin.describeAcls({
    resourceType: AclResourceTypes.TOPIC, resourceName: 'acl-orders', resourcePatternType: ResourcePatternTypes.MATCH,
    operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  });
  t.equal(matching.resources.reduce((n: number, r: any) => n + r.acls.length, 0), 3, 'MATCH: the literal ACLs and the DENY prefix covering the name');
});

t.test('kafkajs: bob produces and consumes in his group; a group outside his ACLs is refused', async (t) => {
  const records = makeRecords(30, { source: 'acl-orders' });
  const producer = kafka('bob').producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic: 'acl-orders', messages: records.map((r) => toKafkajsMessage(r, 0)) });
  // kafkajs asks Metadata first: the TOPIC_AUTHORIZATION_FAILED entry becomes its non-retriable error.
  await t.rejects(producer.send({ topic: 'acl-secret', messages: [{ value: 'x' }] }), /Not authorized to access topics: \[Topic authorization failed\]/, 'a topic without ACLs');

  const consumer = kafka('bob').consumer({ groupId: 'bob-readers' });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: 'acl-orders', fromBeginning: true });
  let got = 0;
  await consumer.run({ eachMessage: async () => { got++; } });
  await waitFor('bob consumes every record', () => got >= records.length, 30000);
  t.equal(got, records.length);

  // FindCoordinator needs DESCRIBE on the group: kafkajs reports its GROUP_AUTHORIZATION_FAILED as "not found".
  t.match(await crashOf('other-group'), { name: 'KafkaJSGroupCoordinatorNotFound' });
  // DESCRIBE without READ: FindCoordinator answers, JoinGroup fails with GROUP_AUTHORIZATION_FAILED.
  t.match(await crashOf('bob-describe-only'), { type: 'GROUP_AUTHORIZATION_FAILED' });

  async function crashOf(groupId: string): Promise<any> {
    const denied = kafka('bob').consumer({ groupId, retry: { retries: 0 } });
    let crash: any = null;
    denied.on(denied.events.CRASH, (e: any) => { crash = e.payload.error; });
    await denied.connect();
    t.teardown(() => denied.disconnect());
    await denied.subscribe({ topic: 'acl-orders' });
    await denied.run({ eachMessage: async () => {} }).catch((e: unknown) => { crash = e; });
    await waitFor(`the consumer of group ${groupId} crashes`, () => crash !== null, 30000);
    return crash;
  }
});

t.test('kafkajs: eve sees only describable topics; a DENY beats her DESCRIBE', async (t) => {
  const admin = kafka('eve').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  t.same((await admin.listTopics()).sort(), ['acl-orders'], 'Metadata leaves out topics she may not describe');
  const producer = kafka('eve').producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await t.rejects(producer.send({ topic: 'acl-orders', messages: [{ value: 'x' }] }), kjsError('TOPIC_AUTHORIZATION_FAILED'), 'WRITE denied by the prefixed DENY');
});

t.test('node-rdkafka: bob produces and reads; eve\'s produce fails with TOPIC_AUTHORIZATION_FAILED', async (t) => {
  const records = makeRecords(20, { source: 'rd-acl' });
  const bob = await new RdProducer(s.sasl, rdSasl('bob')).connect();
  const reports = await rdProduceAll(bob, 'acl-orders', records, 0);
  await bob.disconnect();
  t.same(reports.filter((r) => r.err), [], 'every record delivered');
  const got = await rdConsume(s.sasl, 'acl-orders', 30 + records.length, { config: rdSasl('bob') });
  t.same(verifyConsumed(records, got.slice(30), 30).problems, [], 'read back by offset');

  const eve = await new RdProducer(s.sasl, { ...rdSasl('eve'), 'message.timeout.ms': 10000 }).connect();
  t.teardown(() => eve.disconnect());
  const [r] = await rdProduceAll(eve, 'acl-orders', makeRecords(1, { source: 'eve' }), 0);
  // node-rdkafka's delivery-report error carries librdkafka's text for the code (its `code` field is -1 there).
  t.match(r!.err?.message, /^topic authorization failed$/i, 'the delivery report carries TOPIC_AUTHORIZATION_FAILED');
});

t.test('ACLs survive a restart; deleteAcls removes them', async (t) => {
  await s.g.stop();
  s = await start();
  const admin = kafka('admin').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const all = { resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY };
  const before = await admin.describeAcls(all);
  t.equal(before.resources.reduce((n: number, r: any) => n + r.acls.length, 0), 6, 'every ACL back after the restart');
  const eveWrite = kafka('eve').producer();
  await eveWrite.connect();
  t.teardown(() => eveWrite.disconnect());
  await t.rejects(eveWrite.send({ topic: 'acl-orders', messages: [{ value: 'x' }] }), kjsError('TOPIC_AUTHORIZATION_FAILED'), 'still enforced');
  const del = await admin.deleteAcls({ filters: [{ ...all, principal: 'User:eve' }] });
  t.equal(del.filterResponses[0].matchingAcls.length, 2);
  t.equal((await admin.describeAcls({ ...all, principal: 'User:eve' })).resources.length, 0);
});
