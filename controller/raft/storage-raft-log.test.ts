// The storage-backed metadata log and the file quorum-state store: a single-voter Raft node on them survives
// restarts (log, snapshot, election state), and a crash after any number of disk operations leaves a log that
// is a prefix of what was written and holds everything whose flush completed.

import t from 'tap';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemFs, nodeFs, readWholeFile, systemClock, type FsLike } from '../../storage/index.ts';
import { CrashingFs } from '../../storage/testing/crashing-fs.ts';
import { buildRecordBatch, RecordBatchView } from '../../protocol/records.ts';
import { METADATA_PARTITION_DIR } from '../metadata/log-format.ts';
import { FileQuorumStateStore, QUORUM_STATE_FILE } from './quorum-state.ts';
import { RaftClient } from './raft-client.ts';
import { StorageRaftLog } from './storage-raft-log.ts';

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function openNode(fs: FsLike, dir: string) {
  const log = await StorageRaftLog.open({ fs, logDir: dir, clock: systemClock });
  const store = new FileQuorumStateStore(fs, log.dir, (e) => { throw e; });
  await store.load();
  const committed: string[] = [];
  const snapshots: string[][] = [];
  const client = new RaftClient({
    nodeId: 1, voters: [1], clusterId: 'c', clock: systemClock, random: () => 0.5, log, store, transport: { send() {} },
    listener: {
      handleCommit: (b) => { for (const r of b.records) committed.push(r.toString()); },
      handleLoadSnapshot: (_id, recs) => { snapshots.push(recs.map(String)); committed.length = 0; committed.push(...recs.map(String)); },
      handleLeaderChange: () => {},
    },
  });
  client.start();
  await until(() => client.leaderHighWatermark() > 0, 'the single voter to lead and commit its epoch');
  return { log, store, client, committed, snapshots };
}

const rec = (s: string) => Buffer.from(s);

t.test('single voter on disk: commits survive a restart, epoch grows, snapshot + log prefix deletion', async (t) => {
  const fs = new MemFs();
  let n = await openNode(fs, '/data');
  t.equal(n.client.epoch, 1);
  await n.client.proposeAsync([rec('a'), rec('b')]);
  await n.client.proposeAsync([rec('c')]);
  t.same(n.committed, ['a', 'b', 'c']);
  n.client.close();
  await n.log.close();

  n = await openNode(fs, '/data');
  t.equal(n.client.epoch, 2, 'a restarted single voter resigns and is elected again, one epoch later');
  await until(() => n.committed.length === 3, 'replay');
  t.same(n.committed, ['a', 'b', 'c'], 'the log is replayed');
  const stored = JSON.parse((await readWholeFile(fs, join('/data', METADATA_PARTITION_DIR, QUORUM_STATE_FILE)))!.toString());
  t.match(stored, { leaderId: 1, leaderEpoch: 2, votedId: 1, data_version: 1 }, 'quorum-state in Kafka JSON');

  // Snapshot of the state so far; the log before it goes.
  const at = n.client.appliedOffset();
  const id = n.client.createSnapshot(at, [rec('S')], true);
  await n.client.proposeAsync([rec('d')]);
  await n.log.settle();
  const files = await fs.readdir(n.log.dir);
  t.ok(files.includes(`${String(id.offset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}.checkpoint`), 'snapshot file with Kafka name');
  t.ok(files.some((f) => f.endsWith('.log')) && files.includes('leader-epoch-checkpoint'), 'Kafka partition layout');
  n.client.close();
  await n.log.close();

  n = await openNode(fs, '/data');
  await until(() => n.committed.includes('d'), 'replay after snapshot');
  t.same(n.snapshots, [['S']], 'the snapshot is loaded');
  t.same(n.committed, ['S', 'd'], 'then the log after it');
  t.equal(n.log.startOffset(), id.offset, 'the log starts at the snapshot');
  n.client.close();
  await n.log.close();
});

