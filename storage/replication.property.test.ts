// Property test for follower storage: random leader appends, follower appends (with gaps), truncations,
// full truncations, high-watermark moves, rolls and restarts (clean and crash) against a model of offsets,
// values, epochs and the high watermark. Seeded, so a failure names its seed.
import t from 'tap';
import { openStorage, type Storage } from './storage.ts';
import { MemFs } from './memfs.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import { buildBatch } from './testing/records.ts';
import { ManualClock } from './clock.ts';
import { parseRecords } from './testing/records.ts';
import type { PartitionLog } from './partition-log.ts';

/** Every record in [from, high watermark); stops at a trailing gap (no batch below the high watermark). */
async function readAll(log: PartitionLog, from: number) {
  const out: Array<{ offset: number; value: string | null }> = [];
  let next = from;
  while (next < log.highWatermark) {
    const r = await log.read(next, 1 << 20);
    if (r.error) throw new Error(`read ${next}: ${r.message}`);
    if (r.batches.length === 0) break;
    for (const rec of parseRecords(Buffer.concat(r.batches))) if (rec.offset >= next) out.push(rec);
    const b = r.batches[r.batches.length - 1];
    let p = 0;
    let last = next;
    while (p < b.length) { last = Number(b.readBigInt64BE(p)) + b.readInt32BE(p + 23) + 1; p += 12 + b.readInt32BE(p + 8); }
    next = Math.max(next + 1, last);
  }
  return out;
}

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

const SEEDS = Number(process.env.GREGOR_PROPERTY_SEEDS ?? 15);
const STEPS = 200;

interface Rec { offset: number; value: string; epoch: number; batchBase: number }

