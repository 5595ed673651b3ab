// TLS listeners (SSL, SASL_SSL) with node:tls, configured with Kafka's ssl.* names (global or per listener):
// keystore PEM (ssl.keystore.certificate.chain + ssl.keystore.key, or a PEM file at ssl.keystore.location)
// or PKCS12 (ssl.keystore.location + ssl.keystore.password; ssl.key.password for an encrypted PEM key);
// truststore PEM (ssl.truststore.certificates, or a PEM file at ssl.truststore.location); ssl.client.auth;
// ssl.enabled.protocols / ssl.protocol; ssl.cipher.suites (IANA names as Java takes them, or OpenSSL's).
// JKS stores are refused at start (Node cannot read them; `keytool -importkeystore -deststoretype PKCS12`).
// Each accepted socket is wrapped in a server-side TLSSocket: a failed handshake (plaintext bytes, garbage,
// an untrusted client certificate) closes only that connection.
import fs from 'node:fs';
import tls from 'node:tls';
import type { ListenerConfig } from './listener-config.ts';
import { mapPrincipal, parsePrincipalRules, type PrincipalRule, rfc2253 } from './principal-rules.ts';
import type { TransportSocket } from '../transport.ts';

export interface TlsSettings {
  readonly context: tls.SecureContext;
  readonly clientAuth: 'none' | 'requested' | 'required';
  readonly rules: readonly PrincipalRule[];
}

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

// IANA (Java) names of the TLS 1.2 suites OpenSSL offers by default → OpenSSL names; TLS 1.3 names are the same in both.
const IANA_TO_OPENSSL: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
};
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']);

function readFile(path: string, what: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new Error(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Kafka's config values hold PEM with newlines, or with them folded into spaces (a single properties line). */
function pem(text: string): string {
  return text.replace(/(-----BEGIN [A-Z ]+-----)\s*([\s\S]*?)\s*(-----END [A-Z ]+-----)/g, (_, b: string, body: string, e: string) => `${b}\n${body.replace(/\s+/g, '\n')}\n${e}`);
}

/** Builds a listener's TLS settings; throws an Error naming the config at fault. */
export function tlsSettings(lc: ListenerConfig): TlsSettings {
  const opts: tls.SecureContextOptions = {};
  const ksType = (lc.get('ssl.keystore.type') ?? 'JKS').toUpperCase();
  const ksLocation = lc.get('ssl.keystore.location');
  const chain = lc.get('ssl.keystore.certificate.chain');
  const key = lc.get('ssl.keystore.key');
  const keyPassword = lc.get('ssl.key.password') ?? undefined;
  const listener = lc.listener;
  if (ksLocation === null && chain === null && key === null) {
    throw new Error(`listener ${listener} (${lc.protocol}) needs a keystore: ssl.keystore.type=PEM with ssl.keystore.certificate.chain + ssl.keystore.key (or ssl.keystore.location), or ssl.keystore.type=PKCS12 with ssl.keystore.location and ssl.keystore.password (per listener: listener.name.${listener.toLowerCase()}.ssl.…)`);
  }
  if (ksType === 'PEM') {
    if (chain !== null || key !== null) {
      if (chain === null || key === null) throw new Error(`listener ${listener}: ssl.keystore.certificate.chain and ssl.keystore.key go together`);
      if (ksLocation !== null) throw new Error(`listener ${listener}: ssl.keystore.location cannot be set with ssl.keystore.certificate.chain / ssl.keystore.key`);
      opts.cert = pem(chain);
      opts.key = pem(key);
    } else if (ksLocation !== null) {
      const text = readFile(ksLocation, lc.nameOf('ssl.keystore.location')).toString('utf8');
      opts.cert = text;
      opts.key = text;
    } else throw new Error(`listener ${listener} (${lc.protocol}) needs a keystore: ssl.keystore.certificate.chain + ssl.keystore.key, or ssl.keystore.location`);
    if (keyPassword !== undefined) opts.passphrase = keyPassword;
  } else if (ksType === 'PKCS12') {
    if (ksLocation === null) throw new Error(`listener ${listener} (${lc.protocol}) needs ssl.keystore.location (ssl.keystore.type=PKCS12)`);
    opts.pfx = readFile(ksLocation, lc.nameOf('ssl.keystore.location'));
    opts.passphrase = lc.get('ssl.keystore.password') ?? keyPassword ?? '';
  } else {
    throw new Error(`${lc.nameOf('ssl.keystore.type')}=${ksType}: gregor reads PEM and PKCS12 keystores (convert JKS with keytool -importkeystore -deststoretype PKCS12)`);
  }

  const tsType = (lc.get('ssl.truststore.type') ?? 'JKS').toUpperCase();
  const tsCerts = lc.get('ssl.truststore.certificates');
  const tsLocation = lc.get('ssl.truststore.location');
  if (tsCerts !== null || tsLocation !== null) {
    if (tsType !== 'PEM') throw new Error(`${lc.nameOf('ssl.truststore.type')}=${tsType}: gregor reads PEM truststores (ssl.truststore.type=PEM with ssl.truststore.certificates or a PEM file at ssl.truststore.location)`);
    if (tsCerts !== null && tsLocation !== null) throw new Error(`listener ${listener}: ssl.truststore.certificates and ssl.truststore.location cannot both be set`);
    opts.ca = tsCerts !== null ? pem(tsCerts) : readFile(tsLocation!, lc.nameOf('ssl.truststore.location')).toString('utf8');
  }

  const clientAuth = (lc.get('ssl.client.auth') ?? 'none').toLowerCase();
  if (clientAuth !== 'none' && clientAuth !== 'requested' && clientAuth !== 'required') {
    throw new Error(`${lc.nameOf('ssl.client.auth')}: expected none, requested or required, got "${clientAuth}"`);
  }
  if (clientAuth !== 'none' && opts.ca === undefined) {
    throw new Error(`listener ${listener}: ssl.client.auth=${clientAuth} needs a truststore to verify client certificates (ssl.truststore.certificates or ssl.truststore.location)`);
  }

  // ssl.protocol names the context's protocol (TLS, TLSv1.2, TLSv1.3); the versions offered are ssl.enabled.protocols.
  const protocol = lc.get('ssl.protocol') ?? 'TLSv1.3';
  if (protocol !== 'TLS' && !(TLS_VERSIONS as readonly string[]).includes(protocol)) throw new Error(`${lc.nameOf('ssl.protocol')}: unknown protocol ${protocol} (TLS, TLSv1.2, TLSv1.3)`);
  const enabled = lc.list('ssl.enabled.protocols');
  const idx = enabled.map((p) => {
    const i = (TLS_VERSIONS as readonly string[]).indexOf(p);
    if (i < 0) throw new Error(`${lc.nameOf('ssl.enabled.protocols')}: unknown protocol ${p} (${TLS_VERSIONS.join(', ')})`);
    return i;
  });
  if (idx.length > 0) {
    const lo = Math.min(...idx), hi = Math.max(...idx);
    if (hi - lo + 1 !== new Set(idx).size) throw new Error(`${lc.nameOf('ssl.enabled.protocols')}: the enabled versions must be contiguous (${enabled.join(',')}); OpenSSL offers a range`);
    opts.minVersion = TLS_VERSIONS[lo];
    opts.maxVersion = TLS_VERSIONS[hi];
  }

  const suites = lc.list('ssl.cipher.suites');
  if (suites.length > 0) {
    const tls12: string[] = [];
    const tls13: string[] = [];
    for (const s of suites) {
      if (TLS13_SUITES.has(s)) tls13.push(s);
      else if (IANA_TO_OPENSSL[s]) tls12.push(IANA_TO_OPENSSL[s]);
      else if (/^[A-Z0-9-]+$/.test(s) && !s.startsWith('TLS_')) tls12.push(s); // already an OpenSSL name
      else throw new Error(`${lc.nameOf('ssl.cipher.suites')}: unknown cipher suite ${s}`);
    }
    // OpenSSL keeps TLS 1.3 suites apart (ciphersuites); node:tls takes both in `ciphers`. An empty list
    // for one version disables it unless the other list is empty too.
    opts.ciphers = [...tls13, ...tls12].join(':');
  }

  let rules: PrincipalRule[];
  try {
    rules = parsePrincipalRules(lc.get('ssl.principal.mapping.rules') ?? 'DEFAULT');
  } catch (e) {
    throw new Error(`${lc.nameOf('ssl.principal.mapping.rules')}: ${(e as Error).message.replace(/^ssl\.principal\.mapping\.rules: /, '')}`);
  }
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext(opts);
  } catch (e) {
    throw new Error(`listener ${listener}: the TLS keystore/truststore cannot be used: ${(e as Error).message}`);
  }
  return { context, clientAuth: clientAuth as TlsSettings['clientAuth'], rules };
}

/** OpenSSL's verification error for the peer's certificate chain (null: verified), as tls.Server reads it. */
function peerVerifyError(socket: tls.TLSSocket): string | null {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null | undefined } })._handle;
  if (typeof handle?.verifyError !== 'function') return 'cannot read the verification result';
  const err = handle.verifyError();
  return err ? (err.code ?? err.message) : null;
}