// The soak's RSS leak: each metadata batch kept was a slice of Node's 64 KiB Buffer pool, pinning a slab per batch.
t.test('the in-memory mirror holds its batches\' bytes and no more, after appends and after a reopen', async (t) => {
  const fs = new MemFs();
  const held = (log: StorageRaftLog): { bytes: number; memory: number } => {
    const stores = new Set<ArrayBufferLike>();
    let bytes = 0;
    for (let o = log.startOffset(); o < log.endOffset(); o++) {
      const b = log.read(o, 1);
      bytes += b.length;
      stores.add(b.buffer);
    }
    let memory = 0;
    for (const s of stores) memory += s.byteLength;
    return { bytes, memory };
  };
  let log = await StorageRaftLog.open({ fs, logDir: '/d', clock: systemClock });
  const n = 200;
  for (let i = 0; i < n; i++) {
    const batch = buildRecordBatch({ records: [{ value: rec(`record ${i}`) }], now: 0 });
    if (i % 2 === 0) log.appendAsLeader(batch, 1);
    else log.appendAsFollower([buildRecordBatch({ baseOffset: log.endOffset(), partitionLeaderEpoch: 1, records: [{ value: rec(`record ${i}`) }], now: 0 })]);
    // Unrelated small allocations between appends, as a busy broker makes: they move Node's pool along.
    for (let j = 0; j < 50; j++) Buffer.from(`request ${i}/${j}`.padEnd(1000, '.'));
  }
  t.equal(log.endOffset(), n);
  const live = held(log);
  t.ok(live.bytes > 0 && live.bytes < 100 * n, `${live.bytes} bytes of batches`);
  t.equal(live.memory, live.bytes, 'the batches appended hold exactly their own bytes');
  let flushed = false;
  log.flush(() => { flushed = true; });
  await log.settle();
  t.ok(flushed);
  await log.close();
  log = await StorageRaftLog.open({ fs, logDir: '/d', clock: systemClock });
  const reopened = held(log);
  t.equal(reopened.bytes, live.bytes);
  t.equal(reopened.memory, reopened.bytes, 'the batches read back at open hold exactly the log\'s bytes');
  await log.close();
});

t.test('truncation is durable and the log reloads as a prefix', async (t) => {
  const fs = new MemFs();
  let log = await StorageRaftLog.open({ fs, logDir: '/d', clock: systemClock });
  for (const e of [1, 1, 2]) log.appendAsLeader(buildRecordBatch({ records: [{ value: rec(`e${e}`) }], now: 0 }), e);
  t.equal(log.endOffset(), 3);
  log.truncateTo(2);
  log.appendAsLeader(buildRecordBatch({ records: [{ value: rec('x') }, { value: rec('y') }], now: 0 }), 3);
  let flushed = false;
  log.flush(() => { flushed = true; });
  await log.settle();
  t.ok(flushed);
  await log.close();
  log = await StorageRaftLog.open({ fs, logDir: '/d', clock: systemClock });
  t.equal(log.endOffset(), 4);
  t.same(log.endOffsetForEpoch(1), { offset: 2, epoch: 1 });
  t.same(log.endOffsetForEpoch(2), { offset: 2, epoch: 1 }, 'epoch 2 was truncated away');
  t.equal(log.lastFetchedEpoch(), 3);
  await log.close();
});

/** The workload of the crash test; returns the offsets whose flush completed. */
async function workload(fs: FsLike): Promise<{ flushedTo: number; snapshot: boolean; written: Map<number, Buffer[]> }> {
  const out = { flushedTo: 0, snapshot: false, written: new Map<number, Buffer[]>() };
  let log: StorageRaftLog;
  try {
    log = await StorageRaftLog.open({ fs, logDir: '/d', clock: systemClock, onError: () => {} });
  } catch {
    return out;
  }
  const append = (b: Buffer, epoch: number) => {
    const at = log.endOffset();
    log.appendAsLeader(b, epoch);
    out.written.set(at, [...(out.written.get(at) ?? []), Buffer.from(log.read(at, 1))]);
  };
  const flush = () => { const to = log.endOffset(); log.flush(() => { out.flushedTo = to; }); };
  for (let i = 0; i < 6; i++) {
    append(buildRecordBatch({ records: [{ value: rec(`r${i}`) }, { value: rec(`s${i}`) }], now: 0 }), 1 + (i >> 2));
    if (i % 2 === 1) flush();
    if (i === 3) {
      log.createSnapshot({ offset: 8, epoch: 1 }, buildRecordBatch({ records: [{ value: rec('snap') }], now: 0 }));
      log.deleteBeforeSnapshot();
    }
  }
  log.truncateTo(10);
  append(buildRecordBatch({ records: [{ value: rec('t') }], now: 0 }), 3);
  flush();
  await log.settle();
  out.snapshot = log.latestSnapshot() !== null;
  return out;
}

