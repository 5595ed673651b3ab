// SCRAM credentials (per user and mechanism: salt, StoredKey, ServerKey, iterations), kept durably in
// `<log.dirs>/gregor-scram-credentials.json` (written atomically; never the passwords). Changed by
// AlterUserScramCredentials, bootstrapped at start from `gregor.scram.credentials` (kafka-storage's
// --add-scram syntax) for users without a stored credential. Not in the metadata log yet: the controller
// has no operation for UserScramCredentialRecord (controller/metadata has its codec).
import path from 'node:path';
import { type FsLike, readWholeFile, writeFileAtomic } from '../../storage/index.ts';
import { credentialFromPassword, MIN_ITERATIONS, MAX_ITERATIONS, type ScramCredential, type ScramMechanism, SCRAM_MECHANISMS } from './scram.ts';

export const SCRAM_FILE = 'gregor-scram-credentials.json';

interface FileEntry { user: string; mechanism: ScramMechanism; salt: string; storedKey: string; serverKey: string; iterations: number }

export class ScramStore {
  readonly #byMechanism = new Map<ScramMechanism, Map<string, ScramCredential>>(SCRAM_MECHANISMS.map((m) => [m, new Map()]));
  readonly #fs: FsLike;
  readonly #file: string;
  #writing: Promise<void> = Promise.resolve();

  private constructor(fs: FsLike, dir: string) {
    this.#fs = fs;
    this.#file = path.join(dir, SCRAM_FILE);
  }

  static async open(fs: FsLike, dir: string): Promise<ScramStore> {
    const store = new ScramStore(fs, dir);
    const bytes = await readWholeFile(fs, store.#file);
    if (bytes) {
      let entries: FileEntry[];
      try {
        entries = JSON.parse(bytes.toString('utf8')).credentials;
      } catch (e) {
        throw new Error(`${store.#file} is not readable: ${(e as Error).message}`);
      }
      for (const e of entries) {
        store.#byMechanism.get(e.mechanism)?.set(e.user, {
          salt: Buffer.from(e.salt, 'base64'), storedKey: Buffer.from(e.storedKey, 'base64'), serverKey: Buffer.from(e.serverKey, 'base64'), iterations: e.iterations,
        });
      }
    }
    return store;
  }

  get(mechanism: ScramMechanism, user: string): ScramCredential | undefined { return this.#byMechanism.get(mechanism)!.get(user); }

  /** Users with at least one credential, and theirs: user → [mechanism, iterations][]. */
  users(): Map<string, Array<[ScramMechanism, number]>> {
    const out = new Map<string, Array<[ScramMechanism, number]>>();
    for (const [mech, m] of this.#byMechanism) for (const [u, c] of m) {
      if (!out.has(u)) out.set(u, []);
      out.get(u)!.push([mech, c.iterations]);
    }
    return out;
  }

  /** Applies changes in memory at once (later readers see them), then resolves once they are on disk. */
  apply(changes: Array<{ user: string; mechanism: ScramMechanism; credential: ScramCredential | null }>): Promise<void> {
    for (const c of changes) {
      if (c.credential) this.#byMechanism.get(c.mechanism)!.set(c.user, c.credential);
      else this.#byMechanism.get(c.mechanism)!.delete(c.user);
    }
    this.#writing = this.#writing.catch(() => {}).then(() => this.#persist());
    return this.#writing;
  }

  async #persist(): Promise<void> {
    const credentials: FileEntry[] = [];
    for (const [mechanism, m] of this.#byMechanism) for (const [user, c] of m) {
      credentials.push({ user, mechanism, salt: c.salt.toString('base64'), storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64'), iterations: c.iterations });
    }
    await writeFileAtomic(this.#fs, this.#file, Buffer.from(JSON.stringify({ version: 1, credentials }, null, 1)));
  }
}

export interface BootstrapCredential { mechanism: ScramMechanism; user: string; password: string; iterations: number }

/**
 * Parses `gregor.scram.credentials`: entries as kafka-storage's --add-scram takes them,
 * `SCRAM-SHA-256=[name=alice,password=alice-secret,iterations=8192]`, separated by `;` or whitespace.
 * Passwords cannot contain `,` `]` or `"`-quoting here (a JAAS-style quote is accepted: password="…").
 */
export function parseBootstrapCredentials(text: string): BootstrapCredential[] {
  const out: BootstrapCredential[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const m = /^(SCRAM-SHA-256|SCRAM-SHA-512)=\[([^\]]*)\]\s*[;,]?\s*/.exec(rest);
    if (!m) throw new Error(`gregor.scram.credentials: malformed entry at "${rest.slice(0, 40)}" (expected SCRAM-SHA-256=[name=alice,password=secret] or SCRAM-SHA-512=[…], separated by ;)`);
    const fields = new Map<string, string>();
    for (const kv of m[2].split(',')) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new Error(`gregor.scram.credentials: malformed field "${kv.split('=')[0]}" in a ${m[1]} entry (expected key=value)`);
      fields.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
    const user = fields.get('name');
    const password = fields.get('password');
    if (!user || password === undefined) throw new Error(`gregor.scram.credentials: a ${m[1]} entry needs name= and password=`);
    const iterations = fields.has('iterations') ? Number(fields.get('iterations')) : MIN_ITERATIONS;
    if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) throw new Error(`gregor.scram.credentials: iterations for ${user} must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`);
    for (const k of fields.keys()) if (k !== 'name' && k !== 'password' && k !== 'iterations') throw new Error(`gregor.scram.credentials: unknown field ${k} (name, password, iterations)`);
    out.push({ mechanism: m[1] as ScramMechanism, user, password, iterations });
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** Stores each bootstrap credential whose user has none for that mechanism yet; returns those added. */
export async function bootstrapCredentials(store: ScramStore, creds: BootstrapCredential[], randomBytes: (n: number) => Buffer): Promise<string[]> {
  const changes = creds.filter((c) => store.get(c.mechanism, c.user) === undefined)
    .map((c) => ({ user: c.user, mechanism: c.mechanism, credential: credentialFromPassword(c.mechanism, c.password, randomBytes(32), c.iterations) }));
  if (changes.length > 0) await store.apply(changes);
  return changes.map((c) => `${c.mechanism}:${c.user}`);
}
