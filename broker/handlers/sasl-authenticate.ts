// SaslAuthenticate (key 36): as SaslHandshake, only reaches a handler after authentication or on a listener
// without SASL; Kafka's KafkaApis answers ILLEGAL_SASL_STATE with this message.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { SaslAuthenticateApi, type SaslAuthenticateRequest, type SaslAuthenticateResponse } from '../../protocol/generated/sasl-authenticate.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<SaslAuthenticateRequest, SaslAuthenticateResponse>({
  api: SaslAuthenticateApi,
  handle: () => ({
    errorCode: ErrorCode.ILLEGAL_SASL_STATE,
    errorMessage: 'SaslAuthenticate request received after successful authentication',
    authBytes: Buffer.alloc(0),
    sessionLifetimeMs: 0n,
  }),
});
