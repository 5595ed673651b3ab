// gregor consume: records of a topic, from a consumer group (committing its offsets) or from chosen
// offsets/timestamps, printed as kcat's -f format or as JSON lines.
import { iterateBatches, records as recordsOf, type KafkaRecord } from '../../protocol/records.ts';
import { API, type Client, KafkaError, NetworkError, type TopicInfo } from './client.ts';
import { COMMON_HELP, int, type Io, makeClient, OperationError, parse, str, UsageError } from './common.ts';
import { GroupMember } from './group-member.ts';
import { commitOffsets, EARLIEST, fetchCommitted, LATEST, listOffsets, type Offsets, setOffset } from './offsets.ts';

export const HELP = `usage: gregor consume --topic NAME [--group ID] [start] [stop] [--format FMT | --json] [options]
Start (without --group; default: the end, only new records):
  --from-beginning        the earliest offset (with --group: where a group without offsets starts)
  --offset N              offset N of each partition (with --partition: of that one)
  --from-time T           the first record at or after T (ms since the epoch, or an ISO 8601 date)
Stop (default: run until interrupted):
  --max-messages N        after N records
  --until-end             at the end offsets seen at start (with --group: of the partitions assigned)
  --to-time T             at the first record after T in every partition (T in the past: at the latest at
                          the log end offsets seen at start)
  --timeout-ms MS         after MS without a record
Source:
  --group ID              join the group (range assignment) and commit offsets (every 5 s and at exit)
  --partition N           only this partition (not with --group)
Output (stdout; counts and progress on stderr):
  --format FMT            kcat's -f: %t topic %p partition %o offset %k key %s value %K key length %S value
                          length %T timestamp (ms) %h headers (k=v,…) %% \\n \\t; default "%s\\n"
  --json                  a JSON object per line: topic, partition, offset, timestamp, key, value, headers
Settings from --command-config: group.id, auto.offset.reset (earliest|latest).
${COMMON_HELP}`;

interface Position { topic: string; partition: number; offset: bigint; end?: bigint; done: boolean }

