// Deterministic simulation of a KRaft quorum (Kafka's RaftEventSimulationTest, in spirit): N voters in one process
// on a simulated clock, network and disk, every choice drawn from one seeded PRNG (no Math.random, no real
// timers), so a seed replays exactly. Faults: message loss, delay (hence reordering), duplication, corruption of
// fetched records and snapshot chunks, symmetric and one-way partitions, crash-restart losing unflushed writes,
// slow disks, clock jumps. Invariants are checked after every event; liveness after healing.

import type { Clock } from '../../storage/clock.ts';
import { MemoryRaftLog } from '../raft/raft-log.ts';
import { MemoryQuorumStateStore } from '../raft/quorum-state.ts';
import { loadRaftMessages, RaftClient, type RaftClientOptions } from '../raft/raft-client.ts';
import { decodeRaftMessage, encodeRaftMessage } from '../raft/wire.ts';
import { NotLeaderError, type CommittedBatch, type LeaderAndEpoch, type OffsetAndEpoch, type RaftListener, type RaftMessage } from '../raft/types.ts';

// Clients with peers exchange messages: their codecs load on demand.
await loadRaftMessages();

/** mulberry32: a small, fast, well-distributed 32-bit PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimViolation';
  }
}

interface Ev { at: number; seq: number; fn: () => void; cancelled: boolean }

/** Binary min-heap of events by (time, sequence). */
class EventQueue {
  #h: Ev[] = [];
  get size(): number { return this.#h.length; }
  push(e: Ev): void {
    const h = this.#h;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Ev | undefined {
    const h = this.#h;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
function less(a: Ev, b: Ev): boolean { return a.at < b.at || (a.at === b.at && a.seq < b.seq); }

export interface SimOptions {
  seed: number;
  voters: number;
  /** Events processed in the chaos phase. */
  steps: number;
  /** Test-only broken core, to prove the invariants catch it. */
  faults?: RaftClientOptions['faults'];
  log?: (line: string) => void;
}

export interface SimResult {
  seed: number;
  voters: number;
  events: number;
  simTimeMs: number;
  acked: number;
  committedOffset: number;
  elections: number;
  crashes: number;
  snapshots: number;
  snapshotInstalls: number;
}

/** The state machine of one node incarnation: the committed data batches it has seen, checked as they arrive. */
class SimStateMachine implements RaftListener {
  /** offset → payload of each committed data batch (from commits and snapshots). */
  values = new Map<number, string>();
  last = -1;
  leader: LeaderAndEpoch = { leaderId: -1, epoch: 0 };
  loads = 0;
  readonly #sim: Sim;
  readonly #node: number;
  constructor(sim: Sim, node: number) { this.#sim = sim; this.#node = node; }
  handleCommit(b: CommittedBatch): void {
    if (b.baseOffset <= this.last) this.#sim.fail(`node ${this.#node}: commit of ${b.baseOffset} after ${this.last}`);
    this.last = b.lastOffset;
    const payload = b.records.map((r) => r.toString()).join(',');
    this.#sim.checkCommitted(this.#node, b.baseOffset, `${b.epoch}:${payload}`);
    this.values.set(b.baseOffset, payload);
  }
  handleLoadSnapshot(id: OffsetAndEpoch, records: Buffer[]): void {
    this.loads++;
    this.values.clear();
    for (const r of records) {
      const s = r.toString();
      const i = s.indexOf('|');
      const j = s.indexOf('|', i + 1);
      const off = Number(s.slice(0, i));
      const key = s.slice(i + 1, j);
      const payload = s.slice(j + 1);
      if (off >= id.offset) this.#sim.fail(`node ${this.#node}: snapshot ${id.offset} holds offset ${off}`);
      this.#sim.checkCommitted(this.#node, off, `${key}:${payload}`);
      this.values.set(off, payload);
    }
    this.last = id.offset - 1;
  }
  handleLeaderChange(l: LeaderAndEpoch): void { this.leader = l; }
  snapshotRecords(sim: Sim): Buffer[] {
    const out: Buffer[] = [];
    for (const [off, payload] of this.values) out.push(Buffer.from(`${off}|${sim.committedKey(off)!.split(':')[0]}|${payload}`));
    return out;
  }
}

interface SimNode {
  id: number;
  up: boolean;
  inc: number;
  skew: number;
  log: MemoryRaftLog;
  store: MemoryQuorumStateStore;
  client: RaftClient | null;
  sm: SimStateMachine | null;
  maxEpoch: number;
  maxDurableEpoch: number;
  hw: number;
}

export class Sim {
  readonly rng: () => number;
  readonly opts: SimOptions;
  time = 0;
  #seq = 0;
  #queue = new EventQueue();
  nodes: SimNode[] = [];
  /** Directed links cut: `${from}>${to}`. */
  cut = new Set<string>();
  loss = 0;
  dup = 0;
  corrupt = 0;
  delayMin = 1;
  delayJitter = 10;
  diskMax = 5;
  events = 0;
  /** offset → `${epoch}:${payload}` of every committed data batch any node saw. */
  #committed = new Map<number, string>();
  /** offset → payload of every proposal acknowledged as committed. */
  acked = new Map<number, string>();
  #leaders = new Map<number, number>();
  #maxLeaderHw = -1;
  #maxLeaderHwEpoch = -1;
  #proposals = 0;
  stats = { elections: 0, crashes: 0, snapshots: 0, snapshotInstalls: 0 };

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rng = mulberry32(opts.seed);
    const ids = Array.from({ length: opts.voters }, (_, i) => i + 1);
    for (const id of ids) {
      const node: SimNode = { id, up: false, inc: 0, skew: 0, log: null!, store: null!, client: null, sm: null, maxEpoch: 0, maxDurableEpoch: 0, hw: -1 };
      node.log = new MemoryRaftLog({ schedule: (ms, fn) => this.#nodeSchedule(node, ms, fn), flushDelay: () => this.#diskDelay(), now: () => this.time });
      node.store = new MemoryQuorumStateStore((ms, fn) => this.#nodeSchedule(node, ms, fn), () => this.#diskDelay());
      this.nodes.push(node);
    }
    for (const n of this.nodes) this.#startNode(n);
  }

  fail(msg: string): never {
    throw new SimViolation(`seed ${this.opts.seed} (voters ${this.opts.voters}) at t=${this.time}ms event ${this.events}: ${msg}`);
  }

  int(n: number): number { return Math.floor(this.rng() * n); }
  chance(p: number): boolean { return this.rng() < p; }

  schedule(ms: number, fn: () => void): Ev {
    const e: Ev = { at: this.time + Math.max(0, Math.ceil(ms)), seq: this.#seq++, fn, cancelled: false };
    this.#queue.push(e);
    return e;
  }

  #nodeSchedule(node: SimNode, ms: number, fn: () => void): Ev {
    const inc = node.inc;
    return this.schedule(ms, () => { if (node.up && node.inc === inc) fn(); });
  }

  #diskDelay(): number { return this.int(this.diskMax + 1); }

  #clockFor(node: SimNode): Clock {
    return {
      now: () => this.time + node.skew,
      setTimeout: (fn, ms) => this.#nodeSchedule(node, ms, fn),
      clearTimeout: (h) => { (h as Ev).cancelled = true; },
    };
  }

  #startNode(node: SimNode): void {
    node.up = true;
    node.inc++;
    node.hw = -1;
    const sm = new SimStateMachine(this, node.id);
    node.sm = sm;
    const client = new RaftClient({
      nodeId: node.id,
      voters: this.nodes.map((n) => n.id),
      clusterId: 'sim-cluster-id-000000',
      clock: this.#clockFor(node),
      random: this.rng,
      log: node.log,
      store: node.store,
      transport: { send: (to, msg) => this.#send(node, to, msg) },
      listener: sm,
      ...(this.opts.faults ? { faults: this.opts.faults } : {}),
      ...(this.opts.log ? { logger: this.opts.log } : {}),
    });
    node.client = client;
    this.#guard(() => client.start());
  }

  crash(node: SimNode): void {
    if (!node.up) return;
    this.stats.crashes++;
    node.client!.close();
    node.client = null;
    node.sm = null;
    node.up = false;
    node.inc++;
    node.log.crash();
    node.store.crash();
  }

  restart(node: SimNode): void {
    if (node.up) return;
    this.#startNode(node);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof SimViolation) throw e;
      this.fail(`exception: ${(e as Error).stack ?? e}`);
    }
  }

  #send(from: SimNode, to: number, msg: RaftMessage): void {
    const dest = this.nodes.find((n) => n.id === to);
    if (dest === undefined) return;
    if (this.cut.has(`${from.id}>${to}`)) return;
    if (this.chance(this.loss)) return;
    const bytes = encodeRaftMessage(msg);
    const copies = this.chance(this.dup) ? 2 : 1;
    const fromInc = from.inc;
    const toInc = dest.inc;
    for (let i = 0; i < copies; i++) {
      const corrupt = this.chance(this.corrupt);
      this.schedule(this.delayMin + this.int(this.delayJitter + 1), () => {
        // A crash on either side breaks the connection: what was in flight is gone.
        if (!dest.up || dest.inc !== toInc || from.inc !== fromInc) return;
        if (this.cut.has(`${from.id}>${to}`)) return;
        const m = decodeRaftMessage(msg.kind, msg.api, msg.correlationId, bytes);
        if (corrupt) corruptPayload(m, this.rng);
        this.#guard(() => dest.client!.handle(from.id, m));
      });
    }
  }

  committedKey(offset: number): string | undefined { return this.#committed.get(offset); }

  checkCommitted(node: number, offset: number, key: string): void {
    const prev = this.#committed.get(offset);
    if (prev === undefined) this.#committed.set(offset, key);
    else if (prev !== key) this.fail(`node ${node} committed ${key} at offset ${offset}, previously committed ${prev}`);
  }

  /** Invariants after every event. */
  checkInvariants(): void {
    let top: SimNode | null = null;
    for (const n of this.nodes) {
      const durable = n.store.durable?.epoch ?? 0;
      if (durable < n.maxDurableEpoch) this.fail(`node ${n.id}: persisted epoch went back from ${n.maxDurableEpoch} to ${durable}`);
      n.maxDurableEpoch = durable;
      const c = n.client;
      if (!n.up || c === null) continue;
      if (c.epoch < n.maxEpoch && n.maxEpoch > durable) {
        // After a crash the in-memory epoch restarts from the persisted one: only that must not go back.
      } else if (c.epoch < n.maxEpoch) this.fail(`node ${n.id}: epoch went back from ${n.maxEpoch} to ${c.epoch}`);
      n.maxEpoch = Math.max(n.maxEpoch, c.epoch);
      const hw = c.highWatermark();
      if (hw < n.hw) this.fail(`node ${n.id}: high watermark went back from ${n.hw} to ${hw}`);
      n.hw = hw;
      if (c.isLeader()) {
        const l = this.#leaders.get(c.epoch);
        if (l === undefined) { this.#leaders.set(c.epoch, n.id); this.stats.elections++; }
        else if (l !== n.id) this.fail(`two leaders in epoch ${c.epoch}: ${l} and ${n.id}`);
        if (top === null || c.epoch > top.client!.epoch) top = n;
      }
    }
    if (top !== null) {
      const lhw = top.client!.leaderHighWatermark();
      // Kafka's MonotonicHighWatermark, on the newest leader: a stale leader of an older epoch (partitioned, not yet
      // resigned by check-quorum) may still report its old HW.
      const e = top.client!.epoch;
      if (lhw >= 0 && e >= this.#maxLeaderHwEpoch) {
        if (lhw < this.#maxLeaderHw) this.fail(`leader ${top.id} (epoch ${e}) high watermark ${lhw} below ${this.#maxLeaderHw}, seen in epoch ${this.#maxLeaderHwEpoch}`);
        this.#maxLeaderHw = lhw;
        this.#maxLeaderHwEpoch = e;
      }
    }
  }

  /** Every node's committed log is a prefix of the (newest) leader's log. */
  checkPrefix(): void {
    let leader: SimNode | null = null;
    for (const n of this.nodes) if (n.up && n.client?.isLeader() && (leader === null || n.client.epoch > leader.client!.epoch)) leader = n;
    // Only the leader of the newest elected epoch must hold every committed batch: a stale leader of an older
    // epoch (partitioned, not yet resigned) may miss batches committed since.
    if (leader === null || leader.client!.epoch < Math.max(...this.#leaders.keys())) return;
    const lb = new Map<number, Buffer>();
    for (const b of leader.log.batches()) lb.set(b.base, b.buf);
    for (const n of this.nodes) {
      if (!n.up || n === leader) continue;
      const hw = n.client!.highWatermark();
      for (const b of n.log.batches()) {
        if (b.last >= hw) break;
        if (b.base < leader.log.startOffset()) continue;
        const other = lb.get(b.base);
        if (other === undefined || !other.equals(b.buf)) this.fail(`node ${n.id}'s committed batch at ${b.base} differs from leader ${leader.id}'s log`);
      }
    }
  }

  /** One chaos action, chosen at random. */
  chaos(): void {
    const r = this.rng();
    const n = this.nodes[this.int(this.nodes.length)]!;
    if (r < 0.25) {
      this.propose();
    } else if (r < 0.32) {
      if (n.up) this.crash(n);
      else this.restart(n);
    } else if (r < 0.40) {
      const down = this.nodes.filter((x) => !x.up);
      if (down.length > 0) this.restart(down[this.int(down.length)]!);
    } else if (r < 0.50) {
      // Partition: cut one node off both ways, one way, or heal.
      const k = this.rng();
      if (k < 0.35) this.cut.clear();
      else if (k < 0.7) for (const o of this.nodes) { if (o !== n) { this.cut.add(`${n.id}>${o.id}`); this.cut.add(`${o.id}>${n.id}`); } }
      else { const o = this.nodes[this.int(this.nodes.length)]!; if (o !== n) this.cut.add(this.chance(0.5) ? `${n.id}>${o.id}` : `${o.id}>${n.id}`); }
    } else if (r < 0.55) {
      // Clock jump on one node (forward or back), then it wakes up as a poll loop would.
      n.skew += this.chance(0.5) ? this.int(5000) : -this.int(3000);
      if (n.up) this.#guard(() => n.client!.poll());
    } else if (r < 0.62) {
      this.snapshot(n);
    } else if (r < 0.70) {
      this.loss = [0, 0.01, 0.05, 0.2][this.int(4)]!;
      this.dup = [0, 0.02, 0.1][this.int(3)]!;
      this.corrupt = [0, 0.01, 0.05][this.int(3)]!;
      this.delayMin = 1 + this.int(20);
      this.delayJitter = [1, 10, 100, 400][this.int(4)]!;
      this.diskMax = [1, 5, 50, 300][this.int(4)]!;
    }
  }

  propose(): void {
    const up = this.nodes.filter((x) => x.up);
    if (up.length === 0) return;
    const n = up[this.int(up.length)]!;
    const c = n.client!;
    const payload = `v${this.#proposals++}`;
    const wasLeader = c.isLeader();
    try {
      c.propose([Buffer.from(payload)], (err, offset) => {
        if (err === null) this.acked.set(offset, payload);
      });
      if (!wasLeader) this.fail(`node ${n.id} accepted a proposal while not the leader`);
    } catch (e) {
      if (!(e instanceof NotLeaderError) || wasLeader) this.fail(`propose on node ${n.id}: ${(e as Error).stack ?? e}`);
    }
  }

  snapshot(n: SimNode): void {
    if (!n.up) return;
    const c = n.client!;
    const at = c.appliedOffset();
    if (at > c.highWatermark() || at <= n.log.startOffset()) return;
    const latest = n.log.latestSnapshot();
    if (latest !== null && latest.offset >= at) return;
    this.#guard(() => c.createSnapshot(at, n.sm!.snapshotRecords(this), true));
    this.stats.snapshots++;
  }

  #chaosOn = false;

  /** Starts a random fault every ~`everyMs` of simulated time (a self-rescheduling event). */
  startChaos(everyMs: number): void {
    this.#chaosOn = true;
    const tick = (): void => {
      if (!this.#chaosOn) return;
      this.chaos();
      this.schedule(1 + this.int(2 * everyMs), tick);
    };
    this.schedule(everyMs, tick);
  }

  /** Runs events until `until` returns true, sim time passes `deadline` or `maxEvents` ran; returns whether `until` held. */
  runUntil(until: () => boolean, deadline: number, maxEvents = Infinity): boolean {
    let n = 0;
    for (;;) {
      if (until()) return true;
      if (n >= maxEvents) return false;
      const e = this.#queue.pop();
      if (e === undefined || e.at > deadline) return false;
      if (e.cancelled) continue;
      this.time = e.at;
      this.events++;
      n++;
      e.fn();
      this.checkInvariants();
      if ((this.events & 63) === 0) this.checkPrefix();
    }
  }

  heal(): void {
    this.#chaosOn = false;
    this.cut.clear();
    this.loss = 0;
    this.dup = 0;
    this.corrupt = 0;
    this.delayJitter = Math.min(this.delayJitter, 10);
    this.diskMax = Math.min(this.diskMax, 5);
    for (const n of this.nodes) if (!n.up) this.restart(n);
  }

  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes) if (n.up && n.client!.isLeader() && (best === null || n.client!.epoch > best.client!.epoch)) best = n;
    return best;
  }
}

function corruptPayload(m: RaftMessage, rng: () => number): void {
  if (m.kind !== 'response') return;
  if (m.api === 'Fetch') {
    const p = m.body.responses[0]?.partitions[0];
    if (p?.records && p.records.length > 61) {
      // Bytes the CRC covers (attributes to the end of the first batch): baseOffset, length and leader epoch are
      // outside it in Kafka's format too (TCP's checksum guards them on a real network).
      const b = Buffer.from(p.records);
      const size = Math.min(b.length, 12 + b.readInt32BE(8));
      b[21 + Math.floor(rng() * (size - 21))]! ^= 0xff;
      p.records = b;
    }
  } else if (m.api === 'FetchSnapshot') {
    const p = m.body.topics[0]?.partitions[0];
    if (p?.unalignedRecords && p.unalignedRecords.length > 0) {
      const b = Buffer.from(p.unalignedRecords);
      b[Math.floor(rng() * b.length)]! ^= 0xff;
      p.unalignedRecords = b;
    }
  }
}

/** One seed: chaos for `steps` events, then heal and require liveness. Throws SimViolation. */
export function runSeed(opts: SimOptions): SimResult {
  const sim = new Sim(opts);
  // Chaos phase: events interleaved with a random fault every ~100 ms of simulated time.
  sim.startChaos(100);
  sim.runUntil(() => false, Infinity, opts.steps);
  sim.checkPrefix();
  // Heal, then: a leader is elected, a fresh proposal commits, every node has applied it, and every proposal
  // acknowledged as committed is in every node's state machine.
  sim.heal();
  const deadline = sim.time + 120_000;
  let probe = -1;
  let probeAcked = false;
  const ok = sim.runUntil(() => {
    const l = sim.leader();
    if (l === null) return false;
    if (probe < 0) {
      try {
        probe = l.client!.propose([Buffer.from('probe')], (err, off) => {
          if (err === null) { sim.acked.set(off, 'probe'); probeAcked = true; } else probe = -1;
        });
      } catch {
        probe = -1;
      }
      return false;
    }
    if (!probeAcked) return false;
    return sim.nodes.every((n) => n.up && n.client!.appliedOffset() > probe && [...sim.acked.keys()].every((o) => n.sm!.values.get(o) === sim.acked.get(o)));
  }, deadline);
  if (!ok) {
    const state = sim.nodes.map((n) => `${n.id}:${n.client?.stateKind}@${n.client?.epoch} hw=${n.client?.highWatermark()} applied=${n.client?.appliedOffset()} end=${n.log.endOffset()} start=${n.log.startOffset()}`).join('; ');
    const missing = [...sim.acked.keys()].filter((o) => sim.nodes.some((n) => n.sm?.values.get(o) !== sim.acked.get(o)));
    sim.fail(`no liveness after healing (probe ${probe}; acked missing somewhere: ${missing.slice(0, 5).join(',')}): ${state}`);
  }
  sim.checkPrefix();
  const l = sim.leader()!;
  return {
    seed: opts.seed, voters: opts.voters, events: sim.events, simTimeMs: Math.round(sim.time), acked: sim.acked.size,
    committedOffset: l.client!.highWatermark(), elections: sim.stats.elections, crashes: sim.stats.crashes,
    snapshots: sim.stats.snapshots, snapshotInstalls: sim.nodes.reduce((a, n) => a + (n.sm?.loads ?? 0), 0),
  };
}
