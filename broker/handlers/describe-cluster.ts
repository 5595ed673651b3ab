// DescribeCluster (key 60), v0-2. Follows Kafka's KafkaApis.handleDescribeCluster (a broker):
// - brokers: the registered, unfenced brokers of the metadata image (../cluster-view.ts) with their address
//   on the listener the request came in on and their rack; controllerId: the active controller (this node alone;
//   several nodes: the active controller's id — gregor answers NOT_CONTROLLER instead of forwarding).
// - endpointType (v1+): 1 (brokers) is served; 2 (controllers) → MISMATCHED_ENDPOINT_TYPE, any other →
//   UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST at v0, where the field cannot be set), with Kafka's messages.
// - clusterAuthorizedOperations: every cluster operation when asked (Kafka without an authorizer),
//   −2147483648 otherwise.
// - includeFencedBrokers (v2): fenced brokers too, with isFenced.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DescribeClusterApi,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
  makeDescribeClusterBroker,
  makeDescribeClusterResponse,
} from '../../protocol/generated/describe-cluster.ts';
import { AclOperation, authorize, authorizedOperations, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { clusterBrokers, controllerIdFor } from '../cluster-view.ts';

// AclOperation codes Kafka supports on the CLUSTER resource: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION,
// DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((a, op) => a | (1 << op), 0);
const OMITTED_OPERATIONS = -2147483648;
const ENDPOINT_NAMES: Record<number, string> = { 1: 'BROKER', 2: 'CONTROLLER' };

export const handler = defineHandler<DescribeClusterRequest, DescribeClusterResponse>({
  api: DescribeClusterApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const requested = ENDPOINT_NAMES[req.endpointType];
    if (requested === undefined) {
      return makeDescribeClusterResponse({
        errorCode: ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `Unsupported endpoint type ${req.endpointType}`,
      });
    }
    if (requested !== 'BROKER') {
      return makeDescribeClusterResponse({
        errorCode: ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
        errorMessage: `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${requested}`,
      });
    }
    const brokers = clusterBrokers(broker, ctx.listenerName, ctx.apiVersion >= 2 && req.includeFencedBrokers);
    return makeDescribeClusterResponse({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: 1,
      clusterId: broker.clusterId,
      controllerId: controllerIdFor(broker),
      brokers: brokers.map((b) => makeDescribeClusterBroker({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack, isFenced: b.fenced })),
      // KafkaApis.handleDescribeCluster: computed only for a principal with DESCRIBE on the cluster.
      clusterAuthorizedOperations: !req.includeClusterAuthorizedOperations ? OMITTED_OPERATIONS
        : broker.authorizer === null ? CLUSTER_OPERATIONS
        : authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME) ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME) : OMITTED_OPERATIONS,
    });
  },
});
