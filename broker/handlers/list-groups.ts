// ListGroups (key 16), v0-5: every group this node coordinates (all of them). v4+: states filter,
// v5+: types filter (both case-insensitive, as Kafka). Classic groups and KIP-848 consumer groups
// (groupType `consumer`, protocol type `consumer`).
import {
  ListGroupsApi,
  type ListGroupsRequest,
  type ListGroupsResponse,
  makeListGroupsResponse,
  makeListedGroup,
} from '../../protocol/generated/list-groups.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<ListGroupsRequest, ListGroupsResponse>({
  api: ListGroupsApi,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const states = new Set((v >= 4 ? req.statesFilter : []).map((s) => s.toLowerCase()));
    const types = new Set((v >= 5 ? req.typesFilter : []).map((s) => s.toLowerCase()));
    const all: Array<{ groupId: string; protocolType: string; state: string; type: string }> = [
      ...ctx.broker.groups.listGroups().map((g) => ({ ...g, type: 'classic' })),
      // KIP-848 groups: protocol type "consumer", states Empty/Assigning/Reconciling/Stable, type "consumer".
      ...[...ctx.broker.groups.consumer?.groups.values() ?? []].filter((g) => !g.dead)
        .map((g) => ({ groupId: g.groupId, protocolType: 'consumer', state: g.state as string, type: 'consumer' })),
    ];
    // KafkaApis.handleListGroupsRequest: every group with DESCRIBE on the cluster, else those the principal may describe.
    const everything = authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME);
    const groups = all
      .filter((g) => everything || authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId))
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .filter((g) => types.size === 0 || types.has(g.type));
    return makeListGroupsResponse({
      groups: groups.map((g) => makeListedGroup({
        groupId: g.groupId, protocolType: g.protocolType,
        groupState: v >= 4 ? g.state : '', groupType: v >= 5 ? g.type : '',
      })),
    });
  },
});
