import t from 'tap';
import { parseJaas, plainUsers } from './jaas.ts';
import { parseBootstrapCredentials } from './scram-store.ts';

t.test('JAAS entries as Kafka\'s JaasConfig reads them', async (t) => {
  const e = parseJaas('org.apache.kafka.common.security.plain.PlainLoginModule required\n  username="admin"\n  password="admin-secret"\n  user_admin="admin-secret"\n  user_alice="p=a;s\\"s";');
  t.equal(e.loginModule, 'org.apache.kafka.common.security.plain.PlainLoginModule');
  t.equal(e.flag, 'required');
  t.same([...plainUsers(e)], [['admin', 'admin-secret'], ['alice', 'p=a;s"s']]);
  t.same([...parseJaas('x.Y optional debug=true;').options], [['debug', 'true']]);
  t.throws(() => parseJaas('x.Y required user_a="b"'), /expected ";"/);
  t.throws(() => parseJaas('x.Y maybe;'), /control flag/);
  t.throws(() => parseJaas('x.Y required a="b"; z.W required;'), /exactly one/);
  t.throws(() => parseJaas('x.Y required user_a="unterminated;'), /unterminated/);
  t.throws(() => parseJaas('x.Y required =x;'), /malformed option/);
});

t.test('gregor.scram.credentials: kafka-storage --add-scram entries', async (t) => {
  t.same(parseBootstrapCredentials('SCRAM-SHA-512=[name=alice,password=alice-secret]; SCRAM-SHA-256=[name=bob,password="b=b",iterations=8192]'), [
    { mechanism: 'SCRAM-SHA-512', user: 'alice', password: 'alice-secret', iterations: 4096 },
    { mechanism: 'SCRAM-SHA-256', user: 'bob', password: 'b=b', iterations: 8192 },
  ]);
  t.same(parseBootstrapCredentials(''), []);
  t.throws(() => parseBootstrapCredentials('SCRAM-SHA-1=[name=a,password=b]'), /malformed entry/);
  t.throws(() => parseBootstrapCredentials('SCRAM-SHA-256=[name=a]'), /needs name= and password=/);
  t.throws(() => parseBootstrapCredentials('SCRAM-SHA-256=[name=a,password=b,iterations=100]'), /iterations/);
  t.throws(() => parseBootstrapCredentials('SCRAM-SHA-256=[name=a,password=b,salt=x]'), /unknown field salt/);
});
