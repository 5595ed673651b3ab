// ListGroups (key 16), v0-5: every group this node coordinates (all of them). v4+: states filter,
// v5+: types filter (both case-insensitive, as Kafka). Every group is a classic group for now.
import {
  ListGroupsApi,
  type ListGroupsRequest,
  type ListGroupsResponse,
  makeListGroupsResponse,
  makeListedGroup,
} from '../../protocol/generated/list-groups.ts';
import { defineHandler } from '../handler.ts';

export const handler = defineHandler<ListGroupsRequest, ListGroupsResponse>({
  api: ListGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const states = new Set((v >= 4 ? req.statesFilter : []).map((s) => s.toLowerCase()));
    const types = new Set((v >= 5 ? req.typesFilter : []).map((s) => s.toLowerCase()));
    const groups = ctx.broker.groups.listGroups()
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .filter(() => types.size === 0 || types.has('classic'));
    return makeListGroupsResponse({
      groups: groups.map((g) => makeListedGroup({
        groupId: g.groupId, protocolType: g.protocolType,
        groupState: v >= 4 ? g.state : '', groupType: v >= 5 ? 'classic' : '',
      })),
    });
  },
});
