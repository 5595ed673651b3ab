// AlterConfigs (key 33), v0-2, as Kafka 4.4 answers it. TOPIC resources: the request's configs replace the
// whole override set (names not listed go back to their defaults); unknown names / bad values →
// INVALID_CONFIG, a null value or a name given twice → INVALID_REQUEST, invalid name →
// INVALID_TOPIC_EXCEPTION, unknown topic → UNKNOWN_TOPIC_OR_PARTITION. BROKER resources: id checked as Kafka
// does, then every change is refused with INVALID_REQUEST (gregor has no dynamic broker configs). A resource
// named twice → INVALID_REQUEST for each copy. Other resource types → INVALID_REQUEST "Unknown resource type".
// validateOnly checks everything and changes nothing.
import {
  AlterConfigsApi,
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  makeAlterConfigsResourceResponse,
  makeAlterConfigsResponse,
} from '../../protocol/generated/alter-configs.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  alterBrokerResource, applyTopicConfigs, currentTopicConfigs, DUPLICATE_RESOURCE, duplicateKeys,
  RESOURCE_BROKER, RESOURCE_TOPIC, resourceKey, type ResourceResult, unknownResourceType,
} from '../configs/alter.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<AlterConfigsRequest, AlterConfigsResponse>({
  api: AlterConfigsApi,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const counts = new Map<string, number>();
    for (const r of req.resources) counts.set(resourceKey(r.resourceType, r.resourceName), (counts.get(resourceKey(r.resourceType, r.resourceName)) ?? 0) + 1);
    // Everything up to the first await runs in arrival order: checks and pending overrides are ordered.
    const results = req.resources.map((r): ResourceResult | Promise<ResourceResult> => {
      if (counts.get(resourceKey(r.resourceType, r.resourceName))! > 1) return DUPLICATE_RESOURCE;
      // KafkaApis/ConfigAdminManager: ALTER_CONFIGS on the topic, or on the cluster for broker resources.
      if (r.resourceType === RESOURCE_TOPIC && !authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.TOPIC, r.resourceName)) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
      if (r.resourceType !== RESOURCE_TOPIC && !authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)) return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null };
      const names = r.configs.map((c) => c.name);
      if (r.resourceType === RESOURCE_BROKER) return alterBrokerResource(broker, r.resourceName, names, 'Broker');
      if (r.resourceType !== RESOURCE_TOPIC) return unknownResourceType(r.resourceType);
      const current = currentTopicConfigs(broker, r.resourceName);
      if (!(current instanceof Map)) return current;
      const dup = duplicateKeys(names);
      if (dup) return dup;
      const next = new Map<string, string>();
      for (const c of r.configs) {
        if (c.value === null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${c.name}` };
        next.set(c.name, c.value);
      }
      return applyTopicConfigs(broker, r.resourceName, next, req.validateOnly);
    });
    const settled = await Promise.all(results);
    return makeAlterConfigsResponse({
      throttleTimeMs: 0,
      responses: req.resources.map((r, i) => makeAlterConfigsResourceResponse({
        errorCode: settled[i].errorCode, errorMessage: settled[i].errorMessage, resourceType: r.resourceType, resourceName: r.resourceName,
      })),
    });
  },
});
