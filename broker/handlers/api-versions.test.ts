import t from 'tap';
import { makeApiVersionsRequest } from '../../protocol/generated/api-versions.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const API_VERSIONS = 18;
const apiVersionsReq = makeApiVersionsRequest({ clientSoftwareName: 'test', clientSoftwareVersion: '1' });
const finalized = (res: any) => Object.fromEntries(res.finalizedFeatures.map((f: any) => [f.name, [f.minVersionLevel, f.maxVersionLevel]]));

t.test('ApiVersions v3+ carries supported and finalized features', async (t) => {
  const tb = await startTestBroker();
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  for (const v of [3, 4]) {
    const res = await c.request(API_VERSIONS, v, apiVersionsReq);
    t.same(res.supportedFeatures.map((f: any) => [f.name, f.minVersion, f.maxVersion]), v === 3 ? [['metadata.version', 7, 33], ['group.version', 1, 1]] : [['metadata.version', 7, 33], ['group.version', 1, 1], ['transaction.version', 0, 2]], `v${v} supported (v3 leaves out ranges from 0, KAFKA-17011)`);
    t.same(finalized(res), { 'metadata.version': [33, 33], 'group.version': [1, 1], 'transaction.version': [2, 2] }, `v${v} finalized (transaction.version 2 as Kafka 4.4 bootstraps)`);
    t.equal(res.finalizedFeaturesEpoch, tb.broker.context.controller.image.offset, 'epoch = image offset');
    t.ok(res.finalizedFeaturesEpoch >= 0n);
  }
  const v2 = await c.request(API_VERSIONS, 2, apiVersionsReq);
  t.notOk('supportedFeatures' in v2 && v2.supportedFeatures.length > 0, 'no features below v3');
});

