// Helpers for group tests.
import { encodeConsumerProtocolSubscription, makeConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.ts';
import { Writer } from '../../protocol/writer.ts';

/** ConsumerProtocolSubscription v0 as classic clients embed it in JoinGroup: version, topics, no user data. */
export function subscription(topics: string[]): Buffer {
  const w = new Writer();
  w.int16(0);
  encodeConsumerProtocolSubscription(w, 0, makeConsumerProtocolSubscription({ topics, userData: null }));
  return w.finishBuffer();
}
