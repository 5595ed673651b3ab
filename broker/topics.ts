// Topic names and the in-memory topic registry the handlers read. Topic IDs are random, non-zero and
// stable for the topic's lifetime; the registry can be seeded from persisted metadata at start.

export interface TopicInfo {
  readonly name: string;
  /** Kafka's textual UUID form (URL-safe base64, 22 chars). */
  readonly topicId: string;
  partitions: number;
  /** Topic-level config overrides (only what was set; defaults come from the broker). */
  configs: Map<string, string>;
  readonly internal: boolean;
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Kafka's ReplicationControlManager.MAX_PARTITIONS_PER_BATCH: one request may create at most this many
 * partitions (larger batches exhausted the controller's heap). gregor also caps the partitions being
 * created at any moment by this number (see BrokerContext.createTopic), which bounds auto-creation fan-out.
 */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;
/** Kafka's PolicyViolationException message for it. */
export const EXCESSIVE_PARTITIONS_MESSAGE = 'Excessively large number of partitions per request.';
const POLICY_VIOLATION = 44;

/** A creation refused before anything was created; `code` is the Kafka error code to answer. */
export class CreationRefused extends Error {
  readonly code: number;
  constructor(message: string, code = POLICY_VIOLATION) {
    super(message);
    this.name = 'CreationRefused';
    this.code = code;
  }
}
const MAX_NAME_LENGTH = 249;

/** Kafka's Topic.validate: returns the reason a name is invalid, or null when it is valid. */
export function invalidTopicNameReason(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_NAME_LENGTH) return `Topic name is illegal, it can't be longer than ${MAX_NAME_LENGTH} characters, topic name: ${name}`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

/** Kafka treats '.' and '_' as colliding in topic names (both map to '_' in metric names). */
export function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}

/** A random version-4 UUID as Kafka prints it, never the zero UUID nor Kafka's reserved METADATA_TOPIC_ID (…1). */
export function randomUuid(randomBytes: (n: number) => Buffer): string {
  for (;;) {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const s = b.toString('base64url');
    // Kafka also rejects ids whose text starts with '-' (they look like CLI flags).
    if (s !== ZERO_UUID && s[0] !== '-') return s;
  }
}

export class TopicRegistry {
  readonly #byName = new Map<string, TopicInfo>();
  readonly #byId = new Map<string, TopicInfo>();
  readonly #byCollisionKey = new Map<string, string>();

  get(name: string): TopicInfo | undefined { return this.#byName.get(name); }
  getById(id: string): TopicInfo | undefined { return this.#byId.get(id); }
  all(): IterableIterator<TopicInfo> { return this.#byName.values(); }
  get size(): number { return this.#byName.size; }

  /** The existing topic whose name collides with `name` ('.' vs '_'), if any and different. */
  collidingWith(name: string): string | undefined {
    const other = this.#byCollisionKey.get(collisionKey(name));
    return other !== undefined && other !== name ? other : undefined;
  }

  add(topic: TopicInfo): TopicInfo {
    if (this.#byName.has(topic.name)) throw new Error(`topic ${topic.name} exists`);
    this.#byName.set(topic.name, topic);
    this.#byId.set(topic.topicId, topic);
    this.#byCollisionKey.set(collisionKey(topic.name), topic.name);
    return topic;
  }

  remove(name: string): TopicInfo | undefined {
    const t = this.#byName.get(name);
    if (!t) return undefined;
    this.#byName.delete(name);
    this.#byId.delete(t.topicId);
    this.#byCollisionKey.delete(collisionKey(name));
    return t;
  }
}
