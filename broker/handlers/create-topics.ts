// CreateTopics (key 19), v2-7. Checks and messages are Kafka 4.4's (ControllerApis / ReplicationControlManager):
// duplicate names in one request → INVALID_REQUEST; invalid name → INVALID_TOPIC_EXCEPTION; exists or being
// created → TOPIC_ALREADY_EXISTS; '.'/'_' collision → INVALID_TOPIC_EXCEPTION; numPartitions 0 or < -1 →
// INVALID_PARTITIONS; replication factor 0 or < -1 → INVALID_REPLICATION_FACTOR, > 1 (one broker) likewise;
// manual assignments accepted when every replica is this node; configs → INVALID_CONFIG. Internal topic names
// are accepted, as Kafka 4.4 accepts them from clients. The answer waits for storage up to timeoutMs
// (REQUEST_TIMED_OUT past it; creation continues); timeoutMs <= 0 creates nothing and answers
// REQUEST_TIMED_OUT, as Kafka's controller does. validateOnly checks everything and creates nothing (v7 still
// reports a fresh topic id, as Kafka does). More than 10,000 partitions in one request (Kafka's count:
// duplicates left out, -1 = num.partitions, assignments by their number) → POLICY_VIOLATION "Excessively large
// number of partitions per request." for every topic and nothing created or validated further, as Kafka's
// controller (ReplicationControlManager.validateTotalNumberOfPartitions).
import {
  CreateTopicsApi,
  type CreatableTopic,
  type CreatableTopicResult,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  makeCreatableTopicResult,
  makeCreateTopicsResponse,
} from '../../protocol/generated/create-topics.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { describeTopicConfigs, normalizeTopicConfigs, schemaRegistryOn, topicNameError } from '../configs/index.ts';
import type { BrokerContext } from '../context.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { CreationRefused, EXCESSIVE_PARTITIONS_MESSAGE, MAX_PARTITIONS_PER_REQUEST, randomUuid, ZERO_UUID } from '../topics.ts';

const INVALID_REQUEST_DUPLICATE = 'Duplicate topic name.';

interface Plan {
  name: string;
  partitions: number;
  configs: Map<string, string>;
}

