// CreateAcls / DescribeAcls / DeleteAcls and the authorization checks of the handlers, over the wire. The
// PLAINTEXT listener's principal is User:ANONYMOUS: a super user in the admin tests, an ordinary principal
// with ACLs made through the controller in the authorization tests.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { makeCreateTopicsRequest } from '../../protocol/generated/create-topics.ts';
import { makeFindCoordinatorRequest } from '../../protocol/generated/find-coordinator.ts';
import { makeJoinGroupRequest } from '../../protocol/generated/join-group.ts';
import { makeOffsetCommitRequest } from '../../protocol/generated/offset-commit.ts';
import { makeInitProducerIdRequest } from '../../protocol/generated/init-producer-id.ts';
import { AclOperation as Op, PatternType, Permission, ResourceType as R } from '../../controller/acls.ts';
import { RawClient } from '../testing/raw-client.ts';
import { restartTestBroker, startTestBroker } from '../testing/start.ts';
import { batchOf, fetchRequest, produce } from '../testing/produce.ts';

const [METADATA, FETCH, FIND_COORDINATOR, JOIN_GROUP, OFFSET_COMMIT, CREATE_TOPICS, INIT_PRODUCER_ID] = [3, 1, 10, 11, 8, 19, 22];
const [DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS] = [29, 30, 31];
const STANDARD = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
const ANON = 'User:ANONYMOUS';

const creation = (o: Partial<{ resourceType: number; resourceName: string; resourcePatternType: number; principal: string; host: string; operation: number; permissionType: number }>) => ({
  resourceType: R.TOPIC, resourceName: 't', resourcePatternType: PatternType.LITERAL, principal: 'User:bob', host: '*', operation: Op.READ, permissionType: Permission.ALLOW, ...o,
});
const filter = (o: Record<string, unknown> = {}) => ({
  resourceTypeFilter: R.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Permission.ANY, ...o,
});

