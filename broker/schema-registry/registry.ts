// The Schema Registry's operations, Confluent's semantics: each reads the state (store.ts) and, for a change,
// appends one or more `_schemas` records and applies them once the log has them. Changes run one at a time
// (a promise chain), with no await between deciding and appending, so two registrations of one schema get one
// id and one version.
import { incompatibilities, isLevel, isTransitive, SCHEMA_TYPES, type CompatibilityLevel } from './compatibility.ts';
import * as E from './errors.ts';
import { configKey, contentKey, modeKey, RegistryState, schemaKey, schemaValueJson, type Key, type Reference, type Version } from './store.ts';
import type { ParsedSchema, ResolvedReference, SchemaTypeName } from './types/schema-type.ts';

export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';
const MESSAGE_TOO_LARGE = 10, RECORD_LIST_TOO_LARGE = 18;
const MAX_ID = 2 ** 31 - 1;
/** References nest at most this deep (a cycle is caught before). */
const MAX_REFERENCE_DEPTH = 64;

export interface SchemaLog {
  append(key: Buffer, value: Buffer | null): Promise<number>;
}

export interface SchemaRequest {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
  id?: unknown;
  version?: unknown;
}

interface Candidate { type: SchemaTypeName; text: string; refs: Reference[]; parsed: ParsedSchema }

const keyBuf = (k: Key) => Buffer.from(JSON.stringify(k));

