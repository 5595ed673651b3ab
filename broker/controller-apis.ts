// The controller listener's own APIs besides the Raft messages (Kafka's ControllerApis): DescribeQuorum and
// DescribeCluster for controller endpoints (KIP-919: what `--bootstrap-controller` tools ask first).
//
// DescribeQuorum (key 55, v0–v2), served on the controller listener only (Kafka's ControllerApis), from the Raft
// core's leader state (Kafka's KafkaRaftClient.handleDescribeQuorumRequest):
// - the one partition __cluster_metadata-0 is described; another topic or partition → UNKNOWN_TOPIC_OR_PARTITION
//   for it, as Kafka; a non-leader answers NOT_LEADER_OR_FOLLOWER in the partition, so tools go to the leader.
// - v2 `nodes` (the voters' controller listeners) and replica directory ids: gregor has no dynamic voters
//   (KIP-853); directory ids are the zero UUID and `nodes` lists each voter's controller.quorum.voters address
//   under the first controller.listener.names name.
// - observers: none are tracked (brokers that are not voters do not exist in combined mode).
import {
  DescribeQuorumApi, type DescribeQuorumRequest, type DescribeQuorumResponse, makeDescribeQuorumResponse,
} from '../protocol/generated/describe-quorum.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import type { RaftClient } from '../controller/raft/raft-client.ts';
import { METADATA_TOPIC, ZERO_UUID, type VoterEndpoint } from '../controller/raft/types.ts';
import type { Handler } from './handler.ts';
import {
  DescribeClusterApi, type DescribeClusterRequest, type DescribeClusterResponse, makeDescribeClusterBroker, makeDescribeClusterResponse,
} from '../protocol/generated/describe-cluster.ts';

/**
 * DescribeCluster (key 60) v1–v2 on the controller listener (Kafka's ControllerApis.handleDescribeCluster):
 * endpointType 2 (controllers) lists the voters at their controller.quorum.voters addresses and the active
 * controller's id (-1 during an election); endpointType 1 (brokers) → MISMATCHED_ENDPOINT_TYPE with Kafka's message.
 */
export function describeClusterControllerHandler(raft: () => RaftClient | null, voters: readonly VoterEndpoint[]): Handler<DescribeClusterRequest, DescribeClusterResponse> {
  return {
    api: DescribeClusterApi, minVersion: 1, maxVersion: 2,
    handle(ctx, req) {
      if (req.endpointType !== 2) {
        const known = req.endpointType === 1;
        return makeDescribeClusterResponse({
          errorCode: known ? ErrorCode.MISMATCHED_ENDPOINT_TYPE : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
          errorMessage: known ? 'The request was sent to an endpoint of type CONTROLLER, but we wanted an endpoint of type BROKER' : `Unsupported endpoint type ${req.endpointType}`,
        });
      }
      return makeDescribeClusterResponse({
        throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, endpointType: 2, clusterId: ctx.broker.clusterId,
        controllerId: raft()?.leaderAndEpoch().leaderId ?? -1,
        brokers: voters.map((v) => makeDescribeClusterBroker({ brokerId: v.id, host: v.host, port: v.port, rack: null, isFenced: false })),
        clusterAuthorizedOperations: -2147483648,
      });
    },
  };
}

export function describeQuorumHandler(raft: () => RaftClient | null, voters: readonly VoterEndpoint[], listenerName: string): Handler<DescribeQuorumRequest, DescribeQuorumResponse> {
  return {
    api: DescribeQuorumApi, minVersion: 0, maxVersion: 2,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const core = raft();
      const view = core?.describeQuorum() ?? null;
      const topics = req.topics.map((t) => ({
        topicName: t.topicName,
        partitions: t.partitions.map((p) => {
          const base = { partitionIndex: p.partitionIndex, errorMessage: null, leaderId: -1, leaderEpoch: -1, highWatermark: -1n, currentVoters: [], observers: [] };
          if (t.topicName !== METADATA_TOPIC || p.partitionIndex !== 0) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          if (view === null) {
            const l = core?.leaderAndEpoch();
            return { ...base, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, leaderId: l?.leaderId ?? -1, leaderEpoch: l?.epoch ?? -1 };
          }
          return {
            ...base, errorCode: ErrorCode.NONE, leaderId: view.leaderId, leaderEpoch: view.epoch, highWatermark: BigInt(view.highWatermark),
            currentVoters: view.voters.map((r) => ({
              replicaId: r.replicaId, replicaDirectoryId: ZERO_UUID, logEndOffset: BigInt(r.logEndOffset),
              lastFetchTimestamp: v >= 1 ? BigInt(r.lastFetchTimestamp) : -1n, lastCaughtUpTimestamp: v >= 1 ? BigInt(r.lastCaughtUpTimestamp) : -1n,
            })),
          };
        }),
      }));
      return makeDescribeQuorumResponse({
        errorCode: ErrorCode.NONE, errorMessage: null, topics,
        nodes: v >= 2 ? voters.map((e) => ({ nodeId: e.id, listeners: [{ name: listenerName, host: e.host, port: e.port }] })) : [],
      });
    },
  };
}
