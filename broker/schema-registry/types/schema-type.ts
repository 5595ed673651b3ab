// What each schema type (AVRO, JSON, PROTOBUF) provides: parsing (with its references) and the reader/writer
// check the compatibility levels are built from (../compatibility.ts).

export type SchemaTypeName = 'AVRO' | 'JSON' | 'PROTOBUF';

/** A referenced schema, resolved: its name as the referrer imports it, its text and its own references. */
export interface ResolvedReference {
  readonly name: string;
  readonly type: SchemaTypeName;
  readonly schema: string;
  readonly references: readonly ResolvedReference[];
}

export interface ParsedSchema {
  readonly type: SchemaTypeName;
  /** The form lookups compare (whitespace-insensitive): Confluent's canonicalString. */
  readonly canonical: string;
  /** The form `normalize=true` registers and compares. */
  readonly normalized: string;
  /** The type's own model, for its compatibility check. */
  readonly model: unknown;
}

export interface SchemaType {
  /** Throws an Error whose message says why the schema is invalid. */
  parse(schema: string, references: readonly ResolvedReference[]): ParsedSchema;
  /** Why `reader` cannot read data written with `writer`; empty when it can. */
  readerReasons(reader: ParsedSchema, writer: ParsedSchema): string[];
}

/** References in dependency order (a reference's own references first), each once. */
export function flattenReferences(refs: readonly ResolvedReference[]): ResolvedReference[] {
  const out: ResolvedReference[] = [];
  const seen = new Set<string>();
  const visit = (r: ResolvedReference): void => {
    if (seen.has(r.name)) return;
    seen.add(r.name);
    for (const c of r.references) visit(c);
    out.push(r);
  };
  for (const r of refs) visit(r);
  return out;
}

/** A JSON value with its object keys sorted at every level (key order carries no meaning). */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}