/** Confluent's answer shape for a version: schemaType and references only when not AVRO / not empty. */
export function versionJson(v: Version): Record<string, unknown> {
  const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
  if (v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  if (v.references.length) out.references = v.references;
  out.schema = v.schema;
  return out;
}

export class Registry {
  readonly state = new RegistryState();
  readonly #log: SchemaLog;
  #queue: Promise<unknown> = Promise.resolve();
  /** content key → id, built from the state on first use, then kept up to date. */
  #content: Map<string, number> | null = null;
  readonly #parsed = new Map<number, ParsedSchema | null>();

  constructor(log: SchemaLog) {
    this.#log = log;
  }

  /** Runs `fn` after every earlier change has finished. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #write(key: Key, value: string | null): Promise<void> {
    const k = keyBuf(key);
    const v = value === null ? null : Buffer.from(value);
    try {
      await this.#log.append(k, v);
    } catch (e) {
      // The record is larger than the topic takes (message.max.bytes): Confluent's "schema too large".
      const code = (e as { errorCode?: number }).errorCode;
      if (code === MESSAGE_TOO_LARGE || code === RECORD_LIST_TOO_LARGE) throw E.schemaTooLarge(`the _schemas record of ${k.length + (v?.length ?? 0)} bytes is larger than the topic accepts (message.max.bytes)`);
      throw E.storeError((e as Error).message);
    }
    this.state.apply(k, v);
  }

  // --- reading ---------------------------------------------------------------------------------------------

  level(subject: string | null): CompatibilityLevel {
    const l = (subject !== null ? this.state.configs.get(subject) : undefined) ?? this.state.configs.get(null) ?? DEFAULT_LEVEL;
    return isLevel(l) ? l : DEFAULT_LEVEL;
  }

  /** The subject's mode, else the global one; a global READONLY_OVERRIDE wins over every subject's. */
  mode(subject: string | null): string {
    const global = this.state.modes.get(null);
    if (global === 'READONLY_OVERRIDE') return global;
    return (subject !== null ? this.state.modes.get(subject) : undefined) ?? global ?? 'READWRITE';
  }

  #refuseReadOnly(subject: string): void {
    const mode = this.mode(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw E.operationNotPermitted(`Subject ${subject} is in read-only mode`);
  }

  subjects(deleted: boolean, prefix: string): string[] {
    const out: string[] = [];
    for (const [s, m] of this.state.subjects) {
      if (!s.startsWith(prefix)) continue;
      if (deleted ? m.size > 0 : [...m.values()].some((v) => !v.deleted)) out.push(s);
    }
    return out.sort();
  }

  #versionsOf(subject: string, deleted: boolean): Version[] {
    const m = this.state.subjects.get(subject);
    const list = m ? [...m.values()].filter((v) => deleted || !v.deleted).sort((a, b) => a.version - b.version) : [];
    if (list.length === 0) throw E.subjectNotFound(subject);
    return list;
  }

  versions(subject: string, deleted: boolean): number[] {
    return this.#versionsOf(subject, deleted).map((v) => v.version);
  }

  /** "latest" / -1, or 1..2^31-1; anything else is 42202. */
  static parseVersion(text: string): number | 'latest' {
    if (text === 'latest' || text === '-1') return 'latest';
    if (!/^\d{1,10}$/.test(text)) throw E.invalidVersion(text);
    const n = Number(text);
    if (n < 1 || n > MAX_ID) throw E.invalidVersion(text);
    return n;
  }

  version(subject: string, versionText: string, deleted = false): Version {
    const wanted = Registry.parseVersion(versionText);
    const m = this.state.subjects.get(subject);
    if (!m || (!deleted && ![...m.values()].some((v) => !v.deleted))) throw E.subjectNotFound(subject);
    if (wanted === 'latest') {
      const live = [...m.values()].filter((v) => deleted || !v.deleted).sort((a, b) => b.version - a.version);
      if (!live.length) throw E.versionNotFound(versionText);
      return live[0];
    }
    const v = m.get(wanted);
    if (!v || (v.deleted && !deleted)) throw E.versionNotFound(wanted);
    return v;
  }

  byId(id: number): Version {
    const v = this.state.byId.get(id);
    if (!v) throw E.schemaNotFound(`Schema ${id} not found`);
    return v;
  }

  idVersions(id: number, deleted: boolean): Array<{ subject: string; version: number }> {
    this.byId(id);
    const out: Array<{ subject: string; version: number }> = [];
    for (const [s, m] of this.state.subjects) for (const v of m.values()) if (v.id === id && (deleted || !v.deleted)) out.push({ subject: s, version: v.version });
    return out.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version));
  }

  referencedBy(subject: string, versionText: string): number[] {
    const target = this.version(subject, versionText);
    const ids = new Set<number>();
    for (const m of this.state.subjects.values()) {
      for (const v of m.values()) if (!v.deleted && v.references.some((r) => r.subject === target.subject && r.version === target.version)) ids.add(v.id);
    }
    return [...ids].sort((a, b) => a - b);
  }

  listSchemas(prefix: string, deleted: boolean, latestOnly: boolean): Version[] {
    const out: Version[] = [];
    for (const s of [...this.state.subjects.keys()].sort()) {
      if (!s.startsWith(prefix)) continue;
      const vs = [...this.state.subjects.get(s)!.values()].filter((v) => deleted || !v.deleted).sort((a, b) => a.version - b.version);
      out.push(...(latestOnly ? vs.slice(-1) : vs));
    }
    return out;
  }

  // --- parsing ---------------------------------------------------------------------------------------------

  /** The references resolved to their schemas, recursively; unknown ones and cycles are invalid schemas. */
  #resolve(refs: readonly Reference[], stack: string[]): ResolvedReference[] {
    if (stack.length > MAX_REFERENCE_DEPTH) throw E.invalidSchema(`: references nest deeper than ${MAX_REFERENCE_DEPTH}`);
    return refs.map((r) => {
      const m = this.state.subjects.get(r.subject);
      const v = r.version === -1
        ? [...(m?.values() ?? [])].filter((x) => !x.deleted).sort((a, b) => b.version - a.version)[0]
        : m?.get(r.version);
      if (!v || v.deleted) throw E.invalidSchema(`: reference ${JSON.stringify(r.name)} to subject ${JSON.stringify(r.subject)} version ${r.version} not found`);
      const at = `${v.subject}/${v.version}`;
      if (stack.includes(at)) throw E.invalidSchema(`: circular reference through ${[...stack, at].join(' -> ')}`);
      return { name: r.name, type: v.schemaType, schema: v.schema, references: this.#resolve(v.references, [...stack, at]) };
    });
  }

  #candidate(body: SchemaRequest, normalize: boolean): Candidate {
    if (typeof body.schema !== 'string' || body.schema === '') throw E.invalidSchema(': the request has no "schema" string');
    const type = (body.schemaType ?? 'AVRO') as SchemaTypeName;
    if (typeof type !== 'string' || !(type in SCHEMA_TYPES)) throw E.invalidSchema(`: unknown schemaType ${JSON.stringify(body.schemaType)}`);
    // A reference to version -1 names the subject's latest live version, stored as that number.
    const refs = parseReferences(body.references).map((r) => {
      if (r.version !== -1) return r;
      const latest = [...(this.state.subjects.get(r.subject)?.values() ?? [])].filter((v) => !v.deleted).sort((a, b) => b.version - a.version)[0];
      return latest ? { ...r, version: latest.version } : r;
    });
    const resolved = this.#resolve(refs, []);
    let parsed: ParsedSchema;
    try {
      parsed = SCHEMA_TYPES[type].parse(body.schema, resolved);
    } catch (e) {
      if (e instanceof E.SrError) throw e;
      throw E.invalidSchema(`of type ${type}: ${(e as Error).message}`);
    }
    if (normalize) return { type, text: parsed.normalized, refs, parsed: { ...parsed, canonical: parsed.normalized } };
    return { type, text: body.schema, refs, parsed };
  }

  /** The parsed form of a stored version (cached by id; null when it no longer parses). */
  #parsedOf(v: Version): ParsedSchema | null {
    if (this.#parsed.has(v.id)) return this.#parsed.get(v.id)!;
    let p: ParsedSchema | null = null;
    try {
      p = SCHEMA_TYPES[v.schemaType].parse(v.schema, this.#resolve(v.references, [`${v.subject}/${v.version}`]));
    } catch {
      p = null;
    }
    this.#parsed.set(v.id, p);
    return p;
  }

  #contentIndex(): Map<string, number> {
    if (!this.#content) {
      this.#content = new Map();
      for (const [id, v] of this.state.byId) {
        const p = this.#parsedOf(v);
        if (p) this.#content.set(contentKey(v.schemaType, p.canonical, v.references), id);
      }
    }
    return this.#content;
  }

  #same(v: Version, c: Candidate): boolean {
    if (v.schemaType !== c.type) return false;
    const p = this.#parsedOf(v);
    return !!p && contentKey(v.schemaType, p.canonical, v.references) === contentKey(c.type, c.parsed.canonical, c.refs);
  }

  // --- schemas ---------------------------------------------------------------------------------------------

  lookup(subject: string, body: SchemaRequest, normalize: boolean, deleted: boolean): Version {
    const m = this.state.subjects.get(subject);
    if (!m || (!deleted && ![...m.values()].some((v) => !v.deleted))) throw E.subjectNotFound(subject);
    const c = this.#candidate(body, normalize);
    const hit = [...m.values()].filter((v) => (deleted || !v.deleted) && this.#same(v, c)).sort((a, b) => b.version - a.version)[0];
    if (!hit) throw E.schemaNotFound('Schema not found');
    return hit;
  }

  /** Reasons `c` is incompatible with the subject's live versions under its level (or `against` only). */
  #reasons(subject: string, c: Candidate, against?: Version): string[] {
    const level = this.level(subject);
    let previous: Version[];
    if (against) previous = [against];
    else {
      const live = [...(this.state.subjects.get(subject)?.values() ?? [])].filter((v) => !v.deleted).sort((a, b) => a.version - b.version);
      previous = isTransitive(level) ? live : live.slice(-1);
    }
    const parsed = previous.map((v) => this.#parsedOf(v)).filter((p): p is ParsedSchema => p !== null);
    return incompatibilities(level, c.parsed, parsed);
  }

  register(subject: string, body: SchemaRequest, normalize: boolean): Promise<{ id: number; version: number }> {
    return this.#serial(async () => {
      if (subject === '' || /[\u0000-\u001f]/.test(subject)) throw E.invalidSubject(subject);
      this.#refuseReadOnly(subject);
      const mode = this.mode(subject);
      const c = this.#candidate(body, normalize);
      const m = this.state.subjects.get(subject);
      const existing = [...(m?.values() ?? [])].filter((v) => !v.deleted && this.#same(v, c)).sort((a, b) => b.version - a.version)[0];
      const givenId = body.id === undefined || body.id === null || body.id === -1 ? null : body.id;
      const givenVersion = body.version === undefined || body.version === null || body.version === -1 || body.version === 0 ? null : body.version;
      if (existing && (givenId === null || givenId === existing.id)) return { id: existing.id, version: existing.version };
      const index = this.#contentIndex();
      const key = contentKey(c.type, c.parsed.canonical, c.refs);
      let id: number;
      if (givenId !== null) {
        if (mode !== 'IMPORT') throw E.operationNotPermitted(`Subject ${subject} is not in import mode`);
        if (typeof givenId !== 'number' || !Number.isInteger(givenId) || givenId < 1 || givenId > MAX_ID) throw E.invalidSchema(`: id ${JSON.stringify(givenId)} is not a valid schema id`);
        const held = this.state.byId.get(givenId);
        if (held && !this.#same(held, c)) throw E.idDoesNotMatch(`Overwrite new schema with id ${givenId} is not permitted.`);
        id = givenId;
      } else {
        if (mode !== 'IMPORT') {
          const reasons = this.#reasons(subject, c);
          if (reasons.length) {
            throw E.incompatible(`Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${reasons.join(', ')}]`);
          }
        }
        id = index.get(key) ?? this.state.maxId + 1;
        if (id > MAX_ID) throw E.storeError('schema ids exhausted');
      }
      let version: number;
      if (givenVersion !== null) {
        if (mode !== 'IMPORT') throw E.operationNotPermitted(`Subject ${subject} is not in import mode`);
        if (typeof givenVersion !== 'number' || !Number.isInteger(givenVersion) || givenVersion < 1 || givenVersion > MAX_ID) throw E.invalidVersion(String(givenVersion));
        if (m?.has(givenVersion)) throw E.operationNotPermitted(`Version ${givenVersion} of subject ${subject} already exists`);
        version = givenVersion;
      } else {
        version = Math.max(0, ...(m?.keys() ?? [])) + 1;
      }
      await this.#write(schemaKey(subject, version), schemaValueJson({
        subject, version, id, schemaType: c.type, references: c.refs, schema: c.text, deleted: false,
      }));
      index.set(key, id);
      this.#parsed.set(id, c.parsed);
      return { id, version };
    });
  }

  deleteVersion(subject: string, versionText: string, permanent: boolean): Promise<number> {
    return this.#serial(async () => {
      this.#refuseReadOnly(subject);
      const wanted = Registry.parseVersion(versionText);
      const m = this.state.subjects.get(subject);
      if (!m || m.size === 0) throw E.subjectNotFound(subject);
      let v: Version | undefined;
      if (wanted === 'latest') {
        v = [...m.values()].filter((x) => permanent || !x.deleted).sort((a, b) => b.version - a.version)[0];
      } else v = m.get(wanted);
      if (!v) throw E.versionNotFound(versionText);
      if (!permanent && v.deleted) throw E.versionSoftDeleted(subject, v.version);
      if (permanent && !v.deleted) throw E.versionNotSoftDeleted(subject, v.version);
      const refs = this.#referrers(v);
      if (refs.length) throw E.referenceExists(`One or more references exist to the schema {subject=${subject},version=${v.version}}.`);
      const key = schemaKey(subject, v.version);
      if (permanent) await this.#write(key, null);
      else await this.#write(key, schemaValueJson({ ...v, deleted: true }));
      return v.version;
    });
  }

  #referrers(target: Version): Version[] {
    const out: Version[] = [];
    for (const m of this.state.subjects.values()) for (const v of m.values()) {
      if (v.references.some((r) => r.subject === target.subject && r.version === target.version)) out.push(v);
    }
    return out;
  }

  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.#serial(async () => {
      this.#refuseReadOnly(subject);
      const m = this.state.subjects.get(subject);
      if (!m || m.size === 0) throw E.subjectNotFound(subject);
      const all = [...m.values()].sort((a, b) => a.version - b.version);
      const live = all.filter((v) => !v.deleted);
      if (!permanent && live.length === 0) throw E.subjectSoftDeleted(subject);
      if (permanent && live.length > 0) throw E.subjectNotSoftDeleted(subject);
      for (const v of all) if (this.#referrers(v).some((r) => r.subject !== subject)) {
        throw E.referenceExists(`One or more references exist to the schema {subject=${subject},version=${v.version}}.`);
      }
      if (permanent) {
        for (const v of all) await this.#write(schemaKey(subject, v.version), null);
        if (this.state.configs.has(subject)) await this.#write(configKey(subject), null);
        if (this.state.modes.has(subject)) await this.#write(modeKey(subject), null);
        return all.map((v) => v.version);
      }
      for (const v of live) await this.#write(schemaKey(subject, v.version), schemaValueJson({ ...v, deleted: true }));
      return live.map((v) => v.version);
    });
  }

  // --- compatibility, config and mode ------------------------------------------------------------------------

  /** POST /compatibility/...: against one version, or (versionText null) the subject's versions per its level. */
  checkCompatibility(subject: string, versionText: string | null, body: SchemaRequest, normalize: boolean): string[] {
    const c = this.#candidate(body, normalize);
    if (versionText === null) {
      if (!this.state.subjects.has(subject)) return [];
      return this.#reasons(subject, c);
    }
    const v = this.version(subject, versionText);
    return this.#reasons(subject, c, v);
  }

  setConfig(subject: string | null, level: unknown): Promise<CompatibilityLevel> {
    return this.#serial(async () => {
      const upper = typeof level === 'string' ? level.toUpperCase() : level;
      if (!isLevel(upper)) throw E.invalidCompatibility(level);
      await this.#write(configKey(subject), JSON.stringify({ compatibilityLevel: upper }));
      return upper;
    });
  }

  getConfig(subject: string | null, defaultToGlobal: boolean): string {
    if (subject === null) return this.level(null);
    const own = this.state.configs.get(subject);
    if (own !== undefined) return own;
    if (!defaultToGlobal) throw E.compatibilityNotConfigured(subject);
    return this.level(null);
  }

  deleteConfig(subject: string | null): Promise<string> {
    return this.#serial(async () => {
      const previous = this.level(subject);
      if (subject !== null && !this.state.configs.has(subject)) {
        if (!this.state.subjects.has(subject)) throw E.subjectNotFound(subject);
        throw E.compatibilityNotConfigured(subject);
      }
      if (this.state.configs.has(subject)) await this.#write(configKey(subject), null);
      return previous;
    });
  }

  getMode(subject: string | null, defaultToGlobal: boolean): string {
    if (subject === null) return this.mode(null);
    const own = this.state.modes.get(subject);
    if (own !== undefined) return own;
    if (!defaultToGlobal) throw E.modeNotConfigured(subject);
    return this.mode(null);
  }

  setMode(subject: string | null, mode: unknown, force: boolean): Promise<string> {
    return this.#serial(async () => {
      const upper = typeof mode === 'string' ? mode.toUpperCase() : mode;
      if (typeof upper !== 'string' || !(MODES as readonly string[]).includes(upper)) throw E.invalidMode(mode);
      if (upper === 'IMPORT' && !force) {
        const has = subject === null ? this.subjects(false, '').length > 0 : this.state.subjects.has(subject);
        if (has) throw E.operationNotPermitted('Cannot import since found existing subjects');
      }
      await this.#write(modeKey(subject), JSON.stringify({ mode: upper }));
      return upper;
    });
  }

  deleteMode(subject: string): Promise<string> {
    return this.#serial(async () => {
      const own = this.state.modes.get(subject);
      if (own === undefined) throw E.modeNotConfigured(subject);
      await this.#write(modeKey(subject), null);
      return own;
    });
  }
}

function parseReferences(x: unknown): Reference[] {
  if (x === undefined || x === null) return [];
  if (!Array.isArray(x)) throw E.invalidSchema(': "references" must be an array');
  return x.map((r, i) => {
    if (!r || typeof r !== 'object') throw E.invalidSchema(`: reference ${i} is not an object`);
    const { name, subject, version } = r as Record<string, unknown>;
    if (typeof name !== 'string' || name === '' || typeof subject !== 'string' || subject === '') throw E.invalidSchema(`: reference ${i} needs a name and a subject`);
    const v = version === undefined || version === null ? -1 : version;
    if (typeof v !== 'number' || !Number.isInteger(v) || (v < 1 && v !== -1)) throw E.invalidSchema(`: reference ${i} has an invalid version ${JSON.stringify(version)}`);
    return { name, subject, version: v };
  });
}
