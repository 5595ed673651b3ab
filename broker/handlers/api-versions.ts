// ApiVersions (key 18): the advertised list is computed from the handlers that exist.
// Left out: SupportedFeatures/FinalizedFeatures are sent empty (no feature levels are implemented yet,
// so clients fall back to their pre-feature behaviour, e.g. transaction.version 0 semantics).
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  makeApiVersionsResponse,
} from '../../protocol/generated/api-versions.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import type { BrokerContext } from '../context.ts';
import { defineHandler } from '../handler.ts';

// Kafka's ApiVersionsRequest.isValid(): software name/version must match this, else INVALID_REQUEST.
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

// KIP-1242 error, newer than errors.tsv; code from Kafka 4.x's Errors.java.
const REBOOTSTRAP_REQUIRED = 129;

export function advertisedApiKeys(broker: BrokerContext): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  const out = [];
  for (const h of broker.handlers) {
    if (!h) continue;
    out.push({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion });
  }
  return out;
}

/**
 * Kafka's answer to an ApiVersions version it does not know: the body is not parsed, the reply is a
 * v0-shaped body with UNSUPPORTED_VERSION and only the ApiVersions entry, under response header v0.
 */
export function unsupportedApiVersionsResponse(): ApiVersionsResponse {
  return makeApiVersionsResponse({
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: [{ apiKey: ApiVersionsApi.apiKey, minVersion: handler.minVersion, maxVersion: handler.maxVersion }],
  });
}

export const handler = defineHandler<ApiVersionsRequest, ApiVersionsResponse>({
  api: ApiVersionsApi,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const broker = ctx.broker;
    if (ctx.apiVersion >= 3 && (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion))) {
      return makeApiVersionsResponse({ errorCode: ErrorCode.INVALID_REQUEST });
    }
    if (ctx.apiVersion >= 5 && ((req.clusterId !== null && req.clusterId !== broker.clusterId) || (req.nodeId >= 0 && req.nodeId !== broker.nodeId))) {
      return makeApiVersionsResponse({ errorCode: REBOOTSTRAP_REQUIRED });
    }
    return makeApiVersionsResponse({ errorCode: ErrorCode.NONE, apiKeys: advertisedApiKeys(broker), throttleTimeMs: 0 });
  },
});
