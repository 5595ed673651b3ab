// DescribeAcls (key 29), as Kafka's AclApis: CLUSTER DESCRIBE required (CLUSTER_AUTHORIZATION_FAILED);
// without an authorizer SECURITY_DISABLED. The committed ACLs matching the filter (AclBindingFilter
// semantics, MATCH and ANY included), grouped by resource pattern.
import { DescribeAclsApi, type DescribeAclsRequest, type DescribeAclsResource, type DescribeAclsResponse } from '../../protocol/generated/describe-acls.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { filterMatches, invalidFilter } from '../../controller/acls.ts';
import { defineHandler } from '../handler.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';

/** A controller failure as a Kafka code (ControllerError carries one). */
export function aclError(e: unknown): { errorCode: number; errorMessage: string | null } {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? { errorCode: code, errorMessage: (e as Error).message } : { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: null };
}

export const handler = defineHandler<DescribeAclsRequest, DescribeAclsResponse>({
  api: DescribeAclsApi,
  handle(ctx, req) {
    const fail = (errorCode: number, errorMessage: string | null): DescribeAclsResponse => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
    if (ctx.broker.authorizer === null) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
    const filter = {
      resourceType: req.resourceTypeFilter, resourceName: req.resourceNameFilter, patternType: req.patternTypeFilter,
      principal: req.principalFilter, host: req.hostFilter, operation: req.operation, permissionType: req.permissionType,
    };
    const why = invalidFilter(filter);
    if (why !== null) return fail(ErrorCode.INVALID_REQUEST, why);
    const byResource = new Map<string, DescribeAclsResource>();
    for (const a of ctx.broker.controller.image.acls.values()) {
      if (!filterMatches(filter, a)) continue;
      const key = `${a.resourceType}\0${a.patternType}\0${a.resourceName}`;
      let r = byResource.get(key);
      if (!r) byResource.set(key, r = { resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType, acls: [] });
      r.acls.push({ principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType });
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources: [...byResource.values()] };
  },
});
