// gregor acls list: DescribeAcls of every binding (kafka-acls.sh --list's output lines). A broker without an
// authorizer answers SECURITY_DISABLED (exit 1).
import { API, check } from './client.ts';
import { COMMON_HELP, type Io, makeClient, parse, UsageError } from './common.ts';

export const HELP = `usage: gregor acls list [options]
Lists every ACL binding of a broker with an authorizer (gregor: authorizer.class.name=
org.apache.kafka.metadata.authorizer.StandardAuthorizer). Without one the broker answers SECURITY_DISABLED and
this command exits 1. Creating and deleting ACLs: kafka-acls.sh or an admin client (not yet here).
${COMMON_HELP}`;

const RESOURCE = ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN', 'USER'];
const PATTERN = ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED'];
const OPERATION = ['UNKNOWN', 'ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE', 'CREATE_TOKENS', 'DESCRIBE_TOKENS', 'TWO_PHASE_COMMIT'];
const PERMISSION = ['UNKNOWN', 'ANY', 'DENY', 'ALLOW'];

export async function run(args: string[], io: Io): Promise<number> {
  const p = parse(args, {});
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  const [sub, ...rest] = p.positionals;
  if (sub !== 'list' || rest.length) throw new UsageError(sub && sub !== 'list' ? `unknown acls command ${sub}` : rest.length ? `unexpected argument ${rest[0]}` : 'acls needs list');
  const { client } = makeClient(p, io);
  try {
    const res = await client.retry('DescribeAcls', async () => (await client.any()).request(API.DescribeAcls, {
      resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1,
    }));
    check(res.errorCode, 'DescribeAcls', res.errorMessage);
    for (const r of res.resources) {
      io.out(`Current ACLs for resource \`ResourcePattern(resourceType=${RESOURCE[r.resourceType]}, name=${r.resourceName}, patternType=${PATTERN[r.patternType]})\`:\n`);
      for (const a of r.acls) io.out(`\t(principal=${a.principal}, host=${a.host}, operation=${OPERATION[a.operation]}, permissionType=${PERMISSION[a.permissionType]})\n`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
