// Human-readable run summary and defect list (each defect with the command that replays it).
import type { Defect } from './check.ts';
import { defectKey, type FuzzStats } from './driver.ts';

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function describeRequest(req: unknown, max = 400): string {
  if (req === undefined) return '';
  const s = JSON.stringify(req, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v && v.type === 'Buffer' && Array.isArray(v.data) ? `<${v.data.length} bytes>` : v));
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export function replayCommand(seed: number, d: Defect): string {
  return d.frame >= 0 ? `npm run fuzz -- --seed ${seed} --replay ${d.frame}` : '';
}

export function formatDefect(seed: number, d: Defect, count = 1): string {
  const api = d.apiKey >= 0 ? ` api ${d.apiKey} v${d.version}` : '';
  const lines = [`  [${d.kind}]${api} frame ${d.frame}${count > 1 ? ` (${count} times)` : ''}: ${d.detail.split('\n')[0]}`];
  if (d.request !== undefined) lines.push(`    request: ${describeRequest(d.request)}`);
  const cmd = replayCommand(seed, d);
  if (cmd) lines.push(`    replay: ${cmd}`);
  return lines.join('\n');
}

export function formatStats(s: FuzzStats): string {
  const secs = s.elapsedMs / 1000;
  return [
    `seed ${s.seed}: ${s.framesSent} frames in ${secs.toFixed(1)} s (${Math.round(s.framesSent / Math.max(secs, 0.001))} frames/s), ${s.connections} connections`,
    `  well-formed ${s.wellFormed}, answers ${s.answers}, connections closed by the broker ${s.closedByBroker}, held answers at deadline (long poll/rebalance) ${s.slow}, answers after a size lie ${s.unattributed}`,
    `  advertised API versions answered: ${s.pairsAnswered}/${s.advertisedPairs} (not: ${s.pairsUnanswered.join(' ') || '-'}); healthy client rounds ${s.healthyRounds}; janitor runs ${s.janitorRuns}`,
    `  broker RSS start ${MiB(s.rssStart)}, peak ${MiB(s.rssPeak)}, end ${MiB(s.rssEnd)}; crashed: ${s.crashed}`,
    `  defects: ${s.defects.length === 0 ? 'none' : ''}`,
    ...s.defects.map((d) => formatDefect(s.seed, d, s.defectCounts.get(defectKey(d)))),
  ].join('\n');
}
