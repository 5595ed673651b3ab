// ListPartitionReassignments (key 46), v0 (`kafka-reassign-partitions.sh --verify/--list`). One node: no
// reassignment is ever in progress (AlterPartitionReassignments completes at once), so the answer is always an
// empty list; unknown topics and partitions are left out silently, as Kafka does. No authorizer.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  ListPartitionReassignmentsApi,
  type ListPartitionReassignmentsRequest,
  type ListPartitionReassignmentsResponse,
  makeListPartitionReassignmentsResponse,
} from '../../protocol/generated/list-partition-reassignments.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>({
  api: ListPartitionReassignmentsApi,
  handle(ctx) {
    // ControllerApis.handleListPartitionReassignments: DESCRIBE on the cluster.
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return makeListPartitionReassignmentsResponse({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics: [] });
    }
    return makeListPartitionReassignmentsResponse({ errorCode: ErrorCode.NONE, errorMessage: null, topics: [] });
  },
});
