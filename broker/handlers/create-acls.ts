// CreateAcls (key 30), as Kafka's AclApis: CLUSTER ALTER required (else CLUSTER_AUTHORIZATION_FAILED for every
// creation); without an authorizer SECURITY_DISABLED. Each binding is validated by the controller
// (INVALID_REQUEST with Kafka's message) and the valid ones committed to the metadata log in one batch.
import { CreateAclsApi, type CreateAclsRequest, type CreateAclsResponse } from '../../protocol/generated/create-acls.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { defineHandler } from '../handler.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { aclError } from './describe-acls.ts';

export const handler = defineHandler<CreateAclsRequest, CreateAclsResponse>({
  api: CreateAclsApi,
  async handle(ctx, req) {
    const all = (errorCode: number, errorMessage: string | null): CreateAclsResponse =>
      ({ throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })) });
    if (ctx.broker.authorizer === null) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
    try {
      const results = await ctx.broker.controller.createAcls(req.creations.map((c) => ({
        resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType,
        principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType,
      })));
      return { throttleTimeMs: 0, results };
    } catch (e) {
      const { errorCode, errorMessage } = aclError(e);
      return all(errorCode, errorMessage);
    }
  },
  errorResponse(req, _v, errorCode) {
    return { throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage: null })) };
  },
});
