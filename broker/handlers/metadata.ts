// Metadata (key 3). A single node leads every partition: leader = replicas = ISR = this node.
// Auto-creation follows Kafka's AutoTopicCreationManager: the topic is created and this response
// answers LEADER_NOT_AVAILABLE for it; the next Metadata request sees it (kafkajs retries only that code).
// Left out: authorizers (authorized-operation fields report "everything allowed", as Kafka does without one).
import {
  MetadataApi,
  type MetadataRequest,
  type MetadataResponse,
  makeMetadataResponse,
} from '../../protocol/generated/metadata.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { BrokerContext } from '../context.ts';
import { defineHandler } from '../handler.ts';
import { invalidTopicNameReason, isInternalTopic, type TopicInfo, ZERO_UUID } from '../topics.ts';

// Bitfields of AclOperation codes allowed on a resource when no authorizer is configured.
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((a, op) => a | (1 << op), 0); // READ…ALTER_CONFIGS
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((a, op) => a | (1 << op), 0); // CREATE…IDEMPOTENT_WRITE
const OMITTED_OPERATIONS = -2147483648;

type ResponseTopic = MetadataResponse['topics'][number];

function topicEntry(broker: BrokerContext, t: TopicInfo, includeOps: boolean): ResponseTopic {
  const partitions = [];
  for (let p = 0; p < t.partitions; p++) {
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: broker.nodeId,
      leaderEpoch: 0,
      replicaNodes: [broker.nodeId],
      isrNodes: [broker.nodeId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.internal,
    partitions,
    topicAuthorizedOperations: includeOps ? TOPIC_OPERATIONS : OMITTED_OPERATIONS,
  };
}

function errorEntry(errorCode: number, name: string | null, topicId = ZERO_UUID, isInternal = false): ResponseTopic {
  return { errorCode, name, topicId, isInternal, partitions: [], topicAuthorizedOperations: OMITTED_OPERATIONS };
}

export const handler = defineHandler<MetadataRequest, MetadataResponse>({
  api: MetadataApi,
  minVersion: 0,
  maxVersion: 13,
  handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const addr = broker.advertisedAddress(ctx.listenerName);
    if (!addr) throw new Error(`no advertised address for listener ${ctx.listenerName}`);
    const includeTopicOps = version >= 8 && req.includeTopicAuthorizedOperations;
    // v0: an empty list means all topics; v1+: null means all and empty means none.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    // v0-v3 always auto-create; v4+ asks explicitly.
    const mayCreate = broker.config.bool('auto.create.topics.enable') && (version < 4 || req.allowAutoTopicCreation);

    const topics: ResponseTopic[] = [];
    if (all) {
      for (const t of broker.topics.all()) topics.push(topicEntry(broker, t, includeTopicOps));
    } else {
      for (const rt of req.topics!) {
        if (rt.name === null || rt.name === '') {
          // Lookup by id (v10+; librdkafka's KIP-848 consumer sends ids only from v12).
          const t = rt.topicId !== ZERO_UUID ? broker.topics.getById(rt.topicId) : undefined;
          topics.push(t ? topicEntry(broker, t, includeTopicOps) : errorEntry(ErrorCode.UNKNOWN_TOPIC_ID, null, rt.topicId));
          continue;
        }
        const existing = broker.topics.get(rt.name);
        if (existing) {
          topics.push(topicEntry(broker, existing, includeTopicOps));
        } else if (invalidTopicNameReason(rt.name) !== null) {
          topics.push(errorEntry(ErrorCode.INVALID_TOPIC_EXCEPTION, rt.name));
        } else if (broker.isCreating(rt.name)) {
          topics.push(errorEntry(ErrorCode.LEADER_NOT_AVAILABLE, rt.name));
        } else if (mayCreate && !isInternalTopic(rt.name) && broker.topics.collidingWith(rt.name) === undefined) {
          // Created in the background; clients retry on LEADER_NOT_AVAILABLE and see it next time.
          broker.createTopic(rt.name, broker.config.int('num.partitions')).catch((err: Error) =>
            broker.log.warn(`auto-creating topic ${rt.name} failed: ${err.message}`));
          topics.push(errorEntry(ErrorCode.LEADER_NOT_AVAILABLE, rt.name));
        } else {
          topics.push(errorEntry(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, rt.name));
        }
      }
    }

    return makeMetadataResponse({
      throttleTimeMs: 0,
      brokers: [{ nodeId: broker.nodeId, host: addr.host, port: addr.port, rack: broker.rack }],
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      topics,
      clusterAuthorizedOperations: version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : OMITTED_OPERATIONS,
      errorCode: ErrorCode.NONE,
    });
  },
});
