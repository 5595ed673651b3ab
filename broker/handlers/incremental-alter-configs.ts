// IncrementalAlterConfigs (key 44), v0-1, as Kafka 4.4 answers it. TOPIC resources: only the named keys change:
// SET (0) sets, DELETE (1) removes the override (an unknown name is fine), APPEND (2) / SUBTRACT (3) add or
// remove list items starting from the current value (override, else the broker-derived default) and are
// refused with INVALID_CONFIG for non-list configs. A null value for SET/APPEND/SUBTRACT or a name given twice
// → INVALID_REQUEST; unknown names / bad values → INVALID_CONFIG; another operation code →
// UNKNOWN_SERVER_ERROR (what Kafka answers). BROKER resources: id checked as Kafka does, then refused with
// INVALID_REQUEST (no dynamic broker configs; a DELETE of a non-read-only one is a no-op: NONE); BROKER_LOGGER: INVALID_REQUEST (no loggers to change).
// A resource named twice → INVALID_REQUEST for each copy. validateOnly checks and changes nothing.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  IncrementalAlterConfigsApi,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
  makeAlterConfigsResourceResponse,
  makeIncrementalAlterConfigsResponse,
} from '../../protocol/generated/incremental-alter-configs.ts';
import {
  alterBrokerResource, applyTopicConfigs, currentTopicConfigs, DUPLICATE_RESOURCE, duplicateKeys,
  RESOURCE_BROKER, RESOURCE_BROKER_LOGGER, RESOURCE_TOPIC, resourceKey, type ResourceResult, unknownResourceType,
} from '../configs/alter.ts';
import { brokerConfigDef, TOPIC_CONFIGS_BY_NAME, topicConfigDefault } from '../configs/index.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

const items = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

export const handler = defineHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>({
  api: IncrementalAlterConfigsApi,
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
      if (r.resourceType === RESOURCE_BROKER) {
        // No dynamic broker config is ever set, so deleting one changes nothing and succeeds (kafka-reassign-partitions
        // --verify clears the replication throttles this way); a read-only name is still refused, as Kafka.
        const changing = r.configs.filter((c) => c.configOperation !== DELETE || brokerConfigDef(c.name)?.readOnly).map((c) => c.name);
        return alterBrokerResource(broker, r.resourceName, changing, 'Node');
      }
      if (r.resourceType === RESOURCE_BROKER_LOGGER) {
        const bad = r.configs.find((c) => c.configOperation === APPEND || c.configOperation === SUBTRACT);
        if (bad) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `${OP_NAMES[bad.configOperation]} operation is not allowed for the BROKER_LOGGER resource` };
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker loggers are not supported by gregor' };
      }
      if (r.resourceType !== RESOURCE_TOPIC) return unknownResourceType(r.resourceType);
      const current = currentTopicConfigs(broker, r.resourceName);
      if (!(current instanceof Map)) return current;
      const dup = duplicateKeys(names);
      if (dup) return dup;
      for (const c of r.configs) {
        if (c.configOperation < SET || c.configOperation > SUBTRACT) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: null };
        if (c.configOperation !== DELETE && c.value === null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${c.name}` };
        const entry = TOPIC_CONFIGS_BY_NAME.get(c.name);
        if (c.configOperation === DELETE) { current.delete(c.name); continue; }
        if (!entry) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown topic config name: ${c.name}` };
        if (c.configOperation === SET) { current.set(c.name, c.value!); continue; }
        if (entry.type !== 'list') {
          return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Can't ${OP_NAMES[c.configOperation]} to key ${c.name} because its type is not LIST.` };
        }
        const now = items(current.get(c.name) ?? topicConfigDefault(entry, broker.config));
        const change = items(c.value!);
        const next = c.configOperation === APPEND
          ? [...now, ...change.filter((v) => !now.includes(v))]
          : now.filter((v) => !change.includes(v));
        current.set(c.name, next.join(','));
      }
      return applyTopicConfigs(broker, r.resourceName, current, req.validateOnly);
    });
    const settled = await Promise.all(results);
    return makeIncrementalAlterConfigsResponse({
      throttleTimeMs: 0,
      responses: req.resources.map((r, i) => makeAlterConfigsResourceResponse({
        errorCode: settled[i].errorCode, errorMessage: settled[i].errorMessage, resourceType: r.resourceType, resourceName: r.resourceName,
      })),
    });
  },
});