t.test('without an authorizer the ACL APIs answer SECURITY_DISABLED and everything is allowed', async (t) => {
  const tb = await startTestBroker({ 'auto.create.topics.enable': 'false' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  t.match(await c.request(CREATE_ACLS, 3, { creations: [creation({})] }), { results: [{ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' }] });
  t.match(await c.request(DESCRIBE_ACLS, 3, filter()), { errorCode: ErrorCode.SECURITY_DISABLED });
  t.match(await c.request(DELETE_ACLS, 3, { filters: [filter()] }), { filterResults: [{ errorCode: ErrorCode.SECURITY_DISABLED }] });
  t.match(await c.request(CREATE_TOPICS, 7, makeCreateTopicsRequest({ topics: [{ name: 'free', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 })), { topics: [{ errorCode: 0 }] });
});

t.test('an unknown authorizer.class.name is refused at start', async (t) => {
  await t.rejects(startTestBroker({ 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer' }), /authorizer.class.name/);
});

t.test('CreateAcls / DescribeAcls (MATCH, ANY, LITERAL, PREFIXED filters) / DeleteAcls; ACLs survive a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gregor-acls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = { 'authorizer.class.name': STANDARD, 'super.users': `User:admin;${ANON}`, 'log.dirs': dir };
  let tb = await startTestBroker(cfg, { storage: 'file' });
  let c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });

  for (const v of [1, 2, 3]) {
    const res = await c.request(CREATE_ACLS, v, { creations: [
      creation({ resourceName: `lit-${v}` }),
      creation({ resourceName: `pre-${v}`, resourcePatternType: PatternType.PREFIXED, operation: Op.WRITE, permissionType: Permission.DENY }),
      creation({ resourceName: '' }),
      creation({ principal: 'bob' }),
      creation({ resourceType: R.CLUSTER, resourceName: 'other' }),
      creation({ resourcePatternType: PatternType.MATCH }),
      creation({ operation: Op.ANY }),
    ] });
    t.same(res.results.map((r: any) => r.errorCode), [0, 0, 42, 42, 42, 42, 42], `v${v}: valid ones created, invalid ones INVALID_REQUEST`);
    t.match(res.results[3].errorMessage, /Could not parse principal/);
  }
  // An identical ACL again is accepted without a second copy.
  t.same((await c.request(CREATE_ACLS, 3, { creations: [creation({ resourceName: 'lit-1' })] })).results, [{ errorCode: 0, errorMessage: null }]);

  const all = await c.request(DESCRIBE_ACLS, 3, filter());
  t.equal(all.errorCode, 0);
  t.equal(all.resources.length, 6, 'one resource per pattern');
  t.equal(all.resources.reduce((n: number, r: any) => n + r.acls.length, 0), 6, 'the duplicate was not stored');
  const match = await c.request(DESCRIBE_ACLS, 3, filter({ resourceTypeFilter: R.TOPIC, resourceNameFilter: 'pre-2-x', patternTypeFilter: PatternType.MATCH }));
  t.same(match.resources.map((r: any) => [r.resourceName, r.patternType]), [['pre-2', PatternType.PREFIXED]], 'MATCH finds the prefixed ACL covering the name');
  const lit = await c.request(DESCRIBE_ACLS, 1, filter({ resourceNameFilter: 'lit-3', patternTypeFilter: PatternType.LITERAL }));
  t.same(lit.resources, [{ resourceType: R.TOPIC, resourceName: 'lit-3', patternType: PatternType.LITERAL, acls: [{ principal: 'User:bob', host: '*', operation: Op.READ, permissionType: Permission.ALLOW }] }]);
  t.match(await c.request(DESCRIBE_ACLS, 3, filter({ patternTypeFilter: PatternType.UNKNOWN })), { errorCode: ErrorCode.INVALID_REQUEST });

  const del = await c.request(DELETE_ACLS, 3, { filters: [filter({ resourceNameFilter: 'lit-1', patternTypeFilter: PatternType.LITERAL }), filter({ permissionType: Permission.DENY, patternTypeFilter: PatternType.PREFIXED })] });
  t.same(del.filterResults.map((f: any) => f.matchingAcls.map((a: any) => a.resourceName).sort()), [['lit-1'], ['pre-1', 'pre-2', 'pre-3']]);

  ({ tb, c } = await restartTestBroker(t, tb, c, cfg));
  const after = await c.request(DESCRIBE_ACLS, 3, filter());
  t.same(after.resources.map((r: any) => r.resourceName).sort(), ['lit-2', 'lit-3'], 'created and deleted ACLs as they were before the restart');
});

t.test('handlers check what Kafka checks; Metadata leaves out topics the principal may not describe', async (t) => {
  const tb = await startTestBroker({ 'authorizer.class.name': STANDARD, 'super.users': 'User:admin', 'auto.create.topics.enable': 'true' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  const ctx = tb.broker.context;
  for (const name of ['mine', 'theirs', 'ro']) await ctx.createTopic(name, 1);
  const allow = (resourceType: number, resourceName: string, operation: number, patternType: number = PatternType.LITERAL) =>
    ({ resourceType, resourceName, patternType, principal: ANON, host: '*', operation, permissionType: Permission.ALLOW });
  const res = await ctx.controller.createAcls([
    allow(R.TOPIC, 'mine', Op.ALL), allow(R.TOPIC, 'ro', Op.READ), allow(R.GROUP, 'my-', Op.READ, PatternType.PREFIXED),
  ]);
  t.same(res.map((r) => r.errorCode), [0, 0, 0]);

  const md = await c.request(METADATA, 12, makeMetadataRequest({ topics: null, includeTopicAuthorizedOperations: true }));
  t.same(md.topics.map((x: any) => x.name).sort(), ['mine', 'ro'], 'all-topics Metadata lists only describable topics');
  const ro = md.topics.find((x: any) => x.name === 'ro');
  t.equal(ro.topicAuthorizedOperations, (1 << Op.READ) | (1 << Op.DESCRIBE), 'authorized operations computed');
  const named = await c.request(METADATA, 12, makeMetadataRequest({ topics: [{ name: 'theirs', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }, { name: 'new-one', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true }));
  t.same(named.topics.map((x: any) => [x.name, x.errorCode]), [['theirs', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['new-one', ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
  t.notOk(ctx.isCreating('new-one') || ctx.topics.get('new-one'), 'not auto-created without CREATE');

  t.equal((await produce(c, 'mine', 0, batchOf(2))).errorCode, 0, 'WRITE allowed by ALL');
  t.equal((await produce(c, 'ro', 0, batchOf(2))).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'READ does not allow WRITE');
  t.equal((await produce(c, 'theirs', 0, batchOf(2))).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const fetched = await c.request(FETCH, 12, fetchRequest([{ topic: 'mine', partition: 0, offset: 0 }, { topic: 'theirs', partition: 0, offset: 0 }]));
  t.same(fetched.responses.map((r: any) => [r.topic, r.partitions[0].errorCode]), [['mine', 0], ['theirs', ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);

  t.match(await c.request(FIND_COORDINATOR, 3, makeFindCoordinatorRequest({ key: 'other-group', keyType: 0 })), { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
  t.match(await c.request(FIND_COORDINATOR, 3, makeFindCoordinatorRequest({ key: 'my-group', keyType: 0 })), { errorCode: 0 }, 'READ implies DESCRIBE');
  const join = (groupId: string) => c.request(JOIN_GROUP, 5, makeJoinGroupRequest({ groupId, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] }));
  t.match(await join('other-group'), { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
  const commit = await c.request(OFFSET_COMMIT, 8, makeOffsetCommitRequest({ groupId: 'my-group', generationIdOrMemberEpoch: -1, memberId: '', topics: [
    { name: 'mine', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' }] },
    { name: 'theirs', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' }] },
  ] }));
  t.same(commit.topics.map((x: any) => x.partitions[0].errorCode), [0, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);

  const created = await c.request(CREATE_TOPICS, 7, makeCreateTopicsRequest({ topics: [{ name: 'fresh', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 }));
  t.match(created.topics, [{ name: 'fresh', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }]);
  t.match(await c.request(INIT_PRODUCER_ID, 4, makeInitProducerIdRequest({ transactionalId: 'tx', transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })), { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
  t.match(await c.request(INIT_PRODUCER_ID, 4, makeInitProducerIdRequest({ transactionalId: null, transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })), { errorCode: 0 }, 'idempotent: WRITE on some topic is enough');
  t.match(await c.request(CREATE_ACLS, 3, { creations: [creation({})] }), { results: [{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }] });
  t.match(await c.request(DESCRIBE_ACLS, 3, filter()), { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });

  const configs = await c.request(32, 4, { resources: [{ resourceType: 2, resourceName: 'mine', configurationKeys: null }, { resourceType: 2, resourceName: 'ro', configurationKeys: null }, { resourceType: 4, resourceName: '0', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
  t.same(configs.results.map((r: any) => r.errorCode), [0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED], 'DescribeConfigs: DESCRIBE_CONFIGS on the topic / cluster');
  const alter = await c.request(44, 1, { resources: [{ resourceType: 2, resourceName: 'ro', configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }] }], validateOnly: true });
  t.equal(alter.responses[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'IncrementalAlterConfigs: ALTER_CONFIGS');
  const grow = await c.request(37, 3, { topics: [{ name: 'ro', count: 2, assignments: null }, { name: 'mine', count: 2, assignments: null }], timeoutMs: 5000, validateOnly: true });
  t.same(grow.results.map((r: any) => [r.name, r.errorCode]), [['ro', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['mine', 0]], 'CreatePartitions: ALTER');
  const delRecords = await c.request(21, 2, { topics: [{ name: 'ro', partitions: [{ partitionIndex: 0, offset: 0n }] }], timeoutMs: 5000 });
  t.equal(delRecords.topics[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'DeleteRecords: DELETE');
  const endTxn = await c.request(26, 3, { transactionalId: 'tx', producerId: 1n, producerEpoch: 0, committed: true });
  t.equal(endTxn.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'EndTxn: WRITE on the transactional id');
  const scram = await c.request(50, 0, { users: null });
  t.equal(scram.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'DescribeUserScramCredentials: DESCRIBE on the cluster');
});
