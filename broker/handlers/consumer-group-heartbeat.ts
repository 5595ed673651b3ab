// ConsumerGroupHeartbeat (key 68), v0-1: the KIP-848 consumer protocol (`group.protocol=consumer`).
// One request joins (epoch 0), heartbeats, acknowledges revocations (owned partitions) and leaves
// (epoch −1; −2 static leave); the answer carries the member epoch and, when it changed or the request
// was a full one, the member's assignment by topic id. State machine: broker/groups/consumer/group.ts.
// v0 lets the coordinator generate the member id; v1 (librdkafka's only version) requires the client's
// and adds the topic regex. A group id held by a classic group with members → GROUP_ID_NOT_FOUND.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  ConsumerGroupHeartbeatApi,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  makeAssignment,
  makeConsumerGroupHeartbeatResponse,
  makeConsumerGroupHeartbeatResponseTopicPartitions,
} from '../../protocol/generated/consumer-group-heartbeat.ts';
import type { BrokerContext } from '../context.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import type { ConsumerGroupManager } from '../groups/consumer/group.ts';
import { consumerGroupConfig } from '../groups/index.ts';
import { appendErrorCode } from '../groups/coordinator.ts';

/** The broker's consumer-group manager, created with Kafka's `group.consumer.*` configs on first use. */
export function consumerGroupsOf(broker: BrokerContext): ConsumerGroupManager {
  return broker.groups.consumerGroups(broker.topics, consumerGroupConfig(broker.config));
}

export const handler = defineHandler<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse>({
  api: ConsumerGroupHeartbeatApi,
  async handle(ctx, req) {
    // KafkaApis.handleConsumerGroupHeartbeat: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
      return makeConsumerGroupHeartbeatResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null });
    }
    const mgr = consumerGroupsOf(ctx.broker);
    // A classic group of this id: upgraded if `group.consumer.migration.policy` allows, else refused.
    const claim = req.groupId === '' ? ErrorCode.NONE : ctx.broker.groups.claimForConsumerGroup(req.groupId, req.memberEpoch);
    if (claim !== ErrorCode.NONE) {
      return makeConsumerGroupHeartbeatResponse({ errorCode: claim, errorMessage: `Group ${req.groupId} is not a consumer group.` });
    }
    const r = mgr.heartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames,
      subscribedTopicRegex: ctx.apiVersion >= 1 ? req.subscribedTopicRegex : null,
      serverAssignor: req.serverAssignor,
      topicPartitions: req.topicPartitions?.map((tp) => ({ topicId: tp.topicId, partitions: tp.partitions })) ?? null,
      clientId: ctx.clientId,
      clientHost: ctx.clientHost,
      apiVersion: ctx.apiVersion,
    });
    // Answered once the group's records are in __consumer_offsets, as Kafka does.
    const failed = await mgr.written(req.groupId).then(() => null, appendErrorCode);
    if (failed !== null && r.errorCode === ErrorCode.NONE) {
      return makeConsumerGroupHeartbeatResponse({ errorCode: failed, errorMessage: null });
    }
    return makeConsumerGroupHeartbeatResponse({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      memberId: r.memberId,
      memberEpoch: r.memberEpoch,
      heartbeatIntervalMs: r.heartbeatIntervalMs,
      assignment: r.assignment === null ? null : makeAssignment({
        topicPartitions: r.assignment.map((tp) => makeConsumerGroupHeartbeatResponseTopicPartitions({ topicId: tp.topicId, partitions: tp.partitions })),
      }),
    });
  },
});
