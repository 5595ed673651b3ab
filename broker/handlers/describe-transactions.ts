// DescribeTransactions (key 65), v0: the coordinator's metadata of each transactional id (state name as
// Kafka prints it, timeout, start time, producer id and epoch, partitions). Unknown id →
// TRANSACTIONAL_ID_NOT_FOUND (Kafka answers the same for an id it never saw or that expired).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  DescribeTransactionsApi,
  type DescribeTransactionsRequest,
  type DescribeTransactionsResponse,
  makeDescribeTransactionsResponse,
  makeTopicData,
  makeTransactionState,
} from '../../protocol/generated/describe-transactions.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>({
  api: DescribeTransactionsApi,
  handle(ctx, req) {
    const txns = ctx.broker.transactions;
    return makeDescribeTransactionsResponse({
      transactionStates: req.transactionalIds.map((transactionalId) => {
        // KafkaApis.handleDescribeTransactionsRequest: DESCRIBE on the transactional id.
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
          return makeTransactionState({ transactionalId, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionState: '', producerId: -1n, producerEpoch: -1, transactionStartTimeMs: -1n });
        }
        const m = txns.get(transactionalId);
        if (!m || m.state === 'Dead') {
          return makeTransactionState({ transactionalId, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionState: '', producerId: -1n, producerEpoch: -1, transactionStartTimeMs: -1n });
        }
        return makeTransactionState({
          transactionalId, errorCode: ErrorCode.NONE, transactionState: m.state, transactionTimeoutMs: m.timeoutMs,
          transactionStartTimeMs: BigInt(m.startTimestamp), producerId: m.producerId, producerEpoch: m.producerEpoch,
          topics: [...m.partitions].map(([topic, ps]) => makeTopicData({ topic, partitions: [...ps].sort((a, b) => a - b) })),
        });
      }),
    });
  },
});
