// The registry's state as Confluent keeps it in `_schemas`: every change is one record whose key and value are
// Confluent's JSON (SchemaKey/SchemaValue, ConfigKey/ConfigValue, ModeKey/ModeValue, DeleteSubjectKey/Value,
// ClearSubjectKey/Value, NoopKey); a null value is a tombstone (a version permanently deleted, a subject's config
// or mode removed). apply() is the one way state changes, at start (replay) and after each append, so the
// state is always what the log says.
import type { SchemaTypeName } from './types/schema-type.ts';

export interface Reference { name: string; subject: string; version: number }

export interface SchemaValue {
  subject: string;
  version: number;
  id: number;
  schemaType?: SchemaTypeName;
  references?: Reference[];
  schema: string;
  deleted: boolean;
}

export type Key =
  | { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 }
  | { keytype: 'CONFIG'; subject: string | null; magic: 0 }
  | { keytype: 'MODE'; subject: string | null; magic: 0 }
  | { keytype: 'DELETE_SUBJECT'; subject: string; magic: 0 }
  | { keytype: 'CLEAR_SUBJECT'; subject: string; magic: 0 }
  | { keytype: 'NOOP'; magic: 0 };

export const schemaKey = (subject: string, version: number): Key => ({ keytype: 'SCHEMA', subject, version, magic: 1 });
export const configKey = (subject: string | null): Key => ({ keytype: 'CONFIG', subject, magic: 0 });
export const modeKey = (subject: string | null): Key => ({ keytype: 'MODE', subject, magic: 0 });

export interface Version extends SchemaValue { schemaType: SchemaTypeName; references: Reference[] }

/** Key of the content index: identical schemas (type, text as compared, references) share one id. */
export const contentKey = (type: SchemaTypeName, canonical: string, refs: readonly Reference[]) =>
  `${type}\u0000${canonical}\u0000${JSON.stringify(refs.map((r) => [r.name, r.subject, r.version]))}`;

export class RegistryState {
  /** subject → version → entry (soft-deleted ones included). */
  readonly subjects = new Map<string, Map<number, Version>>();
  /** id → one entry holding that schema (its text, type, references). */
  readonly byId = new Map<number, Version>();
  /** Compatibility level per subject; null key: the global one. */
  readonly configs = new Map<string | null, string>();
  readonly modes = new Map<string | null, string>();
  /** Highest id ever seen: new ids are above it. */
  maxId = 0;
  /** Records applied (for tests and logs). */
  applied = 0;

  /** Applies one record of `_schemas`; one that is not Confluent's shape is skipped (returns false). */
  apply(keyBytes: Buffer | null, valueBytes: Buffer | null): boolean {
    if (!keyBytes) return false;
    let key: Key;
    let value: any;
    try {
      key = JSON.parse(keyBytes.toString('utf8'));
      value = valueBytes ? JSON.parse(valueBytes.toString('utf8')) : null;
    } catch {
      return false;
    }
    if (!key || typeof key !== 'object') return false;
    this.applied++;
    switch (key.keytype) {
      case 'SCHEMA': {
        const versions = this.subjects.get(key.subject);
        if (value === null) {
          versions?.delete(key.version);
          if (versions && versions.size === 0) this.subjects.delete(key.subject);
          this.#reindex();
          return true;
        }
        if (typeof value.id !== 'number' || typeof value.schema !== 'string') return false;
        const v: Version = { ...value, subject: key.subject, version: key.version, schemaType: value.schemaType ?? 'AVRO', references: value.references ?? [], deleted: !!value.deleted };
        let m = versions;
        if (!m) this.subjects.set(key.subject, (m = new Map()));
        m.set(key.version, v);
        if (!this.byId.has(v.id)) this.byId.set(v.id, v);
        if (v.id > this.maxId) this.maxId = v.id;
        return true;
      }
      case 'CONFIG':
        if (value === null) this.configs.delete(key.subject ?? null);
        else if (typeof value.compatibilityLevel === 'string') this.configs.set(key.subject ?? null, value.compatibilityLevel);
        return true;
      case 'MODE':
        if (value === null) this.modes.delete(key.subject ?? null);
        else if (typeof value.mode === 'string') this.modes.set(key.subject ?? null, value.mode);
        return true;
      case 'DELETE_SUBJECT': {
        const upTo = typeof value?.version === 'number' ? value.version : Infinity;
        for (const v of this.subjects.get(key.subject)?.values() ?? []) if (v.version <= upTo) v.deleted = true;
        return true;
      }
      case 'CLEAR_SUBJECT': {
        const m = this.subjects.get(key.subject);
        if (m) for (const [n, v] of m) if (v.deleted) m.delete(n);
        if (m && m.size === 0) this.subjects.delete(key.subject);
        this.#reindex();
        return true;
      }
      default:
        return true; // NOOP and keys of later versions
    }
  }

  /** After a permanent delete: an id stays served while any version (live or soft-deleted) holds it. */
  #reindex(): void {
    this.byId.clear();
    for (const m of this.subjects.values()) for (const v of m.values()) if (!this.byId.has(v.id)) this.byId.set(v.id, v);
  }
}

export function schemaValueJson(v: SchemaValue): string {
  const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
  if (v.schemaType && v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  if (v.references?.length) out.references = v.references;
  out.schema = v.schema;
  out.deleted = v.deleted;
  return JSON.stringify(out);
}
