// Property test: random appends, reads, rolls, retention, DeleteRecords, timestamp lookups and restarts
// (clean and crash) against a simple in-memory model. Seeded, so a failure names its seed.
import t from 'tap';
import { openStorage, type Storage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { buildBatch, parseRecords } from './testing/records.ts';
import { ManualClock } from './clock.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelRecord { offset: number; key: string; value: string; batchTs: number; batchBase: number }

const SEEDS = Number(process.env.GREGOR_PROPERTY_SEEDS ?? 25);
const STEPS = 300;

for (let seed = 1; seed <= SEEDS; seed++) {
  t.test(`seed ${seed}`, async (t) => {
    const rand = rng(seed);
    const int = (n: number) => Math.floor(rand() * n);
    const clock = new ManualClock();
    const fs = new MemFs(() => clock.now());
    const configs = { 'segment.bytes': String(1500 + int(2000)), 'index.interval.bytes': String(int(600)), 'retention.ms': '-1' };
    let s: Storage = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
    await s.createTopic('p', { partitions: 1, topicId: 'id', configs });
    const model: ModelRecord[] = [];
    let lso = 0;
    let leo = 0;
    let seq = 0;
    const fail = (msg: string) => { t.fail(`seed ${seed}: ${msg}`); throw new Error(msg); };
    for (let step = 0; step < STEPS; step++) {
      const log = s.partition('p', 0)!;
      const op = rand();
      if (op < 0.45) {
        // Append 1-3 batches of 1-4 records in one call; sometimes several calls concurrently.
        const calls = 1 + int(3);
        const ps: Promise<unknown>[] = [];
        for (let c = 0; c < calls; c++) {
          const batches: Buffer[] = [];
          const recs: Array<Omit<ModelRecord, 'offset' | 'batchBase'> & { delta: number; nb: number }> = [];
          const nb = 1 + int(3);
          let delta = 0;
          for (let b = 0; b < nb; b++) {
            const n = 1 + int(4);
            const ts = clock.now() - int(5000);
            const rs = Array.from({ length: n }, () => { const i = seq++; return { key: `k${i}`, value: 'v'.repeat(int(60)) + i }; });
            batches.push(buildBatch(rs.map((r) => ({ key: Buffer.from(r.key), value: Buffer.from(r.value) })), ts));
            for (let i = 0; i < n; i++) recs.push({ ...rs[i], batchTs: ts, delta: delta + i, nb: delta });
            delta += n;
          }
          ps.push(log.append(Buffer.concat(batches)).then((r) => {
            if (r.baseOffset !== leo) fail(`append got base ${r.baseOffset}, model LEO ${leo}`);
            for (const x of recs) model.push({ offset: leo + x.delta, key: x.key, value: x.value, batchTs: x.batchTs, batchBase: leo + x.nb });
            leo += delta;
          }));
        }
        await Promise.all(ps);
      } else if (op < 0.75) {
        const from = lso + int(leo - lso + 2) - 1; // sometimes out of range
        const budget = 1 + int(1500);
        const r = await log.read(from, budget);
        if (from < lso || from > leo) {
          if (r.error !== 'OFFSET_OUT_OF_RANGE') fail(`read ${from} outside [${lso},${leo}] gave ${r.error}`);
        } else {
          if (r.error !== null) fail(`read ${from}: ${r.error}`);
          const got = r.batches.flatMap((b) => parseRecords(b));
          if (from < leo && got.length === 0) fail(`read ${from} budget ${budget}: nothing`);
          if (r.batches.reduce((n, b) => n + b.length, 0) > budget && r.batches.flatMap((b) => parseRecords(b)).length > 0) {
            // Only allowed when a single batch exceeds the budget.
            const firstBatchRecs = parseRecords(r.batches[0]);
            if (got.length !== firstBatchRecs.length || r.batches.length !== 1) fail(`read ${from} exceeded budget ${budget} with more than one batch`);
          }
          for (const g of got) {
            const m = model[g.offset - model[0].offset];
            if (!m || m.offset !== g.offset || m.key !== g.key || m.value !== g.value) fail(`read ${from}: offset ${g.offset} differs from model`);
          }
          if (got.length > 0 && (got[0].offset > from || got[got.length - 1].offset < from)) fail(`read ${from}: batch does not contain ${from}`);
        }
      } else if (op < 0.8) {
        log.roll();
      } else if (op < 0.85 && leo > lso) {
        const to = lso + int(leo - lso + 1);
        lso = Math.max(lso, log.deleteRecordsBefore(to));
        if (lso !== to && to > lso) fail('deleteRecordsBefore');
      } else if (op < 0.88) {
        await s.alterTopicConfigs('p', { ...configs, 'retention.bytes': String(int(4000)) });
        s.runRetention();
        await s.alterTopicConfigs('p', configs);
        lso = log.logStartOffset;
      } else if (op < 0.94) {
        const ts = clock.now() - int(6000);
        const got = await log.offsetForTimestamp(ts);
        const m = model.find((r) => r.offset >= lso && r.batchTs >= ts);
        const want = m ? { offset: Math.max(lso, m.batchBase), timestamp: m.batchTs } : null;
        t.same(got, want, `offsetForTimestamp ${ts}`);
        if (JSON.stringify(got) !== JSON.stringify(want)) fail('offsetForTimestamp');
      } else {
        // Restart: clean, or a crash (reopen without close: the page cache survives).
        if (rand() < 0.5) await s.close(); else await log.idle();
        s = await openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0 });
        const l2 = s.partition('p', 0)!;
        if (l2.logEndOffset !== leo) fail(`restart: LEO ${l2.logEndOffset}, model ${leo}`);
        // The log start offset checkpoint is written in the background; after a crash it may be older.
        lso = l2.logStartOffset;
      }
      // Records in deleted segments leave the model.
      const first = s.partition('p', 0)!.segmentBaseOffsets[0];
      while (model.length > 0 && model[0].offset < first) model.shift();
      clock.advance(int(100));
    }
    const log = s.partition('p', 0)!;
    t.equal(log.logEndOffset, leo, 'final LEO');
    await s.close();
  });
}