/**
 * Wraps an accepted socket in server-side TLS. `onPrincipal` gets the client certificate's principal
 * (`User:<mapped DN>`, `User:ANONYMOUS` without a certificate) once the handshake is done; a certificate
 * no mapping rule applies to closes the connection (Kafka fails the authentication).
 */
export function wrapTls(socket: TransportSocket, settings: TlsSettings, onPrincipal: (principal: string) => void, log: (msg: string) => void): TransportSocket {
  const secure = new tls.TLSSocket(socket as unknown as import('node:net').Socket, {
    isServer: true,
    secureContext: settings.context,
    requestCert: settings.clientAuth !== 'none',
    // requested: a missing certificate is fine, an untrusted one is refused (checked on 'secure').
    rejectUnauthorized: settings.clientAuth === 'required',
  });
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  secure.once('secure', () => {
    const cert = secure.getPeerX509Certificate();
    // A TLSSocket made outside a tls.Server checks nothing itself (tls.Server does, in its connection
    // listener): OpenSSL's verification result of the client's chain is read here, as tls.Server reads it.
    const verifyError = cert ? peerVerifyError(secure) : null;
    if (verifyError !== null) {
      log(`TLS: client ${peer} presented an untrusted certificate (${verifyError}); connection closed`);
      return secure.destroy();
    }
    if (!cert) return onPrincipal('User:ANONYMOUS');
    const dn = rfc2253(cert.subject);
    const name = mapPrincipal(settings.rules, dn);
    if (name === null) {
      log(`TLS: no ssl.principal.mapping.rules rule applies to ${dn} (client ${peer}); connection closed`);
      return secure.destroy();
    }
    onPrincipal(`User:${name}`);
  });
  secure.once('error', (err: Error) => log(`TLS: handshake with ${peer} failed: ${err.message}; connection closed`));
  return secure as unknown as TransportSocket;
}
