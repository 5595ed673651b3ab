// AlterUserScramCredentials (key 51): upserts (the client sends salt + salted password, as kafka-configs.sh
// --add-config 'SCRAM-SHA-256=[password=…]' does) and deletions, checked as Kafka's controller does; a user
// with any refused change keeps its credentials unchanged. Answered once the change is on disk
// (security/scram-store.ts). No authorizer yet (Kafka checks ALTER on the cluster).
import {
  AlterUserScramCredentialsApi,
  type AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsResponse,
} from '../../protocol/generated/alter-user-scram-credentials.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from '../security/authorizer.ts';
import { defineHandler } from '../handler.ts';
import { credentialFromSalted, MAX_ITERATIONS, MECHANISM_BY_TYPE, MIN_ITERATIONS, type ScramCredential, type ScramMechanism } from '../security/scram.ts';

type Change = { user: string; mechanism: ScramMechanism; credential: ScramCredential | null };

export const handler = defineHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse>({
  api: AlterUserScramCredentialsApi,
  async handle(ctx, req) {
    // KafkaApis: ALTER on the cluster, else every user CLUSTER_AUTHORIZATION_FAILED.
    if (!authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const users = [...new Set([...req.deletions, ...req.upsertions].map((u) => u.name))];
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })) };
    }
    const store = await ctx.broker.scramCredentials();
    // Per user: the first error, or its changes.
    const errors = new Map<string, [number, string]>();
    const changes = new Map<string, Change[]>();
    const seen = new Set<string>();
    const users: string[] = [];
    const fail = (user: string, code: number, message: string) => { if (!errors.has(user)) errors.set(user, [code, message]); };
    const all = [...req.deletions.map((d) => ({ ...d, upsert: null })), ...req.upsertions.map((u) => ({ name: u.name, mechanism: u.mechanism, upsert: u }))];
    for (const c of all) {
      if (!users.includes(c.name)) users.push(c.name);
      const key = `${c.name}\u0000${c.mechanism}`;
      if (seen.has(key)) { fail(c.name, ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'); continue; }
      seen.add(key);
      if (c.name === '') { fail(c.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'); continue; }
      const mechanism = MECHANISM_BY_TYPE.get(c.mechanism);
      if (!mechanism) { fail(c.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'); continue; }
      let credential: ScramCredential | null = null;
      if (c.upsert) {
        if (c.upsert.iterations < MIN_ITERATIONS) { fail(c.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'); continue; }
        if (c.upsert.iterations > MAX_ITERATIONS) { fail(c.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'); continue; }
        if (c.upsert.salt.length === 0 || c.upsert.saltedPassword.length === 0) { fail(c.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Salt and salted password must not be empty'); continue; }
        credential = credentialFromSalted(mechanism, Buffer.from(c.upsert.saltedPassword), Buffer.from(c.upsert.salt), c.upsert.iterations);
      } else if (store.get(mechanism, c.name) === undefined) {
        fail(c.name, ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'); continue;
      }
      if (!changes.has(c.name)) changes.set(c.name, []);
      changes.get(c.name)!.push({ user: c.name, mechanism, credential });
    }
    const apply = users.filter((u) => !errors.has(u)).flatMap((u) => changes.get(u) ?? []);
    if (apply.length > 0) await store.apply(apply);
    return {
      throttleTimeMs: 0,
      results: users.map((user) => {
        const e = errors.get(user);
        return { user, errorCode: e ? e[0] : 0, errorMessage: e ? e[1] : null };
      }),
    };
  },
});
