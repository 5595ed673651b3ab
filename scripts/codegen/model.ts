// Type model of the message definitions: parsed, validated, version ranges resolved, names assigned.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonc } from './jsonc.ts';
import { fieldName } from './naming.ts';
import { ALL, NONE, type Range, format, intersect, isEmpty, parseRange, subtract, within } from './versions.ts';

export const PRIMITIVES = [
  'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'uuid', 'bytes', 'records',
] as const;
export type Primitive = (typeof PRIMITIVES)[number];

export type ElemType = { kind: 'prim'; prim: Primitive } | { kind: 'struct'; struct: StructModel };
export type FieldType = ElemType | { kind: 'array'; elem: ElemType };

export type DefaultValue =
  | { kind: 'null' }
  | { kind: 'number'; value: number }
  | { kind: 'bigint'; value: bigint }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'empty' } // bytes / arrays: empty; structs: all members at their defaults
  | { kind: 'uuid'; value: string };

export interface FieldModel {
  readonly jsonName: string;
  readonly name: string;
  readonly type: FieldType;
  /** Versions in which the field is present (∩ the struct's versions ∩ the message's validVersions). */
  readonly versions: Range;
  /** Versions (within `versions`) in which the field is a tagged field. */
  readonly tagged: Range;
  /** Versions (within `versions`) in which it occupies its position in the field order. */
  readonly regular: Range;
  readonly tag: number | null;
  readonly nullable: Range;
  /** The TypeScript type admits null. */
  readonly tsNullable: boolean;
  readonly ignorable: boolean;
  /** Field-level flexibleVersions override (string/bytes only), else null. */
  readonly flexibleOverride: Range | null;
  readonly default: DefaultValue;
  readonly about: string;
}

export interface StructModel {
  readonly jsonName: string;
  /** TypeScript type name (collision rule applied). */
  name: string;
  /** Versions the struct's code can see (message validVersions ∩ where it is used). */
  versions: Range;
  fields: FieldModel[];
  readonly owner: MessageModel;
  readonly isRoot: boolean;
  readonly isCommon: boolean;
}

export interface MessageModel {
  readonly file: string;
  readonly name: string;
  readonly type: 'request' | 'response' | 'header' | 'data' | 'metadata' | 'coordinator-key' | 'coordinator-value';
  readonly apiKey: number | null;
  readonly validVersions: Range;
  readonly flexibleVersions: Range;
  readonly deprecatedVersions: Range | null;
  readonly latestVersionUnstable: boolean;
  readonly listeners: string[];
  root: StructModel;
  /** Every struct of the message except the root, in definition order (inline first-seen order, then common). */
  structs: StructModel[];
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: unknown;
  ignorable?: boolean;
  flexibleVersions?: string;
  fields?: RawField[];
  about?: string;
  [k: string]: unknown;
}

interface RawMessage {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  deprecatedVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields?: RawField[];
  commonStructs?: Array<{ name: string; versions?: string; fields?: RawField[] }>;
}