export function parseTime(s: string, flag: string): bigint {
  if (/^\d+$/.test(s)) return BigInt(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new UsageError(`${flag}: "${s}" is neither ms since the epoch nor a date`);
  return BigInt(t);
}

const str8 = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

/** kcat's -f tokens. */
export function formatRecord(fmt: string, topic: string, partition: number, r: KafkaRecord): string {
  return fmt.replace(/%[tpoksKSTh%]|\\[nt\\]/g, (tok) => {
    switch (tok) {
      case '%t': return topic;
      case '%p': return String(partition);
      case '%o': return String(r.offset);
      case '%k': return str8(r.key) ?? '';
      case '%s': return str8(r.value) ?? '';
      case '%K': return String(r.key?.length ?? -1);
      case '%S': return String(r.value?.length ?? -1);
      case '%T': return String(r.timestamp);
      case '%h': return r.headers.map((h) => `${h.key}=${str8(h.value) ?? ''}`).join(',');
      case '%%': return '%';
      case '\\n': return '\n';
      case '\\t': return '\t';
      default: return '\\';
    }
  });
}

export function jsonRecord(topic: string, partition: number, r: KafkaRecord): string {
  return JSON.stringify({ topic, partition, offset: r.offset, timestamp: r.timestamp, key: str8(r.key), value: str8(r.value), headers: Object.fromEntries(r.headers.map((h) => [h.key, str8(h.value)])) }) + '\n';
}

export async function run(args: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const p = parse(args, {
    topic: { type: 'string' }, group: { type: 'string' }, 'from-beginning': { type: 'boolean' }, offset: { type: 'string' },
    'from-time': { type: 'string' }, 'to-time': { type: 'string' }, 'max-messages': { type: 'string' }, 'until-end': { type: 'boolean' },
    'timeout-ms': { type: 'string' }, partition: { type: 'string' }, format: { type: 'string' }, json: { type: 'boolean' },
  });
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]}`);
  const topic = str(p, 'topic');
  if (!topic) throw new UsageError('--topic is required');
  const { client, props } = makeClient(p, io, ['group.id', 'auto.offset.reset']);
  const group = str(p, 'group') ?? props.get('group.id');
  const offset = int(p, 'offset', 0);
  const partition = int(p, 'partition', 0);
  const fromTime = str(p, 'from-time') === undefined ? undefined : parseTime(str(p, 'from-time')!, '--from-time');
  const toTime = str(p, 'to-time') === undefined ? undefined : parseTime(str(p, 'to-time')!, '--to-time');
  const maxMessages = int(p, 'max-messages', 1);
  const timeoutMs = int(p, 'timeout-ms', 1);
  const starts = [p.values['from-beginning'] && !group, offset !== undefined, fromTime !== undefined].filter(Boolean).length;
  if (starts > 1) throw new UsageError('choose one of --from-beginning, --offset, --from-time');
  if (group && (offset !== undefined || fromTime !== undefined || partition !== undefined)) throw new UsageError('--group starts from the committed offsets: --offset, --from-time and --partition are for consuming without a group (gregor groups reset-offsets moves a group)');
  if (p.values.json && str(p, 'format') !== undefined) throw new UsageError('choose --format or --json');
  const reset = props.get('auto.offset.reset') ?? (p.values['from-beginning'] ? 'earliest' : 'latest');
  if (reset !== 'earliest' && reset !== 'latest') throw new UsageError(`auto.offset.reset must be earliest or latest, got ${reset}`);
  const fmt = str(p, 'format') ?? '%s\\n';
  const emit = p.values.json ? (t: string, part: number, r: KafkaRecord) => jsonRecord(t, part, r) : (t: string, part: number, r: KafkaRecord) => formatRecord(fmt, t, part, r);

  let stopped = false;
  const onSigint = () => { stopped = true; };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  signal?.addEventListener('abort', onSigint);
  let member: GroupMember | undefined;
  let count = 0;
  try {
    let meta = await client.topic(topic);
    if (partition !== undefined && !meta.partitions.some((x) => x.partition === partition)) throw new OperationError(`topic ${topic} has no partition ${partition}`);
    let positions: Position[] = [];

    const resolveStarts = async (parts: number[], committed: Offsets | undefined): Promise<Position[]> => {
      const only = new Map([[topic, parts]]);
      let start: Offsets;
      if (offset !== undefined) start = new Map([[topic, new Map(parts.map((x) => [x, BigInt(offset)]))]]);
      else start = await listOffsets(client, [meta], fromTime ?? (reset === 'earliest' ? EARLIEST : LATEST), only);
      for (const [x, o] of committed?.get(topic) ?? []) setOffset(start, topic, x, o);
      // --to-time in the past also ends at today's log end: later records are newer.
      const bounded = p.values['until-end'] || (toTime !== undefined && toTime <= BigInt(Date.now()));
      const ends = bounded ? await listOffsets(client, [meta], LATEST, only) : undefined;
      return parts.map((x) => {
        const pos: Position = { topic, partition: x, offset: start.get(topic)!.get(x)!, end: ends?.get(topic)?.get(x), done: false };
        pos.done = pos.end !== undefined && pos.offset >= pos.end;
        return pos;
      });
    };
    const commit = async () => {
      if (!member || member.generation < 0) return;
      const offs: Offsets = new Map();
      for (const pos of positions) setOffset(offs, pos.topic, pos.partition, pos.offset);
      await commitOffsets(client, group!, offs, member.generation, member.memberId).catch((e) => io.err(`commit failed: ${(e as Error).message}\n`));
    };
    const assign = async () => {
      if (!member) return;
      const assigned = (await member.join()).get(topic) ?? [];
      io.err(`group ${group}: generation ${member.generation}, assigned ${topic} partitions [${assigned.join(',')}]\n`);
      positions = await resolveStarts(assigned, await fetchCommitted(client, group!, new Map([[topic, assigned]])));
    };

    if (group) {
      member = new GroupMember(client, group, [topic]);
      await assign();
    } else {
      positions = await resolveStarts(partition !== undefined ? [partition] : meta.partitions.map((x) => x.partition), undefined);
    }

    let lastRecordAt = Date.now();
    let lastCommit = Date.now();
    let lastNote = Date.now();
    const allDone = () => positions.length > 0 && positions.every((x) => x.done);
    while (!stopped && !allDone() && (maxMessages === undefined || count < maxMessages)) {
      if (timeoutMs !== undefined && Date.now() - lastRecordAt >= timeoutMs) break;
      if (member?.rejoinNeeded) { await commit(); await assign(); }
      if (group && Date.now() - lastCommit >= 5000) { lastCommit = Date.now(); await commit(); }
      if (Date.now() - lastNote >= 5000 && count > 0) { lastNote = Date.now(); io.err(`${count} records consumed\n`); }
      const active = positions.filter((x) => !x.done);
      if (active.length === 0) { await new Promise((r) => setTimeout(r, 200)); continue; }
      const byLeader = new Map<number, Position[]>();
      for (const pos of active) {
        const leader = meta.partitions.find((x) => x.partition === pos.partition)!.leader;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), pos]);
      }
      const waitMs = Math.max(10, Math.min(500, timeoutMs ?? 500));
      let refresh = false;
      const results = await Promise.all([...byLeader].map(async ([leader, ps]) => {
        try {
          const c = await client.broker(leader);
          const res = await c.request(API.Fetch, {
            replicaId: -1, maxWaitMs: waitMs, minBytes: 1, maxBytes: 52428800, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
            topics: [{ topic, topicId: meta.topicId, partitions: ps.map((pos) => ({ partition: pos.partition, currentLeaderEpoch: -1, fetchOffset: pos.offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1048576, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA', highWatermark: 9223372036854775807n })) }],
            forgottenTopicsData: [], rackId: '',
          });
          if (res.errorCode) throw new KafkaError(res.errorCode, 'Fetch');
          return { ps, res };
        } catch (e) {
          if (e instanceof NetworkError || (e instanceof KafkaError && e.retriable)) { refresh = true; return undefined; }
          throw e;
        }
      }));
      for (const r of results) {
        if (!r) continue;
        for (const pd of r.res.responses[0]?.partitions ?? []) {
          const pos = r.ps.find((x) => x.partition === pd.partitionIndex)!;
          if (pd.errorCode === 1) { // OFFSET_OUT_OF_RANGE: auto.offset.reset
            io.err(`${topic}-${pos.partition}: offset ${pos.offset} out of range; resetting to the ${reset}\n`);
            pos.offset = (await listOffsets(client, [meta], reset === 'earliest' ? EARLIEST : LATEST, new Map([[topic, [pos.partition]]]))).get(topic)!.get(pos.partition)!;
            continue;
          }
          if (pd.errorCode !== 0) {
            const err = new KafkaError(pd.errorCode, `Fetch ${topic}-${pos.partition}`);
            if (!err.retriable) throw err;
            refresh = true;
            continue;
          }
          if (!pd.records || pd.records.length === 0) { if (pos.end !== undefined && pos.offset >= pos.end) pos.done = true; continue; }
          for (const span of iterateBatches(pd.records)) {
            const batch = pd.records.subarray(span.offset, span.offset + span.size);
            // Control batches (transaction markers) take an offset but hold no data record.
            const isControl = (batch.readInt16BE(21) & 0x20) !== 0;
            const nextOffset = batch.readBigInt64BE(0) + BigInt(batch.readInt32BE(23)) + 1n;
            if (!isControl) {
              for (const rec of recordsOf(batch)) {
                if (BigInt(rec.offset) < pos.offset) continue;
                if (pos.end !== undefined && BigInt(rec.offset) >= pos.end) { pos.done = true; break; }
                if (toTime !== undefined && BigInt(rec.timestamp) > toTime) { pos.done = true; break; }
                io.out(emit(topic, pos.partition, rec));
                lastRecordAt = Date.now();
                pos.offset = BigInt(rec.offset) + 1n;
                if (++count === maxMessages) break;
              }
            }
            if (pos.done || (maxMessages !== undefined && count >= maxMessages)) break;
            if (nextOffset > pos.offset) pos.offset = nextOffset;
          }
          if (pos.end !== undefined && pos.offset >= pos.end) pos.done = true;
          if (maxMessages !== undefined && count >= maxMessages) break;
        }
        if (maxMessages !== undefined && count >= maxMessages) break;
      }
      // Fetch no more than the output can take.
      await io.drain?.();
      if (refresh) {
        await new Promise((r) => setTimeout(r, client.opts.retryBackoffMs));
        meta = await client.topic(topic);
      }
    }
    if (group) await commit();
    io.err(`Processed a total of ${count} messages\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await member?.leave();
    await client.close();
  }
}

