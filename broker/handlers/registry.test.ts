import t from 'tap';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { ProduceApi } from '../../protocol/generated/produce.ts';
import { defineHandler, type Handler, type LazyHandler } from '../handler.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';
import { allHandlers } from './index.ts';
import { buildHandlerTable, lazyHandlers } from './registry.ts';

const describe = (h: { minVersion: number; maxVersion: number; advertisedMinVersion?: number }) =>
  `v${h.minVersion}-${h.maxVersion}${h.advertisedMinVersion === undefined ? '' : ` (advertised from v${h.advertisedMinVersion})`}`;

t.test('registry.ts lists exactly the handlers of index.ts, with their versions', async (t) => {
  const eager = new Map(allHandlers.map((h) => [h.api.apiKey, `${h.api.name} ${describe(h)}`]));
  const lazy = new Map<number, string>();
  for (const e of lazyHandlers) {
    const h = await e.load();
    t.equal(h, allHandlers.find((x) => x.api.apiKey === e.apiKey), `key ${e.apiKey} loads the module index.ts imports`);
    lazy.set(e.apiKey, `${h.api.name} ${describe(e)}`);
  }
  const keys = [...new Set([...eager.keys(), ...lazy.keys()])].sort((a, b) => a - b);
  const differing = keys.filter((k) => eager.get(k) !== lazy.get(k)).map((k) => `key ${k}: index.ts ${eager.get(k) ?? 'none'}, registry.ts ${lazy.get(k) ?? 'none'}`);
  t.same(differing, [], 'update broker/handlers/registry.ts');
});

t.test('a registry entry that disagrees with its module fails to load', async (t) => {
  const { handler } = await import('./metadata.ts');
  const wrong: LazyHandler = { apiKey: 3, minVersion: 0, maxVersion: 12, load: async () => handler };
  const [, , , slot] = buildHandlerTable([wrong], false);
  await t.rejects(slot!.load(), /registry\.ts: Metadata is listed as 3 v0-12, its module says 3 v0-13/);
});

t.test('versions Kafka marks unstable are dropped unless enabled, for loaded and lazy handlers alike', async (t) => {
  // InitProducerId v6 is latestVersionUnstable in Kafka 4.4's definitions.
  const lazy: LazyHandler = { apiKey: 22, minVersion: 0, maxVersion: 6, load: async () => { throw new Error('not loaded here'); } };
  t.equal(buildHandlerTable([lazy], false)[22]!.maxVersion, 5);
  t.equal(buildHandlerTable([lazy], true)[22]!.maxVersion, 6);
  const onlyUnstable: LazyHandler = { ...lazy, minVersion: 6 };
  t.equal(buildHandlerTable([onlyUnstable], false)[22], undefined, 'an API whose only version is unstable is dropped');
  const loaded: Handler = defineHandler({ api: ProduceApi, minVersion: 3, maxVersion: 13, handle: () => null });
  const slot = buildHandlerTable([loaded], false)[0]!;
  t.equal(slot.loaded, loaded, 'a loaded handler needs no loading');
  t.equal(await slot.load(), loaded);
  t.throws(() => buildHandlerTable([loaded, loaded], false), /two handlers for API key 0/);
});

t.test('requests for handlers not loaded yet are answered in arrival order', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  t.equal(tb.broker.context.handlers[3]!.loaded, undefined, 'Metadata is not loaded before its first request');
  t.ok(tb.broker.context.handlers[18]!.loaded, 'ApiVersions is loaded at start');
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  // One write: unloaded Metadata, loaded ApiVersions, unloaded DescribeCluster and ListGroups, then again.
  const kinds: Array<[number, number, unknown]> = [
    [3, 12, makeMetadataRequest({ topics: [] })], [18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }],
    [60, 1, {}], [16, 4, {}], [3, 9, makeMetadataRequest({ topics: [] })], [18, 0, {}], [60, 0, {}],
  ];
  const frames = kinds.map(([key, v, body], i) => c.encodeRequest(key, v, body, 500 + i));
  c.sendRaw(Buffer.concat(frames));
  const got: number[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const f = await c.nextFrame();
    got.push(f.readInt32BE(0));
    const [key, v] = kinds[i]!;
    const res = c.decodeResponse(key, v, f);
    t.equal(res.errorCode ?? 0, 0, `${key} v${v} answered without error`);
  }
  t.same(got, kinds.map((_, i) => 500 + i), 'responses in request order');
  for (const k of [3, 16, 60]) t.ok(tb.broker.context.handlers[k]!.loaded, `key ${k} loaded now`);
});

t.test('an unsupported version of an unloaded handler closes the connection without loading it', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  const frame = c.encodeRequest(60, 0, {}, 7);
  frame.writeInt16BE(99, 6); // request_api_version, after the size prefix and the api key
  c.sendRaw(frame);
  await c.waitClosed();
  t.equal(tb.broker.context.handlers[60]!.loaded, undefined);
});
