// CreatePartitions (key 37), v0-3. Follows Kafka's ControllerApis.createPartitions /
// ReplicationControlManager.createPartitions:
// - A topic named twice → INVALID_REQUEST "Duplicate topic name." (once), and it is not grown.
// - Unknown topic → UNKNOWN_TOPIC_OR_PARTITION. Same count → INVALID_PARTITIONS "Topic already has N
//   partition(s)."; lower → "The topic T currently has N partition(s); M would not be an increase."
// - `assignments`: one per new partition, each exactly [this node] (the replication factor is 1), else
//   INVALID_REPLICA_ASSIGNMENT with Kafka's messages.
// - validateOnly: the checks only. Growth in flight counts as done for later requests (Kafka's
//   controller serialises them the same way), so two concurrent "grow to 5" get one INVALID_PARTITIONS.
// - The response waits for the new partitions up to timeoutMs (REQUEST_TIMED_OUT after it; they are
//   still created); timeoutMs <= 0 answers at once with the change under way.
// - More than 10,000 new partitions in one request (over the distinct topics) → POLICY_VIOLATION "Excessively
//   large number of partitions per request." for each of them, checked before anything else (CreateTopics'
//   cap; Kafka's controller has no such check here, only a 10,000-record limit per operation that fails the
//   topic crossing it with UNKNOWN_SERVER_ERROR after placing every replica in memory).
// Left out: authorizers, CreateTopicPolicy, controller mutation quotas.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  CreatePartitionsApi,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreatePartitionsTopic,
  type CreatePartitionsTopicResult,
  makeCreatePartitionsResponse,
  makeCreatePartitionsTopicResult,
} from '../../protocol/generated/create-partitions.ts';
import type { BrokerContext } from '../context.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { CreationRefused, EXCESSIVE_PARTITIONS_MESSAGE, MAX_PARTITIONS_PER_REQUEST } from '../topics.ts';
import { withTimeout } from './delete-topics.ts';

/** Partition counts being created, per broker and topic: later requests see them as already there. */
const growing = new WeakMap<BrokerContext, Map<string, number>>();

class Refusal {
  readonly code: number;
  readonly message: string | null;
  constructor(code: number, message: string | null) { this.code = code; this.message = message; }
}

function validate(broker: BrokerContext, topic: CreatePartitionsTopic, current: number): Refusal | null {
  if (topic.count === current) return new Refusal(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
  if (topic.count < current) {
    return new Refusal(ErrorCode.INVALID_PARTITIONS, `The topic ${topic.name} currently has ${current} partition(s); ${topic.count} would not be an increase.`);
  }
  const additional = topic.count - current;
  if (topic.assignments !== null) {
    if (topic.assignments.length !== additional) {
      return new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${additional} additional partition(s), but only ${topic.assignments.length} assignment(s) were specified.`);
    }
    for (const a of topic.assignments) {
      if (a.brokerIds.length === 0) return new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
      const sorted = [...a.brokerIds].sort((x, y) => x - y);
      for (let i = 0; i < sorted.length; i++) {
        if (sorted[i] !== broker.nodeId) {
          return new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${sorted[i]}, but no such broker is registered.`);
        }
        if (i > 0 && sorted[i] === sorted[i - 1]) {
          return new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${sorted[i]} more than once.`);
        }
      }
      // Every existing partition has one replica (this node).
      if (sorted.length !== 1) {
        return new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have 1 replica(s).`);
      }
    }
  }
  return null;
}

