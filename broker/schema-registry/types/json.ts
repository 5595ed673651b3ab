// JSON Schema: Confluent's rules (its JsonSchemaDiff), the main cases, for a reader (the schema that must accept
// the data) and a writer (the schema the data was valid against):
// - type: every type the writer allows must be allowed by the reader (integer widens to number);
// - a property the writer has and the reader lacks: fine when the reader's content model is open, refused
//   when it is closed (additionalProperties false) — PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL;
// - a property the reader has and the writer lacks: refused when the writer's content model is open (its data
//   may hold that name with any value) — PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL — unless the reader's schema for
//   it accepts anything; required by the reader: REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL;
// - required: a name the reader requires that the writer did not — REQUIRED_ATTRIBUTE_ADDED;
// - enum: the reader's values must include the writer's — ENUM_ARRAY_NARROWED;
// - bounds: maxLength/maximum/maxItems lowered, minLength/minimum/minItems raised — *_ADDED / *_DECREASED / …;
// - items and property schemas: checked recursively.
// $ref is resolved within the document (#/definitions/…, #/$defs/…) and against references by name.
import type { ParsedSchema, ResolvedReference, SchemaType } from './schema-type.ts';
import { flattenReferences, sortKeys } from './schema-type.ts';

type Json = Record<string, any> | boolean;
interface JsonModel { root: Json; refs: Map<string, Json> }

