// The seven compatibility levels, built from each type's reader/writer check: BACKWARD = the new schema reads
// data written with the previous one (the latest live version; _TRANSITIVE: every live version), FORWARD = the
// previous ones read the new one's data, FULL = both, NONE = no check.
import { avroType } from './types/avro.ts';
import { jsonType } from './types/json.ts';
import { protobufType } from './types/protobuf.ts';
import type { ParsedSchema, SchemaType, SchemaTypeName } from './types/schema-type.ts';

export const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = typeof COMPATIBILITY_LEVELS[number];

export const SCHEMA_TYPES: Record<SchemaTypeName, SchemaType> = { AVRO: avroType, JSON: jsonType, PROTOBUF: protobufType };

export function isLevel(x: unknown): x is CompatibilityLevel {
  return typeof x === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(x);
}

export const isTransitive = (level: CompatibilityLevel) => level.endsWith('_TRANSITIVE');

/**
 * Why `candidate` is not compatible under `level` with `previous` (live versions, oldest first; the caller
 * passes only the latest for a non-transitive level). Empty: compatible.
 */
export function incompatibilities(level: CompatibilityLevel, candidate: ParsedSchema, previous: readonly ParsedSchema[]): string[] {
  if (level === 'NONE') return [];
  const out: string[] = [];
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  // Newest first, as Confluent reports.
  for (const prev of [...previous].reverse()) {
    if (prev.type !== candidate.type) { out.push(`{errorType:'TYPE_MISMATCH', description:'The schema type ${candidate.type} differs from ${prev.type}'}`); continue; }
    const t = SCHEMA_TYPES[candidate.type];
    if (backward) out.push(...t.readerReasons(candidate, prev));
    if (forward) out.push(...t.readerReasons(prev, candidate));
  }
  return out;
}
