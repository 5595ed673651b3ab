// What the broker advertises (from the handler table, as ApiVersions reports it with default
// config) and the captured client frames (protocol/fixtures) used as mutation seeds.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHandlerTable } from '../../broker/handler-table.ts';
import { handlerRows } from '../../broker/handlers/index.ts';

export interface ServedApi {
  apiKey: number;
  name: string;
  /** What ApiVersions advertises. */
  advertisedMin: number;
  /** What the handler serves (Produce: advertised from 0, served from 3). */
  servedMin: number;
  max: number;
}

export function servedApis(): ServedApi[] {
  const out: ServedApi[] = [];
  for (const s of buildHandlerTable(handlerRows, false)) {
    // Controller-listener APIs are not served on the client listener the fuzzer talks to.
    if (!s || s.controllerOnly) continue;
    out.push({ apiKey: s.apiKey, name: s.name, advertisedMin: s.advertisedMinVersion ?? s.minVersion, servedMin: s.minVersion, max: s.maxVersion });
  }
  return out;
}

/** Every advertised (api, version) pair, in a fixed order. */
export function advertisedPairs(apis: ServedApi[]): Array<{ apiKey: number; version: number }> {
  const out = [];
  for (const a of apis) for (let v = a.advertisedMin; v <= a.max; v++) out.push({ apiKey: a.apiKey, version: v });
  return out;
}

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../protocol/fixtures');

/** Captured request frames (size-prefixed) of advertised APIs, in index order. */
export function fixtureFrames(apis: ServedApi[]): Buffer[] {
  const index = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'index.json'), 'utf8')) as { fixtures: Array<{ apiKey: number; requestFile: string }> };
  const keys = new Set(apis.map((a) => a.apiKey));
  const out: Buffer[] = [];
  for (const f of index.fixtures) {
    if (!keys.has(f.apiKey)) continue;
    const body = fs.readFileSync(path.join(FIXTURES, f.requestFile));
    const frame = Buffer.alloc(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);
    out.push(frame);
  }
  return out;
}
