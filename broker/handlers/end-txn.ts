// EndTxn (key 26), v0-4 (transaction version 1): commits or aborts the ongoing transaction — prepare
// record, a marker in every partition, complete record — and answers once the markers are written
// (broker/transactions/coordinator.ts). Retrying a completed end answers NONE, the opposite decision
// INVALID_TXN_STATE; another epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2); unknown id or other
// producer id INVALID_PRODUCER_ID_MAPPING; empty id INVALID_REQUEST.
// v5 (KIP-890 part 2: an epoch bump at every end, needs transaction.version 2) is not served: gregor
// finalizes no transaction.version feature, so clients stay on version 1 and cap EndTxn at v4.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { EndTxnApi, type EndTxnRequest, type EndTxnResponse, makeEndTxnResponse } from '../../protocol/generated/end-txn.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { fencedFor } from '../transactions/errors.ts';

export const handler = defineHandler<EndTxnRequest, EndTxnResponse>({
  api: EndTxnApi,
  handle(ctx, req) {
    const respond = (errorCode: number) => makeEndTxnResponse({ errorCode: fencedFor(errorCode, ctx.apiVersion, 2), producerId: -1n, producerEpoch: -1 });
    if (req.transactionalId === '') return respond(ErrorCode.INVALID_REQUEST);
    // KafkaApis.handleEndTxnRequest: WRITE on the transactional id.
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return respond(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    return ctx.broker.transactions.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed).then(respond);
  },
});