for (let seed = 1; seed <= SEEDS; seed++) {
  t.test(`seed ${seed}`, async (t) => {
    const rand = rng(seed);
    const int = (n: number) => Math.floor(rand() * n);
    const clock = new ManualClock();
    const fs = new MemFs(() => clock.now());
    const configs = { 'segment.bytes': String(400 + int(800)), 'index.interval.bytes': String(int(300)) };
    const openS = () => openStorage({ fs, dataDir: '/d', clock, retentionCheckIntervalMs: 0, cleaner: { enabled: false }, highWatermarkFollowsLogEnd: false, highWatermarkCheckpointIntervalMs: 0 });
    let s: Storage = await openS();
    await s.createTopic('p', { partitions: 1, topicId: 'id', configs });
    let model: Rec[] = [];
    let leo = 0;
    let lso = 0;
    let hw = 0;
    let epoch = 0;
    let seq = 0;
    const fail = (msg: string) => { t.fail(`seed ${seed}: ${msg}`); throw new Error(msg); };
    const batch = (n: number) => {
      const vals = Array.from({ length: n }, () => `v${seq++}`);
      return { vals, buf: buildBatch(vals.map((v) => ({ key: Buffer.from('k'), value: Buffer.from(v) }))) };
    };
    /** The model's epoch cache, driven by the same operations (its semantics are unit-tested on their own). */
    let epochs = new LeaderEpochCache();
    const modelEpochs = () => epochs.entries.map((e) => [e.epoch, e.startOffset]);
    for (let step = 0; step < STEPS; step++) {
      const log = s.partition('p', 0)!;
      const op = rand();
      if (op < 0.3) {
        // Leader append in the current epoch.
        const { vals, buf } = batch(1 + int(3));
        const r = await log.append(buf, { leaderEpoch: epoch });
        if (r.baseOffset !== leo) fail(`leader append at ${r.baseOffset}, model ${leo}`);
        vals.forEach((value, i) => model.push({ offset: leo + i, value, epoch, batchBase: leo }));
        if (epoch !== epochs.latestEpoch) epochs.assign(epoch, leo);
        leo += vals.length;
      } else if (op < 0.55) {
        // Follower append of 1-3 batches, maybe after a gap, in the current or a newer epoch.
        if (rand() < 0.2) epoch++;
        const parts: Buffer[] = [];
        let next = leo + (rand() < 0.2 ? 1 + int(5) : 0);
        const recs: Rec[] = [];
        for (let b = 0, nb = 1 + int(3); b < nb; b++) {
          const { vals, buf } = batch(1 + int(3));
          buf.writeBigInt64BE(BigInt(next), 0);
          buf.writeInt32BE(epoch, 12);
          parts.push(buf);
          vals.forEach((value, i) => recs.push({ offset: next + i, value, epoch, batchBase: next }));
          next += vals.length + (rand() < 0.1 ? 1 + int(3) : 0);
        }
        const r = await log.appendAsFollower(Buffer.concat(parts));
        if (r.baseOffset !== recs[0].offset) fail(`follower append at ${r.baseOffset}, sent ${recs[0].offset}`);
        model.push(...recs);
        if (epoch !== epochs.latestEpoch) epochs.assign(epoch, recs[0].offset);
        leo = recs[recs.length - 1].offset + 1;
        if (rand() < 0.3) {
          // An overlapping fetch is refused and changes nothing.
          const dup = batch(1).buf;
          dup.writeBigInt64BE(BigInt(Math.max(0, leo - 1)), 0);
          await log.appendAsFollower(dup).then(() => fail('overlap accepted'), () => {});
        }
      } else if (op < 0.65) {
        // Truncate to a random offset in [lso, leo] (sometimes mid-batch), maybe a new epoch after.
        const target = lso + int(leo - lso + 1);
        const first = log.segmentBaseOffsets[0];
        await log.truncateTo(target);
        if (target < leo) {
          // Batches reaching the target go whole; the log ends after the last kept batch (at the first
          // segment's base when none is left in the log).
          const lastOf = new Map<number, number>();
          for (const r of model) lastOf.set(r.batchBase, Math.max(lastOf.get(r.batchBase) ?? -1, r.offset));
          model = model.filter((r) => lastOf.get(r.batchBase)! < target);
          const end = Math.max(model.length ? model[model.length - 1].offset + 1 : 0, first);
          epochs.truncateFromEnd(end);
          leo = end;
          hw = Math.min(hw, end);
          lso = Math.min(lso, end);
        }
        if (rand() < 0.5) epoch++;
      } else if (op < 0.68) {
        const start = leo + int(20);
        await log.truncateFullyAndStartAt(start);
        model = [];
        epochs = new LeaderEpochCache();
        leo = lso = hw = start;
      } else if (op < 0.8) {
        hw = Math.max(hw, Math.min(leo, lso + int(leo - lso + 2)));
        log.setHighWatermark(hw);
      } else if (op < 0.85) {
        log.roll();
      } else if (op < 0.88 && hw > lso) {
        lso = lso + 1 + int(hw - lso);
        log.deleteRecordsBefore(lso); // the model keeps the records below: reads cut at lso
        epochs.truncateFromStart(lso);
      } else if (op < 0.95) {
        // Restart: clean, or a crash (no close). A crash keeps what the page cache holds (MemFs), the high
        // watermark comes back from its checkpoint (written at close / after truncations), capped at the log end.
        const crash = rand() < 0.5;
        if (!crash) await s.close();
        else {
          // The old instance is abandoned; let its background checkpoint writes land first (same MemFs).
          await log.idle();
          await s.settle();
        }
        s = await openS();
        const l2 = s.partition('p', 0)!;
        if (l2.logEndOffset !== leo) fail(`restart (${crash ? 'crash' : 'clean'}): log end ${l2.logEndOffset}, model ${leo}`);
        if (!crash && l2.highWatermark !== hw) fail(`clean restart: high watermark ${l2.highWatermark}, model ${hw}`);
        if (l2.highWatermark > hw) fail(`restart: high watermark ${l2.highWatermark} above the model's ${hw}`);
        hw = l2.highWatermark;
        epochs.truncateFromEnd(leo); // as Kafka's log load: an entry at the log end (empty epoch) goes
        if (l2.logStartOffset !== lso) fail(`restart: log start ${l2.logStartOffset}, model ${lso}`);
      } else {
        await log.idle();
      }
      const l = s.partition('p', 0)!;
      await l.idle();
      if (l.logEndOffset !== leo || l.highWatermark !== hw || l.logStartOffset !== lso) {
        fail(`step ${step}: log [${l.logStartOffset}, ${l.highWatermark}, ${l.logEndOffset}] model [${lso}, ${hw}, ${leo}]`);
      }
      if (JSON.stringify(l.leaderEpochs.map((e) => [e.epoch, e.startOffset])) !== JSON.stringify(modelEpochs())) {
        fail(`step ${step}: epochs ${JSON.stringify(l.leaderEpochs)} model ${JSON.stringify(modelEpochs())}`);
      }
      if (step % 10 === 0 || step === STEPS - 1) {
        const saved = l.highWatermark;
        const got = (await readAll(l, lso)).filter((r) => r.offset < hw);
        const want = model.filter((r) => r.offset >= lso && r.offset < saved);
        if (JSON.stringify(got.map((r) => [r.offset, r.value])) !== JSON.stringify(want.map((r) => [r.offset, r.value]))) {
          fail(`step ${step}: records differ\n got ${JSON.stringify(got.map((r) => r.offset))}\nwant ${JSON.stringify(want.map((r) => r.offset))}`);
        }
      }
    }
    await s.close();
    t.pass(`seed ${seed}: ${STEPS} steps`);
  });
}
