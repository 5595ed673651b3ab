import t from 'tap';
import { makeCreatePartitionsRequest } from '../../protocol/generated/create-partitions.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker, type TestBroker } from '../testing/start.ts';
import { ZERO_UUID } from '../topics.ts';

const CREATE_PARTITIONS = 37;
const METADATA = 3;

async function setup(t: any): Promise<{ tb: TestBroker; c: RawClient }> {
  const tb = await startTestBroker();
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => { c.close(); await tb.close(); });
  return { tb, c };
}

type Grow = { name: string; count: number; assignments?: number[][] | null };
function req(topics: Grow[], opts: { validateOnly?: boolean; timeoutMs?: number } = {}) {
  return makeCreatePartitionsRequest({
    topics: topics.map((x) => ({ name: x.name, count: x.count, assignments: x.assignments ? x.assignments.map((brokerIds) => ({ brokerIds })) : null })),
    timeoutMs: opts.timeoutMs ?? 5000,
    validateOnly: opts.validateOnly ?? false,
  });
}

const results = (res: any) => res.results.map((r: any) => [r.name, r.errorCode, r.errorMessage]);

t.test('every version grows a topic; Metadata and storage see the new partitions', async (t) => {
  const { tb, c } = await setup(t);
  for (let v = 0; v <= 3; v++) {
    const name = `grow-${v}`;
    await tb.broker.context.createTopic(name, 1);
    const res = await c.request(CREATE_PARTITIONS, v, req([{ name, count: 3 }]));
    t.same(results(res), [[name, ErrorCode.NONE, null]], `v${v}`);
    t.equal(tb.broker.context.topics.get(name)!.partitions, 3);
    t.ok(tb.broker.context.storage.partition(name, 2), `v${v} partition 2 exists in storage`);
    const md = await c.request(METADATA, 12, makeMetadataRequest({ topics: [{ name, topicId: ZERO_UUID }] }));
    t.same(md.topics[0].partitions.map((p: any) => [p.partitionIndex, p.leaderId]), [[0, 1], [1, 1], [2, 1]]);
  }
});

t.test('increase only, with Kafka\'s messages; unknown topic', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('three', 3);
  const res = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'three', count: 3 }, { name: 'missing', count: 2 }]));
  t.same(results(res), [
    ['three', ErrorCode.INVALID_PARTITIONS, 'Topic already has 3 partition(s).'],
    ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
  ]);
  const lower = await c.request(CREATE_PARTITIONS, 1, req([{ name: 'three', count: 2 }]));
  t.same(results(lower), [['three', ErrorCode.INVALID_PARTITIONS, 'The topic three currently has 3 partition(s); 2 would not be an increase.']]);
  t.equal(tb.broker.context.topics.get('three')!.partitions, 3, 'unchanged');
});

t.test('assignments: only this node, one per new partition', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('assigned', 1);
  const cases: Array<[number[][], string]> = [
    [[[1]], 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'],
    [[[1], [2]], 'The manual partition assignment includes broker 2, but no such broker is registered.'],
    [[[1], [1, 1]], 'The manual partition assignment includes the broker 1 more than once.'],
    [[[1], []], 'The manual partition assignment includes an empty replica list.'],
  ];
  for (const [assignments, message] of cases) {
    const res = await c.request(CREATE_PARTITIONS, 2, req([{ name: 'assigned', count: 3, assignments }]));
    t.same(results(res), [['assigned', ErrorCode.INVALID_REPLICA_ASSIGNMENT, message]], JSON.stringify(assignments));
  }
  t.equal(tb.broker.context.topics.get('assigned')!.partitions, 1, 'nothing added by refused requests');
  const ok = await c.request(CREATE_PARTITIONS, 2, req([{ name: 'assigned', count: 3, assignments: [[1], [1]] }]));
  t.same(results(ok), [['assigned', ErrorCode.NONE, null]]);
  t.equal(tb.broker.context.topics.get('assigned')!.partitions, 3);
});

