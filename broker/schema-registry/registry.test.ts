// The registry's operations over a log whose appends take time, as a busy broker's may: changes must not
// interleave, and the state must be what the log says.
import t from 'tap';
import { Registry } from './registry.ts';
import { RegistryState } from './store.ts';

function slowLog() {
  const records: Array<{ key: Buffer; value: Buffer | null }> = [];
  return {
    records,
    append: async (key: Buffer, value: Buffer | null) => {
      await new Promise((r) => setTimeout(r, 5));
      records.push({ key, value });
      return records.length - 1;
    },
  };
}

const schema = (name: string) => JSON.stringify({ type: 'record', name, fields: [{ name: 'a', type: 'int' }] });

t.test('concurrent registrations of one schema get one id and one version', async (t) => {
  const log = slowLog();
  const reg = new Registry(log);
  const results = await Promise.all([
    reg.register('s', { schema: schema('A') }, false), reg.register('s', { schema: schema('A') }, false),
    reg.register('t', { schema: schema('A') }, false), reg.register('s', { schema: schema('A') }, false),
  ]);
  t.same(results.map((r) => r.id), [1, 1, 1, 1], 'one id across calls and subjects');
  t.same(results.map((r) => r.version), [1, 1, 1, 1]);
  t.equal(log.records.length, 2, 'one record per subject');
});

t.test('concurrent registrations of different schemas get distinct ids and versions', async (t) => {
  const reg = new Registry(slowLog());
  await reg.setConfig(null, 'NONE');
  const results = await Promise.all(['A', 'B', 'C'].map((n) => reg.register('s', { schema: schema(n) }, false)));
  t.same(results.map((r) => r.id).sort(), [1, 2, 3]);
  t.same(results.map((r) => r.version).sort(), [1, 2, 3]);
});

t.test('replaying the log rebuilds the same state; a failed append changes nothing', async (t) => {
  const log = slowLog();
  const reg = new Registry(log);
  await reg.register('s', { schema: schema('A') }, false);
  await reg.setConfig('s', 'FULL');
  await reg.deleteVersion('s', '1', false);
  const replayed = new RegistryState();
  for (const r of log.records) replayed.apply(r.key, r.value);
  t.same([...replayed.subjects.get('s')!.values()].map((v) => [v.version, v.id, v.deleted]), [[1, 1, true]]);
  t.equal(replayed.configs.get('s'), 'FULL');
  t.equal(replayed.maxId, 1);

  const failing = new Registry({ append: async () => { throw new Error('NOT_ENOUGH_REPLICAS'); } });
  await t.rejects(failing.register('s', { schema: schema('A') }, false), { code: 50001 });
  t.equal(failing.state.subjects.size, 0, 'nothing applied');
  t.same(await new Registry(slowLog()).register('s', { schema: schema('A') }, false), { id: 1, version: 1 }, 'the next change is served');
});

t.test("records of other writers that are not Confluent's shape are skipped", async (t) => {
  const st = new RegistryState();
  t.equal(st.apply(Buffer.from('not json'), Buffer.from('{}')), false);
  t.equal(st.apply(null, null), false);
  t.equal(st.apply(Buffer.from('{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}'), Buffer.from('{"id":"x"}')), false);
  t.equal(st.apply(Buffer.from('{"keytype":"NOOP","magic":0}'), null), true);
  t.equal(st.subjects.size, 0);
});

t.test('a reference cycle in the log (another writer) is an invalid schema, never a hang', async (t) => {
  const reg = new Registry(slowLog());
  const put = (subject: string, refs: unknown[]) => reg.state.apply(
    Buffer.from(JSON.stringify({ keytype: 'SCHEMA', subject, version: 1, magic: 1 })),
    Buffer.from(JSON.stringify({ subject, version: 1, id: subject === 'a' ? 1 : 2, schema: '"int"', references: refs, deleted: false })));
  put('a', [{ name: 'b', subject: 'b', version: 1 }]);
  put('b', [{ name: 'a', subject: 'a', version: 1 }]);
  await t.rejects(reg.register('c', { schema: '"int"', references: [{ name: 'a', subject: 'a', version: 1 }] }, false), { code: 42201, message: /circular reference/ });
});

t.test('normalize=true registers and finds the normalized form', async (t) => {
  const reg = new Registry(slowLog());
  const b = JSON.stringify({ fields: [{ type: { logicalType: 'date', type: 'int' }, name: 'a' }], namespace: 'n', name: 'R', type: 'record' }); // same keys, other order
  const a2 = JSON.stringify({ type: 'record', name: 'R', namespace: 'n', fields: [{ name: 'a', type: { type: 'int', logicalType: 'date' } }] });
  const r1 = await reg.register('s', { schema: a2 }, true);
  const r2 = await reg.register('s', { schema: b }, true);
  t.same(r2, r1, 'one id and version for both spellings');
  t.equal(reg.lookup('s', { schema: b }, true, false).id, r1.id);
  t.throws(() => reg.lookup('s', { schema: b }, false, false), { code: 40403 }, 'without normalize the spellings differ');
  t.match(reg.version('s', '1').schema, /"logicalType":"date"/, 'the normalized text keeps logical types');
});
