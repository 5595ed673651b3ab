// Helpers for the produce/consume compat tests: thin promise wrappers around the *unmodified* clients
// (node-rdkafka, kafkajs, kcat), record generation and verification, and a few broker probes.
// Nothing here changes client behaviour; codecs for kafkajs are registered the documented way.
import { createRequire } from 'node:module';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import kafkajsPkg from 'kafkajs';
import type { CompressionTypes as CompressionType, Kafka as KafkaClient, Message } from 'kafkajs';
import { compress, decompress } from '../../protocol/compression.ts';

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajsPkg; // CommonJS: no static named exports
const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const Rdkafka: any = require('node-rdkafka');

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CodecName = (typeof CODECS)[number];
export const CODEC_ID: Record<CodecName, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
export const KAFKAJS_CODEC: Record<CodecName, CompressionType> = {
  none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD,
};

// ---------------------------------------------------------------------------------------------- generic

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** Polls `cond` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 20000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// ------------------------------------------------------------------------------------------ broker probes

/** The API keys (with max version) a broker advertises, asked with a raw ApiVersions v0 request. */
export function advertisedApis(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host });
    const timer = setTimeout(() => { s.destroy(); reject(new Error('ApiVersions: no answer before the deadline')); }, timeoutMs);
    const clientId = Buffer.from('compat-probe');
    const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    req.writeInt32BE(req.length - 4, 0);
    req.writeInt16BE(18, 4); // ApiVersions
    req.writeInt16BE(0, 6);
    req.writeInt32BE(1, 8);
    req.writeInt16BE(clientId.length, 12);
    clientId.copy(req, 14);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      clearTimeout(timer);
      s.destroy();
      const out = new Map<number, number>();
      const n = buf.readInt32BE(10);
      for (let i = 0; i < n; i++) out.set(buf.readInt16BE(14 + i * 6), buf.readInt16BE(18 + i * 6));
      resolve(out);
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('connect', () => s.write(req));
  });
}

/**
 * kafkajs can only consume through a consumer group. Returns null when the broker advertises JoinGroup,
 * else the reason kafkajs-consume tests are skipped.
 */
/** Batches (codec id, record count) of one partition as stored on disk by a file-storage gregor. */
export function storedBatches(dataDir: string, topic: string, partition: number): Array<{ baseOffset: number; codec: number; records: number }> {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  const out: Array<{ baseOffset: number; codec: number; records: number }> = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.log')).sort()) {
    const b = fs.readFileSync(path.join(dir, f));
    for (let pos = 0; pos + 61 <= b.length;) {
      const len = b.readInt32BE(pos + 8);
      if (len <= 0 || pos + 12 + len > b.length) break;
      out.push({ baseOffset: Number(b.readBigInt64BE(pos)), codec: b.readInt16BE(pos + 21) & 7, records: b.readInt32BE(pos + 57) });
      pos += 12 + len;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ records

export interface TestRecord {
  seq: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

/** `n` records with `keys` distinct keys, a per-record header set and increasing timestamps. */
export function makeRecords(n: number, opts: { keys?: number; source: string; valueBytes?: number; t0?: number }): TestRecord[] {
  const keys = opts.keys ?? 1000;
  const t0 = opts.t0 ?? Date.now() - n;
  const pad = 'x'.repeat(Math.max(0, (opts.valueBytes ?? 64) - 24));
  const out: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      seq: i,
      key: `key-${i % keys}`,
      value: Buffer.from(`${opts.source}-value-${i}-${pad}`),
      headers: { seq: String(i), source: opts.source, empty: '' },
      timestamp: t0 + i,
    });
  }
  return out;
}

export function toKafkajsMessage(r: TestRecord, partition?: number): Message {
  return { key: r.key, value: r.value, headers: r.headers, timestamp: String(r.timestamp), ...(partition === undefined ? {} : { partition }) };
}

