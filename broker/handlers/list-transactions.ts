// ListTransactions (key 66), v0-2: every transactional id the coordinator knows, filtered by state
// names (unknown names are echoed in unknownStateFilters and match nothing), producer ids, v1 duration
// (transactions open at least that many ms; -1 = no filter) and v2 a regular expression the whole id
// must match (empty or null = all; invalid → INVALID_REGULAR_EXPRESSION).
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  ListTransactionsApi,
  type ListTransactionsRequest,
  type ListTransactionsResponse,
  makeListTransactionsResponse,
  makeTransactionState,
} from '../../protocol/generated/list-transactions.ts';
import { AclOperation, authorize, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { TXN_STATES } from '../transactions/index.ts';

export const handler = defineHandler<ListTransactionsRequest, ListTransactionsResponse>({
  api: ListTransactionsApi,
  handle(ctx, req) {
    const now = ctx.broker.clock.now();
    const states = new Set<string>(TXN_STATES);
    const unknownStateFilters = req.stateFilters.filter((s) => !states.has(s));
    const stateFilter = new Set(req.stateFilters);
    const pids = new Set(req.producerIdFilters);
    let pattern: RegExp | null = null;
    if (ctx.apiVersion >= 2 && req.transactionalIdPattern) {
      try {
        pattern = new RegExp(`^(?:${req.transactionalIdPattern})$`, 'u');
      } catch {
        return makeListTransactionsResponse({ errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION });
      }
    }
    const duration = ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1;
    const transactionStates = [];
    for (const m of ctx.broker.transactions.all()) {
      if (stateFilter.size > 0 && !stateFilter.has(m.state)) continue;
      if (pids.size > 0 && !pids.has(m.producerId)) continue;
      if (duration >= 0 && (m.startTimestamp < 0 || now - m.startTimestamp < duration)) continue;
      if (pattern && !pattern.test(m.transactionalId)) continue;
      // KafkaApis.handleListTransactionsRequest: only ids the principal may DESCRIBE.
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, m.transactionalId)) continue;
      transactionStates.push(makeTransactionState({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: m.state }));
    }
    return makeListTransactionsResponse({ errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates });
  },
});
