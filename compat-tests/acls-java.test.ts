// kafka-acls.sh (Kafka 4.4's AclCommand) end to end over SASL_PLAINTEXT (PLAIN): a super user adds, lists
// and removes ACLs; kafka-topics.sh --list as a user without ACLs sees nothing, with a DESCRIBE ACL its topic.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { ensureKafkaTools } from '../scripts/kafka-ref.ts';
import { startGregor } from './support/gregor-process.ts';
import { tempDir } from './support/clients.ts';

const javaBin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
const hasJava = spawnSync(javaBin, ['-version']).status === 0;
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_eve="eve-secret";';

t.test('kafka-acls.sh and kafka-topics.sh against gregor with StandardAuthorizer', { skip: hasJava ? false : 'no java on this machine (the CI image has OpenJDK 17)' }, async (t) => {
  const tools = await ensureKafkaTools();
  const data = tempDir('gregor-compat-java-acl-');
  const g = await startGregor({ dataDir: data.dir, overrides: {
    'listeners': 'SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:admin',
  } });
  t.teardown(async () => { await g.stop(); data.remove(); });
  const sasl = `127.0.0.1:${/listening on SASL_PLAINTEXT:\/\/[^ ]*:(\d+),/.exec(g.output())![1]}`;
  const configFor = (user: string) => {
    const file = `${data.dir}/${user}.properties`;
    writeFileSync(file, [
      'security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=PLAIN',
      `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${user}-secret";`,
    ].join('\n'));
    return file;
  };
  const run = (main: string, user: string, args: string[]) => {
    const r = spawnSync(javaBin, ['-Xmx256m', '-Dlog4j2.level=warn', '-cp', `${tools.libs}/*`, `org.apache.kafka.tools.${main}`,
      '--bootstrap-server', sasl, '--command-config', configFor(user), ...args], { encoding: 'utf8', timeout: 120000 });
    t.equal(r.status, 0, `${main} ${args.join(' ')} as ${user} exits 0 ${r.stderr}`);
    return r.stdout;
  };

  run('TopicCommand', 'admin', ['--create', '--topic', 'java-acl', '--partitions', '1']);
  t.same(run('TopicCommand', 'eve', ['--list']).trim(), '', 'eve describes no topic');
  t.match(run('AclCommand', 'admin', ['--add', '--allow-principal', 'User:eve', '--operation', 'Describe', '--operation', 'Read', '--topic', 'java-acl']),
    /Adding ACLs for resource `ResourcePattern\(resourceType=TOPIC, name=java-acl, patternType=LITERAL\)`/);
  run('AclCommand', 'admin', ['--add', '--deny-principal', 'User:eve', '--operation', 'Write', '--topic', 'java-', '--resource-pattern-type', 'prefixed']);
  const listed = run('AclCommand', 'admin', ['--list', '--topic', 'java-acl', '--resource-pattern-type', 'match']);
  t.match(listed, /\(principal=User:eve, host=\*, operation=DESCRIBE, permissionType=ALLOW\)/);
  t.match(listed, /\(principal=User:eve, host=\*, operation=READ, permissionType=ALLOW\)/);
  t.match(listed, /ResourcePattern\(resourceType=TOPIC, name=java-, patternType=PREFIXED\)[\s\S]*operation=WRITE, permissionType=DENY/);
  t.same(run('TopicCommand', 'eve', ['--list']).trim(), 'java-acl', 'with DESCRIBE she sees it');
  run('AclCommand', 'admin', ['--remove', '--force', '--allow-principal', 'User:eve', '--operation', 'Describe', '--operation', 'Read', '--topic', 'java-acl']);
  t.notMatch(run('AclCommand', 'admin', ['--list', '--topic', 'java-acl']), /operation=READ/, 'removed');
  t.same(run('TopicCommand', 'eve', ['--list']).trim(), '', 'and she no longer sees it');
});