function isPrimitive(t: string): t is Primitive {
  return (PRIMITIVES as readonly string[]).includes(t);
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function parseIntDefault(text: string, where: string): number {
  const m = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(text.trim());
  if (!m) throw new Error(`${where}: invalid integer default ${JSON.stringify(text)}`);
  const v = Number(m[2]);
  return m[1] ? -v : v;
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
};

function parseDefault(raw: unknown, type: FieldType, nullableSomewhere: boolean, where: string): DefaultValue {
  const text = raw === undefined ? undefined : typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (type.kind === 'array' || type.kind === 'struct') {
    if (text === undefined || text === '') return { kind: 'empty' };
    if (text === 'null') {
      if (!nullableSomewhere) throw new Error(`${where}: default null on a non-nullable field`);
      return { kind: 'null' };
    }
    throw new Error(`${where}: invalid default ${JSON.stringify(raw)} for ${type.kind}`);
  }
  const p = type.prim;
  switch (p) {
    case 'bool':
      if (text === undefined) return { kind: 'bool', value: false };
      if (text !== 'true' && text !== 'false') throw new Error(`${where}: invalid bool default ${JSON.stringify(raw)}`);
      return { kind: 'bool', value: text === 'true' };
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'uint32': {
      const v = text === undefined ? 0 : parseIntDefault(text, where);
      const [lo, hi] = INT_RANGES[p]!;
      if (v < lo || v > hi) throw new Error(`${where}: default ${v} out of range for ${p}`);
      return { kind: 'number', value: v };
    }
    case 'int64': {
      if (text === undefined) return { kind: 'bigint', value: 0n };
      const m = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(text.trim());
      if (!m) throw new Error(`${where}: invalid int64 default ${JSON.stringify(raw)}`);
      const v = BigInt(m[2]!) * (m[1] ? -1n : 1n);
      if (BigInt.asIntN(64, v) !== v) throw new Error(`${where}: int64 default out of range`);
      return { kind: 'bigint', value: v };
    }
    case 'float64': {
      if (text === undefined) return { kind: 'number', value: 0 };
      const v = Number(text);
      if (!Number.isFinite(v)) throw new Error(`${where}: invalid float64 default ${JSON.stringify(raw)}`);
      return { kind: 'number', value: v };
    }
    case 'string':
      if (text === undefined) return { kind: 'string', value: '' };
      if (text === 'null') {
        if (!nullableSomewhere) throw new Error(`${where}: default null on a non-nullable string`);
        return { kind: 'null' };
      }
      return { kind: 'string', value: text };
    case 'uuid':
      if (text === undefined) return { kind: 'uuid', value: ZERO_UUID };
      throw new Error(`${where}: uuid defaults are not supported`);
    case 'bytes':
      if (text === undefined || text === '') return { kind: 'empty' };
      if (text === 'null') {
        if (!nullableSomewhere) throw new Error(`${where}: default null on non-nullable bytes`);
        return { kind: 'null' };
      }
      throw new Error(`${where}: invalid bytes default ${JSON.stringify(raw)}`);
    case 'records':
      if (text === undefined || text === 'null') return { kind: 'null' };
      throw new Error(`${where}: invalid records default ${JSON.stringify(raw)}`);
  }
}

export function loadMessageFile(file: string): MessageModel {
  const raw = parseJsonc(fs.readFileSync(file, 'utf8'), file) as RawMessage;
  return buildMessage(raw, path.basename(file));
}

function buildMessage(raw: RawMessage, file: string): MessageModel {
  const where = `${file} (${raw.name})`;
  if (!['request', 'response', 'header', 'data', 'metadata', 'coordinator-key', 'coordinator-value'].includes(raw.type)) throw new Error(`${where}: unknown type ${raw.type}`);
  const validVersions = parseRange(raw.validVersions, `${where} validVersions`);
  const flexibleVersions = raw.flexibleVersions === undefined ? NONE : parseRange(raw.flexibleVersions, `${where} flexibleVersions`);
  if (!isEmpty(flexibleVersions) && flexibleVersions.hi !== ALL.hi) throw new Error(`${where}: flexibleVersions must be open-ended`);
  const msg: MessageModel = {
    file,
    name: raw.name,
    type: raw.type as MessageModel['type'],
    apiKey: typeof raw.apiKey === 'number' ? raw.apiKey : null,
    validVersions,
    flexibleVersions,
    deprecatedVersions: raw.deprecatedVersions === undefined ? null : parseRange(raw.deprecatedVersions, `${where} deprecatedVersions`),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: Array.isArray(raw.listeners) ? raw.listeners.slice() : [],
    root: undefined as unknown as StructModel,
    structs: [],
  };

  // Common structs are registered first (by name) so that fields can refer to them; their fields are
  // built lazily once we know which versions use them.
  const common = new Map<string, { raw: { name: string; versions?: string; fields?: RawField[] }; model: StructModel | null; seen: Range }>();
  for (const c of raw.commonStructs ?? []) {
    if (common.has(c.name)) throw new Error(`${where}: duplicate common struct ${c.name}`);
    common.set(c.name, { raw: c, model: null, seen: NONE });
  }
  const structNames = new Set<string>();
  const inline: StructModel[] = [];

  const newStruct = (jsonName: string, versions: Range, isRoot: boolean, isCommon: boolean): StructModel => {
    if (!isRoot) {
      if (structNames.has(jsonName)) throw new Error(`${where}: struct ${jsonName} is defined twice`);
      structNames.add(jsonName);
    }
    return { jsonName, name: jsonName, versions, fields: [], owner: msg, isRoot, isCommon };
  };

  const buildFields = (rawFields: RawField[] | undefined, struct: StructModel, ctx: Range): FieldModel[] => {
    const out: FieldModel[] = [];
    const names = new Set<string>();
    const tags = new Set<number>();
    for (const f of rawFields ?? []) {
      const fw = `${where} ${struct.jsonName}.${f.name}`;
      if (typeof f.name !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(f.name)) throw new Error(`${fw}: invalid field name`);
      const name = fieldName(f.name);
      if (names.has(name)) throw new Error(`${fw}: duplicate field name ${name}`);
      names.add(name);
      const taggedRaw = f.taggedVersions === undefined ? NONE : parseRange(f.taggedVersions, `${fw} taggedVersions`);
      const declared = f.versions !== undefined ? parseRange(f.versions, `${fw} versions`) : f.taggedVersions !== undefined ? taggedRaw : null;
      if (declared === null) throw new Error(`${fw}: missing versions`);
      const versions = intersect(declared, ctx);
      if (!isEmpty(taggedRaw)) {
        if (typeof f.tag !== 'number' || f.tag < 0 || !Number.isInteger(f.tag)) throw new Error(`${fw}: taggedVersions without a valid tag`);
        if (taggedRaw.hi !== ALL.hi) throw new Error(`${fw}: taggedVersions must be open-ended`);
        if (!within(taggedRaw, declared)) throw new Error(`${fw}: taggedVersions outside versions`);
        if (!within(intersect(taggedRaw, ctx), msg.flexibleVersions)) throw new Error(`${fw}: taggedVersions outside flexibleVersions`);
        if (tags.has(f.tag)) throw new Error(`${fw}: duplicate tag ${f.tag}`);
        tags.add(f.tag);
      } else if (f.tag !== undefined) {
        throw new Error(`${fw}: tag without taggedVersions`);
      }
      const tagged = intersect(taggedRaw, versions);
      const regular = subtract(versions, tagged);
      const nullable = f.nullableVersions === undefined ? NONE : intersect(parseRange(f.nullableVersions, `${fw} nullableVersions`), versions);

      // Type
      let type: FieldType;
      const isArray = f.type.startsWith('[]');
      const base = isArray ? f.type.slice(2) : f.type;
      let elem: ElemType;
      if (isPrimitive(base)) {
        if (f.fields) throw new Error(`${fw}: primitive type with fields`);
        if (isArray && base === 'records') throw new Error(`${fw}: arrays of records are not supported`);
        elem = { kind: 'prim', prim: base };
      } else if (/^[A-Z][A-Za-z0-9]*$/.test(base)) {
        const c = common.get(base);
        if (c) {
          if (f.fields) throw new Error(`${fw}: a field referring to common struct ${base} must not define fields`);
          c.seen = c.seen === NONE ? versions : { lo: Math.min(c.seen.lo, versions.lo), hi: Math.max(c.seen.hi, versions.hi) };
          if (!c.model) c.model = newStruct(base, NONE, false, true);
          elem = { kind: 'struct', struct: c.model };
        } else {
          if (!f.fields) throw new Error(`${fw}: struct type ${base} has no fields and is not a common struct`);
          const s = newStruct(base, versions, false, false);
          inline.push(s);
          s.fields = buildFields(f.fields, s, versions);
          elem = { kind: 'struct', struct: s };
        }
      } else {
        throw new Error(`${fw}: invalid type ${f.type}`);
      }
      type = isArray ? { kind: 'array', elem } : elem;
      if (!isEmpty(nullable) && type.kind === 'prim' && !['string', 'bytes', 'records'].includes(type.prim)) {
        throw new Error(`${fw}: type ${f.type} cannot be nullable`);
      }
      let flexibleOverride: Range | null = null;
      if (f.flexibleVersions !== undefined) {
        if (type.kind !== 'prim' || (type.prim !== 'string' && type.prim !== 'bytes')) throw new Error(`${fw}: flexibleVersions override only on string/bytes`);
        flexibleOverride = parseRange(f.flexibleVersions, `${fw} flexibleVersions`);
      }
      const isRecords = type.kind === 'prim' && type.prim === 'records';
      if (isRecords && !isEmpty(tagged)) throw new Error(`${fw}: records cannot be tagged`);
      const dflt = parseDefault(f.default, type, !isEmpty(nullable), fw);
      out.push({
        jsonName: f.name,
        name,
        type,
        versions,
        tagged,
        regular,
        tag: isEmpty(taggedRaw) ? null : f.tag!,
        nullable,
        tsNullable: !isEmpty(nullable) || dflt.kind === 'null' || isRecords,
        ignorable: f.ignorable === true,
        flexibleOverride,
        default: dflt,
        about: typeof f.about === 'string' ? f.about : '',
      });
    }
    return out;
  };

  msg.root = { jsonName: raw.name, name: raw.name, versions: validVersions, fields: [], owner: msg, isRoot: true, isCommon: false };
  msg.root.fields = buildFields(raw.fields, msg.root, validVersions);
  // Common structs: versions = declared versions ∩ validVersions; nested use of common structs inside
  // common structs is resolved by iterating until every referenced one is built.
  const commonBuilt: StructModel[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, c] of common) {
      if (!c.model || commonBuilt.includes(c.model)) continue;
      const declared = c.raw.versions === undefined ? ALL : parseRange(c.raw.versions, `${where} ${name} versions`);
      c.model.versions = intersect(declared, validVersions);
      c.model.fields = buildFields(c.raw.fields, c.model, c.model.versions);
      commonBuilt.push(c.model);
      changed = true;
    }
  }
  // Definition order: common structs in the order of commonStructs.
  const commonOrdered = [...common.values()].map((c) => c.model).filter((m): m is StructModel => m !== null);
  msg.structs = [...inline, ...commonOrdered];
  return msg;
}

