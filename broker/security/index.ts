// Listener security at start: for each listener its protocol's TLS settings (SSL, SASL_SSL) and SASL
// settings (SASL_PLAINTEXT, SASL_SSL), built and checked before anything is served (a ConfigError names
// the setting at fault); and per accepted socket, the TLS wrapping and the SASL exchange its Connection
// runs first. Loaded only when some listener is not PLAINTEXT or SCRAM credentials are bootstrapped.
import { randomBytes } from 'node:crypto';
import { ConfigError, type BrokerConfig, type ListenerSpec } from '../config.ts';
import type { ConnectionSecurity } from '../connection.ts';
import type { Logger } from '../log.ts';
import type { TransportSocket } from '../transport.ts';
import { SaslAuthenticator, type SaslSettings } from './authenticator.ts';
import { OAUTHBEARER_LOGIN_MODULE, parseJaas, PLAIN_LOGIN_MODULE, plainUsers } from './jaas.ts';
import { type OAuthBearerOptions, oauthOptions } from './oauthbearer.ts';
import { ListenerConfig, SASL_MECHANISMS, type SecurityProtocol } from './listener-config.ts';
import { bootstrapCredentials, parseBootstrapCredentials, type ScramStore } from './scram-store.ts';
import { type TlsSettings, tlsSettings, wrapTls } from './tls.ts';

export interface ListenerSecurity {
  readonly protocol: SecurityProtocol;
  readonly tls: TlsSettings | null;
  readonly sasl: SaslSettings | null;
}

export interface SecuritySetup {
  readonly listeners: ReadonlyMap<string, ListenerSecurity>;
  /** Whether some listener runs SASL (the SCRAM store must be attached before serving). */
  readonly needsScram: boolean;
  /** Attaches the credential store (opened once storage is) and stores gregor.scram.credentials' users it lacks. */
  attachScram(store: ScramStore): Promise<string[]>;
}

function configError(e: unknown): never {
  throw e instanceof ConfigError ? e : new ConfigError((e as Error).message);
}

/** Builds and checks every listener's security; throws ConfigError. */
export function buildSecurity(config: BrokerConfig, specs: readonly ListenerSpec[], protocols: ReadonlyMap<string, string>, log: Logger, now: () => number): SecuritySetup {
  let bootstrap: ReturnType<typeof parseBootstrapCredentials> = [];
  try {
    bootstrap = parseBootstrapCredentials(config.get('gregor.scram.credentials') ?? '');
  } catch (e) { configError(e); }
  const fakeKey = randomBytes(32);
  let store: ScramStore | null = null;
  const scram: SaslSettings['scram'] = { get: (m, u) => store!.get(m, u) };
  const listeners = new Map<string, ListenerSecurity>();
  let needsScram = false;
  for (const spec of specs) {
    const protocol = (protocols.get(spec.name) ?? 'PLAINTEXT') as SecurityProtocol;
    const lc = new ListenerConfig(config, spec.name, protocol);
    let tls: TlsSettings | null = null;
    let sasl: SaslSettings | null = null;
    try {
      if (protocol === 'SSL' || protocol === 'SASL_SSL') tls = tlsSettings(lc);
      if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
        const mechanisms = lc.list('sasl.enabled.mechanisms');
        const unknown = mechanisms.filter((m) => !SASL_MECHANISMS.includes(m));
        if (mechanisms.length === 0 || unknown.length > 0) {
          throw new Error(`listener ${spec.name} (${protocol}): ${lc.nameOf('sasl.enabled.mechanisms')}=${mechanisms.join(',')}: gregor serves ${SASL_MECHANISMS.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}; set it, e.g. sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN`);
        }
        let users = new Map<string, string>();
        if (mechanisms.includes('PLAIN')) {
          const jaas = lc.jaas('PLAIN');
          if (jaas.value === null) throw new Error(`listener ${spec.name}: PLAIN needs its users in listener.name.${spec.name.toLowerCase()}.plain.sasl.jaas.config (or sasl.jaas.config): ${PLAIN_LOGIN_MODULE} required user_<name>="<password>" …;`);
          let entry;
          try { entry = parseJaas(jaas.value); } catch (e) { throw new Error(`${jaas.name}: ${(e as Error).message}`); }
          if (entry.loginModule !== PLAIN_LOGIN_MODULE) throw new Error(`${jaas.name}: PLAIN takes ${PLAIN_LOGIN_MODULE}, not ${entry.loginModule}`);
          users = plainUsers(entry);
          if (users.size === 0) throw new Error(`${jaas.name}: no users (user_<name>="<password>")`);
        }
        let oauth: OAuthBearerOptions | null = null;
        if (mechanisms.includes('OAUTHBEARER')) {
          // Kafka needs the mechanism's JAAS entry too; its options configure the unsecured validator.
          const jaas = lc.jaas('OAUTHBEARER');
          if (jaas.value === null) throw new Error(`listener ${spec.name}: OAUTHBEARER needs listener.name.${spec.name.toLowerCase()}.oauthbearer.sasl.jaas.config (or sasl.jaas.config): ${OAUTHBEARER_LOGIN_MODULE} required;`);
          let entry;
          try { entry = parseJaas(jaas.value); } catch (e) { throw new Error(`${jaas.name}: ${(e as Error).message}`); }
          if (entry.loginModule !== OAUTHBEARER_LOGIN_MODULE) throw new Error(`${jaas.name}: OAUTHBEARER takes ${OAUTHBEARER_LOGIN_MODULE}, not ${entry.loginModule}`);
          try { oauth = oauthOptions(entry.options, () => Date.now()); } catch (e) { throw new Error(`${jaas.name}: ${(e as Error).message}`); }
        }
        if (mechanisms.some((m) => m.startsWith('SCRAM-'))) needsScram = true;
        const reauthMs = Number(lc.get('connections.max.reauth.ms') ?? '0');
        sasl = { listener: spec.name, mechanisms, plainUsers: users, scram, fakeKey, oauth, log: (m) => log.info(m), reauthMs, now };
      }
    } catch (e) { configError(e); }
    listeners.set(spec.name, { protocol, tls, sasl });
  }
  return {
    listeners, needsScram: needsScram || bootstrap.length > 0,
    async attachScram(s) {
      store = s;
      return bootstrapCredentials(s, bootstrap, randomBytes);
    },
  };
}

/** The socket a listener's Connection reads (TLS-wrapped where the protocol says) and its security state. */
export function secureSocket(sec: ListenerSecurity, socket: TransportSocket, log: Logger): { socket: TransportSocket; security: ConnectionSecurity } {
  const security: ConnectionSecurity = { principal: 'User:ANONYMOUS', preAuth: null };
  let s = socket;
  if (sec.tls) {
    // SASL_SSL: the principal is the SASL user; the certificate only secures the channel.
    s = wrapTls(socket, sec.tls, (p) => { if (!sec.sasl) security.principal = p; }, (m) => log.info(m));
  }
  if (sec.sasl) security.preAuth = new SaslAuthenticator(sec.sasl, `${socket.remoteAddress}:${socket.remotePort}`);
  return { socket: s, security };
}
