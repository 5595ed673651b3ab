// The generated __transaction_state codecs, loaded by records.ts on first use (require(esm), synchronous):
// a broker that never reads or writes a transaction record does not load them at start (issue #15 item 6).
export { readTransactionLogKeyRecord, writeTransactionLogKeyRecord } from '../../protocol/generated/coordinator/transaction-log-key.ts';
export { makeTransactionLogValue, readTransactionLogValueRecord, writeTransactionLogValueRecord } from '../../protocol/generated/coordinator/transaction-log-value.ts';