export const handler = defineHandler<CreatePartitionsRequest, CreatePartitionsResponse>({
  api: CreatePartitionsApi,
  // Kafka's CreatePartitionsRequest.getErrorResponse: every requested topic with the error.
  errorResponse: (req, _v, errorCode) => makeCreatePartitionsResponse({
    results: req.topics.map((t) => makeCreatePartitionsTopicResult({ name: t.name, errorCode, errorMessage: null })),
  }),
  handle(ctx, req) {
    const broker = ctx.broker;
    let inFlight = growing.get(broker);
    if (!inFlight) growing.set(broker, inFlight = new Map());
    const results: CreatePartitionsTopicResult[] = [];
    const respond = (name: string, errorCode: number, errorMessage: string | null = null) =>
      results.push(makeCreatePartitionsTopicResult({ name, errorCode, errorMessage }));

    const seen = new Set<string>();
    const dups = new Set<string>();
    const countOf = new Map<string, number>();
    for (const t of req.topics) if (seen.has(t.name)) dups.add(t.name); else { seen.add(t.name); countOf.set(t.name, t.count); }
    for (const name of dups) respond(name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');

    let adding = 0;
    for (const name of seen) {
      if (dups.has(name)) continue;
      const info = broker.topics.get(name);
      if (!info) continue;
      adding += Math.max(0, countOf.get(name)! - Math.max(info.partitions, inFlight.get(name) ?? 0));
    }
    if (adding > MAX_PARTITIONS_PER_REQUEST) {
      for (const name of seen) if (!dups.has(name)) respond(name, ErrorCode.POLICY_VIOLATION, EXCESSIVE_PARTITIONS_MESSAGE);
      return makeCreatePartitionsResponse({ throttleTimeMs: 0, results });
    }

    // Checks and registrations happen before any await, in request order.
    const started: Array<{ name: string; done: Promise<number> }> = [];
    const handled = new Set<string>();
    for (const topic of req.topics) {
      if (dups.has(topic.name) || handled.has(topic.name)) continue;
      handled.add(topic.name);
      const info = broker.topics.get(topic.name);
      // KafkaApis/ControllerApis.createPartitions: ALTER on the topic (checked before existence).
      if (!authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, topic.name)) {
        respond(topic.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
        continue;
      }
      if (!info) {
        respond(topic.name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
        continue;
      }
      const current = Math.max(info.partitions, inFlight.get(topic.name) ?? 0);
      const refusal = validate(broker, topic, current);
      if (refusal) {
        respond(topic.name, refusal.code, refusal.message);
        continue;
      }
      if (req.validateOnly) {
        respond(topic.name, ErrorCode.NONE);
        continue;
      }
      const name = topic.name;
      const target = topic.count;
      const map = inFlight;
      map.set(name, target);
      const done = broker.addPartitions(name, target).then(() => {
        broker.log.info(`topic ${name} grown to ${target} partition(s)`);
        return ErrorCode.NONE;
      }, (e: unknown) => {
        broker.log.warn(`growing topic ${name} to ${target} partitions: ${(e as Error).message}`);
        if (e instanceof CreationRefused) return e.code;
        const code = (e as { code?: unknown }).code;
        return typeof code === 'number' ? code : ErrorCode.UNKNOWN_SERVER_ERROR;
      }).finally(() => { if (map.get(name) === target) map.delete(name); });
      started.push({ name, done });
    }

    const finish = () => makeCreatePartitionsResponse({ throttleTimeMs: 0, results });
    if (started.length === 0) return finish();
    if (req.timeoutMs <= 0) {
      for (const s of started) respond(s.name, ErrorCode.NONE);
      return finish();
    }
    return (async () => {
      const codes = await Promise.all(started.map((s) => withTimeout(broker, s.done, req.timeoutMs, () => ErrorCode.REQUEST_TIMED_OUT)));
      started.forEach((s, i) => {
        const code = codes[i];
        respond(s.name, code, code === ErrorCode.NONE ? null
          : code === ErrorCode.REQUEST_TIMED_OUT ? `Adding partitions to ${s.name} did not complete within ${req.timeoutMs} ms; it continues in the background.`
          : code === ErrorCode.POLICY_VIOLATION ? EXCESSIVE_PARTITIONS_MESSAGE
          : `Adding partitions to ${s.name} failed.`);
      });
      return finish();
    })();
  },
});
