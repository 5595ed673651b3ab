import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { FaultyFs, MemFs } from '../../storage/index.ts';
import { PRODUCER_IDS_FILE } from '../producers/index.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker } from '../testing/start.ts';

const INIT_PRODUCER_ID = 22;
const API_VERSIONS = 18;

async function setup(t: any, overrides: Record<string, string> = {}, options: Record<string, unknown> = {}) {
  const tb = await startTestBroker(overrides, options);
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  return { tb, c };
}

const init = (c: RawClient, v: number, body: Record<string, unknown> = {}) =>
  c.request(INIT_PRODUCER_ID, v, { transactionalId: null, transactionTimeoutMs: 60000, ...body });

t.test('advertised 0-5 (v6 is unstable in 4.4 and transactional only)', async (t) => {
  const { c } = await setup(t);
  const r = await c.request(API_VERSIONS, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  const k = r.apiKeys.find((a: any) => a.apiKey === INIT_PRODUCER_ID);
  t.same([k.minVersion, k.maxVersion], [0, 5]);
});

t.test('every version: no transactional id → a new producer id with epoch 0', async (t) => {
  const { c } = await setup(t);
  const seen = new Set<bigint>();
  for (let v = 0; v <= 5; v++) {
    const r = await init(c, v);
    t.equal(r.errorCode, 0, `v${v}`);
    t.equal(r.producerEpoch, 0, `v${v} epoch 0`);
    t.notOk(seen.has(r.producerId), `v${v} id ${r.producerId} is new`);
    seen.add(r.producerId);
  }
  t.same([...seen], [0n, 1n, 2n, 3n, 4n, 5n]);
});

t.test('KIP-360 (v3+) with the current id/epoch: Kafka gives an idempotent producer a new id, epoch 0', async (t) => {
  const { c } = await setup(t);
  const first = await init(c, 4);
  for (const v of [3, 4, 5]) {
    const r = await init(c, v, { producerId: first.producerId, producerEpoch: first.producerEpoch });
    t.equal(r.errorCode, 0);
    t.ok(r.producerId > first.producerId, `v${v} new id`);
    t.equal(r.producerEpoch, 0);
  }
  const stale = await init(c, 4, { producerId: 12345n, producerEpoch: 7 });
  t.equal(stale.errorCode, 0, 'an unknown id/epoch is not checked for idempotent producers either');
});

t.test('producerId and producerEpoch must both be -1 or both set → INVALID_REQUEST', async (t) => {
  const { c } = await setup(t);
  for (const body of [{ producerId: 5n, producerEpoch: -1 }, { producerId: -1n, producerEpoch: 0 }]) {
    const r = await init(c, 4, body);
    t.same([r.errorCode, r.producerId, r.producerEpoch], [ErrorCode.INVALID_REQUEST, -1n, -1]);
  }
});

t.test('transactional ids: INVALID_REQUEST, INVALID_TRANSACTION_TIMEOUT, else the coordinator bumps the epoch', async (t) => {
  const { c } = await setup(t, { 'transaction.max.timeout.ms': '60000' });
  for (let v = 0; v <= 5; v++) {
    const empty = await init(c, v, { transactionalId: '' });
    t.equal(empty.errorCode, ErrorCode.INVALID_REQUEST, `v${v} empty id`);
    for (const timeout of [0, -1, 60001]) {
      const r = await init(c, v, { transactionalId: 'tx', transactionTimeoutMs: timeout });
      t.equal(r.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT, `v${v} timeout ${timeout}`);
    }
    const r = await init(c, v, { transactionalId: 'tx', transactionTimeoutMs: 60000 });
    t.same([r.errorCode, r.producerEpoch], [ErrorCode.NONE, v], `v${v}: epoch ${v} (one bump per call)`);
  }
});

t.test('id blocks: committed (ProducerIdsRecord) before use; a restart (clean or crash) never reuses an id', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-pid-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const opts = { 'log.dirs': dir };
  const ids = async (tb: Awaited<ReturnType<typeof startTestBroker>>, n: number) => {
    const c = await RawClient.connect(tb.port);
    const out: bigint[] = [];
    try {
      // pipelined: a block claim in progress keeps request order
      for (let i = 0; i < n; i++) c.sendRaw(c.encodeRequest(INIT_PRODUCER_ID, 4, { transactionalId: null, transactionTimeoutMs: 1 }));
      for (let i = 0; i < n; i++) {
        const r = c.decodeResponse(INIT_PRODUCER_ID, 4, await c.nextFrame());
        if (r.errorCode !== 0) t.fail(`error ${r.errorCode}`);
        out.push(r.producerId);
      }
    } finally { c.close(); }
    return out;
  };
  const b1 = await startTestBroker(opts, { storage: 'file' });
  const first = await ids(b1, 3);
  t.same(first, [0n, 1n, 2n]);
  t.equal(b1.broker.context.controller.image.nextProducerId, 1000n, 'block end committed');
  t.notOk(fs.existsSync(path.join(dir, PRODUCER_IDS_FILE)), 'no producer-ids file any more');
  await b1.close();

  const b2 = await startTestBroker(opts, { storage: 'file' });
  const second = await ids(b2, 1001); // crosses into the block after
  t.equal(second[0], 1000n, 'clean restart: next block');
  t.ok(second.every((x, i) => i === 0 || x === second[i - 1] + 1n), 'consecutive');
  t.equal(second[1000], 2000n);
  t.equal(b2.broker.context.controller.image.nextProducerId, 3000n);
  // crash: b2 is never closed before b3 starts on the same directory
  const b3 = await startTestBroker(opts, { storage: 'file' });
  t.teardown(() => b2.close());
  t.teardown(() => b3.close());
  const third = await ids(b3, 2);
  t.same(third, [3000n, 3001n], 'after a crash the rest of the block is skipped, never reused');
});

t.test('a block from the old producer-ids file is a floor: ids used before the migration are never reused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-pid-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, PRODUCER_IDS_FILE), JSON.stringify({ version: 1, nextBlockStart: 7000 }) + '\n');
  const { c } = await setup(t, { 'log.dirs': dir }, { storage: 'file' });
  const r = await init(c, 4);
  t.same([r.errorCode, r.producerId], [0, 7000n]);
});

t.test('a failed metadata log write answers COORDINATOR_LOAD_IN_PROGRESS, and later requests are refused, never hang', async (t) => {
  const fsx = new FaultyFs(new MemFs());
  const { c } = await setup(t, {}, { fs: fsx });
  fsx.failNext('write', { code: 'ENOSPC', pathIncludes: '__cluster_metadata', times: 10 });
  const r1 = await init(c, 4);
  t.same([r1.errorCode, r1.producerId], [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, -1n]);
  const r2 = await init(c, 4);
  t.same([r2.errorCode, r2.producerId], [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, -1n]);
});
