// DeleteTopics (key 20), v1-6. Follows Kafka's ControllerApis.deleteTopics / ReplicationControlManager:
// - v1-5 name topics in `topicNames`; v6 in `topics` by name or by id (not both: INVALID_REQUEST).
// - A name or id given twice → INVALID_REQUEST "Duplicate topic name." / "Duplicate topic id.", and that
//   topic is not deleted; a name that maps to an id also given → INVALID_REQUEST for the name.
// - Unknown name (invalid names included: they cannot exist) → UNKNOWN_TOPIC_OR_PARTITION; unknown id →
//   UNKNOWN_TOPIC_ID. Internal topics are deleted like any other, as Kafka's broker does (only the
//   kafka-topics tool refuses them, client-side).
// - The topic leaves the registry before the first await (Metadata stops listing it, appends stop);
//   its partition directories are renamed to *-delete and removed by storage. The response waits for
//   that up to timeoutMs (REQUEST_TIMED_OUT after it; deletion still completes); timeoutMs <= 0 answers
//   at once with the deletion under way, as Kafka's ZooKeeper-era broker did.
// Left out: authorizers, delete.topic.enable (always enabled, Kafka's default), controller mutation quotas.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DeleteTopicsApi,
  type DeletableTopicResult,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  makeDeletableTopicResult,
  makeDeleteTopicsResponse,
} from '../../protocol/generated/delete-topics.ts';
import type { BrokerContext } from '../context.ts';
import { kafkaErrorCode } from '../errors.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { ZERO_UUID } from '../topics.ts';

/** Maps a failure of a broker/storage operation to a Kafka error code. */
function errorCodeOf(e: unknown): number {
  return kafkaErrorCode(e) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** Resolves with `fallback` if `p` has not settled after `ms` milliseconds of the broker's clock. */
export function withTimeout<T>(broker: BrokerContext, p: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    const timer = broker.clock.setTimeout(() => { if (!done) { done = true; resolve(fallback()); } }, ms);
    p.then((v) => { if (!done) { done = true; broker.clock.clearTimeout(timer); resolve(v); } });
  });
}

export const handler = defineHandler<DeleteTopicsRequest, DeleteTopicsResponse>({
  api: DeleteTopicsApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const results: DeletableTopicResult[] = [];
    const respond = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null = null) =>
      results.push(makeDeletableTopicResult({ name, topicId, errorCode, errorMessage }));

    // delete.topic.enable=false: every topic fails, as in Kafka's ControllerApis (v0-2 cannot say why).
    if (!broker.config.bool('delete.topic.enable')) {
      const code = ctx.apiVersion < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED;
      const msg = ctx.apiVersion < 3 ? 'This version of DeleteTopics does not support disabling topic deletion' : 'Topic deletion is disabled.';
      for (const name of req.topicNames) respond(name, ZERO_UUID, code, msg);
      for (const t of req.topics) respond(t.name, t.topicId, code, msg);
      return makeDeleteTopicsResponse({ throttleTimeMs: 0, responses: results });
    }

    // Names and ids as given, with duplicates set aside (Kafka's order of checks).
    const names = new Set<string>();
    const dupNames = new Set<string>();
    const ids = new Set<string>();
    const dupIds = new Set<string>();
    const addName = (name: string) => {
      if (dupNames.has(name) || names.has(name)) { dupNames.add(name); names.delete(name); } else names.add(name);
    };
    for (const name of req.topicNames) addName(name);
    for (const t of req.topics) {
      if (t.name === null) {
        if (t.topicId === ZERO_UUID) respond(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.');
        else if (dupIds.has(t.topicId) || ids.has(t.topicId)) { dupIds.add(t.topicId); ids.delete(t.topicId); } else ids.add(t.topicId);
      } else if (t.topicId === ZERO_UUID) {
        addName(t.name);
      } else {
        respond(t.name, t.topicId, ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
      }
    }
    for (const name of dupNames) respond(name, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
    for (const id of dupIds) respond(null, id, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.');

    const idToName = new Map<string, string>();
    for (const id of ids) {
      const t = broker.topics.getById(id);
      // KafkaApis/ControllerApis: an id the principal may not describe is unknown; DELETE is needed on the topic.
      if (t && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) respond(null, id, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
      else if (t && !authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, t.name)) respond(null, id, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
      else if (t) idToName.set(id, t.name);
      else respond(null, id, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
    }
    for (const name of names) {
      const t = broker.topics.get(name);
      if (!authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)) {
        respond(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
      } else if (!t) {
        respond(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
      } else if (dupIds.has(t.topicId) || idToName.has(t.topicId)) {
        // As Kafka: the name is refused and the id it maps to is not deleted either.
        dupIds.add(t.topicId);
        idToName.delete(t.topicId);
        respond(name, t.topicId, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.');
      } else {
        idToName.set(t.topicId, name);
      }
    }

    // Before any await: every deletion leaves the registry now, in request order.
    const deletions = [...idToName].map(([id, name]) => ({
      id, name,
      done: broker.deleteTopic(name).then(() => ErrorCode.NONE, (e: unknown) => {
        broker.log.warn(`deleting topic ${name}: ${(e as Error).message}`);
        return errorCodeOf(e);
      }),
    }));
    const finish = () => makeDeleteTopicsResponse({ throttleTimeMs: 0, responses: results });
    if (deletions.length === 0) return finish();
    if (req.timeoutMs <= 0) {
      for (const d of deletions) respond(d.name, d.id, ErrorCode.NONE);
      return finish();
    }
    return (async () => {
      const codes = await Promise.all(deletions.map((d) => withTimeout(broker, d.done, req.timeoutMs, () => ErrorCode.REQUEST_TIMED_OUT)));
      deletions.forEach((d, i) => {
        const code = codes[i];
        const message = code === ErrorCode.NONE ? null
          : code === ErrorCode.REQUEST_TIMED_OUT ? `Deletion of topic ${d.name} did not complete within ${req.timeoutMs} ms; it continues in the background.`
          : `Deleting topic ${d.name} failed.`;
        respond(d.name, d.id, code, message);
      });
      return finish();
    })();
  },
});
