// Shared by AlterConfigs and IncrementalAlterConfigs: resource checks, Kafka 4.4's error codes and messages,
// and applying a new topic override set through the broker (storage re-resolves the LogConfig).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { BrokerContext } from '../context.ts';
import { brokerConfigDef, normalizeTopicConfigs, schemaRegistryOn, topicNameError } from './index.ts';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
export const RESOURCE_BROKER_LOGGER = 8;

export interface ResourceResult {
  errorCode: number;
  errorMessage: string | null;
}

export const OK: ResourceResult = { errorCode: ErrorCode.NONE, errorMessage: null };

export const resourceKey = (type: number, name: string) => `${type}\u0000${name}`;

/** Kafka answers every copy of a resource named more than once with INVALID_REQUEST. */
export const DUPLICATE_RESOURCE: ResourceResult = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.' };

// Overrides being written, per broker and topic: a second request in flight builds on the first one's result.
const pending = new WeakMap<BrokerContext, Map<string, Map<string, string>>>();

/** The topic's current overrides (including a change still being written), or an error result. */
export function currentTopicConfigs(broker: BrokerContext, name: string): Map<string, string> | ResourceResult {
  const err = topicNameError(name);
  if (err) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: err };
  const t = broker.topics.get(name);
  if (!t) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${name}' does not exist.` };
  return new Map(pending.get(broker)?.get(name) ?? t.configs);
}

/**
 * Validates the complete new override set and, unless validateOnly, applies it. Validation and the
 * pending-state update happen synchronously (before the first await), in request arrival order.
 */
export function applyTopicConfigs(broker: BrokerContext, name: string, next: Map<string, string>, validateOnly: boolean): ResourceResult | Promise<ResourceResult> {
  const normalized = normalizeTopicConfigs(next, schemaRegistryOn(broker.config));
  if ('errorCode' in normalized) return { errorCode: normalized.errorCode, errorMessage: normalized.message };
  if (validateOnly) return OK;
  let byTopic = pending.get(broker);
  if (!byTopic) pending.set(broker, byTopic = new Map());
  byTopic.set(name, normalized);
  return broker.alterTopicConfigs(name, normalized).then(
    () => OK,
    (e: Error & { kind?: string }) => {
      broker.log.warn(`altering configs of topic ${name} failed: ${e.message}`);
      if (e.kind === 'UNKNOWN_TOPIC_OR_PARTITION') return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${name}' does not exist.` };
      if (e.kind === 'INVALID_CONFIG') return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: e.message };
      return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: e.message };
    },
  ).finally(() => {
    if (byTopic.get(name) === normalized) byTopic.delete(name);
  });
}

/**
 * A BROKER resource: checks the id as Kafka does, then refuses every change (gregor has no dynamic broker
 * configs). Configs Kafka itself cannot change get Kafka's message; the others say gregor does not support it.
 */
export function alterBrokerResource(broker: BrokerContext, resourceName: string, names: string[], idWord: 'Broker' | 'Node'): ResourceResult {
  if (resourceName !== '') {
    if (!/^[+-]?\d+$/.test(resourceName.trim())) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `${idWord} id must be an integer, but it is: ${resourceName}` };
    }
    if (Number(resourceName) !== broker.nodeId) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId}, but received ${resourceName}` };
    }
  }
  if (names.length === 0) return OK;
  const readOnly = names.filter((n) => brokerConfigDef(n)?.readOnly);
  if (readOnly.length > 0) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Cannot update these configs dynamically: [${readOnly.join(', ')}]` };
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Dynamic broker config updates are not supported by gregor; set these in server.properties and restart: [${names.join(', ')}]` };
}

/** Duplicate config names within one resource: Kafka's INVALID_REQUEST. */
export function duplicateKeys(names: string[]): ResourceResult | null {
  return new Set(names).size !== names.length ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' } : null;
}

export function unknownResourceType(type: number): ResourceResult {
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown resource type ${type}` };
}
