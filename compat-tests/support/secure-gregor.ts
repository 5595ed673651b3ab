// A gregor process with one listener of each security protocol (ports picked by the OS), test certificates
// made at run time, SCRAM user alice bootstrapped from gregor.scram.credentials and PLAIN users from JAAS.
import path from 'node:path';
import { startGregor, type GregorProcess } from './gregor-process.ts';
import { makeCerts, type TestCerts } from './certs.ts';
import { tempDir } from './clients.ts';

export const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_bob="bob-secret";';

export interface SecureGregor {
  g: GregorProcess;
  certs: TestCerts;
  dataDir: string;
  /** Listener name → "127.0.0.1:port". */
  ports: Record<'SASL_SSL' | 'SSL' | 'SASL_PLAINTEXT' | 'PLAINTEXT', string>;
  stop(): Promise<void>;
}

export async function startSecureGregor(overrides: Record<string, string> = {}): Promise<SecureGregor> {
  const tmp = tempDir('gregor-compat-sec-');
  const certs = makeCerts(tmp.dir);
  const data = path.join(tmp.dir, 'data');
  const g = await startGregor({
    dataDir: data,
    overrides: {
      // PLAINTEXT last: startGregor waits for its line, logged after the others are bound.
      'listeners': 'SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
      'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredValidatorRequiredScope="kafka";',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256',
      // SASL_SSL: PEM keystore given inline; SSL: PKCS12 file, client certificates required.
      'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
      'listener.name.sasl_ssl.ssl.keystore.certificate.chain': certs.serverCert,
      'listener.name.sasl_ssl.ssl.keystore.key': certs.serverKey,
      'listener.name.ssl.ssl.keystore.type': 'PKCS12',
      'listener.name.ssl.ssl.keystore.location': certs.serverP12,
      'listener.name.ssl.ssl.keystore.password': 'p12pass',
      'listener.name.ssl.ssl.truststore.type': 'PEM',
      'listener.name.ssl.ssl.truststore.location': path.join(tmp.dir, 'ca.pem'),
      'listener.name.ssl.ssl.client.auth': 'required',
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]*),.*$/$1/L,DEFAULT',
      'gregor.scram.credentials': 'SCRAM-SHA-512=[name=alice,password=alice-secret];SCRAM-SHA-256=[name=alice,password=alice-secret]',
      ...overrides,
    },
  });
  const ports = {} as SecureGregor['ports'];
  for (const m of g.output().matchAll(/listening on (\w+):\/\/[^ ]*:(\d+),/g)) ports[m[1] as keyof SecureGregor['ports']] = `127.0.0.1:${m[2]}`;
  return { g, certs, dataDir: data, ports, async stop() { await g.stop(); tmp.remove(); } };
}
