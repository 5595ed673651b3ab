import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { mapPrincipal, parsePrincipalRules, rfc2253 } from './principal-rules.ts';

t.test('Kafka\'s rule syntax (SslPrincipalMapper examples)', async (t) => {
  const rules = parsePrincipalRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,DEFAULT');
  t.equal(rules.length, 4);
  t.equal(mapPrincipal(rules, 'CN=kafka-server1,OU=ServiceUsers,O=Org,C=US'), 'kafka-server1');
  t.equal(mapPrincipal(rules, 'CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US'), 'duke@javasoft');
  t.equal(mapPrincipal(rules, 'OU=x,cn=web01'), 'WEB01');
  t.equal(mapPrincipal(rules, 'OU=nothing'), 'OU=nothing', 'DEFAULT keeps the DN');
  t.equal(mapPrincipal(parsePrincipalRules('DEFAULT'), 'CN=a,O=b'), 'CN=a,O=b');
  t.equal(mapPrincipal(parsePrincipalRules('RULE:^CN=(.*)$/$1/'), 'O=only'), null, 'no rule applies: authentication fails');
  t.equal(parsePrincipalRules('RULE:^CN=(.*?)\\/x,O=(.*)$/$1/,\n DEFAULT').length, 2, 'escaped slash and comma inside a pattern, newline separator');
  t.throws(() => parsePrincipalRules('RULE:^CN=(.*)$/$1/,nonsense'), /invalid rule "nonsense"/);
  t.throws(() => parsePrincipalRules('RULE:^CN=((.*$/$1/'), /invalid pattern/);
});

t.test('the DN of a real certificate, as Java\'s X500Principal.getName() prints it', { skip: fs.existsSync('/usr/bin/openssl') ? false : 'no openssl' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-dn-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/C=US/ST=CA/O=Acme, Inc./OU=test/CN=alice'], { cwd: dir, stdio: 'ignore' });
  const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'c.pem')));
  t.equal(rfc2253(cert.subject), 'CN=alice,OU=test,O=Acme\\, Inc.,ST=CA,C=US');
  t.equal(mapPrincipal(parsePrincipalRules('RULE:^CN=([^,]*),.*$/$1/U'), rfc2253(cert.subject)), 'ALICE');
});
