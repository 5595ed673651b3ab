// The table connections dispatch on: one slot per API key, from the rows of handlers/index.ts (each handler
// loaded on its first request) or from loaded handlers (tests). A failed load is retried on the next request.
import { apiNames, apiVersionRanges } from '../protocol/generated/api-table.ts';
import { checkRange, type Handler, type VersionRange } from './handler.ts';
import { type HandlerRow, loadHandler } from './handlers/index.ts';

export interface HandlerSlot extends VersionRange {
  readonly name: string;
  /** A controller-listener API (HandlerRow.controllerOnly): not advertised, refused on other listeners. */
  readonly controllerOnly: boolean;
  /** The handler once its module is loaded. */
  readonly loaded: Handler | undefined;
  /** Loads the module; concurrent calls share one attempt, a failed attempt is retried by the next call. */
  load(): Promise<Handler>;
}

export type HandlerTable = ReadonlyArray<HandlerSlot | undefined>;

const isLoaded = (x: Handler | HandlerRow): x is Handler => 'handle' in x;

/**
 * Slots indexed by API key. A version Kafka marks `latestVersionUnstable` is served only when
 * `unstable.api.versions.enable` is set, as Kafka does; an API whose only version is unstable is dropped.
 */
export function buildHandlerTable(handlers: ReadonlyArray<Handler | HandlerRow>, enableUnstable: boolean, load: (row: HandlerRow) => Promise<Handler> = loadHandler): HandlerSlot[] {
  const table: HandlerSlot[] = [];
  for (const x of handlers) {
    const apiKey = isLoaded(x) ? x.api.apiKey : x.apiKey;
    const range = apiVersionRanges[apiKey];
    if (!range) throw new Error(`handler for unknown API key ${apiKey}`);
    checkRange({ name: apiNames[apiKey]!, ...range }, x);
    let max = x.maxVersion;
    if (!enableUnstable && range.latestVersionUnstable && max === range.maxVersion) max--;
    if (max < x.minVersion) continue;
    if (table[apiKey]) throw new Error(`two handlers for API key ${apiKey}`);
    table[apiKey] = slot(x, apiKey, max, load);
  }
  return table;
}

function slot(x: Handler | HandlerRow, apiKey: number, maxVersion: number, load: (row: HandlerRow) => Promise<Handler>): HandlerSlot {
  let loaded = isLoaded(x) ? x : undefined;
  let loading: Promise<Handler> | undefined = loaded ? Promise.resolve(loaded) : undefined;
  return {
    apiKey, name: apiNames[apiKey]!, minVersion: x.minVersion, maxVersion, advertisedMinVersion: x.advertisedMinVersion, unadvertised: x.unadvertised,
    controllerOnly: !isLoaded(x) && x.controllerOnly === true,
    get loaded() { return loaded; },
    load() {
      loading ??= load(x as HandlerRow).then((h) => (loaded = h), (err) => {
        loading = undefined; // EMFILE and the like pass: the next request tries again
        throw err;
      });
      return loading;
    },
  };
}

/** What ApiVersions advertises: plain version data. */
export function advertisedVersions(table: HandlerTable): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  const out = [];
  for (const h of table) if (h && !h.unadvertised && !h.controllerOnly) out.push({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion });
  return out;
}