export interface ApiModel {
  /** API name: the request name without the Request suffix (Metadata, ApiVersions, ...). */
  readonly name: string;
  readonly apiKey: number;
  readonly request: MessageModel;
  readonly response: MessageModel;
}

export interface ProtocolModel {
  readonly apis: ApiModel[];
  /** APIs whose validVersions are "none" (removed from Kafka): no module is generated. */
  readonly removedApis: Array<{ name: string; apiKey: number }>;
  readonly requestHeader: MessageModel;
  readonly responseHeader: MessageModel;
  readonly data: MessageModel[];
}

/** Loads every *.json of `dir` and pairs requests with responses. Metadata and coordinator records are ignored. */
export function loadModel(dir: string): ProtocolModel {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no *.json message definitions in ${dir}`);
  const msgs = files.map((f) => loadMessageFile(path.join(dir, f)));
  const requests = new Map<number, MessageModel>();
  const responses = new Map<number, MessageModel>();
  const data: MessageModel[] = [];
  let requestHeader: MessageModel | undefined;
  let responseHeader: MessageModel | undefined;
  for (const m of msgs) {
    if (m.type === 'request' || m.type === 'response') {
      if (m.apiKey === null) throw new Error(`${m.file}: ${m.type} without apiKey`);
      const map = m.type === 'request' ? requests : responses;
      if (map.has(m.apiKey)) throw new Error(`${m.file}: duplicate ${m.type} for apiKey ${m.apiKey}`);
      map.set(m.apiKey, m);
    } else if (m.type === 'header') {
      if (m.name === 'RequestHeader') requestHeader = m;
      else if (m.name === 'ResponseHeader') responseHeader = m;
      else throw new Error(`${m.file}: unknown header ${m.name}`);
    } else if (m.type === 'data') {
      data.push(m);
    }
  }
  if (!requestHeader || !responseHeader) throw new Error(`${dir}: RequestHeader.json / ResponseHeader.json missing`);
  const apis: ApiModel[] = [];
  const removedApis: Array<{ name: string; apiKey: number }> = [];
  for (const [key, req] of [...requests].sort((a, b) => a[0] - b[0])) {
    const res = responses.get(key);
    if (!res) throw new Error(`${req.file}: no response for apiKey ${key}`);
    if (!req.name.endsWith('Request') || !res.name.endsWith('Response')) throw new Error(`${req.file}: bad request/response names`);
    const name = req.name.slice(0, -'Request'.length);
    if (res.name !== `${name}Response`) throw new Error(`${res.file}: response name ${res.name} does not match ${req.name}`);
    if (format(req.validVersions) !== format(res.validVersions)) throw new Error(`${req.file}: request/response validVersions differ`);
    if (format(req.flexibleVersions) !== format(res.flexibleVersions)) throw new Error(`${req.file}: request/response flexibleVersions differ`);
    if (isEmpty(req.validVersions)) {
      removedApis.push({ name, apiKey: key });
      continue;
    }
    apis.push({ name, apiKey: key, request: req, response: res });
  }
  for (const key of responses.keys()) if (!requests.has(key)) throw new Error(`response for apiKey ${key} without a request`);
  assignStructNames([requestHeader], []);
  assignStructNames([responseHeader], []);
  for (const d of data) assignStructNames([d], []);
  for (const a of apis) assignStructNames([a.request, a.response], [`${a.name}Api`]);
  data.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { apis, removedApis, requestHeader, responseHeader, data };
}

/**
 * Struct type names within one generated file: the JSON struct name, unless that name is defined by
 * more than one message of the file or equals a message name (or another reserved identifier of the
 * file); then every such struct is prefixed with its message's name.
 */
export function assignStructNames(msgs: MessageModel[], reserved: string[]): void {
  const count = new Map<string, number>();
  for (const m of msgs) for (const s of m.structs) count.set(s.jsonName, (count.get(s.jsonName) ?? 0) + 1);
  const taken = new Set<string>([...msgs.map((m) => m.name), ...reserved]);
  for (const m of msgs) {
    for (const s of m.structs) {
      s.name = (count.get(s.jsonName)! > 1 || taken.has(s.jsonName)) ? `${m.name}${s.jsonName}` : s.jsonName;
    }
  }
  const all = new Set<string>(taken);
  for (const m of msgs) {
    for (const s of m.structs) {
      if (all.has(s.name)) throw new Error(`${m.file}: struct name ${s.name} collides after prefixing`);
      all.add(s.name);
    }
  }
}
