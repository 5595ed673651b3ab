// Broker-side schema validation (Confluent Server's confluent.key/value.schema.validation, issue 23 item 5): the
// produce path asks here, per partition append, for a check of the schema ids its record walk finds
// (protocol/records.ts). The registry's in-memory state is attached by service.ts once `_schemas` is replayed;
// this module imports nothing else, so the produce handler loads no registry code.
import type { RegistryState, Version } from './store.ts';

const attached = new WeakMap<object, Validation>();

/** Called by the registry service with the broker's context once its state is the log's. */
export function attachSchemaValidation(context: object, state: RegistryState): void {
  attached.set(context, new Validation(state));
}

export function detachSchemaValidation(context: object): void {
  attached.delete(context);
}

/**
 * The check for one topic and side, or null when the registry is not (yet) attached on this broker. With
 * TopicNameStrategy the id must be a live version of `<topic>-key|value`; with RecordNameStrategy of the subject
 * named by the schema's record name, with TopicRecordNameStrategy of `<topic>-<record name>`.
 */
export function schemaIdCheck(context: object, topic: string, side: 'key' | 'value', strategy: string): ((id: number) => boolean) | null {
  const v = attached.get(context);
  return v ? v.check(topic, side, strategy) : null;
}

class Validation {
  readonly #state: RegistryState;
  /** State generation (records applied) the caches below belong to. */
  #gen = -1;
  readonly #idsBySubject = new Map<string, Set<number>>();
  readonly #recordNames = new Map<number, string | null>();

  constructor(state: RegistryState) {
    this.#state = state;
  }

  check(topic: string, side: 'key' | 'value', strategy: string): (id: number) => boolean {
    this.#fresh();
    if (strategy.endsWith('.TopicNameStrategy')) {
      const ids = this.#ids(`${topic}-${side}`);
      return (id) => ids.has(id);
    }
    const prefix = strategy.endsWith('.TopicRecordNameStrategy') ? `${topic}-` : '';
    return (id) => {
      const name = this.#recordName(id);
      return name !== null && this.#ids(prefix + name).has(id);
    };
  }

  #fresh(): void {
    if (this.#gen === this.#state.applied) return;
    this.#gen = this.#state.applied;
    this.#idsBySubject.clear();
    this.#recordNames.clear();
  }

  /** Ids of the subject's live (not soft-deleted) versions. */
  #ids(subject: string): Set<number> {
    let ids = this.#idsBySubject.get(subject);
    if (!ids) {
      ids = new Set();
      for (const v of this.#state.subjects.get(subject)?.values() ?? []) if (!v.deleted) ids.add(v.id);
      this.#idsBySubject.set(subject, ids);
    }
    return ids;
  }

  #recordName(id: number): string | null {
    let name = this.#recordNames.get(id);
    if (name === undefined) {
      const v = this.#state.byId.get(id);
      name = v ? recordName(v) : null;
      this.#recordNames.set(id, name);
    }
    return name;
  }
}

/**
 * The record name Confluent's RecordNameStrategy uses: AVRO's full name of the top-level named type, JSON
 * Schema's `title`, PROTOBUF's first message with its package.
 */
export function recordName(v: Version): string | null {
  try {
    if (v.schemaType === 'PROTOBUF') {
      const text = v.schema.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
      const pkg = /\bpackage\s+([\w.]+)\s*;/.exec(text)?.[1];
      const msg = /\bmessage\s+(\w+)/.exec(text)?.[1];
      return msg ? (pkg ? `${pkg}.${msg}` : msg) : null;
    }
    const doc = JSON.parse(v.schema);
    if (v.schemaType === 'JSON') return typeof doc?.title === 'string' ? doc.title : null;
    if (!doc || typeof doc !== 'object' || typeof doc.name !== 'string') return null;
    if (doc.name.includes('.') || typeof doc.namespace !== 'string' || doc.namespace === '') return doc.name;
    return `${doc.namespace}.${doc.name}`;
  } catch {
    return null;
  }
}