const KEYWORDS_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON: ${(e as Error).message}`);
  }
}

function checkShape(s: unknown, path: string): void {
  if (typeof s === 'boolean') return;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new Error(`${path}: a JSON Schema is an object or a boolean`);
  const o = s as Record<string, unknown>;
  if (o.type !== undefined) {
    const ts = Array.isArray(o.type) ? o.type : [o.type];
    for (const t of ts) if (typeof t !== 'string' || !KEYWORDS_TYPES.includes(t)) throw new Error(`${path}: unknown type ${JSON.stringify(t)}`);
  }
  if (o.properties !== undefined) {
    if (o.properties === null || typeof o.properties !== 'object' || Array.isArray(o.properties)) throw new Error(`${path}: properties must be an object`);
    for (const [k, v] of Object.entries(o.properties)) checkShape(v, `${path}/properties/${k}`);
  }
  if (o.required !== undefined && (!Array.isArray(o.required) || o.required.some((x) => typeof x !== 'string'))) throw new Error(`${path}: required must be an array of strings`);
  if (o.enum !== undefined && !Array.isArray(o.enum)) throw new Error(`${path}: enum must be an array`);
  if (o.items !== undefined && !Array.isArray(o.items)) checkShape(o.items, `${path}/items`);
  if (o.additionalProperties !== undefined) checkShape(o.additionalProperties, `${path}/additionalProperties`);
  for (const k of ['definitions', '$defs']) {
    if (o[k] !== undefined && typeof o[k] === 'object' && o[k] !== null) for (const [n, v] of Object.entries(o[k] as object)) checkShape(v, `${path}/${k}/${n}`);
  }
  if (o.$ref !== undefined && typeof o.$ref !== 'string') throw new Error(`${path}: $ref must be a string`);
}

function resolve(model: JsonModel, s: Json, depth = 0): Json {
  if (typeof s === 'boolean' || typeof s.$ref !== 'string' || depth > 32) return s;
  const ref: string = s.$ref;
  let target: Json | undefined;
  if (ref.startsWith('#/')) {
    target = ref.slice(2).split('/').reduce<any>((node, seg) => (node == null ? undefined : node[seg.replace(/~1/g, '/').replace(/~0/g, '~')]), model.root);
  } else {
    const [doc, frag] = ref.split('#');
    const base = model.refs.get(doc);
    target = base === undefined ? undefined : frag ? frag.slice(1).split('/').reduce<any>((n, seg) => (n == null ? undefined : n[seg]), base) : base;
  }
  return target === undefined ? s : resolve(model, target, depth + 1);
}

const typesOf = (s: Record<string, any>): Set<string> | null =>
  s.type === undefined ? null : new Set(Array.isArray(s.type) ? s.type : [s.type]);

/** An open content model accepts any additional property: additionalProperties absent or true. */
const isOpen = (s: Record<string, any>) => s.additionalProperties === undefined || s.additionalProperties === true;
const acceptsAnything = (s: Json) => s === true || (typeof s === 'object' && Object.keys(s).length === 0);

function compare(rm: JsonModel, wm: JsonModel, r0: Json, w0: Json, path: string, out: string[], depth: number): void {
  if (depth > 64) return;
  const r = resolve(rm, r0);
  const w = resolve(wm, w0);
  if (r === true || w === false) return;
  if (r === false) { out.push(`${path}: the reader accepts nothing (SCHEMA_REMOVED? false schema)`); return; }
  if (w === true) { if (!acceptsAnything(r)) out.push(`${path}: TYPE_NARROWED (the writer accepted anything)`); return; }
  const rt = typesOf(r), wt = typesOf(w);
  if (rt && (!wt || [...wt].some((t) => !rt.has(t) && !(t === 'integer' && rt.has('number'))))) {
    out.push(`${path}: TYPE_CHANGED from ${JSON.stringify(w.type ?? 'any')} to ${JSON.stringify(r.type)}`);
    return;
  }
  if (Array.isArray(r.enum)) {
    const rs = new Set(r.enum.map((v: unknown) => JSON.stringify(v)));
    if (!Array.isArray(w.enum)) out.push(`${path}: ENUM_ARRAY_NARROWED (enum added)`);
    else if (w.enum.some((v: unknown) => !rs.has(JSON.stringify(v)))) out.push(`${path}: ENUM_ARRAY_NARROWED`);
  }
  for (const [k, lower] of [['maxLength', true], ['maximum', true], ['maxItems', true], ['maxProperties', true], ['minLength', false], ['minimum', false], ['minItems', false], ['minProperties', false]] as const) {
    if (typeof r[k] !== 'number') continue;
    if (typeof w[k] !== 'number') out.push(`${path}: ${k.toUpperCase()}_ADDED`);
    else if (lower ? r[k] < w[k] : r[k] > w[k]) out.push(`${path}: ${k.toUpperCase()}_${lower ? 'DECREASED' : 'INCREASED'}`);
  }
  const isObject = (s: Record<string, any>) => s.properties !== undefined || s.additionalProperties !== undefined || typesOf(s)?.has('object');
  if (isObject(r) || isObject(w)) {
    const rp: Record<string, Json> = r.properties ?? {};
    const wp: Record<string, Json> = w.properties ?? {};
    const rReq = new Set<string>(r.required ?? []);
    const wReq = new Set<string>(w.required ?? []);
    for (const name of Object.keys(wp)) {
      if (name in rp) compare(rm, wm, rp[name], wp[name], `${path}/properties/${name}`, out, depth + 1);
      else if (r.additionalProperties === false) out.push(`${path}/properties/${name}: PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL`);
      else if (!isOpen(r)) compare(rm, wm, r.additionalProperties, wp[name], `${path}/properties/${name}`, out, depth + 1);
    }
    for (const name of Object.keys(rp)) {
      if (name in wp) continue;
      if (rReq.has(name)) out.push(`${path}/properties/${name}: REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL`);
      else if (isOpen(w) && !acceptsAnything(rp[name])) out.push(`${path}/properties/${name}: PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`);
      else if (!isOpen(w) && w.additionalProperties !== false) compare(rm, wm, rp[name], w.additionalProperties, `${path}/properties/${name}`, out, depth + 1);
    }
    for (const name of rReq) if (!wReq.has(name) && name in wp) out.push(`${path}/required/${name}: REQUIRED_ATTRIBUTE_ADDED`);
    if (r.additionalProperties === false && isOpen(w)) out.push(`${path}: ADDITIONAL_PROPERTIES_REMOVED`);
    else if (typeof r.additionalProperties === 'object' && isOpen(w)) out.push(`${path}: ADDITIONAL_PROPERTIES_NARROWED`);
    else if (typeof r.additionalProperties === 'object' && typeof w.additionalProperties === 'object') compare(rm, wm, r.additionalProperties, w.additionalProperties, `${path}/additionalProperties`, out, depth + 1);
  }
  if (r.items !== undefined && !Array.isArray(r.items)) {
    if (w.items === undefined) { if (!acceptsAnything(r.items)) out.push(`${path}/items: ITEMS_NARROWED`); }
    else if (!Array.isArray(w.items)) compare(rm, wm, r.items, w.items, `${path}/items`, out, depth + 1);
  }
}

export const jsonType: SchemaType = {
  parse(schema: string, references: readonly ResolvedReference[]): ParsedSchema {
    const root = parseJson(schema);
    checkShape(root, '#');
    const refs = new Map<string, Json>();
    for (const r of flattenReferences(references)) {
      if (r.type !== 'JSON') throw new Error(`reference ${r.name} is a ${r.type} schema`);
      const doc = parseJson(r.schema);
      checkShape(doc, r.name);
      refs.set(r.name, doc as Json);
    }
    const canonical = JSON.stringify(root);
    return { type: 'JSON', canonical, normalized: JSON.stringify(sortKeys(root)), model: { root: root as Json, refs } satisfies JsonModel };
  },
  readerReasons(reader: ParsedSchema, writer: ParsedSchema): string[] {
    const rm = reader.model as JsonModel, wm = writer.model as JsonModel;
    const out: string[] = [];
    compare(rm, wm, rm.root, wm.root, '#', out, 0);
    return out;
  },
};
