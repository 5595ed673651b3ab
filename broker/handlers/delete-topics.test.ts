import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDeleteTopicsRequest } from '../../protocol/generated/delete-topics.ts';
import { ErrorCode } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest } from '../../protocol/generated/metadata.ts';
import { kv } from '../../storage/testing/records.ts';
import { RawClient } from '../testing/raw-client.ts';
import { startTestBroker, type TestBroker } from '../testing/start.ts';
import { ZERO_UUID } from '../topics.ts';

const DELETE_TOPICS = 20;
const METADATA = 3;

async function setup(t: any, overrides: Record<string, string> = {}, file = false): Promise<{ tb: TestBroker; c: RawClient; dir: string }> {
  const dir = file ? mkdtempSync(join(tmpdir(), 'gregor-delete-topics-')) : '';
  const tb = await startTestBroker(file ? { ...overrides, 'log.dirs': dir } : overrides, file ? { storage: 'file' } : {});
  const c = await RawClient.connect(tb.port);
  t.teardown(async () => {
    c.close();
    await tb.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return { tb, c, dir };
}

/** A request for `names` in the shape of version v (topicNames up to v5, topics from v6). */
function byName(v: number, names: string[], timeoutMs = 5000) {
  return v >= 6
    ? makeDeleteTopicsRequest({ topics: names.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs })
    : makeDeleteTopicsRequest({ topicNames: names, timeoutMs });
}

function sorted(responses: any[]) {
  return responses.map((r: any) => [r.name, r.errorCode]).sort((a: any, b: any) => String(a[0]).localeCompare(String(b[0])));
}

t.test('every version deletes by name; Metadata stops listing it; unknown names answer UNKNOWN_TOPIC_OR_PARTITION', async (t) => {
  const { tb, c } = await setup(t, { 'auto.create.topics.enable': 'false' });
  for (let v = 1; v <= 6; v++) {
    const created = await tb.broker.context.createTopic(`doomed-${v}`, 2);
    const res = await c.request(DELETE_TOPICS, v, byName(v, [`doomed-${v}`, `missing-${v}`, 'bad name']));
    t.same(sorted(res.responses), [
      ['bad name', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [`doomed-${v}`, ErrorCode.NONE],
      [`missing-${v}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ], `v${v}`);
    const ok = res.responses.find((r: any) => r.name === `doomed-${v}`);
    if (v >= 5) {
      t.equal(ok.errorMessage, null, `v${v} no message on success`);
      t.equal(res.responses.find((r: any) => r.name === `missing-${v}`).errorMessage, 'This server does not host this topic-partition.');
    }
    if (v >= 6) t.equal(ok.topicId, created.topicId, 'v6 answers the id of a topic deleted by name');
    t.equal(tb.broker.context.topics.get(`doomed-${v}`), undefined, `v${v} gone from the registry`);
    t.equal(tb.broker.context.storage.getTopic(`doomed-${v}`), undefined, `v${v} gone from storage`);
    const md = await c.request(METADATA, 12, makeMetadataRequest({ topics: [{ name: `doomed-${v}`, topicId: ZERO_UUID }] }));
    t.equal(md.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `v${v} Metadata no longer knows it`);
  }
  const all = await c.request(METADATA, 12, makeMetadataRequest({ topics: null }));
  t.same(all.topics, []);
});

t.test('v6 by topic id: deleted and answered with its name; unknown id → UNKNOWN_TOPIC_ID; invalid combinations', async (t) => {
  const { tb, c } = await setup(t);
  const a = await tb.broker.context.createTopic('by-id', 1);
  const b = await tb.broker.context.createTopic('both', 1);
  const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const res = await c.request(DELETE_TOPICS, 6, makeDeleteTopicsRequest({
    topics: [
      { name: null, topicId: a.topicId },
      { name: null, topicId: unknownId },
      { name: null, topicId: ZERO_UUID },
      { name: 'both', topicId: b.topicId },
    ],
    timeoutMs: 5000,
  }));
  const key = (r: any) => `${r.name}/${r.topicId}`;
  const got = new Map(res.responses.map((r: any) => [key(r), [r.errorCode, r.errorMessage]]));
  t.same(got.get(`by-id/${a.topicId}`), [ErrorCode.NONE, null]);
  t.same(got.get(`null/${unknownId}`), [ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.']);
  t.same(got.get(`null/${ZERO_UUID}`), [ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.']);
  t.same(got.get(`both/${b.topicId}`), [ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.']);
  t.equal(res.responses.length, 4);
  t.equal(tb.broker.context.topics.get('by-id'), undefined, 'deleted by id');
  t.ok(tb.broker.context.topics.get('both'), 'name+id together deletes nothing');
});

t.test('duplicates → INVALID_REQUEST and nothing deleted for them; a name mapping to a given id is refused', async (t) => {
  const { tb, c } = await setup(t);
  await tb.broker.context.createTopic('twice', 1);
  await tb.broker.context.createTopic('once', 1);
  const v3 = await c.request(DELETE_TOPICS, 3, makeDeleteTopicsRequest({ topicNames: ['twice', 'once', 'twice'], timeoutMs: 5000 }));
  t.same(sorted(v3.responses), [['once', ErrorCode.NONE], ['twice', ErrorCode.INVALID_REQUEST]]);
  t.ok(tb.broker.context.topics.get('twice'), 'a duplicated topic is kept');
  const v5 = await c.request(DELETE_TOPICS, 5, makeDeleteTopicsRequest({ topicNames: ['twice', 'twice', 'twice'], timeoutMs: 5000 }));
  t.same(v5.responses.map((r: any) => [r.name, r.errorCode, r.errorMessage]), [['twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.']]);

  const x = await tb.broker.context.createTopic('x', 1);
  const dupId = await c.request(DELETE_TOPICS, 6, makeDeleteTopicsRequest({
    topics: [{ name: null, topicId: x.topicId }, { name: null, topicId: x.topicId }], timeoutMs: 5000,
  }));
  t.same(dupId.responses.map((r: any) => [r.name, r.topicId, r.errorCode, r.errorMessage]), [[null, x.topicId, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.']]);
  const nameAndId = await c.request(DELETE_TOPICS, 6, makeDeleteTopicsRequest({
    topics: [{ name: null, topicId: x.topicId }, { name: 'x', topicId: ZERO_UUID }], timeoutMs: 5000,
  }));
  t.same(nameAndId.responses.map((r: any) => [r.name, r.errorCode, r.errorMessage]),
    [['x', ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.']]);
  t.ok(tb.broker.context.topics.get('x'), 'kept');
});

t.test('internal topics are deleted like others (Kafka refuses them only in kafka-topics.sh)', async (t) => {
  const { tb, c } = await setup(t);
  const missing = await c.request(DELETE_TOPICS, 5, byName(5, ['__consumer_offsets']));
  t.same(sorted(missing.responses), [['__consumer_offsets', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]], 'not there yet');
  await tb.broker.context.createTopic('__consumer_offsets', 3);
  const res = await c.request(DELETE_TOPICS, 5, byName(5, ['__consumer_offsets']));
  t.same(sorted(res.responses), [['__consumer_offsets', ErrorCode.NONE]]);
  t.equal(tb.broker.context.topics.get('__consumer_offsets'), undefined);
});

t.test('data leaves the disk; re-creating the name gives an empty log and a new topic id', async (t) => {
  // Kafka's default keeps the renamed directories for a minute (log.segment.delete.delay.ms); 200 ms here.
  const { tb, c, dir } = await setup(t, { 'log.segment.delete.delay.ms': '200' }, true);
  const first = await tb.broker.context.createTopic('reborn', 2);
  const log = tb.broker.context.storage.partition('reborn', 0)!;
  for (let i = 0; i < 5; i++) await log.append(kv(`k${i}`, `v${i}`));
  await log.flush();
  t.equal(log.logEndOffset, 5);
  t.ok(existsSync(join(dir, 'reborn-0')));

  const res = await c.request(DELETE_TOPICS, 6, byName(6, ['reborn']));
  t.same(sorted(res.responses), [['reborn', ErrorCode.NONE]]);
  t.notOk(existsSync(join(dir, 'reborn-0')), 'partition dir renamed away once the response is sent');
  t.notOk(existsSync(join(dir, 'reborn-1')));
  // The renamed *-delete directories are removed in the background, after the delay.
  t.ok(readdirSync(dir).some((e) => e.startsWith('reborn') && e.endsWith('-delete')), 'kept as *-delete for the delay');
  for (const deadline = Date.now() + 10000; readdirSync(dir).some((e) => e.endsWith('-delete')) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 10));
  }
  t.same(readdirSync(dir).filter((e) => e.startsWith('reborn')), [], 'nothing of the topic is left on disk');

  const second = await tb.broker.context.createTopic('reborn', 1);
  t.not(second.topicId, first.topicId, 'a new topic id');
  const fresh = tb.broker.context.storage.partition('reborn', 0)!;
  t.same([fresh.logStartOffset, fresh.logEndOffset, fresh.size], [0, 0, 0], 'an empty log');
});

t.test('timeoutMs: waits for completion, answers REQUEST_TIMED_OUT after it, <= 0 answers at once', async (t) => {
  const { tb, c } = await setup(t);
  const ctx = tb.broker.context as any;
  const realDelete = ctx.deleteTopic;
  const held: Array<() => void> = [];
  // Storage removal that completes only when released.
  ctx.deleteTopic = (name: string) => {
    const p: Promise<void> = realDelete(name);
    return new Promise<void>((resolve, reject) => held.push(() => p.then(resolve, reject)));
  };
  t.teardown(() => { for (const h of held) h(); });
  await tb.broker.context.createTopic('slow', 1);
  await tb.broker.context.createTopic('slow2', 1);
  const timedOut = await c.request(DELETE_TOPICS, 5, byName(5, ['slow'], 50));
  t.same(timedOut.responses.map((r: any) => [r.name, r.errorCode]), [['slow', ErrorCode.REQUEST_TIMED_OUT]]);
  t.match(timedOut.responses[0].errorMessage, /did not complete within 50 ms/);
  t.equal(tb.broker.context.topics.get('slow'), undefined, 'the deletion still went ahead');

  const immediate = await c.request(DELETE_TOPICS, 5, byName(5, ['slow2'], 0));
  t.same(immediate.responses.map((r: any) => [r.name, r.errorCode]), [['slow2', ErrorCode.NONE]], 'timeoutMs 0: under way');

  // A deletion that completes within the timeout answers NONE only after completion.
  await tb.broker.context.createTopic('waited', 1);
  const pending = c.request(DELETE_TOPICS, 6, byName(6, ['waited'], 60000));
  let answered = false;
  pending.then(() => { answered = true; });
  while (held.length < 3) await new Promise((r) => setTimeout(r, 5));
  t.notOk(answered, 'not answered while storage is still deleting');
  for (const h of held.splice(0)) h();
  const done = await pending;
  t.same(done.responses.map((r: any) => [r.name, r.errorCode]), [['waited', ErrorCode.NONE]]);
});

t.test('delete.topic.enable=false: v3+ TOPIC_DELETION_DISABLED, v1-2 INVALID_REQUEST, nothing deleted', async (t) => {
  const tb = await startTestBroker({ 'delete.topic.enable': 'false' });
  t.teardown(() => tb.close());
  const c = await RawClient.connect(tb.port);
  t.teardown(() => c.close());
  await tb.broker.context.createTopic('keep', 1);
  for (let v = 1; v <= 6; v++) {
    const res = await c.request(20, v, makeDeleteTopicsRequest(v >= 6
      ? { topics: [{ name: 'keep', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 1000 }
      : { topicNames: ['keep'], timeoutMs: 1000 }));
    t.equal(res.responses[0].errorCode, v >= 3 ? ErrorCode.TOPIC_DELETION_DISABLED : ErrorCode.INVALID_REQUEST, `v${v}`);
  }
  t.ok(tb.broker.context.topics.get('keep'), 'topic still there');
});
