// SaslHandshake (key 17): on a SASL listener the exchange runs before any handler (security/authenticator.ts);
// a SaslHandshake that reaches this handler came after authentication or on a listener without SASL, which
// Kafka's KafkaApis answers with ILLEGAL_SASL_STATE. Re-authentication (KIP-368) is not supported.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { SaslHandshakeApi, type SaslHandshakeRequest, type SaslHandshakeResponse } from '../../protocol/generated/sasl-handshake.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<SaslHandshakeRequest, SaslHandshakeResponse>({
  api: SaslHandshakeApi,
  handle: () => ({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }),
});
