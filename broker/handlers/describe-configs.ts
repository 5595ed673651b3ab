// DescribeConfigs (key 32), v1-4 (Kafka 4 dropped v0). Follows Kafka 4.4's ConfigHelper:
// - TOPIC (2): invalid name → INVALID_TOPIC_EXCEPTION with Topic.validate's message; unknown →
//   UNKNOWN_TOPIC_OR_PARTITION; otherwise every topic config with its override or broker-derived default.
// - BROKER (4): our node id → every broker config; "" → the cluster-wide dynamic defaults (none: empty
//   list); another id → INVALID_REQUEST "Unexpected broker id…"; not a number → INVALID_REQUEST.
// - BROKER_LOGGER (8): broker id checked as Kafka does, then INVALID_REQUEST (gregor has no log4j loggers).
// - CLIENT_METRICS (16), GROUP (32): INVALID_REQUEST (not supported yet).
// - Any other type fails the whole request with INVALID_REQUEST, as Kafka's request-level check does.
// configurationKeys null or empty = all; synonyms only when includeSynonyms; documentation is null.
// Successful results carry errorMessage "" (what Kafka sends).
import {
  DescribeConfigsApi,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  type DescribeConfigsResult,
  makeDescribeConfigsResourceResult,
  makeDescribeConfigsResponse,
  makeDescribeConfigsResult,
} from '../../protocol/generated/describe-configs.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { type DescribedConfig, describeBrokerConfigs, describeTopicConfigs, topicNameError } from '../configs/index.ts';
import type { BrokerContext } from '../context.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { KafkaError } from '../errors.ts';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
export const RESOURCE_BROKER_LOGGER = 8;
export const RESOURCE_CLIENT_METRICS = 16;
export const RESOURCE_GROUP = 32;
const KNOWN_TYPES = new Set([RESOURCE_TOPIC, RESOURCE_BROKER, RESOURCE_BROKER_LOGGER, RESOURCE_CLIENT_METRICS, RESOURCE_GROUP]);

/** Errors.INVALID_REQUEST's default message, which Kafka sends when the whole request is rejected. */
const INVALID_REQUEST_MESSAGE = 'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.';

/** Kafka's resourceNameToBrokerId check for BROKER resources; returns true for this node. */
export function checkBrokerId(broker: BrokerContext, name: string, what = 'Broker'): void {
  if (!/^[+-]?\d+$/.test(name.trim()) || Number(name) > 2147483647 || Number(name) < -2147483648) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `${what} id must be an integer, but it is: ${name}`);
  }
}

function describeOne(broker: BrokerContext, r: DescribeConfigsRequest['resources'][number], synonyms: boolean, docs: boolean): DescribedConfig[] {
  switch (r.resourceType) {
    case RESOURCE_TOPIC: {
      const err = topicNameError(r.resourceName);
      if (err) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, err);
      const t = broker.topics.get(r.resourceName);
      if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, '');
      return describeTopicConfigs(t.configs, broker.config, synonyms, docs, r.configurationKeys);
    }
    case RESOURCE_BROKER:
      if (r.resourceName === '') return []; // no dynamic cluster-wide defaults in gregor
      checkBrokerId(broker, r.resourceName);
      if (Number(r.resourceName) !== broker.nodeId) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${r.resourceName}`);
      }
      return describeBrokerConfigs(broker.config, synonyms, docs, r.configurationKeys);
    case RESOURCE_BROKER_LOGGER:
      if (r.resourceName === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
      checkBrokerId(broker, r.resourceName);
      if (Number(r.resourceName) !== broker.nodeId) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} but received ${r.resourceName}`);
      }
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Broker loggers are not supported by gregor');
    default:
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${r.resourceType === RESOURCE_GROUP ? 'GROUP' : 'CLIENT_METRICS'}`);
  }
}

export const handler = defineHandler<DescribeConfigsRequest, DescribeConfigsResponse>({
  api: DescribeConfigsApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const docs = ctx.apiVersion >= 3 && req.includeDocumentation;
    const base = (r: DescribeConfigsRequest['resources'][number]) =>
      ({ resourceType: r.resourceType, resourceName: r.resourceName });

    if (req.resources.some((r) => !KNOWN_TYPES.has(r.resourceType))) {
      return makeDescribeConfigsResponse({
        throttleTimeMs: 0,
        results: req.resources.map((r) => makeDescribeConfigsResult({
          ...base(r), errorCode: ErrorCode.INVALID_REQUEST, errorMessage: INVALID_REQUEST_MESSAGE, configs: [],
        })),
      });
    }

    const results: DescribeConfigsResult[] = req.resources.map((r) => {
      // KafkaApis/ConfigHelper: DESCRIBE_CONFIGS on the topic, or on the cluster for broker resources.
      const denied = r.resourceType === 2 ? !authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, r.resourceName)
        : !authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME);
      if (denied) {
        const code = r.resourceType === 2 ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        return makeDescribeConfigsResult({ ...base(r), errorCode: code, errorMessage: null, configs: [] });
      }
      try {
        const configs = describeOne(broker, r, req.includeSynonyms, docs).map((c) => makeDescribeConfigsResourceResult({
          ...c,
          synonyms: c.synonyms.map((s) => ({ ...s })),
          // v1-2 have neither configType nor documentation.
          configType: ctx.apiVersion >= 3 ? c.configType : 0,
          documentation: ctx.apiVersion >= 3 ? c.documentation : '',
        }));
        return makeDescribeConfigsResult({ ...base(r), errorCode: ErrorCode.NONE, errorMessage: '', configs });
      } catch (e) {
        if (!(e instanceof KafkaError)) throw e;
        return makeDescribeConfigsResult({ ...base(r), errorCode: e.code, errorMessage: e.message, configs: [] });
      }
    });
    return makeDescribeConfigsResponse({ throttleTimeMs: 0, results });
  },
});
