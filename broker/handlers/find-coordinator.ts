// FindCoordinator (key 10), v0-6. This node coordinates every group (key type 0) and every transactional
// id (key type 1). Share groups (key type 2): INVALID_REQUEST, as Kafka without a share coordinator (and
// below v6). Another key type: INVALID_REQUEST.
// The first group lookup creates __consumer_offsets, the first transaction lookup __transaction_state;
// either is answered once its topic exists.
// v0-3 carry one key (errorMessage "NONE" on success, Kafka's Errors.NONE.message()); v4+ a batch of keys.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  FindCoordinatorApi,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  makeCoordinator,
  makeFindCoordinatorResponse,
} from '../../protocol/generated/find-coordinator.ts';
import type { RequestContext } from '../handler.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

const MESSAGES: Record<number, string> = {
  [ErrorCode.NONE]: 'NONE',
  [ErrorCode.COORDINATOR_NOT_AVAILABLE]: 'The coordinator is not available.',
  [ErrorCode.INVALID_REQUEST]: 'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.',
};

function lookup(ctx: RequestContext, keyType: number, ready: number, key: string): { errorCode: number; nodeId: number; host: string; port: number } {
  const none = (errorCode: number) => ({ errorCode, nodeId: -1, host: '', port: -1 });
  if (keyType !== 0 && keyType !== 1) return none(ErrorCode.INVALID_REQUEST);
  // KafkaApis: DESCRIBE on the group / transactional id.
  if (keyType === 0 && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) return none(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (keyType === 1 && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) return none(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (ready !== ErrorCode.NONE) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const addr = ctx.broker.advertisedAddress(ctx.listenerName);
  if (!addr) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  return { errorCode: ErrorCode.NONE, nodeId: ctx.broker.nodeId, host: addr.host, port: addr.port };
}

export const handler = defineHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
  api: FindCoordinatorApi,
  handle(ctx, req) {
    const keyType = ctx.apiVersion === 0 ? 0 : req.keyType;
    const respond = (ready: number): FindCoordinatorResponse => {
      if (ctx.apiVersion >= 4) {
        return makeFindCoordinatorResponse({
          // Kafka sets no message on v4+ entries.
          coordinators: req.coordinatorKeys.map((key) => makeCoordinator({ key, ...lookup(ctx, keyType, ready, key), errorMessage: null })),
        });
      }
      const r = lookup(ctx, keyType, ready, req.key);
      return makeFindCoordinatorResponse({ ...r, errorMessage: ctx.apiVersion >= 1 ? MESSAGES[r.errorCode] ?? null : null });
    };
    // The coordinator's topic is created on first use; answer once it exists.
    if (keyType === 0) return ctx.broker.groups.ready().then(respond);
    if (keyType === 1) return ctx.broker.transactions.ready().then(respond);
    return respond(ErrorCode.NONE);
  },
});
