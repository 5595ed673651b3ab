// Test certificates made at run time with the openssl CLI (never committed): a CA, a server certificate for
// 127.0.0.1/localhost (PEM and PKCS12), and client certificates signed by the CA (and one by another CA).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** PKCS12 keystore of the server key and chain, password `p12pass`. */
  serverP12: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a CA the broker does not trust. */
  rogueCert: string;
  rogueKey: string;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

function ca(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
}

function signed(dir: string, name: string, subj: string, caName: string, ext?: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
  const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2'];
  if (ext) { fs.writeFileSync(path.join(dir, `${name}.ext`), ext); args.push('-extfile', `${name}.ext`); }
  openssl(dir, args);
}

export function makeCerts(dir: string): TestCerts {
  ca(dir, 'ca');
  ca(dir, 'rogue-ca');
  signed(dir, 'server', '/CN=localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  signed(dir, 'client', '/C=US/O=gregor/OU=test/CN=alice-client', 'ca');
  signed(dir, 'rogue', '/CN=mallory', 'rogue-ca');
  openssl(dir, ['pkcs12', '-export', '-in', 'server.pem', '-inkey', 'server.key', '-certfile', 'ca.pem', '-out', 'server.p12', '-passout', 'pass:p12pass']);
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return {
    dir, caCert: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), serverP12: path.join(dir, 'server.p12'),
    clientCert: read('client.pem'), clientKey: read('client.key'), rogueCert: read('rogue.pem'), rogueKey: read('rogue.key'),
  };
}
