// PROTOBUF: protobufjs parses (proto2/proto3, imports resolved against the references by their import name and
// the google/protobuf well-known files). Compatibility follows Confluent's ProtobufSchema diff for a reader
// and a writer (the writer is the earlier schema under BACKWARD):
//   incompatible: PACKAGE_CHANGED, MESSAGE_REMOVED, FIELD_KIND_CHANGED (scalar ↔ message ↔ enum),
//     FIELD_SCALAR_KIND_CHANGED (outside the wire-compatible groups), FIELD_NAMED_TYPE_CHANGED,
//     FIELD_LABEL_CHANGED (repeated ↔ singular), REQUIRED_FIELD_ADDED / _REMOVED (proto2),
//     ONEOF_FIELD_REMOVED, FIELD_MOVED_TO_EXISTING_ONEOF, MULTIPLE_FIELDS_MOVED_TO_ONEOF;
//   compatible: FIELD_ADDED, FIELD_REMOVED, FIELD_NAME_CHANGED, a message or enum added, one field moved into a
//     new oneof, a scalar changed within {int32 uint32 int64 uint64 bool}, {sint32 sint64}, {string bytes},
//     {fixed32 sfixed32}, {fixed64 sfixed64}.
import protobuf from 'protobufjs';
import type { ParsedSchema, ResolvedReference, SchemaType } from './schema-type.ts';
import { flattenReferences } from './schema-type.ts';

interface FieldInfo { name: string; kind: 'scalar' | 'message' | 'enum'; type: string; repeated: boolean; required: boolean; oneof: string | null; map: boolean }
interface MessageInfo { fields: Map<number, FieldInfo>; oneofs: Set<string> }
interface ProtoModel { pkg: string; messages: Map<string, MessageInfo> }

const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes']);
const WIRE_GROUPS = [['int32', 'uint32', 'int64', 'uint64', 'bool'], ['sint32', 'sint64'], ['string', 'bytes'], ['fixed32', 'sfixed32'], ['fixed64', 'sfixed64']];
const sameGroup = (a: string, b: string) => a === b || WIRE_GROUPS.some((g) => g.includes(a) && g.includes(b));

/** Text without comments, whitespace collapsed: what identical-schema lookups compare. */
function canonicalText(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ').replace(/\s+/g, ' ').replace(/\s*([{};=,<>()[\]])\s*/g, '$1').trim();
}

function addFile(root: protobuf.Root, name: string, text: string, loaded: Set<string>): protobuf.IParserResult {
  const res = protobuf.parse(text, root, { keepCase: true, alternateCommentMode: true });
  loaded.add(name);
  return res;
}

function model(root: protobuf.Root, pkg: string, own: Set<string>): ProtoModel {
  const messages = new Map<string, MessageInfo>();
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) {
        const full = obj.fullName.replace(/^\./, '');
        if (own.has(full)) {
          const fields = new Map<number, FieldInfo>();
          const oneofs = new Set<string>();
          for (const f of obj.fieldsArray) {
            f.resolve();
            const rt = f.resolvedType;
            const kind = rt instanceof protobuf.Type ? 'message' : rt instanceof protobuf.Enum ? 'enum' : 'scalar';
            const type = rt ? rt.fullName.replace(/^\./, '') : f.type;
            const oneof = f.partOf && !(f.partOf.oneof.length === 1 && (f.partOf.name.startsWith('_'))) ? f.partOf.name : null;
            if (oneof) oneofs.add(oneof);
            fields.set(f.id, { name: f.name, kind, type, repeated: f.repeated, required: f.required, oneof, map: f instanceof protobuf.MapField });
          }
          messages.set(full, { fields, oneofs });
        }
      }
      if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) visit(obj as protobuf.NamespaceBase);
    }
  };
  visit(root);
  return { pkg, messages };
}

/** Full names of the messages a parse result declared (the file's own, not its imports'). */
function ownMessages(text: string): Set<string> {
  const scratch = protobuf.parse(text, { keepCase: true });
  const out = new Set<string>();
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) out.add(obj.fullName.replace(/^\./, ''));
      if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) visit(obj as protobuf.NamespaceBase);
    }
  };
  visit(scratch.root);
  return out;
}

