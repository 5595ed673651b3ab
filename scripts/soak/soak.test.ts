// The soak (npm run soak) for one minute against its own gregor: the verdict must be PASS, with the checks
// it reports actually exercised (records acknowledged and delivered, a member change, transactions both
// ways, churn cycles) and a chart written.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

t.test('a 60-second soak passes', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-test-'));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const child = spawn(process.execPath, [main, '--minutes', '1', '--interval', '10', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => { log += d; });
  child.stderr.on('data', (d: Buffer) => { log += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 420_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(killer);
  const r = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  // A failure names the broker's first warnings too (the soak keeps them in results.json).
  if (r.verdict !== 'PASS') t.comment(`broker warnings: ${JSON.stringify(r.brokerWarnings)}`);
  t.match(log, /soak verdict: PASS/, log);
  t.equal(code, 0);
  t.equal(r.verdict, 'PASS');
  t.ok(r.checks.acknowledged > 1000, `acknowledged ${r.checks.acknowledged}`);
  t.equal(r.checks.lost, 0);
  t.ok(r.checks.memberChanges >= 1, 'a member left or joined');
  t.ok(r.checks.transactionsCommitted > 0 && r.checks.transactionsAborted > 0, 'transactions committed and aborted');
  t.ok(r.checks.churnCycles > 0, 'topics created and deleted');
  t.ok(r.samples.length >= 5, 'per-interval samples');
  for (const s of r.samples) t.ok(s.rssMiB > 0 && s.fds > 0 && s.diskMiB >= 0, `sample at ${s.t} s`);
  const png = fs.readFileSync(path.join(out, 'chart.png'));
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'chart.png is a PNG');
});
