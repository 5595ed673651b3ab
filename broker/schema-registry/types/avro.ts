// AVRO: avsc parses (names, defaults, logical types); compatibility is the Avro specification's schema
// resolution, which avsc implements as Type#createResolver (it throws when the reader cannot read the writer's
// data: promotions int→long→float→double, string↔bytes, record fields matched by name or alias with defaults
// for the reader's new ones, enum symbols (or the reader's default), union branches, named types by name).
import avro from 'avsc';
import { flattenReferences, sortKeys, type ParsedSchema, type ResolvedReference, type SchemaType } from './schema-type.ts';

interface AvroModel { type: avro.Type }

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON: ${(e as Error).message}`);
  }
}

export const avroType: SchemaType = {
  parse(schema: string, references: readonly ResolvedReference[]): ParsedSchema {
    const json = parseJson(schema);
    // Named types of the references are registered first, so the schema can use them by name.
    const registry: Record<string, avro.Type> = {};
    for (const r of flattenReferences(references)) {
      if (r.type !== 'AVRO') throw new Error(`reference ${r.name} is a ${r.type} schema`);
      avro.Type.forSchema(parseJson(r.schema) as avro.Schema, { registry });
    }
    const type = avro.Type.forSchema(json as avro.Schema, { registry });
    return {
      type: 'AVRO',
      canonical: JSON.stringify(json),
      // Keys sorted at every level: the key order of a JSON object carries no meaning (nothing is dropped, unlike
      // avsc's exported form, which loses logical types and custom properties).
      normalized: JSON.stringify(sortKeys(json)),
      model: { type } satisfies AvroModel,
    };
  },
  readerReasons(reader: ParsedSchema, writer: ParsedSchema): string[] {
    const r = (reader.model as AvroModel).type;
    const w = (writer.model as AvroModel).type;
    try {
      r.createResolver(w);
      return [];
    } catch (e) {
      return [`{errorType:'READER_CANNOT_READ_WRITER', description:'The reader schema cannot read data written with the writer schema: ${(e as Error).message}'}`];
    }
  },
};
