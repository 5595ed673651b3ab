// REST Proxy v2's `avro` embedded format through the in-process Schema Registry: produce registers (or looks up
// by id) the key/value schema under `<topic>-key|value` and writes Confluent's wire format (magic 0, schema id,
// Avro binary of the record's JSON-encoded Avro); consumers decode it back to JSON-encoded Avro by the id.
import { ApiError } from '../http/api-error.ts';
import avro from 'avsc';
import type { Registry } from '../schema-registry/registry.ts';
import { SrError } from '../schema-registry/errors.ts';

export class AvroFormatError extends ApiError {}

export interface AvroSchema { id: number; type: avro.Type }

/** Types by schema id (a registered id never changes its schema). */
const types = new WeakMap<Registry, Map<number, avro.Type>>();

function typeOf(registry: Registry, id: number): avro.Type {
  let m = types.get(registry);
  if (!m) types.set(registry, (m = new Map()));
  let t = m.get(id);
  if (!t) {
    const v = registry.byId(id);
    if (v.schemaType !== 'AVRO') throw new AvroFormatError(422, 42205, `Invalid schema: schema ${id} is ${v.schemaType}, not AVRO`);
    if (v.references.length) throw new AvroFormatError(422, 42205, `Invalid schema: schema ${id} has references, which gregor's REST Proxy does not resolve`);
    t = avro.Type.forSchema(JSON.parse(v.schema) as avro.Schema);
    m.set(id, t);
  }
  return t;
}

/** The request's schema for one side: by `<side>_schema_id`, or `<side>_schema` registered under `<topic>-<side>`; null when neither. */
export async function requestSchema(registry: Registry, topic: string, side: 'key' | 'value', idField: unknown, schemaField: unknown): Promise<AvroSchema | null> {
  try {
    if (idField !== undefined && idField !== null) {
      if (!Number.isInteger(idField)) throw new AvroFormatError(422, 422, `${side}_schema_id must be an integer`);
      return { id: idField as number, type: typeOf(registry, idField as number) };
    }
    if (schemaField === undefined || schemaField === null) return null;
    if (typeof schemaField !== 'string') throw new AvroFormatError(422, 422, `${side}_schema must be a string`);
    const { id } = await registry.register(`${topic}-${side}`, { schema: schemaField }, false);
    return { id, type: typeOf(registry, id) };
  } catch (e) {
    if (e instanceof SrError) throw new AvroFormatError(e.status, e.code === 42201 ? 42205 : e.code, e.message);
    throw e;
  }
}

/** Confluent's wire format of one JSON-encoded Avro datum. */
export function encodeAvro(schema: AvroSchema, x: unknown, what: string): Buffer {
  let body: Buffer;
  try {
    body = schema.type.toBuffer(schema.type.fromString(JSON.stringify(x)));
  } catch (e) {
    throw new AvroFormatError(422, 42203, `Conversion of JSON to Avro failed: ${what}: ${(e as Error).message}`);
  }
  const head = Buffer.alloc(5);
  head.writeInt32BE(schema.id, 1);
  return Buffer.concat([head, body]);
}

/** A consumed key/value in Confluent's wire format → its JSON-encoded Avro. */
export function decodeAvro(registry: Registry, bytes: Buffer): unknown {
  if (bytes.length < 5 || bytes[0] !== 0) throw new Error('not in Confluent\'s wire format (magic byte 0 and a schema id)');
  const type = typeOf(registry, bytes.readInt32BE(1));
  return JSON.parse(type.toString(type.fromBuffer(bytes.subarray(5))));
}
