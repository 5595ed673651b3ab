// Confluent's documented compatible and incompatible changes, per schema type: each row is an old and a new
// schema and whether registering the new one after the old passes BACKWARD, FORWARD and FULL.
import t from 'tap';
import { incompatibilities, type CompatibilityLevel } from './compatibility.ts';
import { SCHEMA_TYPES } from './compatibility.ts';
import type { SchemaTypeName } from './types/schema-type.ts';

interface Row { change: string; old: unknown; new: unknown; backward: boolean; forward: boolean }

const parse = (type: SchemaTypeName, s: unknown) => SCHEMA_TYPES[type].parse(typeof s === 'string' ? s : JSON.stringify(s), []);
const ok = (type: SchemaTypeName, level: CompatibilityLevel, oldS: unknown, newS: unknown) =>
  incompatibilities(level, parse(type, newS), [parse(type, oldS)]).length === 0;

function table(type: SchemaTypeName, rows: Row[]): void {
  t.test(`${type}: Confluent's documented changes`, async (t) => {
    for (const r of rows) {
      t.equal(ok(type, 'BACKWARD', r.old, r.new), r.backward, `${r.change}: BACKWARD ${r.backward ? 'compatible' : 'incompatible'}`);
      t.equal(ok(type, 'FORWARD', r.old, r.new), r.forward, `${r.change}: FORWARD ${r.forward ? 'compatible' : 'incompatible'}`);
      t.equal(ok(type, 'FULL', r.old, r.new), r.backward && r.forward, `${r.change}: FULL`);
      t.equal(ok(type, 'NONE', r.old, r.new), true, `${r.change}: NONE`);
    }
  });
}

const rec = (fields: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'record', name: 'User', namespace: 'app', fields, ...extra });
const id = { name: 'id', type: 'int' };
table('AVRO', [
  { change: 'add a field with a default', old: rec([id]), new: rec([id, { name: 'email', type: 'string', default: '' }]), backward: true, forward: true },
  { change: 'add a field without a default', old: rec([id]), new: rec([id, { name: 'email', type: 'string' }]), backward: false, forward: true },
  { change: 'delete a field with a default', old: rec([id, { name: 'email', type: 'string', default: '' }]), new: rec([id]), backward: true, forward: true },
  { change: 'delete a field without a default', old: rec([id, { name: 'email', type: 'string' }]), new: rec([id]), backward: true, forward: false },
  { change: 'promote int to long', old: rec([id]), new: rec([{ name: 'id', type: 'long' }]), backward: true, forward: false },
  { change: 'promote float to double', old: rec([{ name: 'x', type: 'float' }]), new: rec([{ name: 'x', type: 'double' }]), backward: true, forward: false },
  { change: 'string to bytes', old: rec([{ name: 'x', type: 'string' }]), new: rec([{ name: 'x', type: 'bytes' }]), backward: true, forward: true },
  { change: 'change int to string', old: rec([id]), new: rec([{ name: 'id', type: 'string' }]), backward: false, forward: false },
  { change: 'rename a field without alias', old: rec([id]), new: rec([{ name: 'userId', type: 'int' }]), backward: false, forward: false },
  { change: 'rename a field with an alias', old: rec([id]), new: rec([{ name: 'userId', type: 'int', aliases: ['id'] }]), backward: true, forward: false },
  { change: 'add an enum symbol', old: rec([{ name: 'c', type: { type: 'enum', name: 'Color', symbols: ['RED'] } }]), new: rec([{ name: 'c', type: { type: 'enum', name: 'Color', symbols: ['RED', 'BLUE'] } }]), backward: true, forward: false },
  { change: 'add an enum symbol with a reader default', old: rec([{ name: 'c', type: { type: 'enum', name: 'Color', symbols: ['RED', 'OTHER'], default: 'OTHER' } }]), new: rec([{ name: 'c', type: { type: 'enum', name: 'Color', symbols: ['RED', 'OTHER', 'BLUE'], default: 'OTHER' } }]), backward: true, forward: true },
  { change: 'add a union branch', old: rec([{ name: 'x', type: ['null', 'int'] }]), new: rec([{ name: 'x', type: ['null', 'int', 'string'] }]), backward: true, forward: false },
  { change: 'make a field nullable', old: rec([id]), new: rec([{ name: 'id', type: ['int', 'null'] }]), backward: true, forward: false },
  { change: 'rename the record', old: rec([id]), new: { ...rec([id]), name: 'Person' }, backward: false, forward: false },
  { change: 'change the doc only', old: rec([id]), new: rec([id], { doc: 'a user' }), backward: true, forward: true },
]);

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });
const closed = { additionalProperties: false };
table('JSON', [
  { change: 'open model: add an optional property', old: obj({ a: { type: 'string' } }), new: obj({ a: { type: 'string' }, b: { type: 'string' } }), backward: false, forward: true },
  { change: 'open model: remove a property', old: obj({ a: { type: 'string' }, b: { type: 'string' } }), new: obj({ a: { type: 'string' } }), backward: true, forward: false },
  { change: 'closed model: add an optional property', old: obj({ a: { type: 'string' } }, closed), new: obj({ a: { type: 'string' }, b: { type: 'string' } }, closed), backward: true, forward: false },
  { change: 'closed model: remove a property', old: obj({ a: { type: 'string' }, b: { type: 'string' } }, closed), new: obj({ a: { type: 'string' } }, closed), backward: false, forward: true },
  { change: 'closed model: add a required property', old: obj({ a: { type: 'string' } }, closed), new: obj({ a: { type: 'string' }, b: { type: 'string' } }, { ...closed, required: ['b'] }), backward: false, forward: false },
  { change: 'make an existing property required', old: obj({ a: { type: 'string' } }), new: obj({ a: { type: 'string' } }, { required: ['a'] }), backward: false, forward: true },
  { change: 'change a property from string to number', old: obj({ a: { type: 'string' } }), new: obj({ a: { type: 'number' } }), backward: false, forward: false },
  { change: 'widen integer to number', old: obj({ a: { type: 'integer' } }), new: obj({ a: { type: 'number' } }), backward: true, forward: false },
  { change: 'extend an enum', old: obj({ a: { enum: ['x', 'y'] } }), new: obj({ a: { enum: ['x', 'y', 'z'] } }), backward: true, forward: false },
  { change: 'lower maxLength', old: obj({ a: { type: 'string', maxLength: 10 } }), new: obj({ a: { type: 'string', maxLength: 5 } }), backward: false, forward: true },
  { change: 'open an closed model', old: obj({ a: { type: 'string' } }, closed), new: obj({ a: { type: 'string' } }), backward: true, forward: false },
  { change: 'change only the description', old: obj({ a: { type: 'string' } }), new: obj({ a: { type: 'string', description: 'the a' } }), backward: true, forward: true },
]);

