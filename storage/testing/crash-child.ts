// Child process for the crash test: appends continuously to one partition and prints
// "<offset> <seq>" after each append resolves (acknowledged = written to the page cache).
// Record seq has key `k<seq>` and value `v<seq>-<seq*7919 % 10007>`. Killed with SIGKILL by the parent.
import { openStorage } from '../storage.ts';
import { kv } from './records.ts';

const [dataDir, startSeqArg] = process.argv.slice(2);
let seq = Number(startSeqArg);
const s = await openStorage({ dataDir });
if (!s.getTopic('crash')) await s.createTopic('crash', { partitions: 1, topicId: 'crash-topic-id', configs: { 'segment.bytes': '20000', 'index.interval.bytes': '500' } });
const log = s.partition('crash', 0)!;
process.stdout.write('ready\n');
// Several appends in flight at once, so kills land between, during and after group writes.
const inFlight = new Set<Promise<void>>();
for (;;) {
  const n = seq++;
  const p: Promise<void> = log.append(kv(`k${n}`, `v${n}-${(n * 7919) % 10007}`.padEnd(20 + (n % 50), '.'))).then((r) => {
    process.stdout.write(`${r.baseOffset} ${n}\n`);
    inFlight.delete(p);
  });
  inFlight.add(p);
  if (inFlight.size >= 8) await Promise.race(inFlight);
}
