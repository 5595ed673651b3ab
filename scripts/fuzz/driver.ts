// The fuzz run: many connections, each sending a few frames of the plan at once; a well-behaved client
// on its own connection throughout; the broker's liveness, RSS and internal-error log lines sampled.
import net from 'node:net';
import { FrameDecoder } from '../../protocol/frame.ts';
import { RawClient } from '../../broker/testing/raw-client.ts';
import { batchOf } from '../../broker/testing/produce.ts';
import { classify } from './classify.ts';
import { ConnectionCheck, type Defect } from './check.ts';
import { advertisedPairs, fixtureFrames, servedApis, type ServedApi } from './corpus.ts';
import { buildFrame, connectionPipelined, connectionSize, type Plan } from './frames.ts';

/** The broker under test, in this process or a child. */
export interface Target {
  port: number;
  alive(): boolean;
  /** Resident set size of the broker in bytes (this process's own when in-process). */
  rss(): number;
  /** Internal-error log lines since the last call. */
  takeInternalErrors(): string[];
}

export interface FuzzOptions {
  seed: number;
  frames: number;
  concurrency?: number;
  maxFramesPerConnection?: number;
  /** Per-connection deadline for owed answers. */
  deadlineMs?: number;
  /** Delete every non-healthy topic and group this often (frames), so RSS growth means a leak. 0: never. */
  janitorEvery?: number;
  probeEveryMs?: number;
  progress?: (s: FuzzStats) => void;
  /** Stop starting new connections after this long. */
  maxMs?: number;
  /** Frame size limit the broker enforces (socket.request.max.bytes). */
  maxFrameBytes?: number;
}

export interface FuzzStats {
  seed: number;
  framesSent: number;
  connections: number;
  answers: number;
  wellFormed: number;
  closedByBroker: number;
  slow: number;
  unattributed: number;
  healthyRounds: number;
  janitorRuns: number;
  advertisedPairs: number;
  pairsAnswered: number;
  /** Advertised API versions no frame of the run got an answer for (Produce v0–2 never: they close). */
  pairsUnanswered: string[];
  rssStart: number;
  rssPeak: number;
  rssEnd: number;
  elapsedMs: number;
  defects: Defect[];
  /** Defects beyond the first of each (kind, api, version): counted, not kept. */
  defectCounts: Map<string, number>;
  crashed: boolean;
}

/** Defects are listed once per (kind, API, version); a pipelined close is one connection-level issue. */
export const defectKey = (d: Defect) => (d.kind === 'closed-pipelined' ? d.kind : d.kind === 'internal-error' ? `${d.kind} ${d.detail.slice(0, 160)}` : `${d.kind} ${d.apiKey}v${d.version}`);

export function makePlan(seed: number): Plan {
  const apis = servedApis();
  return { seed, apis, pairs: advertisedPairs(apis), fixtures: fixtureFrames(apis) };
}

export function servedMap(apis: ServedApi[]): Map<number, ServedApi> { return new Map(apis.map((a) => [a.apiKey, a])); }

/** Sends `frames` on one fresh connection and checks what comes back. */
/**
 * Sends `frames` on one fresh connection and checks what comes back. Pipelined: all at once. Otherwise
 * as Kafka reads them (one request at a time): a frame owed an answer is followed by the next only
 * once its answer is in, so a close is attributable to the frame that caused it.
 */
export async function runConnection(port: number, frames: Array<{ index: number; frame: Buffer }>, served: ReadonlyMap<number, ServedApi>, opts: { deadlineMs: number; graceMs: number; maxFrameBytes: number; pipelined: boolean }): Promise<{ check: ConnectionCheck; closed: boolean; answers: number; slow: number }> {
  const infos = frames.map((f) => classify(f.frame, served, opts.maxFrameBytes));
  const check = new ConnectionCheck(infos, frames.map((f) => f.index));
  let answers = 0;
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let closed = false, finished = false, grace: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline); clearTimeout(grace);
      s.destroy();
      const { slow } = check.finish(closed, opts.pipelined);
      resolve({ check, closed, answers, slow });
    };
    const deadline = setTimeout(finish, opts.deadlineMs);
    let sent = 0;
    const pump = () => {
      const chunks: Buffer[] = [];
      while (sent < frames.length && (sent === 0 || opts.pipelined || infos[sent - 1]!.kind !== 'answer' || check.answered[sent - 1])) chunks.push(frames[sent++]!.frame);
      if (chunks.length > 0) s.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const progress = () => {
      if (!closed) pump();
      if (check.allDone) return finish();
      // Owed answers are in; the rest may be dropped by a close: give the broker a moment to do either.
      if (check.owedDone && !grace) grace = setTimeout(finish, opts.graceMs);
    };
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 30 });
    s.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (f) => { answers++; check.onResponse(f); });
      } catch (err) {
        check.defects.push({ kind: 'wrong-correlation-id', frame: frames[0]!.index, apiKey: -1, version: -1, detail: `unparseable answer stream: ${(err as Error).message}` });
        return finish();
      }
      progress();
    });
    s.on('error', () => {});
    s.on('close', () => { closed = true; finish(); });
    s.on('connect', progress);
  });
}

