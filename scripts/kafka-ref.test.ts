// scripts/kafka-ref.ts must start Kafka every time: a cluster id whose text starts with '-' is read by
// kafka-storage as a flag, so newClusterId draws again as Kafka's Uuid.randomUuid does.
import t from 'tap';
import { newClusterId } from './kafka-ref.ts';

t.test("newClusterId never returns an id starting with '-'", async (t) => {
  // 0xf8… encodes as '-' in base64url (62 = 0b111110): the first draw must be refused.
  const draws = ['f8000000-0000-4000-8000-000000000000', '12345678-1234-4234-8234-123456789abc'];
  let n = 0;
  const id = newClusterId(() => draws[n++]!);
  t.equal(n, 2, 'drew again after an id starting with -');
  t.equal(id, Buffer.from('12345678123442348234123456789abc', 'hex').toString('base64url'));
  t.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  const ids = Array.from({ length: 2000 }, () => newClusterId());
  t.equal(ids.filter((x) => x[0] === '-').length, 0, 'none of 2000 random ids starts with -');
});
