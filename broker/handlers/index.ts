// The broker's one handler table: per API, its handler file (named after the API: ListOffsets →
// list-offsets.ts, exporting `handler = defineHandler({ api, handle })`) and the versions it serves, which
// ApiVersions advertises. Adding an API is its handler file plus its row here; index.test.ts checks that
// files and rows match and that the versions lie within the API's definitions.
//
// Plain data: the broker loads a handler module on its first request (see broker/handler-table.ts), so a
// client that only produces never loads the group or transaction handlers and their codecs.
import type { Handler, HandlerImpl, VersionRange } from '../handler.ts';

export interface HandlerRow extends VersionRange {
  /** The handler module, in this directory. */
  readonly file: string;
  /**
   * Served only on the controller listeners (`controller.listener.names`), never advertised in ApiVersions:
   * Kafka's `"listeners": ["controller"]` APIs (BrokerRegistration, BrokerHeartbeat).
   */
  readonly controllerOnly?: boolean;
}

export const handlerRows: readonly HandlerRow[] = [
  // Kafka 4.x advertises Produce from v0 (KAFKA-18659): librdkafka ≤ 2.11 only compresses when v0 is listed.
  { apiKey: 0, file: 'produce.ts', minVersion: 3, maxVersion: 13, advertisedMinVersion: 0 },
  { apiKey: 1, file: 'fetch.ts', minVersion: 4, maxVersion: 18 },
  { apiKey: 2, file: 'list-offsets.ts', minVersion: 1, maxVersion: 11 },
  { apiKey: 3, file: 'metadata.ts', minVersion: 0, maxVersion: 13 },
  { apiKey: 8, file: 'offset-commit.ts', minVersion: 2, maxVersion: 10 },
  { apiKey: 9, file: 'offset-fetch.ts', minVersion: 1, maxVersion: 10 },
  { apiKey: 10, file: 'find-coordinator.ts', minVersion: 0, maxVersion: 6 },
  { apiKey: 11, file: 'join-group.ts', minVersion: 0, maxVersion: 9 },
  { apiKey: 12, file: 'heartbeat.ts', minVersion: 0, maxVersion: 4 },
  { apiKey: 13, file: 'leave-group.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 14, file: 'sync-group.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 15, file: 'describe-groups.ts', minVersion: 0, maxVersion: 6 },
  { apiKey: 16, file: 'list-groups.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 17, file: 'sasl-handshake.ts', minVersion: 0, maxVersion: 1 },
  { apiKey: 18, file: 'api-versions.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 19, file: 'create-topics.ts', minVersion: 2, maxVersion: 7 },
  { apiKey: 20, file: 'delete-topics.ts', minVersion: 1, maxVersion: 6 },
  { apiKey: 21, file: 'delete-records.ts', minVersion: 0, maxVersion: 2 },
  { apiKey: 22, file: 'init-producer-id.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 23, file: 'offset-for-leader-epoch.ts', minVersion: 2, maxVersion: 4 },
  { apiKey: 24, file: 'add-partitions-to-txn.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 25, file: 'add-offsets-to-txn.ts', minVersion: 0, maxVersion: 4 },
  { apiKey: 26, file: 'end-txn.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 28, file: 'txn-offset-commit.ts', minVersion: 0, maxVersion: 5 },
  { apiKey: 29, file: 'describe-acls.ts', minVersion: 1, maxVersion: 3 },
  { apiKey: 30, file: 'create-acls.ts', minVersion: 1, maxVersion: 3 },
  { apiKey: 31, file: 'delete-acls.ts', minVersion: 1, maxVersion: 3 },
  { apiKey: 32, file: 'describe-configs.ts', minVersion: 1, maxVersion: 4 },
  { apiKey: 33, file: 'alter-configs.ts', minVersion: 0, maxVersion: 2 },
  { apiKey: 35, file: 'describe-log-dirs.ts', minVersion: 1, maxVersion: 5 },
  { apiKey: 36, file: 'sasl-authenticate.ts', minVersion: 0, maxVersion: 2 },
  { apiKey: 37, file: 'create-partitions.ts', minVersion: 0, maxVersion: 3 },
  { apiKey: 42, file: 'delete-groups.ts', minVersion: 0, maxVersion: 3 },
  { apiKey: 43, file: 'elect-leaders.ts', minVersion: 0, maxVersion: 2 },
  { apiKey: 44, file: 'incremental-alter-configs.ts', minVersion: 0, maxVersion: 1 },
  { apiKey: 45, file: 'alter-partition-reassignments.ts', minVersion: 0, maxVersion: 1 },
  { apiKey: 46, file: 'list-partition-reassignments.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 47, file: 'offset-delete.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 50, file: 'describe-user-scram-credentials.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 51, file: 'alter-user-scram-credentials.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 57, file: 'update-features.ts', minVersion: 0, maxVersion: 2 },
  { apiKey: 60, file: 'describe-cluster.ts', minVersion: 0, maxVersion: 2 },
  { apiKey: 61, file: 'describe-producers.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 62, file: 'broker-registration.ts', minVersion: 0, maxVersion: 4, controllerOnly: true },
  { apiKey: 63, file: 'broker-heartbeat.ts', minVersion: 0, maxVersion: 2, controllerOnly: true },
  { apiKey: 65, file: 'describe-transactions.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 66, file: 'list-transactions.ts', minVersion: 0, maxVersion: 2 },
  // Kafka without a telemetry receiver answers these but leaves them out of ApiVersions (broker/client-telemetry.ts).
  { apiKey: 71, file: 'get-telemetry-subscriptions.ts', minVersion: 0, maxVersion: 0, unadvertised: true },
  { apiKey: 72, file: 'push-telemetry.ts', minVersion: 0, maxVersion: 0, unadvertised: true },
  { apiKey: 74, file: 'list-config-resources.ts', minVersion: 0, maxVersion: 1 },
  { apiKey: 75, file: 'describe-topic-partitions.ts', minVersion: 0, maxVersion: 0 },
  { apiKey: 68, file: 'consumer-group-heartbeat.ts', minVersion: 0, maxVersion: 1 },
  { apiKey: 69, file: 'consumer-group-describe.ts', minVersion: 0, maxVersion: 1 },
];

/** Loads a row's handler module (dynamic: nothing here is imported at start). */
export async function loadHandler(row: HandlerRow): Promise<Handler> {
  const mod = await import(`./${row.file}`) as { handler?: HandlerImpl };
  if (!mod.handler) throw new Error(`broker/handlers/${row.file} exports no handler`);
  if (mod.handler.api.apiKey !== row.apiKey) throw new Error(`broker/handlers/${row.file} handles API key ${mod.handler.api.apiKey}, its row says ${row.apiKey}`);
  const { minVersion, maxVersion, advertisedMinVersion, unadvertised } = row;
  return { ...mod.handler, minVersion, maxVersion, advertisedMinVersion, unadvertised };
}

/** Every handler, loaded (tests, and `gregor.js --fill-compile-cache`). */
export function loadAllHandlers(): Promise<Handler[]> {
  return Promise.all(handlerRows.map(loadHandler));
}
