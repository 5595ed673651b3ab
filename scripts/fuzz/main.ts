// npm run fuzz -- [--frames N] [--seed S] [--minutes M] [--concurrency C] [--in-process] [--node-arg A ...]
// npm run fuzz -- --seed S --replay I [--connection]   (frame I alone, or its whole connection)
//
// The soak: gregor runs as a child process with in-memory storage; the run stops after N frames or M
// minutes (default 15), whichever comes first, prints throughput, RSS and every defect, and exits 1 if
// there was any.
import { parseArgs } from 'node:util';
import { classify } from './classify.ts';
import { makePlan, runConnection, runFuzz, servedMap } from './driver.ts';
import { buildFrame, connectionPipelined, connectionSize } from './frames.ts';
import { describeRequest, formatDefect, formatStats } from './report.ts';
import { childTarget, inProcessTarget } from './target.ts';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    minutes: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '24' },
    replay: { type: 'string' },
    connection: { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    // Passed to the child gregor's node (diagnostics: --node-arg=--heapsnapshot-signal=SIGUSR2).
    'node-arg': { type: 'string', multiple: true, default: [] },
    'janitor-every': { type: 'string', default: '20000' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000_007;

async function replay(index: number): Promise<number> {
  const plan = makePlan(seed);
  const served = servedMap(plan.apis);
  let indexes = [index];
  let pipelined = false;
  if (values.connection) {
    for (let c = 0, first = 0; ; c++) {
      const n = connectionSize(plan, c, first, 6);
      if (index < first + n) { indexes = Array.from({ length: n }, (_, k) => first + k); pipelined = connectionPipelined(seed, c); break; }
      first += n;
    }
  }
  const target = await childTarget();
  try {
    const frames = indexes.map((i) => buildFrame(plan, i));
    for (const f of frames) {
      const info = classify(f.frame, served, 104857600);
      console.log(`frame ${f.index}: ${f.origin}${f.ops.length ? ` mutated by ${f.ops.join('+')}` : ''}; ${f.frame.length} bytes; ${info.kind} (api ${info.apiKey} v${info.version}, correlation id ${info.corr})`);
      if (info.request !== undefined) console.log(`  request: ${describeRequest(info.request, 2000)}`);
      console.log(`  bytes: ${f.frame.subarray(0, 256).toString('hex')}${f.frame.length > 256 ? '…' : ''}`);
    }
    const r = await runConnection(target.port, frames, served, { deadlineMs: 5000, graceMs: 300, maxFrameBytes: 104857600, pipelined });
    console.log(`${pipelined ? 'pipelined' : 'one owed answer at a time'}: answers ${r.answers}, broker closed the connection: ${r.closed}`);
    await new Promise((res) => setTimeout(res, 200));
    const errors = target.takeInternalErrors();
    for (const e of errors) console.log(`broker: ${e}`);
    for (const d of r.check.defects) console.log(formatDefect(seed, d));
    console.log(r.check.defects.length === 0 && errors.length === 0 ? 'no defect' : 'DEFECT reproduced');
    console.log(`broker log tail:\n${target.tail().split('\n').slice(-5).join('\n')}`);
    return r.check.defects.length + errors.length > 0 ? 1 : 0;
  } finally {
    await target.stop();
  }
}

async function soak(): Promise<number> {
  const inProcess = values['in-process'];
  const target = inProcess ? await inProcessTarget() : await childTarget({}, values['node-arg']);
  console.log(`fuzz: seed ${seed}, up to ${values.frames} frames or ${values.minutes} min, gregor ${inProcess ? 'in process' : `pid child on port ${target.port}`}`);
  try {
    const stats = await runFuzz(target, {
      seed, frames: Number(values.frames), concurrency: Number(values.concurrency), maxMs: Number(values.minutes) * 60_000,
      janitorEvery: Number(values['janitor-every']),
      progress: (s) => console.log(`  ${s.framesSent} frames, ${s.connections} connections, ${(s.elapsedMs / 1000).toFixed(0)} s, RSS ${(target.rss() / 1048576).toFixed(0)} MiB (peak ${(s.rssPeak / 1048576).toFixed(0)}), defect kinds ${s.defects.length}`),
    });
    console.log(formatStats(stats));
    return stats.defects.length > 0 || stats.crashed ? 1 : 0;
  } finally {
    await target.stop();
  }
}

process.exitCode = values.replay !== undefined ? await replay(Number(values.replay)) : await soak();
