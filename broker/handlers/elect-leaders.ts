// ElectLeaders (key 43), v0-2 (`kafka-leader-election.sh`). One node: every partition is led by its only (and so
// preferred) replica, so no election is ever needed. As Kafka 4.4 answers (checked against a 4.4 broker):
// - each named partition: ELECTION_NOT_NEEDED "Leader election not needed for topic partition." (preferred and
//   unclean alike); unknown topic → UNKNOWN_TOPIC_OR_PARTITION "No such topic as T"; unknown partition → "No such
//   partition as T-P".
// - null partitions (all): one entry per topic with no partition results (Kafka leaves out the partitions whose
//   election was not needed).
// - an election type other than 0/1 (v1+) → INVALID_REQUEST at the top and for each named partition,
//   "Unknown election type N".
// No authorizer (Kafka requires ALTER on the cluster); timeoutMs has nothing to wait for.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  ElectLeadersApi,
  type ElectLeadersRequest,
  type ElectLeadersResponse,
  makeElectLeadersResponse,
} from '../../protocol/generated/elect-leaders.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

const PREFERRED = 0;
const UNCLEAN = 1;

export const handler = defineHandler<ElectLeadersRequest, ElectLeadersResponse>({
  api: ElectLeadersApi,
  handle(ctx, req) {
    const topics = ctx.broker.topics;
    const type = ctx.apiVersion === 0 ? PREFERRED : req.electionType;
    const badType = type !== PREFERRED && type !== UNCLEAN;
    // KafkaApis.handleElectLeaders: ALTER on the cluster.
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return makeElectLeadersResponse({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: [] });
    }
    const errorCode = badType ? ErrorCode.INVALID_REQUEST : ErrorCode.NONE;
    if (req.topicPartitions === null) {
      const all = badType ? [] : [...topics.all()].map((t) => ({ topic: t.name, partitionResult: [] }));
      return makeElectLeadersResponse({ errorCode, replicaElectionResults: all });
    }
    const replicaElectionResults = req.topicPartitions.map((tp) => {
      const t = topics.get(tp.topic);
      return {
        topic: tp.topic,
        partitionResult: tp.partitions.map((p) => {
          if (badType) return { partitionId: p, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown election type ${type}` };
          if (!t) return { partitionId: p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${tp.topic}` };
          if (p < 0 || p >= t.partitions) return { partitionId: p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${tp.topic}-${p}` };
          return { partitionId: p, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
        }),
      };
    });
    return makeElectLeadersResponse({ errorCode, replicaElectionResults });
  },
});
