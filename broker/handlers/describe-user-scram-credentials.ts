// DescribeUserScramCredentials (key 50): mechanisms and iterations of each user's SCRAM credentials
// (security/scram-store.ts), never salts or keys. No authorizer yet (Kafka checks DESCRIBE on the cluster).
import {
  DescribeUserScramCredentialsApi,
  type DescribeUserScramCredentialsRequest,
  type DescribeUserScramCredentialsResponse,
  type DescribeUserScramCredentialsResult,
} from '../../protocol/generated/describe-user-scram-credentials.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { MECHANISM_TYPE } from '../security/scram.ts';

export const handler = defineHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse>({
  api: DescribeUserScramCredentialsApi,
  async handle(ctx, req) {
    // KafkaApis: DESCRIBE on the cluster.
    if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [] };
    const store = await ctx.broker.scramCredentials();
    const all = store.users();
    const info = (user: string) => all.get(user)!.map(([m, iterations]) => ({ mechanism: MECHANISM_TYPE[m], iterations }));
    let results: DescribeUserScramCredentialsResult[];
    if (req.users === null || req.users.length === 0) {
      results = [...all.keys()].sort().map((user) => ({ user, errorCode: 0, errorMessage: null, credentialInfos: info(user) }));
    } else {
      const counts = new Map<string, number>();
      for (const u of req.users) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
      results = [...counts].map(([user, n]): DescribeUserScramCredentialsResult => {
        if (n > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
        if (!all.has(user)) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
        return { user, errorCode: 0, errorMessage: null, credentialInfos: info(user) };
      });
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results };
  },
});