export const protobufType: SchemaType = {
  parse(schema: string, references: readonly ResolvedReference[]): ParsedSchema {
    const root = new protobuf.Root();
    const loaded = new Set<string>();
    const byName = new Map<string, string>();
    for (const r of flattenReferences(references)) {
      if (r.type !== 'PROTOBUF') throw new Error(`reference ${r.name} is a ${r.type} schema`);
      byName.set(r.name, r.schema);
    }
    const load = (name: string, text: string, stack: string[]): protobuf.IParserResult | null => {
      if (loaded.has(name)) return null;
      if (stack.includes(name)) throw new Error(`import cycle through ${name}`);
      const imports = [...(protobuf.parse(text, { keepCase: true }).imports ?? []), ...(protobuf.parse(text, { keepCase: true }).weakImports ?? [])];
      for (const imp of imports) {
        const refText = byName.get(imp);
        if (refText !== undefined) { load(imp, refText, [...stack, name]); continue; }
        const common = protobuf.common.get(imp);
        if (common) {
          if (!loaded.has(imp)) { root.addJSON(common.nested ?? {}); loaded.add(imp); }
          continue;
        }
        throw new Error(`import "${imp}" is neither a reference nor a well-known file`);
      }
      return addFile(root, name, text, loaded);
    };
    const res = load('\u0000main', schema, [])!;
    root.resolveAll();
    return {
      type: 'PROTOBUF', canonical: canonicalText(schema), normalized: canonicalText(schema),
      model: model(root, res.package ?? '', ownMessages(schema)),
    };
  },
  readerReasons(reader: ParsedSchema, writer: ParsedSchema): string[] {
    const r = reader.model as ProtoModel, w = writer.model as ProtoModel;
    const out: string[] = [];
    if (r.pkg !== w.pkg) out.push(`PACKAGE_CHANGED from "${w.pkg}" to "${r.pkg}"`);
    for (const [name, wm] of w.messages) {
      const rm = r.messages.get(name.startsWith(w.pkg + '.') && r.pkg !== w.pkg ? `${r.pkg}.${name.slice(w.pkg.length + 1)}` : name);
      if (!rm) { out.push(`#/${name}: MESSAGE_REMOVED`); continue; }
      const movedToNew = new Map<string, number>();
      for (const [num, wf] of wm.fields) {
        const rf = rm.fields.get(num);
        const at = `#/${name}/${num}`;
        if (!rf) {
          if (wf.oneof) out.push(`${at}: ONEOF_FIELD_REMOVED`);
          if (wf.required) out.push(`${at}: REQUIRED_FIELD_REMOVED`);
          continue; // FIELD_REMOVED: compatible
        }
        if (rf.kind !== wf.kind) out.push(`${at}: FIELD_KIND_CHANGED from ${wf.kind} to ${rf.kind}`);
        else if (rf.kind === 'scalar' && !sameGroup(rf.type, wf.type)) out.push(`${at}: FIELD_SCALAR_KIND_CHANGED from ${wf.type} to ${rf.type}`);
        else if (rf.kind !== 'scalar' && rf.type.split('.').pop() !== wf.type.split('.').pop()) out.push(`${at}: FIELD_NAMED_TYPE_CHANGED from ${wf.type} to ${rf.type}`);
        if (rf.repeated !== wf.repeated || rf.map !== wf.map) out.push(`${at}: FIELD_LABEL_CHANGED`);
        if (rf.required && !wf.required) out.push(`${at}: REQUIRED_FIELD_ADDED`);
        if (wf.required && !rf.required) out.push(`${at}: REQUIRED_FIELD_REMOVED`);
        if (rf.oneof && !wf.oneof) {
          if (wm.oneofs.has(rf.oneof)) out.push(`${at}: FIELD_MOVED_TO_EXISTING_ONEOF`);
          else movedToNew.set(rf.oneof, (movedToNew.get(rf.oneof) ?? 0) + 1);
        }
      }
      for (const [oneof, n] of movedToNew) if (n > 1) out.push(`#/${name}/${oneof}: MULTIPLE_FIELDS_MOVED_TO_ONEOF`);
      for (const [num, rf] of rm.fields) if (!wm.fields.has(num) && rf.required) out.push(`#/${name}/${num}: REQUIRED_FIELD_ADDED`);
    }
    return out;
  },
};