t.test('validateOnly checks without changing anything', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('dry', 2);
  const res = await c.request(CREATE_PARTITIONS, 0, req([{ name: 'dry', count: 5 }, { name: 'nope', count: 5 }], { validateOnly: true }));
  t.same(results(res), [['dry', ErrorCode.NONE, null], ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.']]);
  t.equal(tb.broker.context.topics.get('dry')!.partitions, 2);
  t.equal(tb.broker.context.storage.partition('dry', 2), undefined);
  const bad = await c.request(CREATE_PARTITIONS, 0, req([{ name: 'dry', count: 1 }], { validateOnly: true }));
  t.equal(bad.results[0].errorCode, ErrorCode.INVALID_PARTITIONS);
});

t.test('a topic named twice → INVALID_REQUEST once, and it is not grown; others in the request are', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('dup', 1);
  await tb.broker.context.createTopic('single', 1);
  const res = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'dup', count: 2 }, { name: 'single', count: 2 }, { name: 'dup', count: 4 }]));
  t.same(results(res), [['dup', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'], ['single', ErrorCode.NONE, null]]);
  t.equal(tb.broker.context.topics.get('dup')!.partitions, 1);
  t.equal(tb.broker.context.topics.get('single')!.partitions, 2);
});

t.test('concurrent requests: growth in flight counts; timeoutMs', async (t) => {
  const { tb, c } = await setup(t);
  const ctx = tb.broker.context as any;
  const realAdd = ctx.addPartitions;
  const held: Array<() => void> = [];
  ctx.addPartitions = (name: string, total: number) => new Promise<void>((resolve, reject) => held.push(() => realAdd(name, total).then(resolve, reject)));
  t.teardown(() => { for (const h of held) h(); });
  await tb.broker.context.createTopic('racy', 1);
  // Responses on one connection come in request order: the waiting request gets its own connection.
  const c2 = await RawClient.connect(tb.port);
  t.teardown(() => c2.close());
  const first = c2.request(CREATE_PARTITIONS, 3, req([{ name: 'racy', count: 5 }], { timeoutMs: 60000 }));
  while (held.length < 1) await new Promise((r) => setTimeout(r, 5));
  const second = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'racy', count: 5 }]));
  t.same(results(second), [['racy', ErrorCode.INVALID_PARTITIONS, 'Topic already has 5 partition(s).']], 'the first request\'s growth counts');
  const third = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'racy', count: 6 }], { timeoutMs: 30 }));
  t.same(results(third).map((r: any[]) => r.slice(0, 2)), [['racy', ErrorCode.REQUEST_TIMED_OUT]], 'not done within timeoutMs');
  t.match(third.results[0].errorMessage, /did not complete within 30 ms/);
  for (const h of held.splice(0)) h();
  t.same(results(await first), [['racy', ErrorCode.NONE, null]]);
  // The timed-out growth still completes.
  for (const deadline = Date.now() + 5000; tb.broker.context.topics.get('racy')!.partitions !== 6 && Date.now() < deadline;) {
    for (const h of held.splice(0)) h();
    await new Promise((r) => setTimeout(r, 5));
  }
  t.equal(tb.broker.context.topics.get('racy')!.partitions, 6);
  const immediate = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'racy', count: 7 }], { timeoutMs: 0 }));
  t.same(results(immediate), [['racy', ErrorCode.NONE, null]], 'timeoutMs 0 answers with the change under way');
  for (const deadline = Date.now() + 5000; tb.broker.context.topics.get('racy')!.partitions !== 7 && Date.now() < deadline;) {
    for (const h of held.splice(0)) h();
    await new Promise((r) => setTimeout(r, 5));
  }
  t.equal(tb.broker.context.topics.get('racy')!.partitions, 7);
});

t.test('more than 10,000 new partitions in one request: POLICY_VIOLATION, nothing grown', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('one', 1);
  await tb.broker.context.createTopic('two', 2);
  const EXCESSIVE = 'Excessively large number of partitions per request.';
  // The report's request: count 1,073,741,827.
  const huge = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'one', count: 1_073_741_827 }]));
  t.same(results(huge), [['one', ErrorCode.POLICY_VIOLATION, EXCESSIVE]]);
  const sum = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'one', count: 5002 }, { name: 'two', count: 5002 }, { name: 'missing', count: 9 }]));
  t.same(results(sum).map((r: any) => r.slice(0, 2)), [['one', ErrorCode.POLICY_VIOLATION], ['two', ErrorCode.POLICY_VIOLATION], ['missing', ErrorCode.POLICY_VIOLATION]]);
  t.equal(tb.broker.context.topics.get('one')!.partitions, 1);
  t.equal(tb.broker.context.storage.getTopic('two')!.partitions, 2);
  const atCap = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'one', count: 5001 }, { name: 'two', count: 5002 }], { validateOnly: true }));
  t.same(results(atCap).map((r: any) => r.slice(0, 2)), [['one', ErrorCode.NONE], ['two', ErrorCode.NONE]], 'exactly 10,000 new partitions pass');
});

t.test('a storage failure part-way through growth answers an error; the topic keeps its partitions', async (t) => {
  const { FaultyFs } = await import('../../storage/faulty-fs.ts');
  const { MemFs } = await import('../../storage/memfs.ts');
  const fs = new FaultyFs(new MemFs());
  const tb = await startTestBroker({}, { fs });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('g', 2);
  fs.failNext('mkdir', { code: 'ENOSPC', pathIncludes: '/g-5' });
  const res = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'g', count: 8 }]));
  t.equal(results(res)[0][1], ErrorCode.UNKNOWN_SERVER_ERROR);
  t.equal(tb.broker.context.topics.get('g')!.partitions, 2);
  t.same((await fs.readdir(tb.broker.context.storage.dataDir)).filter((e) => e.startsWith('g-')).sort(), ['g-0', 'g-1']);
  const again = await c.request(CREATE_PARTITIONS, 3, req([{ name: 'g', count: 8 }]));
  t.same(results(again), [['g', ErrorCode.NONE, null]]);
});