/** A record as a consumer saw it, normalised across clients. */
export interface Consumed {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

export interface VerifyResult { problems: string[]; partitionOf: Map<string, number>; perPartition: Map<number, number> }

/**
 * Checks that `consumed` holds exactly `produced` (matched by the `seq` header): key, value, headers and
 * timestamp equal; per partition, offsets contiguous from `firstOffset` and seq strictly increasing
 * (production order kept); every key in exactly one partition. Returns problems (first 10).
 */
export function verifyConsumed(produced: TestRecord[], consumed: Consumed[], firstOffset = 0): VerifyResult {
  const problems: string[] = [];
  const add = (p: string) => { if (problems.length < 10) problems.push(p); };
  const bySeq = new Map(produced.map((r) => [r.seq, r]));
  const seen = new Set<number>();
  const partitionOf = new Map<string, number>();
  const byPartition = new Map<number, Consumed[]>();
  for (const c of consumed) {
    if (!byPartition.has(c.partition)) byPartition.set(c.partition, []);
    byPartition.get(c.partition)!.push(c);
  }
  const perPartition = new Map<number, number>();
  for (const [p, list] of byPartition) {
    list.sort((a, b) => a.offset - b.offset);
    perPartition.set(p, list.length);
    let lastSeq = -1;
    list.forEach((c, i) => {
      if (c.offset !== firstOffset + i) add(`partition ${p}: offset ${c.offset} at position ${i}`);
      const seq = Number(c.headers.seq);
      const r = bySeq.get(seq);
      if (!r) { add(`partition ${p} offset ${c.offset}: unknown seq header ${c.headers.seq}`); return; }
      if (seen.has(seq)) add(`seq ${seq} consumed twice`);
      seen.add(seq);
      if (seq <= lastSeq) add(`partition ${p}: seq ${seq} after ${lastSeq} (order lost)`);
      lastSeq = seq;
      if (c.key !== r.key) add(`seq ${seq}: key ${c.key} != ${r.key}`);
      if (!c.value || !c.value.equals(r.value)) add(`seq ${seq}: value differs`);
      if (JSON.stringify(c.headers) !== JSON.stringify(r.headers)) add(`seq ${seq}: headers ${JSON.stringify(c.headers)} != ${JSON.stringify(r.headers)}`);
      if (c.timestamp !== r.timestamp) add(`seq ${seq}: timestamp ${c.timestamp} != ${r.timestamp}`);
      const prev = partitionOf.get(r.key);
      if (prev !== undefined && prev !== p) add(`key ${r.key} in partitions ${prev} and ${p}`);
      partitionOf.set(r.key, p);
    });
  }
  if (seen.size !== produced.length) add(`consumed ${seen.size} distinct of ${produced.length} produced records`);
  return { problems, partitionOf, perPartition };
}

// --------------------------------------------------------------------------------------------- kafkajs

let codecsRegistered = false;
/** Registers snappy/lz4/zstd for kafkajs through its documented CompressionCodecs extension point. */
export function registerKafkajsCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  for (const [type, id] of [[CompressionTypes.Snappy, 2], [CompressionTypes.LZ4, 3], [CompressionTypes.ZSTD, 4]] as const) {
    CompressionCodecs[type] = () => ({
      // kafkajs hands compress() an Encoder (its .buffer holds the bytes) and decompress() a Buffer.
      compress: async (encoder: { buffer: Buffer }) => compress(id, encoder.buffer),
      decompress: async (buf: Buffer) => decompress(id, buf),
    });
  }
}

export function kafkajs(bootstrap: string, clientId = 'compat-kafkajs'): KafkaClient {
  registerKafkajsCodecs();
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
}

function kjsHeaders(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k] = v === undefined || v === null ? '' : Buffer.isBuffer(v) ? v.toString() : String(v);
  return out;
}

/**
 * Consumes `topic` with a fresh kafkajs consumer group until `count` records arrived (deadline), optionally
 * seeking partitions first. Needs the group APIs.
 */
