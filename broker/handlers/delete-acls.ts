// DeleteAcls (key 31), as Kafka's AclApis: CLUSTER ALTER required (CLUSTER_AUTHORIZATION_FAILED for every
// filter); without an authorizer SECURITY_DISABLED. Per filter the ACLs it matched, removed in one commit.
import { DeleteAclsApi, type DeleteAclsRequest, type DeleteAclsResponse } from '../../protocol/generated/delete-acls.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { aclError } from './describe-acls.ts';

export const handler = defineHandler<DeleteAclsRequest, DeleteAclsResponse>({
  api: DeleteAclsApi,
  async handle(ctx, req) {
    const all = (errorCode: number, errorMessage: string | null): DeleteAclsResponse =>
      ({ throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
    if (ctx.broker.authorizer === null) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
    try {
      const results = await ctx.broker.controller.deleteAcls(req.filters.map((f) => ({
        resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter,
        principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
      })));
      return {
        throttleTimeMs: 0,
        filterResults: results.map((r) => ({
          errorCode: r.errorCode, errorMessage: r.errorMessage,
          matchingAcls: r.acls.map((a) => ({
            errorCode: 0, errorMessage: null, resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType,
            principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType,
          })),
        })),
      };
    } catch (e) {
      const { errorCode, errorMessage } = aclError(e);
      return all(errorCode, errorMessage);
    }
  },
  errorResponse(req, _v, errorCode) {
    return { throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode, errorMessage: null, matchingAcls: [] })) };
  },
});
