// The handler table: one row per handler file and one file per row, each row's versions inside its API's
// definitions; lazy loading keeps arrival order; a failed load answers an error and is retried.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { apiNames } from '../../protocol/generated/api-table.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { ProduceApi } from '../../protocol/generated/produce.ts';
import { defineHandler, type Handler } from '../handler.ts';
import { buildHandlerTable } from '../handler-table.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';
import { type HandlerRow, handlerRows, loadHandler } from './index.ts';

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

t.test('every handler file has its row and every row its file', async (t) => {
  const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts').sort();
  const rowFiles = handlerRows.map((r) => r.file).sort();
  t.same(files.filter((f) => !rowFiles.includes(f)), [], 'handler files without a row in handlers/index.ts');
  t.same(rowFiles.filter((f) => !files.includes(f)), [], 'rows whose file does not exist');
  t.equal(new Set(rowFiles).size, rowFiles.length, 'one row per file');
  t.equal(new Set(handlerRows.map((r) => r.apiKey)).size, handlerRows.length, 'one row per API key');
});

t.test('each row loads its API\'s handler, named after the API, with versions inside the definitions', async (t) => {
  for (const row of handlerRows) {
    const h = await loadHandler(row);
    t.equal(h.api.apiKey, row.apiKey, row.file);
    t.equal(row.file, `${kebab(apiNames[row.apiKey]!)}.ts`, `${row.file} is named after ${apiNames[row.apiKey]}`);
    t.ok(row.minVersion >= h.api.minVersion && row.maxVersion <= h.api.maxVersion && row.minVersion <= row.maxVersion, `${row.file} v${row.minVersion}-${row.maxVersion} within ${h.api.minVersion}-${h.api.maxVersion}`);
    t.same([h.minVersion, h.maxVersion, h.advertisedMinVersion], [row.minVersion, row.maxVersion, row.advertisedMinVersion]);
  }
  t.throws(() => buildHandlerTable([{ apiKey: 3, file: 'metadata.ts', minVersion: 0, maxVersion: 99 }], false), /Metadata: handler range 0-99 outside definitions 0-13/);
});

t.test('versions Kafka marks unstable are dropped unless enabled, for loaded and lazy handlers alike', async (t) => {
  // InitProducerId v6 is latestVersionUnstable in Kafka 4.4's definitions.
  const row: HandlerRow = { apiKey: 22, file: 'init-producer-id.ts', minVersion: 0, maxVersion: 6 };
  t.equal(buildHandlerTable([row], false)[22]!.maxVersion, 5);
  t.equal(buildHandlerTable([row], true)[22]!.maxVersion, 6);
  t.equal(buildHandlerTable([{ ...row, minVersion: 6 }], false)[22], undefined, 'an API whose only version is unstable is dropped');
  const loaded: Handler = defineHandler({ api: ProduceApi, minVersion: 3, maxVersion: 13, handle: () => null });
  const slot = buildHandlerTable([loaded], false)[0]!;
  t.equal(slot.loaded, loaded, 'a loaded handler needs no loading');
  t.equal(await slot.load(), loaded);
  t.throws(() => buildHandlerTable([loaded, loaded], false), /two handlers for API key 0/);
});

t.test('requests for handlers not loaded yet are answered in arrival order', async (t) => {
  const tb = await startTestBroker();
  t.teardown(() => tb.close());
  t.equal(tb.broker.handlers[3]!.loaded, undefined, 'Metadata is not loaded before its first request');
  t.ok(tb.broker.handlers[18]!.loaded, 'ApiVersions is loaded at start');
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  // One write: unloaded Metadata, loaded ApiVersions, unloaded DescribeCluster and ListGroups, then again.
  const kinds: Array<[number, number, unknown]> = [
    [3, 12, makeMetadataRequest({ topics: [] })], [18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }],
    [60, 1, {}], [16, 4, {}], [3, 9, makeMetadataRequest({ topics: [] })], [18, 0, {}], [60, 0, {}],
  ];
  c.sendRaw(Buffer.concat(kinds.map(([key, v, body], i) => c.encodeRequest(key, v, body, 500 + i))));
  const got: number[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const f = await c.nextFrame();
    got.push(f.readInt32BE(0));
    const [key, v] = kinds[i]!;
    t.equal(c.decodeResponse(key, v, f).errorCode ?? 0, 0, `${key} v${v} answered without error`);
  }
  t.same(got, kinds.map((_, i) => 500 + i), 'responses in request order');
  for (const k of [3, 16, 60]) t.ok(tb.broker.handlers[k]!.loaded, `key ${k} loaded now`);
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
  t.equal(tb.broker.handlers[60]!.loaded, undefined);
});

t.test('a handler that fails to load: UNKNOWN_SERVER_ERROR for that request, later requests in order, load retried', async (t) => {
  let failures = 1;
  const attempts: string[] = [];
  const tb = await startTestBroker({}, {
    loadHandler: async (row) => {
      attempts.push(row.file);
      if (row.file === 'describe-cluster.ts' && failures-- > 0) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
      return loadHandler(row);
    },
  });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  // DescribeCluster (fails to load), then ListGroups behind it in the same write.
  c.sendRaw(Buffer.concat([c.encodeRequest(60, 1, { endpointType: 1 }, 1), c.encodeRequest(16, 4, {}, 2)]));
  const first = c.decodeResponse(60, 1, await c.nextFrame());
  t.same([first.correlationId, first.errorCode], [1, ErrorCode.UNKNOWN_SERVER_ERROR], 'answered with an error, not a closed connection');
  const second = c.decodeResponse(16, 4, await c.nextFrame());
  t.same([second.correlationId, second.errorCode], [2, ErrorCode.NONE], 'the next request is served');
  t.ok(tb.logLines.some((l) => /loading the DescribeCluster handler failed \(retried on its next request\): Error: EMFILE/.test(l)));
  const retried = await c.request(60, 1, { endpointType: 1 });
  t.equal(retried.errorCode, ErrorCode.NONE, 'the load is retried and succeeds');
  t.equal(attempts.filter((f) => f === 'describe-cluster.ts').length, 2);
});

t.test('a failed load whose version cannot carry an error closes only that connection; the next one is served', async (t) => {
  let failures = 1;
  const tb = await startTestBroker({}, {
    loadHandler: async (row) => {
      if (row.file === 'metadata.ts' && failures-- > 0) throw new Error('EMFILE: too many open files');
      return loadHandler(row);
    },
  });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  // Metadata v1 has no top-level error code (Kafka's error response would list the topics with it).
  c.sendRaw(c.encodeRequest(3, 1, makeMetadataRequest({ topics: [] }), 1));
  await c.waitClosed();
  const c2 = await RawClient.connect(tb.port);
  t.teardown(() => c2.close());
  t.same((await c2.request(3, 1, makeMetadataRequest({ topics: [] }))).topics, []);
});
