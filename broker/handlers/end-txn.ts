// EndTxn (key 26), v0-5: commits or aborts the ongoing transaction — prepare record, a marker in every
// partition, complete record — and answers once the markers are written (broker/transactions/coordinator.ts).
// v0-4 (transaction version 0/1): retrying a completed end answers NONE, the opposite decision
// INVALID_TXN_STATE; another epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2); unknown id or other
// producer id INVALID_PRODUCER_ID_MAPPING; empty id INVALID_REQUEST.
// v5 (KIP-890 part 2, transaction version 2): the epoch is bumped at every end and the answer carries the
// producer id and epoch the client continues with (a new producer id at epoch 0 when the epoch is exhausted).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { EndTxnApi, type EndTxnRequest, type EndTxnResponse, makeEndTxnResponse } from '../../protocol/generated/end-txn.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { fencedFor } from '../transactions/errors.ts';

export const handler = defineHandler<EndTxnRequest, EndTxnResponse>({
  api: EndTxnApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const respond = (errorCode: number, producerId = -1n, producerEpoch = -1) =>
      makeEndTxnResponse({ errorCode: fencedFor(errorCode, v, 2), producerId, producerEpoch });
    if (req.transactionalId === '') return respond(ErrorCode.INVALID_REQUEST);
    // KafkaApis.handleEndTxnRequest: WRITE on the transactional id.
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return respond(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // Kafka's KafkaApis: EndTxn v5+ is a transaction version 2 client.
    return ctx.broker.transactions.endTransaction(req.transactionalId, req.producerId, req.producerEpoch, req.committed, v >= 5 ? 2 : 0)
      .then((r) => respond(r.errorCode, r.producerId, r.producerEpoch));
  },
});
