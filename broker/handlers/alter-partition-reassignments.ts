// AlterPartitionReassignments (key 45), v0-1 (`kafka-reassign-partitions.sh --execute/--cancel`). One node: the
// only valid assignment of a partition is [this node], which it already has, so a valid request completes at
// once with nothing to move. Checks and messages as Kafka 4.4's ReplicationControlManager (checked against a 4.4
// broker): unknown topic → UNKNOWN_TOPIC_OR_PARTITION "Unable to find a topic named T."; unknown partition →
// "Unable to find partition T:P."; null replicas (cancel) → NO_REASSIGNMENT_IN_PROGRESS; an empty list →
// INVALID_REPLICA_ASSIGNMENT "… includes an empty replica list."; then, over the sorted replicas, an unregistered
// broker → "… includes broker B, but no such broker is registered." and a repeated one → "… includes the broker B
// more than once.". A replication factor change (v1 allowReplicationFactorChange=false) cannot pass these on one
// node. No authorizer; timeoutMs has nothing to wait for.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  AlterPartitionReassignmentsApi,
  type AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsResponse,
  makeAlterPartitionReassignmentsResponse,
} from '../../protocol/generated/alter-partition-reassignments.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

const PREFIX = 'The manual partition assignment includes';

function assignmentError(replicas: readonly number[], nodeId: number): string | null {
  if (replicas.length === 0) return `${PREFIX} an empty replica list.`;
  let prev: number | null = null;
  for (const b of [...replicas].sort((x, y) => x - y)) {
    if (b !== nodeId) return `${PREFIX} broker ${b}, but no such broker is registered.`;
    if (b === prev) return `${PREFIX} the broker ${b} more than once.`;
    prev = b;
  }
  return null;
}

export const handler = defineHandler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>({
  api: AlterPartitionReassignmentsApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    // ControllerApis.handleAlterPartitionReassignments: ALTER on the cluster.
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return { throttleTimeMs: 0, allowReplicationFactorChange: true, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
    }
    const responses = req.topics.map((rt) => {
      const t = broker.topics.get(rt.name);
      return {
        name: rt.name,
        partitions: rt.partitions.map((p) => {
          const answer = (errorCode: number, errorMessage: string | null = null) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage });
          if (!t) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find a topic named ${rt.name}.`);
          if (p.partitionIndex < 0 || p.partitionIndex >= t.partitions) {
            return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find partition ${rt.name}:${p.partitionIndex}.`);
          }
          if (p.replicas === null) return answer(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
          const why = assignmentError(p.replicas, broker.nodeId);
          return why === null ? answer(ErrorCode.NONE) : answer(ErrorCode.INVALID_REPLICA_ASSIGNMENT, why);
        }),
      };
    });
    return makeAlterPartitionReassignmentsResponse({
      allowReplicationFactorChange: req.allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      // Kafka 4.4 answers an empty request with an empty message rather than null.
      errorMessage: req.topics.length === 0 ? '' : null,
      responses,
    });
  },
});
