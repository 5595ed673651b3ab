// Metadata (key 3). A single node leads every partition: leader = replicas = ISR = this node. Several nodes
// (combined mode): brokers, controller id and partition leaders from the metadata image (cluster-view.ts).
// Auto-creation follows Kafka's AutoTopicCreationManager: the topic is created and this response
// answers LEADER_NOT_AVAILABLE for it; the next Metadata request sees it (kafkajs retries only that code).
// Auto-creation obeys CreateTopics' cap: when the topics one request would auto-create hold more than 10,000
// partitions, none is created (Kafka's controller refuses the whole batch its AutoTopicCreationManager sends)
// and they are answered LEADER_NOT_AVAILABLE, as Kafka answers before it learns of the refusal.
// Kafka's request checks: v10–11 with a null name or a topic id → INVALID_REQUEST for every topic (Kafka's
// getErrorResponse); an empty name → INVALID_TOPIC_EXCEPTION (null-named v12+ entries are lookups by id).
// With an authorizer (KafkaApis.handleTopicMetadataRequest): all-topics requests list only topics the principal
// may DESCRIBE; a named topic it may not describe answers TOPIC_AUTHORIZATION_FAILED (an id: UNKNOWN_TOPIC_ID);
// auto-creation needs CREATE on the cluster or the topic (else TOPIC_AUTHORIZATION_FAILED); authorized-operation
// fields are computed. Without one they report "everything allowed", as Kafka does.
import {
  MetadataApi,
  type MetadataRequest,
  type MetadataResponse,
  makeMetadataResponse,
} from '../../protocol/generated/metadata.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';
import { clusterBrokers, controllerIdFor, partitionPlacement } from '../cluster-view.ts';
import { AclOperation, authorize, authorizedOperations, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import type { RequestContext } from '../handler.ts';
import { invalidTopicNameReason, isInternalTopic, MAX_PARTITIONS_PER_REQUEST, type TopicInfo, ZERO_UUID } from '../topics.ts';

// Bitfields of AclOperation codes allowed on a resource when no authorizer is configured.
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((a, op) => a | (1 << op), 0); // READ…ALTER_CONFIGS
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((a, op) => a | (1 << op), 0); // CREATE…IDEMPOTENT_WRITE
const OMITTED_OPERATIONS = -2147483648;

type ResponseTopic = MetadataResponse['topics'][number];

function topicEntry(ctx: RequestContext, t: TopicInfo, includeOps: boolean): ResponseTopic {
  const broker = ctx.broker;
  const partitions = [];
  for (let p = 0; p < t.partitions; p++) {
    const placed = partitionPlacement(broker, t.topicId, p);
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: placed.leader,
      leaderEpoch: broker.partitions.get(t.name, p)?.leaderEpoch ?? 0,
      replicaNodes: placed.replicas,
      isrNodes: placed.isr,
      offlineReplicas: [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.internal,
    partitions,
    topicAuthorizedOperations: !includeOps ? OMITTED_OPERATIONS
      : broker.authorizer === null ? TOPIC_OPERATIONS : authorizedOperations(ctx, ResourceType.TOPIC, t.name),
  };
}

function errorEntry(errorCode: number, name: string | null, topicId = ZERO_UUID, isInternal = false): ResponseTopic {
  return { errorCode, name, topicId, isInternal, partitions: [], topicAuthorizedOperations: OMITTED_OPERATIONS };
}

/** Kafka's MetadataRequest.getErrorResponse: every requested topic with the error, no brokers. */
export function errorResponse(req: MetadataRequest, _version: number, errorCode: number): MetadataResponse {
  return makeMetadataResponse({
    topics: (req.topics ?? []).map((t) => ({ ...errorEntry(errorCode, t.name ?? '', t.topicId), topicAuthorizedOperations: OMITTED_OPERATIONS })),
  });
}

export const handler = defineHandler<MetadataRequest, MetadataResponse>({
  api: MetadataApi,
  errorResponse,
  handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const includeTopicOps = version >= 8 && req.includeTopicAuthorizedOperations;
    // v0: an empty list means all topics; v1+: null means all and empty means none.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    // v0-v3 always auto-create; v4+ asks explicitly.
    const mayCreate = broker.config.bool('auto.create.topics.enable') && (version < 4 || req.allowAutoTopicCreation);

    // Kafka's KafkaApis check: names cannot be null, nor ids set, before v12.
    if (!all && version >= 10 && version < 12 && req.topics!.some((t) => t.name === null || t.topicId !== ZERO_UUID)) {
      return errorResponse(req, version, ErrorCode.INVALID_REQUEST);
    }

    const secured = broker.authorizer !== null;
    const describable = (name: string): boolean => !secured || authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
    const mayCreateTopic = (name: string): boolean => !secured || authorize(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME) ||
      authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name);
    const topics: ResponseTopic[] = [];
    const toCreate = new Set<string>();
    if (all) {
      for (const t of broker.topics.all()) if (describable(t.name)) topics.push(topicEntry(ctx, t, includeTopicOps));
    } else {
      for (const rt of req.topics!) {
        if (rt.name === null || (rt.name === '' && version >= 12 && rt.topicId !== ZERO_UUID)) {
          // Lookup by id (v10+; librdkafka's KIP-848 consumer sends ids only from v12).
          const t = rt.topicId !== ZERO_UUID ? broker.topics.getById(rt.topicId) : undefined;
          topics.push(t && describable(t.name) ? topicEntry(ctx, t, includeTopicOps) : errorEntry(ErrorCode.UNKNOWN_TOPIC_ID, null, rt.topicId));
          continue;
        }
        const existing = broker.topics.get(rt.name);
        if (!describable(rt.name)) {
          topics.push(errorEntry(ErrorCode.TOPIC_AUTHORIZATION_FAILED, rt.name, ZERO_UUID, isInternalTopic(rt.name)));
        } else if (existing) {
          topics.push(topicEntry(ctx, existing, includeTopicOps));
        } else if (invalidTopicNameReason(rt.name) !== null) {
          topics.push(errorEntry(ErrorCode.INVALID_TOPIC_EXCEPTION, rt.name));
        } else if (broker.isCreating(rt.name)) {
          topics.push(errorEntry(ErrorCode.LEADER_NOT_AVAILABLE, rt.name));
        } else if (mayCreate && !isInternalTopic(rt.name) && !mayCreateTopic(rt.name)) {
          topics.push(errorEntry(ErrorCode.TOPIC_AUTHORIZATION_FAILED, rt.name));
        } else if (mayCreate && !isInternalTopic(rt.name) && broker.topics.collidingWith(rt.name) === undefined) {
          // Created below, in the background; clients retry on LEADER_NOT_AVAILABLE and see it next time.
          toCreate.add(rt.name);
          topics.push(errorEntry(ErrorCode.LEADER_NOT_AVAILABLE, rt.name));
        } else {
          topics.push(errorEntry(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, rt.name));
        }
      }
    }

    const perTopic = broker.config.int('num.partitions');
    if (toCreate.size * perTopic > MAX_PARTITIONS_PER_REQUEST) {
      broker.log.warn(`not auto-creating ${toCreate.size} topic(s) of ${perTopic} partition(s) each: more than ${MAX_PARTITIONS_PER_REQUEST} partitions in one request`);
    } else {
      for (const name of toCreate) {
        broker.createTopic(name, perTopic).catch((err: Error) => broker.log.warn(`auto-creating topic ${name} failed: ${err.message}`));
      }
    }

    return makeMetadataResponse({
      throttleTimeMs: 0,
      brokers: clusterBrokers(broker, ctx.listenerName).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: broker.clusterId,
      controllerId: controllerIdFor(broker),
      topics,
      clusterAuthorizedOperations: !(version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations) ? OMITTED_OPERATIONS
        : secured ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME) : CLUSTER_OPERATIONS,
      errorCode: ErrorCode.NONE,
    });
  },
});