const proto = (body: string, pkg = 'app') => `syntax = "proto3";\npackage ${pkg};\n${body}`;
table('PROTOBUF', [
  { change: 'add a field', old: proto('message M { int32 a = 1; }'), new: proto('message M { int32 a = 1; string b = 2; }'), backward: true, forward: true },
  { change: 'remove a field', old: proto('message M { int32 a = 1; string b = 2; }'), new: proto('message M { int32 a = 1; }'), backward: true, forward: true },
  { change: 'rename a field (same number)', old: proto('message M { int32 a = 1; }'), new: proto('message M { int32 alpha = 1; }'), backward: true, forward: true },
  { change: 'int32 to int64 (wire compatible)', old: proto('message M { int32 a = 1; }'), new: proto('message M { int64 a = 1; }'), backward: true, forward: true },
  { change: 'int32 to string', old: proto('message M { int32 a = 1; }'), new: proto('message M { string a = 1; }'), backward: false, forward: false },
  { change: 'scalar to message', old: proto('message M { int32 a = 1; } message N {}'), new: proto('message M { N a = 1; } message N {}'), backward: false, forward: false },
  { change: 'singular to repeated', old: proto('message M { int32 a = 1; }'), new: proto('message M { repeated int32 a = 1; }'), backward: false, forward: false },
  { change: 'remove a message', old: proto('message M { int32 a = 1; } message N { int32 b = 1; }'), new: proto('message M { int32 a = 1; }'), backward: false, forward: true },
  { change: 'add a message', old: proto('message M { int32 a = 1; }'), new: proto('message M { int32 a = 1; } message N { int32 b = 1; }'), backward: true, forward: false },
  { change: 'change the package', old: proto('message M { int32 a = 1; }'), new: proto('message M { int32 a = 1; }', 'other'), backward: false, forward: false },
  { change: 'move two fields into a new oneof', old: proto('message M { int32 a = 1; int32 b = 2; }'), new: proto('message M { oneof o { int32 a = 1; int32 b = 2; } }'), backward: false, forward: true },
  { change: 'move one field into a new oneof', old: proto('message M { int32 a = 1; int32 b = 2; }'), new: proto('message M { int32 a = 1; oneof o { int32 b = 2; } }'), backward: true, forward: true },
]);

t.test('transitive levels check every version, the others only the latest', async (t) => {
  const v1 = rec([id]);
  const v2 = rec([id, { name: 'email', type: 'string', default: '' }]);
  const v3 = rec([{ name: 'email', type: 'string', default: '' }]); // drops id (no default): old v1 readers cannot read it
  const p = (s: unknown) => parse('AVRO', s);
  t.equal(incompatibilities('FORWARD', p(v3), [p(v2)]).length, 1, 'FORWARD against v2 alone fails too (v2 has no default for id)');
  const v2b = rec([{ name: 'id', type: 'int', default: 0 }, { name: 'email', type: 'string', default: '' }]);
  t.same(incompatibilities('FORWARD', p(v3), [p(v2b)]), [], 'FORWARD: v3 against the latest (v2b, id has a default) passes');
  t.not(incompatibilities('FORWARD_TRANSITIVE', p(v3), [p(v1), p(v2b)]).length, 0, 'FORWARD_TRANSITIVE: v1 cannot read v3');
  t.not(incompatibilities('FULL_TRANSITIVE', p(v3), [p(v1), p(v2b)]).length, 0, 'FULL_TRANSITIVE too');
  t.same(incompatibilities('BACKWARD_TRANSITIVE', p(v2), [p(v1)]), [], 'BACKWARD_TRANSITIVE with one version');
});

t.test('invalid schemas are refused by each parser', async (t) => {
  t.throws(() => parse('AVRO', '{"type":"record","name":"r"}'), 'record without fields');
  t.throws(() => parse('AVRO', '{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":"x"}]}'), 'default of the wrong type');
  t.throws(() => parse('AVRO', 'not json'), 'not JSON');
  t.throws(() => parse('JSON', '{"type":"strng"}'), 'unknown JSON Schema type');
  t.throws(() => parse('JSON', '[1]'), 'not a schema');
  t.throws(() => parse('PROTOBUF', 'message {'), 'proto syntax error');
  t.throws(() => parse('PROTOBUF', 'syntax = "proto3"; message M { Missing a = 1; }'), 'unresolved proto type');
  t.throws(() => parse('PROTOBUF', 'syntax = "proto3"; import "other.proto"; message M { int32 a = 1; }'), 'unknown import');
  t.doesNotThrow(() => parse('PROTOBUF', 'syntax = "proto3"; import "google/protobuf/timestamp.proto"; message M { google.protobuf.Timestamp t = 1; }'), 'well-known import');
});
