import t from 'tap';
import { ownedCopy } from './owned-copy.ts';

t.test('ownedCopy: same bytes, memory of its own, never a pool slab', async (t) => {
  for (const n of [0, 1, 200, 4096, 40_000]) {
    const src = Buffer.alloc(n);
    for (let i = 0; i < n; i++) src[i] = i & 0xff;
    const c = ownedCopy(src.subarray(0));
    t.same(c, src, `${n} bytes equal`);
    t.equal(c.buffer.byteLength, n, `${n} bytes: backing memory is exactly its length`);
    t.equal(c.byteOffset, 0);
    if (n > 0) { c[0] ^= 1; t.not(c[0], src[0], 'a copy, not a view'); }
  }
});