export async function kafkajsConsume(kafka: KafkaClient, topic: string, count: number, opts: { seek?: Array<{ partition: number; offset: number }>; timeoutMs?: number } = {}): Promise<Consumed[]> {
  const consumer = kafka.consumer({ groupId: `compat-${topic}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200, maxBytes: 64 * 1024 * 1024, maxBytesPerPartition: 4 * 1024 * 1024 });
  const out: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          out.push({ partition: batch.partition, offset: Number(m.offset), key: m.key?.toString() ?? null, value: m.value, headers: kjsHeaders(m.headers), timestamp: Number(m.timestamp) });
        }
      },
    });
    for (const s of opts.seek ?? []) consumer.seek({ topic, partition: s.partition, offset: String(s.offset) });
    await waitFor(`kafkajs to consume ${count} records from ${topic} (has ${out.length})`, () => out.length >= count, opts.timeoutMs ?? 60000);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

// ----------------------------------------------------------------------------------------- node-rdkafka

export function rdConnect(client: any, timeoutMs = 10000): Promise<void> {
  return new Promise((resolve, reject) => client.connect({ timeout: timeoutMs }, (err: any) => (err ? reject(err) : resolve())));
}
export function rdDisconnect(client: any): Promise<void> {
  return new Promise((resolve) => { if (!client.isConnected()) resolve(); else client.disconnect(() => resolve()); });
}

export interface DeliveryReport { err: any; partition: number; offset: number; opaque: any }

/** A node-rdkafka Producer with delivery reports routed to per-message promises (via `opaque`). */
export class RdProducer {
  readonly producer: any;
  readonly #waiting = new Map<number, (dr: DeliveryReport) => void>();
  #next = 0;
  delivered = 0;
  constructor(bootstrap: string, config: Record<string, unknown> = {}) {
    this.producer = new Rdkafka.Producer({
      'metadata.broker.list': bootstrap, 'client.id': 'compat-rdkafka', dr_cb: true, 'socket.timeout.ms': 10000,
      'linger.ms': 5, 'message.timeout.ms': 30000, 'queue.buffering.max.messages': 1000000, ...config,
    });
    this.producer.on('delivery-report', (err: any, r: any) => {
      this.delivered++;
      const w = this.#waiting.get(r.opaque);
      this.#waiting.delete(r.opaque);
      w?.({ err, partition: r.partition, offset: r.offset, opaque: r.opaque });
    });
    this.producer.on('event.error', () => {});
  }
  async connect(): Promise<this> {
    await rdConnect(this.producer);
    this.producer.setPollInterval(5);
    return this;
  }
  /** Queues a message (throws synchronously on a local error, as node-rdkafka does); resolves with its delivery report. */
  produce(topic: string, partition: number | null, value: Buffer | null, key: string | null, timestamp?: number, headers?: Array<Record<string, string | Buffer>>): Promise<DeliveryReport> {
    const id = this.#next++;
    const p = new Promise<DeliveryReport>((resolve) => this.#waiting.set(id, resolve));
    for (;;) {
      try {
        this.producer.produce(topic, partition ?? -1, value, key, timestamp ?? null, id, headers);
        return p;
      } catch (e: any) {
        if (e?.code !== Rdkafka.CODES.ERRORS.ERR__QUEUE_FULL) { this.#waiting.delete(id); throw e; }
        this.producer.poll();
      }
    }
  }
  disconnect(): Promise<void> { return rdDisconnect(this.producer); }
}

/** Produces records (each client's own partitioner unless `partition` is given) and waits for every report. */
export async function rdProduceAll(p: RdProducer, topic: string, records: TestRecord[], partition?: number): Promise<DeliveryReport[]> {
  const reports: Promise<DeliveryReport>[] = [];
  for (const r of records) {
    reports.push(p.produce(topic, partition ?? null, r.value, r.key, r.timestamp, Object.entries(r.headers).map(([k, v]) => ({ [k]: v }))));
    if (reports.length % 5000 === 0) await sleep(0); // let delivery reports in
  }
  return Promise.all(reports);
}

function rdHeaders(h: Array<Record<string, Buffer>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of h ?? []) for (const [k, v] of Object.entries(e)) out[k] = v === null || v === undefined ? '' : v.toString();
  return out;
}

export function rdConsumer(bootstrap: string, config: Record<string, unknown> = {}): any {
  // librdkafka insists on a group.id, but assign() (no subscribe, no commits) never uses the group.
  const c = new Rdkafka.KafkaConsumer({
    'metadata.broker.list': bootstrap, 'group.id': `compat-assign-${process.pid}`, 'enable.auto.commit': false,
    'socket.timeout.ms': 10000, 'fetch.wait.max.ms': 100, ...config,
  }, { 'auto.offset.reset': 'earliest' });
  c.on('event.error', () => {});
  return c;
}

/**
 * Consumes with node-rdkafka assign() (no group protocol) from the given offsets until `count` records
 * arrived (deadline). Partitions default to 0..partitions-1 from offset 0.
 */
export async function rdConsume(bootstrap: string, topic: string, count: number, opts: { partitions?: number; from?: Array<{ partition: number; offset: number }>; timeoutMs?: number; config?: Record<string, unknown> } = {}): Promise<Consumed[]> {
  const c = rdConsumer(bootstrap, opts.config);
  await rdConnect(c);
  const out: Consumed[] = [];
  try {
    const from = opts.from ?? Array.from({ length: opts.partitions ?? 1 }, (_, partition) => ({ partition, offset: 0 }));
    c.assign(from.map((f) => ({ topic, partition: f.partition, offset: f.offset })));
    const deadline = Date.now() + (opts.timeoutMs ?? 60000);
    while (out.length < count) {
      if (Date.now() > deadline) throw new Error(`node-rdkafka consumed ${out.length} of ${count} records from ${topic} before the deadline`);
      const msgs: any[] = await new Promise((resolve, reject) => c.consume(10000, (err: any, m: any[]) => (err ? reject(err) : resolve(m))));
      for (const m of msgs) {
        out.push({ partition: m.partition, offset: m.offset, key: m.key === null || m.key === undefined ? null : m.key.toString(), value: m.value, headers: rdHeaders(m.headers), timestamp: m.timestamp });
      }
    }
  } finally {
    await rdDisconnect(c);
  }
  return out;
}

export function rdWatermarks(client: any, topic: string, partition: number): Promise<{ lowOffset: number; highOffset: number }> {
  return new Promise((resolve, reject) => client.queryWatermarkOffsets(topic, partition, 10000, (err: any, o: any) => (err ? reject(err) : resolve(o))));
}

export function rdOffsetsForTimes(client: any, query: Array<{ topic: string; partition: number; offset: number }>): Promise<Array<{ topic: string; partition: number; offset: number }>> {
  return new Promise((resolve, reject) => client.offsetsForTimes(query, 10000, (err: any, o: any) => (err ? reject(err) : resolve(o))));
}

// ------------------------------------------------------------------------------------------------ kcat

export const KCAT = '/usr/bin/kcat';

/** Runs kcat with `input` on stdin; resolves with stdout/stderr/exit code (kills it at the deadline). */
export function kcat(args: string[], input?: string | Buffer, timeoutMs = 30000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kcat ${args.join(' ')} timed out\n${stderr}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input ?? '');
  });
}

export function kcatAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile(KCAT, ['-V'], (err) => resolve(!err)));
}
