// gregor produce: a record per input line (stdin or --file), as kafka-console-producer.sh. Keyed records go
// to the Java client's murmur2 partition, unkeyed ones stick to one partition per batch (the Java client's
// sticky partitioning). Idempotent by default like the Java client (acks=all, an InitProducerId producer id
// and a sequence per partition, so a retried batch is never written twice); one request in flight at a time.
import fs from 'node:fs';
import readline from 'node:readline';
import { CODEC_NAMES } from '../../protocol/compression.ts';
import { buildRecordBatch, type HeaderInput, type RecordInput } from '../../protocol/records.ts';
import { API, check, type Client, KafkaError, NetworkError, type TopicInfo } from './client.ts';
import { COMMON_HELP, int, type Io, list, makeClient, OperationError, parse, str, UsageError } from './common.ts';
import { partitionForKey } from './murmur2.ts';

export const HELP = `usage: gregor produce --topic NAME [--file FILE] [options] < lines
Each input line is one record's value (UTF-8, the newline removed); with --key-separator the text before the
first separator is the key. Progress and the final count go to stderr.
  --topic NAME            the topic (created if the broker auto-creates topics)
  --file FILE             read this file instead of stdin
  --key-separator SEP     split each line into key SEP value (a line without SEP fails)
  --header k=v            a header on every record (repeatable)
  --partition N           every record to this partition (else: murmur2 of the key, sticky when unkeyed)
  --compression CODEC     none, gzip, snappy, lz4 or zstd (default none; compression.type)
  --acks ACKS             all (-1), 1 or 0 (default all; acks)
  --no-idempotence        plain producer (enable.idempotence=false); implied by acks other than all
  --batch-size BYTES      records per partition and request, in bytes (default 16384; batch.size)
Settings from --command-config: acks, compression.type, enable.idempotence, batch.size.
${COMMON_HELP}`;

const PRODUCER_KEYS = ['acks', 'compression.type', 'enable.idempotence', 'batch.size'];

interface Batch { partition: number; records: RecordInput[]; bytes: number }

