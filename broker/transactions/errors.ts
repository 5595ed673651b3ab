// Version-dependent error codes of the transactional APIs, as Kafka's KafkaApis maps them.

import { ErrorCode } from '../../protocol/generated/errors.ts';

/** PRODUCER_FENCED exists from InitProducerId v4, AddPartitionsToTxn/AddOffsetsToTxn/EndTxn v2; older versions get INVALID_PRODUCER_EPOCH. */
export function fencedFor(code: number, version: number, firstVersionWithFenced: number): number {
  return code === ErrorCode.PRODUCER_FENCED && version < firstVersionWithFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}
