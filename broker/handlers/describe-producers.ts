// DescribeProducers (key 61), v0: the active producers of each partition from its producer state (Kafka's
// ReplicaManager.activeProducerState): epoch, last sequence, last timestamp, coordinator epoch of the last
// marker, and the first offset of the producer's open transaction (-1: none). Unknown topic or partition →
// UNKNOWN_TOPIC_OR_PARTITION. (One node: this broker leads every partition, so NOT_LEADER never.)
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DescribeProducersApi,
  type DescribeProducersRequest,
  type DescribeProducersResponse,
  makeDescribeProducersResponse,
  makePartitionResponse,
  makeProducerState,
  makeTopicResponse,
} from '../../protocol/generated/describe-producers.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<DescribeProducersRequest, DescribeProducersResponse>({
  api: DescribeProducersApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    return makeDescribeProducersResponse({
      topics: req.topics.map((t) => makeTopicResponse({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          // KafkaApis.handleDescribeProducersRequest: READ on the topic.
          if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name)) return makePartitionResponse({ partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
          const partition = broker.topics.get(t.name) ? broker.partitions.get(t.name, partitionIndex) : undefined;
          if (!partition) return makePartitionResponse({ partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null });
          const st = partition.producerState;
          const activeProducers = [...st.entries()].map(([producerId, e]) => makeProducerState({
            producerId, producerEpoch: e.epoch,
            lastSequence: e.batches.length > 0 ? e.batches[e.batches.length - 1]!.lastSeq : -1,
            lastTimestamp: BigInt(e.lastTimestamp), coordinatorEpoch: e.coordinatorEpoch ?? -1,
            currentTxnStartOffset: BigInt(st.txnFirstOffset(producerId) ?? -1),
          }));
          return makePartitionResponse({ partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers });
        }),
      })),
    });
  },
});