/** A log line without its timestamp and connection id, so one bug is one entry. */
const normalizeLogLine = (l: string) => l.replace(/^\[[^\]]*\] /, '').replace(/connection \S+/, 'connection');

const HEALTHY_TOPIC = 'healthy-client-topic';

/** ApiVersions + Metadata + Produce + Fetch on one long-lived connection; throws on any wrong answer. */
class HealthyClient {
  #c: RawClient;
  #produced = 0;
  private constructor(c: RawClient) { this.#c = c; }
  static async start(port: number): Promise<HealthyClient> {
    const c = await RawClient.connect(port);
    const res = await c.request(19, 7, { topics: [{ name: HEALTHY_TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
    if (res.topics[0].errorCode !== 0 && res.topics[0].errorCode !== 36) throw new Error(`healthy client: CreateTopics error ${res.topics[0].errorCode}`);
    return new HealthyClient(c);
  }
  get closed(): boolean { return this.#c.closed; }
  async round(): Promise<void> {
    const c = this.#c;
    const av = await c.request(18, 3, { clientSoftwareName: 'fuzz-healthy', clientSoftwareVersion: '1' });
    if (av.errorCode !== 0) throw new Error(`ApiVersions error ${av.errorCode}`);
    const md = await c.request(3, 12, { topics: [{ name: HEALTHY_TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false });
    if (md.topics[0]?.errorCode !== 0) throw new Error(`Metadata error ${md.topics[0]?.errorCode}`);
    const pr = await c.request(0, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: HEALTHY_TOPIC, partitionData: [{ index: 0, records: batchOf(2, { prefix: 'healthy' }) }] }] });
    const p = pr.responses[0].partitionResponses[0];
    if (p.errorCode !== 0) throw new Error(`Produce error ${p.errorCode}`);
    if (Number(p.baseOffset) !== this.#produced) throw new Error(`Produce base offset ${p.baseOffset}, expected ${this.#produced}`);
    this.#produced += 2;
    const fr = await c.request(1, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: HEALTHY_TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: BigInt(this.#produced - 2), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const fp = fr.responses[0].partitions[0];
    if (fr.errorCode !== 0 || fp.errorCode !== 0) throw new Error(`Fetch error ${fr.errorCode}/${fp.errorCode}`);
    if (Number(fp.highWatermark) !== this.#produced || !fp.records || fp.records.length === 0) throw new Error(`Fetch: high watermark ${fp.highWatermark} (expected ${this.#produced}), ${fp.records?.length ?? 0} record bytes`);
  }
  /** Deletes every topic but ours and every group, so the broker's state stays bounded. */
  async janitor(): Promise<void> {
    const c = this.#c;
    const md = await c.request(3, 12, { topics: null, allowAutoTopicCreation: false });
    const names = md.topics.map((t: { name: string }) => t.name).filter((n: string | null) => n && n !== HEALTHY_TOPIC);
    for (let i = 0; i < names.length; i += 500) await c.request(20, 5, { topicNames: names.slice(i, i + 500), timeoutMs: 10000 });
    const lg = await c.request(16, 4, { statesFilter: [] });
    const groups = lg.groups.map((g: { groupId: string }) => g.groupId);
    if (groups.length > 0) await c.request(42, 2, { groupsNames: groups });
  }
  close(): void { this.#c.close(); }
}

export async function runFuzz(target: Target, o: FuzzOptions): Promise<FuzzStats> {
  const concurrency = o.concurrency ?? 16;
  const maxPer = o.maxFramesPerConnection ?? 6;
  const connOpts = { deadlineMs: o.deadlineMs ?? 5000, graceMs: 100, maxFrameBytes: o.maxFrameBytes ?? 104857600, pipelined: false };
  const plan = makePlan(o.seed);
  const served = servedMap(plan.apis);
  const started = Date.now();
  const stats: FuzzStats = {
    seed: o.seed, framesSent: 0, connections: 0, answers: 0, wellFormed: 0, closedByBroker: 0, slow: 0, unattributed: 0,
    healthyRounds: 0, janitorRuns: 0, advertisedPairs: plan.pairs.length, pairsAnswered: 0, pairsUnanswered: [],
    rssStart: target.rss(), rssPeak: 0, rssEnd: 0, elapsedMs: 0, defects: [], defectCounts: new Map(), crashed: false,
  };
  stats.rssPeak = stats.rssStart;
  const pairsAnswered = new Set<string>();
  const addDefect = (d: Defect) => {
    const k = defectKey(d);
    const n = stats.defectCounts.get(k) ?? 0;
    stats.defectCounts.set(k, n + 1);
    if (n === 0) stats.defects.push(d);
  };

  let healthy = await HealthyClient.start(target.port);
  let stop = false;
  const fail = (kind: Defect['kind'], detail: string) => { addDefect({ kind, frame: -1, apiKey: -1, version: -1, detail }); };
  const sampler = setInterval(() => {
    if (!target.alive()) { stats.crashed = true; stop = true; fail('process-died', 'the broker process exited'); return; }
    stats.rssPeak = Math.max(stats.rssPeak, target.rss());
    for (const line of target.takeInternalErrors()) fail('internal-error', normalizeLogLine(line));
  }, 250);
  const healthyLoop = (async () => {
    while (!stop) {
      try { await healthy.round(); stats.healthyRounds++; } catch (err) {
        fail('healthy-client', (err as Error).message);
        // Reconnect so the run goes on (the failure is reported).
        if (healthy.closed) { try { healthy = await HealthyClient.start(target.port); } catch { if (!target.alive()) return; } }
      }
      await new Promise((r) => setTimeout(r, o.probeEveryMs ?? 200));
    }
  })();

  let nextFrame = 0, nextConn = 0, lastJanitor = 0, janitorBusy: Promise<void> | null = null;
  const worker = async () => {
    while (!stop && nextFrame < o.frames && (o.maxMs === undefined || Date.now() - started < o.maxMs)) {
      if (janitorBusy) { await janitorBusy; continue; }
      if (o.janitorEvery && nextFrame - lastJanitor >= o.janitorEvery) {
        lastJanitor = nextFrame;
        janitorBusy = HealthyClient.start(target.port).then((j) => j.janitor().finally(() => j.close())).then(() => { stats.janitorRuns++; }, (err) => fail('healthy-client', `janitor: ${(err as Error).message}`)).finally(() => { janitorBusy = null; });
        continue;
      }
      const c = nextConn++;
      const first = nextFrame;
      const n = Math.min(connectionSize(plan, c, first, maxPer), o.frames - first);
      nextFrame += n;
      const frames = [];
      for (let i = first; i < first + n; i++) frames.push(buildFrame(plan, i));
      const r = await runConnection(target.port, frames, served, { ...connOpts, pipelined: connectionPipelined(o.seed, c) });
      stats.connections++;
      stats.framesSent += n;
      stats.answers += r.answers;
      stats.slow += r.slow;
      stats.unattributed += r.check.unattributed;
      if (r.closed) stats.closedByBroker++;
      r.check.infos.forEach((f, j) => {
        if (f.kind !== 'mayClose') stats.wellFormed++;
        if (r.check.answered[j] && f.kind === 'answer') pairsAnswered.add(`${f.apiKey}v${f.version}`);
      });
      for (const d of r.check.defects) addDefect(d);
      if (o.progress && stats.connections % 2000 === 0) { stats.elapsedMs = Date.now() - started; o.progress(stats); }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  stop = true;
  await healthyLoop;
  // A last round after the run, then the final samples.
  try { await healthy.round(); stats.healthyRounds++; } catch (err) { fail('healthy-client', `after the run: ${(err as Error).message}`); }
  if (o.janitorEvery) {
    try { const j = await HealthyClient.start(target.port); await j.janitor().finally(() => j.close()); stats.janitorRuns++; } catch (err) { fail('healthy-client', `janitor: ${(err as Error).message}`); }
  }
  healthy.close();
  clearInterval(sampler);
  if (!target.alive()) { stats.crashed = true; fail('process-died', 'the broker process exited'); }
  for (const line of target.takeInternalErrors()) fail('internal-error', normalizeLogLine(line));
  stats.rssEnd = target.rss();
  stats.rssPeak = Math.max(stats.rssPeak, stats.rssEnd);
  stats.pairsAnswered = plan.pairs.filter((p) => pairsAnswered.has(`${p.apiKey}v${p.version}`)).length;
  stats.pairsUnanswered = plan.pairs.filter((p) => !pairsAnswered.has(`${p.apiKey}v${p.version}`)).map((p) => `${p.apiKey}v${p.version}`);
  stats.elapsedMs = Date.now() - started;
  return stats;
}
