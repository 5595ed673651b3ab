// The authorizer's matching, with Kafka's StandardAuthorizerTest / AuthorizerTest cases as the spec.
import t from 'tap';
import type { StandardAcl } from '../../controller/metadata/image.ts';
import { AclOperation as Op, PatternType, Permission, ResourceType as R } from '../../controller/acls.ts';
import { Authorizer } from './authorizer.ts';

let n = 0;
const acl = (resourceType: number, resourceName: string, patternType: number, principal: string, operation: number, permissionType: number, host = '*'): StandardAcl =>
  ({ id: `id${n++}`, resourceType, resourceName, patternType, principal, host, operation, permissionType });
const L = PatternType.LITERAL, P = PatternType.PREFIXED, ALLOW = Permission.ALLOW, DENY = Permission.DENY;

function authorizer(acls: StandardAcl[], opts: { superUsers?: string[]; allowEveryone?: boolean } = {}): Authorizer {
  const map = new Map(acls.map((a) => [a.id, a]));
  return new Authorizer({ superUsers: opts.superUsers ?? [], allowEveryoneIfNoAcl: opts.allowEveryone ?? false, acls: () => map });
}

t.test('literal and prefixed patterns; DENY beats ALLOW (testSimpleAuthorizations)', async (t) => {
  const a = authorizer([
    acl(R.TOPIC, 'foo', P, 'User:alice', Op.ALL, ALLOW),
    acl(R.TOPIC, 'foobar', L, 'User:alice', Op.READ, DENY),
    acl(R.TOPIC, 'bar', L, 'User:*', Op.READ, ALLOW),
    acl(R.GROUP, 'g', L, 'User:alice', Op.READ, ALLOW),
  ]);
  t.ok(a.authorize('User:alice', '1.1.1.1', Op.READ, R.TOPIC, 'foo'), 'prefix matches its own name');
  t.ok(a.authorize('User:alice', '1.1.1.1', Op.WRITE, R.TOPIC, 'foo_x'), 'ALL under a prefix');
  t.notOk(a.authorize('User:alice', '1.1.1.1', Op.READ, R.TOPIC, 'foobar'), 'a literal DENY beats the prefixed ALLOW');
  t.ok(a.authorize('User:alice', '1.1.1.1', Op.WRITE, R.TOPIC, 'foobar'), 'DENY READ does not deny WRITE');
  t.notOk(a.authorize('User:alice', '1.1.1.1', Op.READ, R.TOPIC, 'fo'), 'a shorter name is not under the prefix');
  t.ok(a.authorize('User:bob', '1.1.1.1', Op.READ, R.TOPIC, 'bar'), 'User:* matches any principal');
  t.notOk(a.authorize('User:bob', '1.1.1.1', Op.WRITE, R.TOPIC, 'bar'));
  t.notOk(a.authorize('User:bob', '1.1.1.1', Op.READ, R.TOPIC, 'foo'), 'ACLs of another principal');
  t.ok(a.authorize('User:alice', '1.1.1.1', Op.READ, R.GROUP, 'g'));
  t.notOk(a.authorize('User:alice', '1.1.1.1', Op.READ, R.GROUP, 'other'), 'no ACL and allow.everyone.if.no.acl.found=false');
});

t.test('implied operations: DESCRIBE from READ/WRITE/DELETE/ALTER, DESCRIBE_CONFIGS from ALTER_CONFIGS; DENY is never implied', async (t) => {
  for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
    t.ok(authorizer([acl(R.TOPIC, 't', L, 'User:a', op, ALLOW)]).authorize('User:a', 'h', Op.DESCRIBE, R.TOPIC, 't'), `ALLOW ${op} implies DESCRIBE`);
  }
  t.notOk(authorizer([acl(R.TOPIC, 't', L, 'User:a', Op.CREATE, ALLOW)]).authorize('User:a', 'h', Op.DESCRIBE, R.TOPIC, 't'), 'CREATE does not imply DESCRIBE');
  t.ok(authorizer([acl(R.TOPIC, 't', L, 'User:a', Op.ALTER_CONFIGS, ALLOW)]).authorize('User:a', 'h', Op.DESCRIBE_CONFIGS, R.TOPIC, 't'));
  t.notOk(authorizer([acl(R.TOPIC, 't', L, 'User:a', Op.READ, ALLOW)]).authorize('User:a', 'h', Op.WRITE, R.TOPIC, 't'), 'READ does not imply WRITE');
  const denyRead = authorizer([acl(R.TOPIC, 't', L, 'User:a', Op.ALL, ALLOW), acl(R.TOPIC, 't', L, 'User:a', Op.READ, DENY)]);
  t.ok(denyRead.authorize('User:a', 'h', Op.DESCRIBE, R.TOPIC, 't'), 'DENY READ does not deny DESCRIBE');
  t.notOk(authorizer([acl(R.TOPIC, 't', L, 'User:a', Op.ALL, ALLOW), acl(R.TOPIC, 't', L, 'User:a', Op.ALL, DENY)]).authorize('User:a', 'h', Op.DESCRIBE, R.TOPIC, 't'), 'DENY ALL denies everything');
});