t.test('crash after every disk operation: a prefix survives, flushed data always does', async (t) => {
  // The full run, to count its mutating calls.
  const counting = new CrashingFs(new MemFs(), Infinity);
  const all = await workload(counting);
  const total = counting.count;
  t.ok(total > 10, `workload makes ${total} mutating calls`);
  for (let k = 0; k <= total; k++) {
    const mem = new MemFs();
    const r = await workload(new CrashingFs(mem, k));
    let log: StorageRaftLog;
    try {
      log = await StorageRaftLog.open({ fs: mem, logDir: '/d', clock: systemClock });
    } catch (e) {
      t.fail(`crash after ${k} calls: reopen failed: ${(e as Error).message}`);
      continue;
    }
    // The last flush (after the truncation to 10) covers 11; earlier ones up to 12, cut back to 10 by the truncation.
    const required = r.flushedTo === 11 ? 11 : Math.min(r.flushedTo, 10);
    t.ok(log.endOffset() >= required, `crash after ${k}: flushed data kept (end ${log.endOffset()}, flushed ${r.flushedTo})`);
    if (log.startOffset() > 0) t.ok(log.latestSnapshot(), `crash after ${k}: a log without its prefix has the snapshot`);
    for (let o = log.startOffset(); o < log.endOffset();) {
      const b = new RecordBatchView(log.read(o, 1));
      t.ok(all.written.get(o)?.some((w) => w.equals(b.bytes())), `crash after ${k}: batch at ${o} is one that was written there`);
      o = b.lastOffset + 1;
    }
    const snap = log.latestSnapshot();
    if (snap) t.same(log.readSnapshot(snap)!.length > 0, true);
    await log.close();
  }
});

t.test('FileQuorumStateStore on the node file system', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gregor-qs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = new FileQuorumStateStore(nodeFs, dir, (e) => { throw e; });
  await s.load();
  t.equal(s.read(), null, 'new node');
  await new Promise<void>((r) => s.write({ epoch: 3, leaderId: -1, votedId: 2 }, r));
  await new Promise<void>((r) => s.write({ epoch: 4, leaderId: 2, votedId: -1 }, r));
  t.same(readdirSync(dir), [QUORUM_STATE_FILE], 'no temp file left');
  const s2 = new FileQuorumStateStore(nodeFs, dir, (e) => { throw e; });
  await s2.load();
  t.same(s2.read(), { epoch: 4, leaderId: 2, votedId: -1 });
});

t.test('FileQuorumStateStore: a crash during a write leaves the old or the new state, never a torn file', async (t) => {
  const probe = new CrashingFs(new MemFs(), Infinity);
  const p = new FileQuorumStateStore(probe, '/q', () => {});
  await probe.mkdir('/q');
  await new Promise<void>((r) => p.write({ epoch: 1, leaderId: 1, votedId: 1 }, r));
  const before = probe.count;
  await new Promise<void>((r) => p.write({ epoch: 2, leaderId: -1, votedId: 3 }, r));
  const per = probe.count - before;
  for (let k = 0; k <= per; k++) {
    const mem = new MemFs();
    await mem.mkdir('/q');
    const first = new FileQuorumStateStore(mem, '/q', () => {});
    await new Promise<void>((r) => first.write({ epoch: 1, leaderId: 1, votedId: 1 }, r));
    const crashing = new FileQuorumStateStore(new CrashingFs(mem, k), '/q', () => {});
    await new Promise<void>((r) => { crashing.write({ epoch: 2, leaderId: -1, votedId: 3 }, r); setTimeout(r, 20); });
    const again = new FileQuorumStateStore(mem, '/q', (e) => { throw e; });
    await again.load();
    t.ok([1, 2].includes(again.read()!.epoch), `crash after ${k} of ${per} calls: epoch ${again.read()!.epoch}`);
  }
});

t.test('concurrent proposals share log syncs (flushes coalesce), and none commits before its sync', async (t) => {
  const mem = new MemFs();
  let datasyncs = 0;
  const fs = new Proxy(mem, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop === 'fdatasync') return (fd: number) => { datasyncs++; return (v as FsLike['fdatasync']).call(target, fd); };
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as FsLike;
  const n = await openNode(fs, '/data');
  await n.log.settle();
  const before = datasyncs;
  const synced: number[] = [];
  const all = Array.from({ length: 50 }, (_, i) => n.client.proposeAsync([rec(`r${i}`)]).then((off) => {
    t.ok(n.log.flushedOffset() > off, `r${i} committed only once on disk`);
    synced.push(off);
  }));
  await Promise.all(all);
  t.same(n.committed.slice(-50), Array.from({ length: 50 }, (_, i) => `r${i}`), 'every proposal committed, in order');
  t.ok(datasyncs - before <= 4, `50 concurrent proposals took ${datasyncs - before} data syncs (at most 2 log flushes)`);
  n.client.close();
  await n.log.close();
});
