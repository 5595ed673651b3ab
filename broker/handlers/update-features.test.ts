import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeApiVersionsRequest } from '../../protocol/generated/api-versions.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeUpdateFeaturesRequest } from '../../protocol/generated/update-features.ts';
import { RawClient } from '../testing/raw-client.ts';
import { restartTestBroker, startTestBroker } from '../testing/start.ts';

const API_VERSIONS = 18;
const UPDATE_FEATURES = 57;
const apiVersionsReq = makeApiVersionsRequest({ clientSoftwareName: 'test', clientSoftwareVersion: '1' });
const upd = (feature: string, maxVersionLevel: number, upgradeType = 1) => ({ feature, maxVersionLevel, upgradeType, allowDowngrade: false });
const finalized = (res: any) => Object.fromEntries(res.finalizedFeatures.map((f: any) => [f.name, [f.minVersionLevel, f.maxVersionLevel]]));

t.test('UpdateFeatures: Kafka\'s refusals and messages, all-or-nothing', async (t) => {
  const tb = await startTestBroker({ 'node.id': '1' });
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  const prefix = 'The update failed for all features since the following feature had an error: ';
  const cases: Array<[any[], string]> = [
    [[upd('foo.version', 1)], 'Invalid update version 1 for feature foo.version. Local controller 1 does not support this feature.'],
    [[upd('group.version', 5)], 'Invalid update version 5 for feature group.version. Local controller 1 only supports versions 1-1'],
    [[upd('group.version', 0, 2)], 'Invalid update version 0 for feature group.version. Local controller 1 only supports versions 1-1'],
    [[upd('metadata.version', 6)], 'Invalid update version 6 for feature metadata.version. Local controller 1 only supports versions 7-33'],
    [[upd('metadata.version', 30)], "Invalid update version 30 for feature metadata.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade."],
    [[upd('metadata.version', 30, 2)], 'Unsupported metadata.version downgrade from 33 to 30. Refusing to perform the requested downgrade because it might delete metadata information.'],
    [[upd('metadata.version', 30, 3)], 'Unsupported metadata.version downgrade from 33 to 30. Unsafe metadata downgrade is not supported in this version.'],
    [[upd('group.version', -1, 2)], 'Invalid update version -1 for feature group.version. A feature version cannot be less than 0.'],
    [[upd('group.version', 1, 7)], 'Invalid update version 1 for feature group.version. The controller does not support the given upgrade type.'],
    [[upd('group.version', 1), upd('share.version', 1)], 'Invalid update version 1 for feature share.version. Local controller 1 does not support this feature.'],
    [[upd('transaction.version', 3)], 'Invalid update version 3 for feature transaction.version. Local controller 1 only supports versions 0-2'],
    [[upd('transaction.version', 1)], "Invalid update version 1 for feature transaction.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade."],
  ];
  for (const [updates, message] of cases) {
    for (const v of [1, 2]) {
      const res = await c.request(UPDATE_FEATURES, v, makeUpdateFeaturesRequest({ featureUpdates: updates }));
      t.equal(res.errorCode, ErrorCode.INVALID_UPDATE_VERSION, message);
      t.equal(res.errorMessage, prefix + message);
      t.same(res.results, []);
    }
  }
  const ok = await c.request(UPDATE_FEATURES, 1, makeUpdateFeaturesRequest({ featureUpdates: [upd('metadata.version', 33), upd('share.version', 0, 2)], validateOnly: true }));
  t.same([ok.errorCode, ok.errorMessage, ok.results], [ErrorCode.NONE, null, [
    { feature: 'metadata.version', errorCode: 0, errorMessage: 'NONE' },
    { feature: 'share.version', errorCode: 0, errorMessage: 'NONE' },
  ]], 'same level and an unknown feature at 0 are accepted');
  const v2 = await c.request(UPDATE_FEATURES, 2, makeUpdateFeaturesRequest({ featureUpdates: [upd('group.version', 1)] }));
  t.same([v2.errorCode, v2.results], [ErrorCode.NONE, []], 'v2: no per-feature results');
  const v0 = await c.request(UPDATE_FEATURES, 0, makeUpdateFeaturesRequest({ featureUpdates: [{ feature: 'metadata.version', maxVersionLevel: 30, allowDowngrade: true, upgradeType: 1 }] }));
  t.match(v0.errorMessage, /Refusing to perform the requested downgrade/, 'v0 allowDowngrade = safe downgrade');
});

t.test('committed levels survive a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gregor-features-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tb0 = await startTestBroker({ 'log.dirs': dir }, { storage: 'file' });
  const c0 = await RawClient.connect(tb0.port);
  const res = await c0.request(UPDATE_FEATURES, 1, makeUpdateFeaturesRequest({ featureUpdates: [upd('group.version', 1), upd('metadata.version', 33)] }));
  t.equal(res.errorCode, ErrorCode.NONE);
  const { tb, c } = await restartTestBroker(t, tb0, c0, { 'log.dirs': dir });
  t.same(finalized(await c.request(API_VERSIONS, 3, apiVersionsReq)), { 'metadata.version': [33, 33], 'group.version': [1, 1], 'transaction.version': [2, 2] }, 'after restart');
});