t.test('wildcard resource, host matching, super users, allow.everyone.if.no.acl.found', async (t) => {
  const a = authorizer([
    acl(R.TOPIC, '*', L, 'User:a', Op.READ, ALLOW),
    acl(R.TOPIC, 'secret', L, 'User:*', Op.READ, DENY, '10.0.0.9'),
    acl(R.TOPIC, 'h', L, 'User:b', Op.WRITE, ALLOW, '10.0.0.1'),
  ], { superUsers: ['User:admin'] });
  t.ok(a.authorize('User:a', '10.0.0.1', Op.READ, R.TOPIC, 'anything'), 'the wildcard resource matches every name');
  t.ok(a.authorize('User:a', '10.0.0.1', Op.READ, R.TOPIC, 'secret'), 'a DENY for another host does not apply');
  t.notOk(a.authorize('User:a', '10.0.0.9', Op.READ, R.TOPIC, 'secret'), 'a DENY for this host applies');
  t.ok(a.authorize('User:b', '10.0.0.1', Op.WRITE, R.TOPIC, 'h'));
  t.notOk(a.authorize('User:b', '10.0.0.2', Op.WRITE, R.TOPIC, 'h'), 'an ALLOW for another host does not apply');
  t.ok(a.authorize('User:admin', '10.0.0.9', Op.READ, R.TOPIC, 'secret'), 'super users beat DENY');
  t.ok(a.authorize('User:admin', 'x', Op.ALTER, R.CLUSTER, 'kafka-cluster'));
  const open = authorizer([acl(R.TOPIC, 'locked', L, 'User:a', Op.READ, ALLOW)], { allowEveryone: true });
  t.ok(open.authorize('User:z', 'h', Op.READ, R.TOPIC, 'free'), 'no ACL on the resource: allowed when allow.everyone.if.no.acl.found');
  t.notOk(open.authorize('User:z', 'h', Op.READ, R.TOPIC, 'locked'), 'an ACL for someone else on the resource: denied');
  t.ok(open.authorize('User:z', 'h', Op.READ, R.GROUP, 'g'), 'no ACL of the resource type at all');
});

t.test('the index follows the image (a new ACL map is re-indexed)', async (t) => {
  let map = new Map<string, StandardAcl>();
  const a = new Authorizer({ superUsers: [], allowEveryoneIfNoAcl: false, acls: () => map });
  t.notOk(a.authorize('User:a', 'h', Op.READ, R.TOPIC, 't'));
  const x = acl(R.TOPIC, 't', L, 'User:a', Op.READ, ALLOW);
  map = new Map([[x.id, x]]);
  t.ok(a.authorize('User:a', 'h', Op.READ, R.TOPIC, 't'));
});

t.test('authorizeByResourceType (Kafka AuthorizerTest cases)', async (t) => {
  const u = 'User:a';
  const by = (acls: StandardAcl[], opts = {}) => authorizer(acls, opts).authorizeByResourceType(u, 'h', Op.WRITE, R.TOPIC);
  t.notOk(by([]), 'no ACLs');
  t.ok(by([], { allowEveryone: true }), 'no ACLs, allow.everyone.if.no.acl.found');
  t.ok(by([], { superUsers: [u] }), 'super user');
  t.ok(by([acl(R.TOPIC, 't', L, u, Op.WRITE, ALLOW)]), 'a literal ALLOW');
  t.notOk(by([acl(R.TOPIC, 't', L, u, Op.WRITE, ALLOW), acl(R.TOPIC, 't', L, u, Op.WRITE, DENY)]), 'the same literal denied');
  t.notOk(by([acl(R.TOPIC, 't', L, u, Op.WRITE, ALLOW), acl(R.TOPIC, '*', L, u, Op.WRITE, DENY)]), 'a wildcard DENY');
  t.notOk(by([acl(R.TOPIC, 'abc', P, u, Op.WRITE, ALLOW), acl(R.TOPIC, 'a', P, u, Op.WRITE, DENY)]), 'an ALLOW prefix under a DENY prefix');
  t.ok(by([acl(R.TOPIC, 'a', P, u, Op.WRITE, ALLOW), acl(R.TOPIC, 'abc', P, u, Op.WRITE, DENY)]), 'a DENY prefix narrower than the ALLOW prefix');
  t.ok(by([acl(R.TOPIC, '*', L, 'User:*', Op.ALL, ALLOW)]), 'a wildcard ALLOW ALL');
  t.notOk(by([acl(R.TOPIC, 't', L, 'User:b', Op.WRITE, ALLOW)]), 'another principal');
  t.notOk(by([acl(R.TOPIC, 't', L, u, Op.READ, ALLOW)]), 'another operation');
});
