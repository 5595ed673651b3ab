import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeCerts } from '../../compat-tests/support/certs.ts';
import { buildBrokerConfig } from '../config.ts';
import { ListenerConfig } from './listener-config.ts';
import { tlsSettings } from './tls.ts';

const skip = fs.existsSync('/usr/bin/openssl') ? false : 'no openssl';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-tls-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const certs = skip ? null : makeCerts(dir);

const lc = (o: Record<string, string>) => new ListenerConfig(buildBrokerConfig({ overrides: new Map(Object.entries(o)) }), 'SECURE', 'SSL');

t.test('keystores: PEM inline, PEM file with key and chain, PKCS12; per-listener values win', { skip }, async (t) => {
  t.ok(tlsSettings(lc({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.certificate.chain': certs!.serverCert.replace(/\n/g, ' '), 'ssl.keystore.key': certs!.serverKey.replace(/\n/g, ' ') })).context, 'PEM folded onto one line');
  const both = path.join(dir, 'both.pem');
  fs.writeFileSync(both, certs!.serverKey + certs!.serverCert);
  t.ok(tlsSettings(lc({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': both })).context);
  const p12 = { 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs!.serverP12 };
  t.ok(tlsSettings(lc({ ...p12, 'ssl.keystore.password': 'p12pass' })).context);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.keystore.password': 'wrong' })), /keystore\/truststore cannot be used/);
  t.ok(tlsSettings(lc({ ...p12, 'ssl.keystore.password': 'wrong', 'listener.name.secure.ssl.keystore.password': 'p12pass' })).context, 'listener.name.secure.* wins over the global value');
  const withCa = tlsSettings(lc({ ...p12, 'ssl.keystore.password': 'p12pass', 'ssl.truststore.type': 'PEM', 'ssl.truststore.certificates': certs!.caCert, 'ssl.client.auth': 'REQUIRED' }));
  t.equal(withCa.clientAuth, 'required');
});

t.test('refused at start, naming the setting', { skip }, async (t) => {
  const p12 = { 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs!.serverP12, 'ssl.keystore.password': 'p12pass' };
  t.throws(() => tlsSettings(lc({})), /listener SECURE \(SSL\) needs a keystore/);
  t.throws(() => tlsSettings(lc({ 'ssl.keystore.location': '/x.jks' })), /ssl\.keystore\.type=JKS: gregor reads PEM and PKCS12/);
  t.throws(() => tlsSettings(lc({ 'ssl.keystore.type': 'PEM' })), /needs a keystore/);
  t.throws(() => tlsSettings(lc({ 'listener.name.secure.ssl.keystore.type': 'PEM', 'ssl.keystore.key': 'x' })), /go together/);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.client.auth': 'required' })), /needs a truststore/);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.client.auth': 'sometimes' })), /ssl\.client\.auth: expected none, requested or required/);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.truststore.location': '/x.jks' })), /ssl\.truststore\.type=JKS: gregor reads PEM truststores/);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.enabled.protocols': 'TLSv1.1,TLSv1.3' })), /contiguous/);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.enabled.protocols': 'SSLv3' })), /unknown protocol SSLv3/);
  t.throws(() => tlsSettings(lc({ ...p12, 'ssl.cipher.suites': 'TLS_NOT_A_SUITE' })), /unknown cipher suite TLS_NOT_A_SUITE/);
  t.ok(tlsSettings(lc({ ...p12, 'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' })).context);
  t.throws(() => tlsSettings(lc({ ...p12, 'listener.name.secure.ssl.principal.mapping.rules': 'RULE:x/y/,junk' })), /listener\.name\.secure\.ssl\.principal\.mapping\.rules: invalid rule/);
  t.throws(() => tlsSettings(lc({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': '/nonexistent.pem' })), /ssl\.keystore\.location: cannot read \/nonexistent\.pem/);
});
