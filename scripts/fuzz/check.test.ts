// The fuzzer's answer checker flags what it must: a close before an owed answer, a wrong or reordered
// correlation id, an answered acks=0 produce; and accepts a close after a malformed frame.
import t from 'tap';
import { ConnectionCheck } from './check.ts';
import type { FrameInfo } from './classify.ts';

const info = (kind: FrameInfo['kind'], corr: number, apiKey = 18): FrameInfo => ({ kind, corr, apiKey, version: 0, desync: false, delayable: false });
/** An ApiVersions v0 answer (header + errorCode 0 + empty apiKeys), which the codec decodes. */
const answer = (corr: number) => { const b = Buffer.alloc(10); b.writeInt32BE(corr, 0); return b; };

t.test('close before an owed answer is a defect; after a malformed frame it is not', async (t) => {
  const a = new ConnectionCheck([info('answer', 1), info('mayClose', 2)], [10, 11]);
  a.finish(true);
  t.same(a.defects.map((d) => [d.kind, d.frame]), [['closed-without-answer', 10]]);
  const b = new ConnectionCheck([info('answer', 1), info('mayClose', 2), info('answer', 3)], [10, 11, 12]);
  b.onResponse(answer(1));
  b.finish(true);
  t.same(b.defects, [], 'frames after a malformed one may go unanswered');
});

t.test('wrong and reordered correlation ids, answered acks=0', async (t) => {
  const a = new ConnectionCheck([info('answer', 1), info('answer', 2)], [0, 1]);
  a.onResponse(answer(7));
  t.equal(a.defects[0]?.kind, 'wrong-correlation-id');
  const b = new ConnectionCheck([info('answer', 1), info('answer', 2)], [0, 1]);
  b.onResponse(answer(2));
  t.equal(b.defects[0]?.kind, 'out-of-order');
  const c = new ConnectionCheck([info('noAnswer', 1, 0), info('answer', 2)], [0, 1]);
  c.onResponse(answer(1));
  t.equal(c.defects[0]?.kind, 'answered-acks0');
  const d = new ConnectionCheck([info('noAnswer', 1, 0), info('answer', 2)], [0, 1]);
  d.onResponse(answer(2));
  d.finish(false);
  t.same(d.defects, [], 'acks=0 skipped, next answered in order');
});

t.test('no answer by the deadline: a defect unless behind a request that may wait', async (t) => {
  const a = new ConnectionCheck([info('answer', 1)], [0]);
  a.finish(false);
  t.equal(a.defects[0]?.kind, 'no-answer');
  const b = new ConnectionCheck([{ ...info('answer', 1, 1), delayable: true }, info('answer', 2)], [0, 1]);
  t.same(b.finish(false), { slow: 2 });
  t.same(b.defects, []);
});
