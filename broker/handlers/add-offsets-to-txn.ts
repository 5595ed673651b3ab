// AddOffsetsToTxn (key 25), v0-4: adds the group's __consumer_offsets partition to the transaction (Kafka's
// handleAddOffsetsToTxnRequest), so the TxnOffsetCommit that follows is part of it. __consumer_offsets is
// created first if no group used it yet. Errors as AddPartitionsToTxn (PRODUCER_FENCED from v2, else
// INVALID_PRODUCER_EPOCH); empty transactional id → INVALID_REQUEST; empty group id → INVALID_GROUP_ID.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  AddOffsetsToTxnApi,
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  makeAddOffsetsToTxnResponse,
} from '../../protocol/generated/add-offsets-to-txn.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { fencedFor } from '../transactions/errors.ts';
import { offsetsPartitionFor } from '../transactions/offsets-partition.ts';

export const handler = defineHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
  api: AddOffsetsToTxnApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const respond = (errorCode: number) => makeAddOffsetsToTxnResponse({ errorCode: fencedFor(errorCode, ctx.apiVersion, 2) });
    if (req.transactionalId === '') return respond(ErrorCode.INVALID_REQUEST);
    if (req.groupId === '') return respond(ErrorCode.INVALID_GROUP_ID);
    // KafkaApis.handleAddOffsetsToTxnRequest: WRITE on the transactional id, READ on the group.
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return respond(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId)) return respond(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    return broker.groups.ready().then((err) => {
      if (err !== ErrorCode.NONE) return respond(err);
      return broker.transactions.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [offsetsPartitionFor(broker, req.groupId)]).then(respond);
    });
  },
});
