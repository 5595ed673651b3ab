// A response that cannot be encoded is our bug: the connection logs it and answers that request with
// UNKNOWN_SERVER_ERROR (Kafka's error-response shape), closing only when even that cannot be encoded.
import t from 'tap';
import { DescribeClusterApi, makeDescribeClusterResponse } from '../protocol/generated/describe-cluster.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { FindCoordinatorApi, makeFindCoordinatorResponse } from '../protocol/generated/find-coordinator.ts';
import { makeMetadataRequest, makeMetadataResponse } from '../protocol/generated/metadata.ts';
import { defineHandler, type Handler } from './handler.ts';
import { handler as metadata } from './handlers/metadata.ts';
import { RawClient } from './testing/raw-client.ts';
import { startTestBroker } from './testing/start.ts';
import { ZERO_UUID } from './topics.ts';

const unencodable = { errorCode: 0, name: null, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: 0 };

async function setup(t: any, handlers: Handler[]) {
  const tb = await startTestBroker({}, { handlers: [...handlers] });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

t.test('Metadata whose response cannot be encoded: UNKNOWN_SERVER_ERROR per topic, connection kept, bug logged', async (t) => {
  const broken: Handler = { ...metadata, minVersion: 0, maxVersion: 13, handle: () => makeMetadataResponse({ topics: [unencodable] }) };
  const cluster = defineHandler({ api: DescribeClusterApi, minVersion: 0, maxVersion: 2, handle: () => makeDescribeClusterResponse({ clusterId: 'c' }) });
  const { tb, c } = await setup(t, [broken, cluster]);
  for (const v of [1, 5, 9, 11]) {
    const res = await c.request(3, v, makeMetadataRequest({ topics: [{ name: 'a', topicId: ZERO_UUID }, { name: 'b', topicId: ZERO_UUID }] }));
    t.same(res.topics.map((x: any) => [x.name, x.errorCode]), [['a', ErrorCode.UNKNOWN_SERVER_ERROR], ['b', ErrorCode.UNKNOWN_SERVER_ERROR]], `v${v}`);
    t.same(res.brokers, []);
  }
  const next = await c.request(60, 0, {});
  t.equal(next.clusterId, 'c', 'the connection still serves');
  t.ok(tb.logLines.some((l) => /encoding the Metadata v1 \(correlation id \d+\) response failed, answering UNKNOWN_SERVER_ERROR/.test(l)));
});

t.test('no errorResponse: the top-level errorCode of the generated response, when this version has one', async (t) => {
  const broken = defineHandler({ api: DescribeClusterApi, minVersion: 0, maxVersion: 2, handle: () => makeDescribeClusterResponse({ clusterId: null as unknown as string }) });
  const { c } = await setup(t, [broken]);
  const res = await c.request(60, 1, { endpointType: 1 });
  t.equal(res.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  t.notOk(c.closed);
});

t.test('closes when the error cannot be expressed (no top-level errorCode in this version) or not encoded', async (t) => {
  // FindCoordinator v4+ answers per key: its top-level errorCode exists only up to v3.
  const findCoordinator = defineHandler({
    api: FindCoordinatorApi, minVersion: 0, maxVersion: 6,
    handle: () => makeFindCoordinatorResponse({ coordinators: [{ key: null as unknown as string, nodeId: 1, host: 'h', port: 1, errorCode: 0, errorMessage: null }] }),
  });
  const { tb, c } = await setup(t, [findCoordinator]);
  await c.request(10, 4, { keyType: 0, coordinatorKeys: ['g'] }).catch(() => {});
  await c.waitClosed();
  t.ok(tb.logLines.some((l) => /FindCoordinator v4 .*cannot be encoded and the API has no error response for this version/.test(l)));

  const alsoBroken: Handler = { ...metadata, minVersion: 0, maxVersion: 13, handle: () => makeMetadataResponse({ topics: [unencodable] }), errorResponse: () => makeMetadataResponse({ topics: [unencodable] }) };
  const tb2 = await startTestBroker({}, { handlers: [alsoBroken] });
  t.teardown(() => tb2.close());
  const c2 = await RawClient.connect(tb2.port);
  t.teardown(() => c2.close());
  await c2.request(3, 5, makeMetadataRequest({ topics: [] })).catch(() => {});
  await c2.waitClosed();
  t.ok(tb2.logLines.some((l) => /error response cannot be encoded either/.test(l)));
});
