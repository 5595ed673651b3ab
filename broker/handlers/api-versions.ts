// ApiVersions (key 18): advertises the handler table's versions (BrokerContext.apiVersions) and, from v3, the
// feature levels: the ranges this node supports (controller/features.ts) and the levels finalized in the metadata
// image (FeatureLevelRecords; epoch = the image's offset, as Kafka's FinalizedFeatures epoch).
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  makeApiVersionsResponse,
} from '../../protocol/generated/api-versions.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { SUPPORTED_FEATURES } from '../../controller/features.ts';
import type { BrokerContext } from '../context.ts';
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
    return makeApiVersionsResponse({
      errorCode: ErrorCode.NONE, apiKeys: broker.apiVersions.map((v) => ({ ...v })), throttleTimeMs: 0,
      ...(ctx.apiVersion >= 3 ? features(broker, ctx.apiVersion) : {}),
    });
  },
});

function features(broker: BrokerContext, version: number) {
  const supportedFeatures = [];
  for (const [name, r] of SUPPORTED_FEATURES) {
    // KAFKA-17011: clients before ApiVersions v4 fail on a supported range starting at 0, so Kafka leaves those out.
    if (version < 4 && r.min === 0) continue;
    supportedFeatures.push({ name, minVersion: r.min, maxVersion: r.max });
  }
  // The controller listener answers before its controller is built (the voters handshake during the election):
  // supported features only, finalized ones once the image exists.
  const image = (broker.controller as BrokerContext['controller'] | undefined)?.image;
  if (!image) return { supportedFeatures, finalizedFeatures: [], finalizedFeaturesEpoch: -1n };
  const finalizedFeatures = [...image.features].map(([name, level]) => ({ name, minVersionLevel: level, maxVersionLevel: level }));
  return { supportedFeatures, finalizedFeatures, finalizedFeaturesEpoch: image.offset };
}