export async function run(args: string[], io: Io): Promise<number> {
  const p = parse(args, {
    topic: { type: 'string' }, file: { type: 'string' }, 'key-separator': { type: 'string' }, header: { type: 'string', multiple: true },
    partition: { type: 'string' }, compression: { type: 'string' }, acks: { type: 'string' }, 'no-idempotence': { type: 'boolean' },
    'batch-size': { type: 'string' },
  });
  if (p.values.help) { io.out(HELP + '\n'); return 0; }
  if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]}`);
  const topic = str(p, 'topic');
  if (!topic) throw new UsageError('--topic is required');
  const { client, props } = makeClient(p, io, PRODUCER_KEYS);
  const acksText = str(p, 'acks') ?? props.get('acks') ?? 'all';
  const acks = acksText === 'all' ? -1 : ['-1', '0', '1'].includes(acksText) ? Number(acksText) : NaN;
  if (Number.isNaN(acks)) throw new UsageError(`acks must be all, -1, 0 or 1, got ${acksText}`);
  const codecName = (str(p, 'compression') ?? props.get('compression.type') ?? 'none').toLowerCase();
  const codec = CODEC_NAMES.indexOf(codecName);
  if (codec < 0) throw new UsageError(`compression must be one of ${CODEC_NAMES.join(', ')}, got ${codecName}`);
  const idemProp = props.get('enable.idempotence');
  if (idemProp !== undefined && idemProp !== 'true' && idemProp !== 'false') throw new UsageError(`enable.idempotence must be true or false, got ${idemProp}`);
  if (idemProp === 'true' && acks !== -1) throw new UsageError('enable.idempotence=true needs acks=all (as the Java client)');
  const idempotent = acks === -1 && idemProp !== 'false' && !p.values['no-idempotence'];
  const batchBytesText = str(p, 'batch-size') ?? props.get('batch.size');
  const batchBytes = batchBytesText === undefined ? 16384 : /^\d+$/.test(batchBytesText) && Number(batchBytesText) > 0 ? Number(batchBytesText) : NaN;
  if (Number.isNaN(batchBytes)) throw new UsageError(`batch size must be a positive integer, got ${batchBytesText}`);
  const fixedPartition = int(p, 'partition', 0);
  const sep = str(p, 'key-separator');
  if (sep === '') throw new UsageError('--key-separator cannot be empty');
  const headers: HeaderInput[] = list(p, 'header').map((h) => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header expects k=v, got "${h}"`);
    return { key: h.slice(0, eq), value: h.slice(eq + 1) };
  });
  const file = str(p, 'file');
  let input: NodeJS.ReadableStream = io.stdin;
  if (file) {
    try { fs.accessSync(file, fs.constants.R_OK); } catch (e) { throw new UsageError(`cannot read ${file}: ${(e as Error).message}`); }
    input = fs.createReadStream(file);
  }

  try {
    let meta: TopicInfo = await client.retry(`metadata for ${topic}`, () => topicWithLeaders(client, topic));
    const count = meta.partitions.length;
    if (fixedPartition !== undefined && fixedPartition >= count) throw new OperationError(`topic ${topic} has ${count} partitions; --partition ${fixedPartition} does not exist`);
    let producerId = -1n;
    let producerEpoch = -1;
    const sequences = new Map<number, number>();
    if (idempotent) {
      const res = await client.retry('InitProducerId', async () => {
        const r = await (await client.any()).request(API.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
        check(r.errorCode, 'InitProducerId');
        return r;
      });
      producerId = res.producerId;
      producerEpoch = res.producerEpoch;
    }

    const pending = new Map<number, Batch>();
    let sticky = Math.floor(Math.random() * count);
    let produced = 0;
    let lineNo = 0;
    const started = Date.now();
    let lastNote = started;

    /** Sends every pending batch (grouped by leader), retrying retriable errors with the same bytes. */
    const flush = async (): Promise<void> => {
      if (pending.size === 0) return;
      let todo = [...pending.values()].map((b) => {
        const baseSequence = idempotent ? sequences.get(b.partition) ?? 0 : -1;
        if (idempotent) sequences.set(b.partition, (baseSequence + b.records.length) % 2147483648);
        const bytes = buildRecordBatch({ records: b.records, compression: codec, producerId, producerEpoch, baseSequence });
        return { partition: b.partition, n: b.records.length, bytes };
      });
      pending.clear();
      await client.retry(`produce to ${topic}`, async () => {
        const byLeader = new Map<number, typeof todo>();
        for (const b of todo) {
          const leader = meta.partitions.find((x) => x.partition === b.partition)!.leader;
          byLeader.set(leader, [...(byLeader.get(leader) ?? []), b]);
        }
        const failed: typeof todo = [];
        let retriable: Error | undefined;
        await Promise.all([...byLeader].map(async ([leader, batches]) => {
          const body = { transactionalId: null, acks, timeoutMs: client.opts.requestTimeoutMs, topicData: [{ name: topic, topicId: meta.topicId, partitionData: batches.map((b) => ({ index: b.partition, records: b.bytes })) }] };
          let conn;
          try { conn = await client.broker(leader); } catch (e) { failed.push(...batches); retriable = e as Error; return; }
          if (acks === 0) { await conn.sendNoResponse(API.Produce, body); produced += batches.reduce((n, b) => n + b.n, 0); return; }
          let res;
          try { res = await conn.request(API.Produce, body); } catch (e) {
            if (!(e instanceof NetworkError)) throw e;
            failed.push(...batches); retriable = e; return;
          }
          for (const pr of res.responses[0].partitionResponses) {
            const b = batches.find((x) => x.partition === pr.index)!;
            // DUPLICATE_SEQUENCE_NUMBER: an earlier attempt of this very batch was written.
            if (pr.errorCode === 0 || pr.errorCode === 46) { produced += b.n; continue; }
            const err = new KafkaError(pr.errorCode, `produce to ${topic}-${pr.index}`, pr.errorMessage);
            if (!err.retriable) throw err;
            failed.push(b); retriable = err;
          }
        }));
        if (failed.length) {
          todo = failed;
          meta = await topicWithLeaders(client, topic).catch(() => meta);
          throw retriable!;
        }
      });
      if (Date.now() - lastNote >= 2000) { lastNote = Date.now(); io.err(`${produced} records produced\n`); }
    };

    const rl = readline.createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      let key: string | null = null;
      let value = line;
      if (sep !== undefined) {
        const i = line.indexOf(sep);
        if (i < 0) throw new OperationError(`no key separator "${sep}" on line ${lineNo}; ${produced} records produced before it`);
        key = line.slice(0, i);
        value = line.slice(i + sep.length);
      }
      const keyBytes = key === null ? null : Buffer.from(key);
      const partition = fixedPartition ?? (keyBytes ? partitionForKey(keyBytes, count) : sticky);
      let b = pending.get(partition);
      if (!b) pending.set(partition, (b = { partition, records: [], bytes: 0 }));
      b.records.push({ key: keyBytes, value, headers, timestamp: Date.now() });
      b.bytes += (keyBytes?.length ?? 0) + Buffer.byteLength(value) + 16;
      if (b.bytes >= batchBytes) {
        if (partition === sticky && keyBytes === null) sticky = count > 1 ? (sticky + 1 + Math.floor(Math.random() * (count - 1))) % count : 0;
        await flush();
      }
    }
    await flush();
    io.err(`${produced} records produced to ${topic} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** The topic's metadata (auto-created as a producer's Metadata request asks), every partition with a leader. */
async function topicWithLeaders(client: Client, topic: string): Promise<TopicInfo> {
  const { topics } = await client.metadata([topic], true);
  const t = topics.find((x) => x.name === topic);
  if (!t) throw new KafkaError(3, `topic ${topic}`);
  // A topic being auto-created answers LEADER_NOT_AVAILABLE (retriable) first; a missing one (auto-creation
  // off) fails at once rather than after default.api.timeout.ms.
  if (t.errorCode === 3) throw new OperationError(`topic ${topic} does not exist`);
  check(t.errorCode, `topic ${topic}`);
  for (const x of t.partitions) if (x.leader < 0) throw new KafkaError(5, `${topic}-${x.partition}`);
  return t;
}
