// Kafka's offset checkpoint files (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// replication-offset-checkpoint, cleaner-offset-checkpoint):
//   0                  version
//   2                  entry count
//   orders 0 1234      topic partition offset
import { type FsLike, readWholeFile, writeFileAtomic } from './fs.ts';

export const RECOVERY_POINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_FILE = 'log-start-offset-checkpoint';
/** High watermarks (Kafka's ReplicaManager writes it every replica.high.watermark.checkpoint.interval.ms). */
export const HIGH_WATERMARK_FILE = 'replication-offset-checkpoint';
/** First dirty offset of each compacted partition (the log cleaner's progress). */
export const CLEANER_OFFSET_FILE = 'cleaner-offset-checkpoint';

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function formatCheckpoint(entries: Map<string, number>): string {
  const lines = ['0', String(entries.size)];
  for (const [k, v] of entries) {
    const [topic, p] = k.split('\u0000');
    lines.push(`${topic} ${p} ${v}`);
  }
  return lines.join('\n') + '\n';
}

/** Parses a checkpoint file; throws on a malformed one (the caller logs and treats it as absent). */
export function parseCheckpoint(text: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '0') throw new Error(`unsupported checkpoint version ${JSON.stringify(lines[0])}`);
  const n = Number(lines[1]);
  if (!Number.isInteger(n) || lines.length !== n + 2) throw new Error(`checkpoint declares ${lines[1]} entries, has ${lines.length - 2}`);
  const out = new Map<string, number>();
  for (const line of lines.slice(2)) {
    const m = /^(\S+) (\d+) (-?\d+)$/.exec(line);
    if (!m) throw new Error(`malformed checkpoint line ${JSON.stringify(line)}`);
    out.set(tpKey(m[1], Number(m[2])), Number(m[3]));
  }
  return out;
}

export async function readCheckpoint(fs: FsLike, path: string): Promise<Map<string, number> | null> {
  const b = await readWholeFile(fs, path);
  return b === null ? null : parseCheckpoint(b.toString('utf8'));
}

export function writeCheckpoint(fs: FsLike, path: string, entries: Map<string, number>): Promise<void> {
  return writeFileAtomic(fs, path, Buffer.from(formatCheckpoint(entries)));
}
