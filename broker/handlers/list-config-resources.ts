// ListConfigResources (key 74), v0-1 (KIP-1142; v0 was ListClientMetricsResources). Lists the resources that
// DescribeConfigs can describe, as Kafka 4.4 (checked against a 4.4 broker):
// - v0 (no types) and type CLIENT_METRICS (16): client metrics subscriptions — gregor has none (no telemetry
//   receiver), so none;
// - GROUP (32): groups with dynamic configs — none (gregor has no group configs);
// - BROKER_LOGGER (8) and BROKER (4): this node's id; TOPIC (2): every topic, internal ones included;
// - v1 with no types: all of these; any other type → UNSUPPORTED_VERSION (Kafka's answer), nothing listed.
import { ErrorCode } from '../../protocol/generated/errors.ts';
import {
  ListConfigResourcesApi,
  type ListConfigResourcesRequest,
  type ListConfigResourcesResponse,
  makeListConfigResourcesResponse,
} from '../../protocol/generated/list-config-resources.ts';
import { defineHandler } from '../handler.ts';

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const CLIENT_METRICS = 16;
const GROUP = 32;
const KNOWN = new Set([TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP]);

export const handler = defineHandler<ListConfigResourcesRequest, ListConfigResourcesResponse>({
  api: ListConfigResourcesApi,
  handle(ctx, req) {
    const broker = ctx.broker;
    const types = ctx.apiVersion === 0 ? [CLIENT_METRICS] : req.resourceTypes;
    if (types.some((t) => !KNOWN.has(t))) return makeListConfigResourcesResponse({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    const want = (type: number) => types.length === 0 || types.includes(type);
    const configResources = [];
    const id = String(broker.nodeId);
    if (want(BROKER_LOGGER)) configResources.push({ resourceName: id, resourceType: BROKER_LOGGER });
    if (want(BROKER)) configResources.push({ resourceName: id, resourceType: BROKER });
    if (want(TOPIC)) {
      for (const name of [...broker.topics.all()].map((t) => t.name).sort()) configResources.push({ resourceName: name, resourceType: TOPIC });
    }
    return makeListConfigResourcesResponse({ errorCode: ErrorCode.NONE, configResources });
  },
});
