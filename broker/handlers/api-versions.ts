// ApiVersions (key 18): advertises the handler table's versions (BrokerContext.apiVersions).
// Left out: SupportedFeatures/FinalizedFeatures are sent empty (no feature levels are implemented yet,
// so clients fall back to their pre-feature behaviour, e.g. transaction.version 0 semantics).
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  makeApiVersionsResponse,
} from '../../protocol/generated/api-versions.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';

// Kafka's ApiVersionsRequest.isValid(): software name/version must match this, else INVALID_REQUEST.
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

// KIP-1242 error, newer than errors.tsv; code from Kafka 4.x's Errors.java.
const REBOOTSTRAP_REQUIRED = 129;

/**
 * Kafka's answer to an ApiVersions version it does not know: the body is not parsed, the reply is a
 * v0-shaped body with UNSUPPORTED_VERSION and only the ApiVersions entry, under response header v0.
 */
export function unsupportedApiVersionsResponse(minVersion: number, maxVersion: number): ApiVersionsResponse {
  return makeApiVersionsResponse({
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: [{ apiKey: ApiVersionsApi.apiKey, minVersion, maxVersion }],
  });
}

export const handler = defineHandler<ApiVersionsRequest, ApiVersionsResponse>({
  api: ApiVersionsApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    if (ctx.apiVersion >= 3 && (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion))) {
      return makeApiVersionsResponse({ errorCode: ErrorCode.INVALID_REQUEST });
    }
    if (ctx.apiVersion >= 5 && ((req.clusterId !== null && req.clusterId !== broker.clusterId) || (req.nodeId >= 0 && req.nodeId !== broker.nodeId))) {
      return makeApiVersionsResponse({ errorCode: REBOOTSTRAP_REQUIRED });
    }
    return makeApiVersionsResponse({ errorCode: ErrorCode.NONE, apiKeys: broker.apiVersions.map((v) => ({ ...v })), throttleTimeMs: 0 });
  },
});
