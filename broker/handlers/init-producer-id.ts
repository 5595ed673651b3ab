// InitProducerId (key 22), versions 0-5, as Kafka's KafkaApis.handleInitProducerIdRequest and
// TransactionCoordinator.handleInitProducerId answer them:
// - no transactional id: a fresh producer id with epoch 0, always. Kafka "blindly accepts" here: a given
//   producerId/producerEpoch (KIP-360, v3+) is not checked and not bumped, the producer simply gets a new
//   id (that is how librdkafka's idempotent producer recovers: InitProducerId v3+ with its current id).
//   Exactly one of producerId/producerEpoch being -1 is INVALID_REQUEST (checked before anything else).
// - a transactional id: "" → INVALID_REQUEST; transactionTimeoutMs ≤ 0 or > transaction.max.timeout.ms →
//   INVALID_TRANSACTION_TIMEOUT; otherwise the transaction coordinator (broker/transactions/) bumps the
//   id's epoch (fencing an ongoing transaction of an older producer), KIP-360 checks on v3+;
//   PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v4.
// v6 (KIP-939 two-phase commit fields) is `latestVersionUnstable` in 4.4: not served. No authorizer
// (CLUSTER/TRANSACTIONAL_ID authorization always passes).
import {
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  makeInitProducerIdResponse,
} from '../../protocol/generated/init-producer-id.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { AclOperation, authorize, authorizeByResourceType, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { fencedFor } from '../transactions/errors.ts';

const error = (errorCode: number): InitProducerIdResponse => makeInitProducerIdResponse({ errorCode, producerId: -1n, producerEpoch: -1 });

export const handler = defineHandler<InitProducerIdRequest, InitProducerIdResponse>({
  api: InitProducerIdApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const noId = req.producerId === -1n;
    const noEpoch = req.producerEpoch === -1;
    if (noId !== noEpoch) return error(ErrorCode.INVALID_REQUEST);
    const txnId = req.transactionalId;
    // KafkaApis.handleInitProducerIdRequest: WRITE on the transactional id, or for an idempotent producer
    // IDEMPOTENT_WRITE on the cluster or WRITE on some topic (authorizeByResourceType).
    if (broker.authorizer !== null) {
      if (txnId !== null && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txnId)) return error(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      if (txnId === null && !authorize(ctx, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME) &&
        !authorizeByResourceType(ctx, AclOperation.WRITE, ResourceType.TOPIC)) return error(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    if (txnId !== null) {
      if (txnId === '') return error(ErrorCode.INVALID_REQUEST);
      const max = broker.config.int('transaction.max.timeout.ms');
      if (req.transactionTimeoutMs <= 0 || req.transactionTimeoutMs > max) return error(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
      const expected = noId ? null : { producerId: req.producerId, producerEpoch: req.producerEpoch };
      const txnId_ = txnId;
      return broker.transactions.ready().then((err) => err !== ErrorCode.NONE ? error(err)
        : broker.transactions.initProducerId(txnId_, req.transactionTimeoutMs, expected).then((r) =>
          makeInitProducerIdResponse({ errorCode: fencedFor(r.errorCode, ctx.apiVersion, 4), producerId: r.producerId, producerEpoch: r.producerEpoch })));
    }
    const id = broker.producers.ids.generate();
    const ok = (producerId: bigint) => makeInitProducerIdResponse({ errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 });
    if (typeof id === 'bigint') return ok(id);
    return id.then(ok, (err: Error) => {
      // Kafka answers a producer id manager without a block with COORDINATOR_LOAD_IN_PROGRESS (retriable).
      broker.log.error(`InitProducerId: cannot persist a new producer id block: ${err.message}`);
      return error(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    });
  },
});
