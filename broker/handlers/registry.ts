// The handlers the broker serves, loaded on first use. Importing every handler at start (and with it 30+
// generated codecs) cost ~11 MiB of idle RSS and start-up time; a client that only produces needs three.
//
// Each entry repeats the versions its handler file declares, so ApiVersions can advertise them without
// loading the module; registry.test.ts checks that this list and index.ts's allHandlers agree. Adding a
// handler: add it to index.ts and here.
import { apiNames, apiVersionRanges } from '../../protocol/generated/api-table.ts';
import type { Handler, HandlerSlot, LazyHandler } from '../handler.ts';

const h = (apiKey: number, minVersion: number, maxVersion: number, load: () => Promise<{ handler: Handler }>, advertisedMinVersion?: number): LazyHandler =>
  ({ apiKey, minVersion, maxVersion, advertisedMinVersion, load: async () => (await load()).handler });

export const lazyHandlers: readonly LazyHandler[] = [
  h(0, 3, 13, () => import('./produce.ts'), 0),
  h(1, 4, 18, () => import('./fetch.ts')),
  h(2, 1, 11, () => import('./list-offsets.ts')),
  h(3, 0, 13, () => import('./metadata.ts')),
  h(8, 2, 10, () => import('./offset-commit.ts')),
  h(9, 1, 10, () => import('./offset-fetch.ts')),
  h(10, 0, 6, () => import('./find-coordinator.ts')),
  h(11, 0, 9, () => import('./join-group.ts')),
  h(12, 0, 4, () => import('./heartbeat.ts')),
  h(13, 0, 5, () => import('./leave-group.ts')),
  h(14, 0, 5, () => import('./sync-group.ts')),
  h(15, 0, 6, () => import('./describe-groups.ts')),
  h(16, 0, 5, () => import('./list-groups.ts')),
  h(18, 0, 5, () => import('./api-versions.ts')),
  h(19, 2, 7, () => import('./create-topics.ts')),
  h(20, 1, 6, () => import('./delete-topics.ts')),
  h(21, 0, 2, () => import('./delete-records.ts')),
  h(22, 0, 5, () => import('./init-producer-id.ts')),
  h(23, 2, 4, () => import('./offset-for-leader-epoch.ts')),
  h(24, 0, 5, () => import('./add-partitions-to-txn.ts')),
  h(25, 0, 4, () => import('./add-offsets-to-txn.ts')),
  h(26, 0, 4, () => import('./end-txn.ts')),
  h(28, 0, 4, () => import('./txn-offset-commit.ts')),
  h(32, 1, 4, () => import('./describe-configs.ts')),
  h(33, 0, 2, () => import('./alter-configs.ts')),
  h(35, 1, 5, () => import('./describe-log-dirs.ts')),
  h(37, 0, 3, () => import('./create-partitions.ts')),
  h(42, 0, 3, () => import('./delete-groups.ts')),
  h(44, 0, 1, () => import('./incremental-alter-configs.ts')),
  h(47, 0, 0, () => import('./offset-delete.ts')),
  h(60, 0, 2, () => import('./describe-cluster.ts')),
  h(61, 0, 0, () => import('./describe-producers.ts')),
  h(65, 0, 0, () => import('./describe-transactions.ts')),
  h(66, 0, 2, () => import('./list-transactions.ts')),
  h(68, 0, 1, () => import('./consumer-group-heartbeat.ts')),
  h(69, 0, 1, () => import('./consumer-group-describe.ts')),
];

const isLoaded = (x: Handler | LazyHandler): x is Handler => 'handle' in x;

/**
 * Handler slots indexed by API key, from loaded handlers (tests) or lazy ones. A version Kafka marks
 * `latestVersionUnstable` is served only when `unstable.api.versions.enable` is set, as Kafka does; an API
 * whose only version is unstable is dropped.
 */
export function buildHandlerTable(handlers: ReadonlyArray<Handler | LazyHandler>, enableUnstable: boolean): Array<HandlerSlot | undefined> {
  const table: Array<HandlerSlot | undefined> = [];
  for (const x of handlers) {
    const apiKey = isLoaded(x) ? x.api.apiKey : x.apiKey;
    const range = apiVersionRanges[apiKey];
    if (!range) throw new Error(`handler for unknown API key ${apiKey}`);
    let max = x.maxVersion;
    if (!enableUnstable && range.latestVersionUnstable && max === range.maxVersion) max--;
    if (max < x.minVersion) continue;
    if (table[apiKey]) throw new Error(`two handlers for API key ${apiKey}`);
    table[apiKey] = slot(x, apiKey, max);
  }
  return table;
}

function slot(x: Handler | LazyHandler, apiKey: number, maxVersion: number): HandlerSlot {
  const name = apiNames[apiKey]!;
  let loaded = isLoaded(x) ? x : undefined;
  let loading = loaded ? Promise.resolve(loaded) : undefined;
  return {
    apiKey, name, minVersion: x.minVersion, maxVersion, advertisedMinVersion: x.advertisedMinVersion,
    get loaded() { return loaded; },
    load() {
      loading ??= (x as LazyHandler).load().then((m) => {
        // A registry entry that disagrees with its module would advertise versions the handler does not serve.
        if (m.api.apiKey !== apiKey || m.minVersion !== x.minVersion || m.maxVersion !== x.maxVersion || m.advertisedMinVersion !== x.advertisedMinVersion) {
          throw new Error(`handlers/registry.ts: ${name} is listed as ${apiKey} v${x.minVersion}-${x.maxVersion}, its module says ${m.api.apiKey} v${m.minVersion}-${m.maxVersion}`);
        }
        loaded = m;
        return m;
      });
      return loading;
    },
  };
}
