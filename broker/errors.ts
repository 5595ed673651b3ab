// Two error channels inside the broker. A KafkaError carries a Kafka error code destined for a response
// (it is raised where a check fails and caught where the response is built); storage's StorageError is
// the same channel from below. Anything else thrown is a bug (or, in the protocol layer, a malformed
// frame) and is never turned into an error code silently.
import { StorageError } from '../storage/index.ts';

export class KafkaError extends Error {
  readonly code: number;
  constructor(code: number, message = '', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaError';
    this.code = code;
  }
}

/** The Kafka error code `err` carries (KafkaError or StorageError), or undefined if it is not one. */
export function kafkaErrorCode(err: unknown): number | undefined {
  return err instanceof KafkaError || err instanceof StorageError ? err.code : undefined;
}