/** Checks one topic; returns an error result or what to create. */
function plan(broker: BrokerContext, t: CreatableTopic): Plan | { errorCode: number; errorMessage: string | null } {
  const nameErr = topicNameError(t.name);
  if (nameErr) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameErr };
  if (broker.topics.get(t.name) || broker.isCreating(t.name)) {
    return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${t.name}' already exists.` };
  }
  const colliding = broker.topics.collidingWith(t.name);
  if (colliding !== undefined) {
    return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `Topic '${t.name}' collides with existing topic: ${colliding}` };
  }
  let partitions: number;
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'A manual partition assignment was specified, but numPartitions was not set to -1.' };
    if (t.replicationFactor !== -1) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'A manual partition assignment was specified, but replication factor was not set to -1.' };
    const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    if (sorted.some((a, i) => a.partitionIndex !== i)) {
      return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'partitions should be a consecutive 0-based integer sequence' };
    }
    for (const a of sorted) {
      if (a.brokerIds.length === 0) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes an empty replica list.' };
      const seen = new Set<number>();
      for (const id of a.brokerIds) {
        if (id !== broker.nodeId) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes broker ${id}, but no such broker is registered.` };
        if (seen.has(id)) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes the broker ${id} more than once.` };
        seen.add(id);
      }
    }
    partitions = sorted.length;
  } else {
    if (t.numPartitions === 0 || t.numPartitions < -1) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Number of partitions was set to an invalid non-positive value.' };
    if (t.replicationFactor === 0 || t.replicationFactor < -1) return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'Replication factor must be larger than 0, or -1 to use the default value.' };
    partitions = t.numPartitions === -1 ? broker.config.int('num.partitions') : t.numPartitions;
    const rf = t.replicationFactor === -1 ? broker.config.int('default.replication.factor') : t.replicationFactor;
    if (rf > 1) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.`,
      };
    }
  }
  const configs = normalizeTopicConfigs(t.configs.map((c) => [c.name, c.value] as [string, string | null]), schemaRegistryOn(broker.config));
  if ('errorCode' in configs) return { errorCode: configs.errorCode, errorMessage: configs.message };
  return { name: t.name, partitions, configs };
}

/** The partitions a request asks for, counted as Kafka's validateTotalNumberOfPartitions counts them. */
function requestedPartitions(topics: readonly CreatableTopic[], defaultPartitions: number): number {
  let total = 0;
  for (const t of topics) {
    if (t.assignments.length > 0) total += t.assignments.length;
    else if (t.numPartitions === -1) total += defaultPartitions;
    else if (t.numPartitions > 0) total += t.numPartitions;
  }
  return total;
}

export const handler = defineHandler<CreateTopicsRequest, CreateTopicsResponse>({
  api: CreateTopicsApi,
  // Kafka's CreateTopicsRequest.getErrorResponse: every requested topic (duplicates too) with the error.
  errorResponse: (req, _v, errorCode) => makeCreateTopicsResponse({
    topics: req.topics.map((t) => makeCreatableTopicResult({ name: t.name, errorCode, errorMessage: null })),
  }),
  async handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);

    const success = (p: Plan, topicId: string): CreatableTopicResult => {
      const r = makeCreatableTopicResult({ name: p.name, errorCode: ErrorCode.NONE, errorMessage: null });
      if (version >= 7) r.topicId = topicId;
      if (version >= 5) {
        r.numPartitions = p.partitions;
        r.replicationFactor = 1;
        r.configs = describeTopicConfigs(p.configs, broker.config, false, false).map((c) => ({
          name: c.name, value: c.value, readOnly: c.readOnly, configSource: c.configSource, isSensitive: c.isSensitive,
        }));
      }
      return r;
    };
    const failure = (name: string, errorCode: number, errorMessage: string | null) =>
      makeCreatableTopicResult({ name, errorCode, errorMessage });

    // Checked before anything else is, so a huge count never reaches storage (Kafka: the controller's first check).
    if (req.timeoutMs > 0) {
      const unique = req.topics.filter((t) => counts.get(t.name) === 1);
      if (requestedPartitions(unique, broker.config.int('num.partitions')) > MAX_PARTITIONS_PER_REQUEST) {
        const topics = req.topics.map((t) => failure(t.name, ErrorCode.POLICY_VIOLATION, EXCESSIVE_PARTITIONS_MESSAGE));
        return makeCreateTopicsResponse({ throttleTimeMs: 0, topics });
      }
    }

    // All checks and reservations happen synchronously, in arrival order, before the first await.
    const results: Array<CreatableTopicResult | Promise<CreatableTopicResult>> = [];
    const reported = new Set<string>();
    // KafkaApis.handleCreateTopicsRequest: CREATE on the cluster, else on each topic.
    const mayCreateAll = broker.authorizer === null || authorize(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME);
    for (const t of req.topics) {
      if (counts.get(t.name)! > 1) {
        // Kafka answers duplicated names once each.
        if (!reported.has(t.name)) results.push(failure(t.name, ErrorCode.INVALID_REQUEST, INVALID_REQUEST_DUPLICATE));
        reported.add(t.name);
        continue;
      }
      if (!mayCreateAll && !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, t.name)) {
        results.push(failure(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
        continue;
      }
      if (req.timeoutMs <= 0) {
        results.push(failure(t.name, ErrorCode.REQUEST_TIMED_OUT, null));
        continue;
      }
      const p = plan(broker, t);
      if (!('partitions' in p)) {
        results.push(failure(t.name, p.errorCode, p.errorMessage));
        continue;
      }
      if (req.validateOnly) {
        results.push(success(p, randomUuid(broker.randomBytes)));
        continue;
      }
      const created = broker.createTopic(p.name, p.partitions, p.configs).then(
        (info) => success(p, info.topicId),
        (err: Error & { code?: unknown }) => {
          broker.log.warn(`creating topic ${p.name} failed: ${err.message}`);
          // A refusal (partitions in flight over the cap) carries its Kafka code; anything else is a server error.
          return failure(p.name, err instanceof CreationRefused ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, err.message);
        },
      );
      results.push(withTimeout(broker, created, req.timeoutMs, () => failure(p.name, ErrorCode.REQUEST_TIMED_OUT, null)));
    }
    const topics = await Promise.all(results);
    if (version < 7) for (const r of topics) r.topicId = ZERO_UUID;
    return makeCreateTopicsResponse({ throttleTimeMs: 0, topics });
  },
});

/** Resolves with `fallback()` if `p` has not settled after `ms` of the broker's clock. */
function withTimeout<T>(broker: BrokerContext, p: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    const timer = broker.clock.setTimeout(() => { if (!done) { done = true; resolve(fallback()); } }, ms);
    p.then((v) => { if (!done) { done = true; broker.clock.clearTimeout(timer); resolve(v); } });
  });
}
