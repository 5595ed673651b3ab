// The aborted-transaction index: entries kept per segment, persisted as `.txnindex` (Kafka's layout),
// reloaded, dropped past a truncated log end, deleted with their segment; reads bounded by maxOffset.
import t from 'tap';
import { openStorage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { parseTxnIndex, serializeTxnIndex, TXN_ENTRY_SIZE } from './txn-index.ts';
import { kv } from './testing/records.ts';
import { ManualClock } from './clock.ts';

const T0 = 1_700_000_000_000;

t.test('entries round trip in Kafka\'s 34-byte layout; a torn tail is ignored', async (t) => {
  const entries = [{ producerId: 7n, firstOffset: 3, lastOffset: 9, lastStableOffset: 10 }, { producerId: 2n ** 40n, firstOffset: 11, lastOffset: 20, lastStableOffset: 15 }];
  const buf = serializeTxnIndex(entries);
  t.equal(buf.length, 2 * TXN_ENTRY_SIZE);
  t.equal(buf.readInt16BE(0), 0, 'version 0');
  t.same(parseTxnIndex(buf), entries);
  t.same(parseTxnIndex(buf.subarray(0, buf.length - 1)), entries.slice(0, 1));
});

t.test('addAbortedTxn: per segment, idempotent, persisted, reloaded, filtered, deleted with the segment', async (t) => {
  const clock = new ManualClock(T0);
  const fs = new MemFs(() => clock.now());
  let s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
  await s.createTopic('t', { partitions: 1, topicId: 'x', configs: { 'segment.bytes': '300' } });
  let log = s.partition('t', 0)!;
  for (let i = 0; i < 12; i++) await log.append(kv(`k${i}`, `value-${i}`));
  t.ok(log.segmentBaseOffsets.length >= 3, `${log.segmentBaseOffsets.length} segments`);
  t.throws(() => log.addAbortedTxn({ producerId: 1n, firstOffset: 0, lastOffset: 12, lastStableOffset: 13 }), /not written/, 'only written markers');
  const a = { producerId: 1n, firstOffset: 0, lastOffset: 2, lastStableOffset: 3 };
  const b = { producerId: 2n, firstOffset: 1, lastOffset: 10, lastStableOffset: 11 };
  log.addAbortedTxn(a);
  log.addAbortedTxn(b);
  log.addAbortedTxn(a);
  t.same(log.abortedTransactions(0, 12), [a, b], 'both, once');
  t.same(log.abortedTransactions(3, 12), [b], 'entries ending before the fetch offset are skipped');
  t.same(log.abortedTransactions(0, 1), [a], 'entries starting at or after the upper bound are skipped');
  await log.txnIndexWritten();
  const names = (await fs.readdir('/d/t-0')).filter((n) => n.endsWith('.txnindex')).sort();
  t.equal(names.length, 2, 'one file per segment holding a marker');
  await s.close();

  s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
  log = s.partition('t', 0)!;
  t.same(log.abortedTransactions(0, 12), [a, b], 'reloaded');
  // Deleting every record removes the segments holding both markers, and their .txnindex files.
  log.deleteRecordsBefore(12);
  await log.idle();
  await new Promise((r) => setTimeout(r, 10));
  t.same(log.abortedTransactions(0, 12), [], 'gone with their segments');
  t.same((await fs.readdir('/d/t-0')).filter((n) => n.endsWith('.txnindex')), [], 'files deleted');
  await s.close();
});

t.test('entries past the recovered log end are dropped at load', async (t) => {
  const fs = new MemFs();
  const s = await openStorage({ fs, dataDir: '/d' });
  await s.createTopic('t', { partitions: 1, topicId: 'x' });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 4; i++) await log.append(kv('k', `v${i}`));
  log.addAbortedTxn({ producerId: 5n, firstOffset: 0, lastOffset: 3, lastStableOffset: 4 });
  await log.txnIndexWritten();
  // Crash (no close) with the last batch torn: the log comes back with offsets 0-2 only.
  const fd = await fs.open('/d/t-0/00000000000000000000.log', 'r+');
  await fs.ftruncate(fd, (await fs.fstat(fd)).size - 5);
  await fs.close(fd);
  const s2 = await openStorage({ fs, dataDir: '/d' });
  const l2 = s2.partition('t', 0)!;
  t.equal(l2.logEndOffset, 3);
  t.same(l2.abortedTransactions(0, 10), [], 'the entry of the lost marker is dropped');
  await s2.close();
});

t.test('read maxOffset: batches starting at or past it are not returned', async (t) => {
  const fs = new MemFs();
  const s = await openStorage({ fs, dataDir: '/d' });
  await s.createTopic('t', { partitions: 1, topicId: 'x' });
  const log = s.partition('t', 0)!;
  for (let i = 0; i < 5; i++) await log.append(kv('k', `v${i}`));
  const offsets = async (from: number, maxOffset: number) => {
    const r = await log.read(from, 1 << 20, { maxOffset });
    const out: number[] = [];
    for (const b of r.batches) for (let p = 0; p < b.length; p += 12 + b.readInt32BE(p + 8)) out.push(Number(b.readBigInt64BE(p)));
    return out;
  };
  t.same(await offsets(0, 3), [0, 1, 2]);
  t.same(await offsets(1, 3), [1, 2]);
  t.same(await offsets(3, 3), [], 'at the bound: nothing, no error');
  t.same(await offsets(0, 99), [0, 1, 2, 3, 4]);
  t.equal(log.nextOffset, 5);
  await s.close();
});
