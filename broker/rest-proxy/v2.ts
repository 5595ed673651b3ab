// Confluent REST Proxy API v2: produce with the `binary` and `json` embedded formats, consumer instances (create,
// subscribe, poll records, commit and read offsets, seek, delete; expiry after the idle timeout), topic and broker
// listings. Answers `application/vnd.kafka.v2+json`, errors `{error_code, message}` with Confluent's codes
// (kafka-rest's Errors: 40401 topic, 40402 partition, 40403 consumer instance, 40601 format mismatch, 40902
// instance exists, 42204 invalid consumer config, 50002/50003 Kafka errors).
import { ApiError, routeTable } from '../http/api-error.ts';
import crypto from 'node:crypto';
import { ErrorCode, errorInfo } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest, type MetadataResponse, type MetadataResponseTopic } from '../../protocol/generated/metadata.ts';
import { makeProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import type { InProcessCall } from '../http/in-process.ts';
import type { HttpRequest, HttpResponse, Route } from '../http/server.ts';
import { partitionForKey } from './murmur2.ts';
import { ConsumerInstance, KafkaCallError } from './v2-consumer.ts';
import { AvroFormatError, decodeAvro, encodeAvro, requestSchema, type AvroSchema } from './v2-avro.ts';
import type { Registry } from '../schema-registry/registry.ts';

const METADATA = 3, PRODUCE = 0;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const V2_TYPE = 'application/vnd.kafka.v2+json';
const FORMATS = ['binary', 'json', 'avro'];
/** Kafka errors a producer retries: Confluent answers them 50003, the others 50002. */
const RETRIABLE = new Set<number>([ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.NETWORK_EXCEPTION, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);

class V2Error extends ApiError {}

const json = (body: unknown, status = 200): HttpResponse => ({ status, headers: { 'content-type': V2_TYPE }, body: JSON.stringify(body) });
const noContent = (): HttpResponse => ({ status: 204 });
const kafkaFailure = (code: number, message?: string | null) => RETRIABLE.has(code)
  ? new V2Error(500, 50003, `Retriable Kafka error: ${message || errorInfo(code)?.message}`)
  : new V2Error(500, 50002, `Kafka error: ${message || errorInfo(code)?.message}`);

/** The embedded format a `Content-Type`/`Accept` names (application/vnd.kafka.FORMAT.v2+json), or null. */
function formatOf(header: string | undefined): string | null {
  const m = /application\/vnd\.kafka\.(\w+)\.v2\+json/.exec(header ?? '');
  return m ? m[1]! : null;
}

function body(req: HttpRequest, optional = false): Record<string, any> {
  const text = req.body.toString('utf8');
  if (optional && text.trim() === '') return {};
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch { /* below */ }
  throw new V2Error(400, 400, 'The request body is not a JSON object');
}

export interface V2Options {
  /** consumer.instance.timeout.ms: an instance unused this long is closed. */
  instanceTimeoutMs: number;
  /** The broker's Schema Registry when it serves one (the avro format needs it). */
  registry?: () => Registry | undefined;
  /** The clock idle expiry reads (tests). */
  now?: () => number;
}

export function restProxyV2(call: InProcessCall, opts: V2Options): { routes: Route[]; close(): Promise<void> } {
  const now = opts.now ?? Date.now;
  const { routes, add } = routeTable((e) => {
    if (e instanceof V2Error || e instanceof AvroFormatError) return json({ error_code: e.code, message: e.message }, e.status);
    if (e instanceof KafkaCallError) {
      const f = kafkaFailure(e.code, e.message);
      return json({ error_code: f.code, message: f.message }, f.status);
    }
    return undefined;
  });

  const metadata = (topics: string[] | null) => call<MetadataResponse>(METADATA, 12, makeMetadataRequest({
    topics: topics && topics.map((name) => ({ topicId: NO_ID, name })), allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
  }));
  const topicOf = async (name: string): Promise<MetadataResponseTopic> => {
    const t = (await metadata([name])).topics[0];
    if (!t || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || t.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION) throw new V2Error(404, 40401, 'Topic not found.');
    if (t.errorCode !== ErrorCode.NONE) throw kafkaFailure(t.errorCode);
    return t;
  };
  const partitionJson = (p: MetadataResponseTopic['partitions'][number]) => ({
    partition: p.partitionIndex, leader: p.leaderId,
    replicas: p.replicaNodes.map((b) => ({ broker: b, leader: b === p.leaderId, in_sync: p.isrNodes.includes(b) })),
  });

  add('GET', '/brokers', async () => json({ brokers: (await metadata([])).brokers.map((b) => b.nodeId) }));
  add('GET', '/topics', async () => json((await metadata(null)).topics.filter((t) => t.errorCode === ErrorCode.NONE).map((t) => t.name!).sort()));
  add('GET', '/topics/{topic}', async (req) => {
    const t = await topicOf(req.params.topic!);
    return json({ name: t.name, configs: {}, partitions: t.partitions.map(partitionJson) });
  });
  add('GET', '/topics/{topic}/partitions', async (req) => json((await topicOf(req.params.topic!)).partitions.map(partitionJson)));
  add('GET', '/topics/{topic}/partitions/{partition}', async (req) => {
    const p = (await topicOf(req.params.topic!)).partitions.find((x) => String(x.partitionIndex) === req.params.partition);
    if (!p) throw new V2Error(404, 40402, 'Partition not found.');
    return json(partitionJson(p));
  });

  // ---- produce ----
  /** A key or value in the request's embedded format: base64 for binary, any JSON for json. */
  const registryOrError = (): Registry => {
    const r = opts.registry?.();
    if (!r) throw new V2Error(422, 422, 'The avro format needs the Schema Registry on this broker, which is off: set gregor.schema.registry.listener');
    return r;
  };
  const embedded = (format: string, x: unknown, what: string, schema?: AvroSchema | null): Buffer | null => {
    if (x === undefined || x === null) return null;
    if (format === 'avro') return encodeAvro(schema!, x, what);
    if (format === 'binary') {
      if (typeof x !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(x)) throw new V2Error(422, 42201, `${what}: binary data must be a base64 string`);
      return Buffer.from(x, 'base64');
    }
    return Buffer.from(JSON.stringify(x), 'utf8');
  };
  const roundRobin = new Map<string, number>();
  const produce = async (req: HttpRequest, fixedPartition: number | null) => {
    const ct = req.headers['content-type'];
    const format = formatOf(ct) ?? (/^application\/(vnd\.kafka\.v2\+)?json\b/.test(ct ?? '') ? 'json' : null);
    if (format === null || !FORMATS.includes(format)) {
      throw new V2Error(415, 415, `Unsupported content type ${JSON.stringify(ct ?? '')}: gregor's REST Proxy v2 produces application/vnd.kafka.{binary,json,avro}.v2+json`);
    }
    const b = body(req);
    if (!Array.isArray(b.records) || b.records.length === 0) throw new V2Error(422, 422, 'records must be a non-empty array');
    const t = await topicOf(req.params.topic!);
    let keySchema: AvroSchema | null = null;
    let valueSchema: AvroSchema | null = null;
    if (format === 'avro') {
      const reg = registryOrError();
      keySchema = await requestSchema(reg, t.name!, 'key', b.key_schema_id, b.key_schema);
      valueSchema = await requestSchema(reg, t.name!, 'value', b.value_schema_id, b.value_schema);
      if (!keySchema && b.records.some((r: any) => r?.key !== undefined && r?.key !== null)) throw new V2Error(422, 42201, 'Request includes keys but does not include key schema');
      if (!valueSchema && b.records.some((r: any) => r?.value !== undefined && r?.value !== null)) throw new V2Error(422, 42202, 'Request includes values but does not include value schema');
    }
    const n = t.partitions.length;
    if (fixedPartition !== null && (fixedPartition < 0 || fixedPartition >= n)) throw new V2Error(404, 40402, 'Partition not found.');
    const ts = now();
    // Each record's partition: given (per record or in the path), by the key's murmur2 as the Java producer, else round robin.
    const recs = b.records.map((r: any, i: number) => {
      if (!r || typeof r !== 'object') throw new V2Error(422, 422, `records[${i}] is not an object`);
      const key = embedded(format, r.key, `records[${i}].key`, keySchema);
      const value = embedded(format, r.value, `records[${i}].value`, valueSchema);
      let partition: number;
      if (fixedPartition !== null) partition = fixedPartition;
      else if (r.partition !== undefined && r.partition !== null) {
        if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= n) throw new V2Error(404, 40402, 'Partition not found.');
        partition = r.partition;
      } else if (key) partition = partitionForKey(key, n);
      else {
        partition = (roundRobin.get(t.name!) ?? 0) % n;
        roundRobin.set(t.name!, partition + 1);
      }
      return { key, value, partition };
    });
    // One batch per partition, one Produce request: records keep their order within a partition.
    const byPartition = new Map<number, number[]>();
    recs.forEach((r: { partition: number }, i: number) => {
      let a = byPartition.get(r.partition);
      if (!a) byPartition.set(r.partition, (a = []));
      a.push(i);
    });
    const res = await call<ProduceResponse>(PRODUCE, 9, makeProduceRequest({
      acks: -1, timeoutMs: 30_000, transactionalId: null,
      topicData: [{
        name: t.name!, topicId: NO_ID,
        partitionData: [...byPartition].map(([index, is]) => ({
          index, records: buildRecordBatch({ records: is.map((i) => ({ key: recs[i].key, value: recs[i].value, timestamp: ts })) }),
        })),
      }],
    }));
    const offsets: Array<Record<string, unknown>> = recs.map(() => ({}));
    for (const p of res.responses[0]?.partitionResponses ?? []) {
      byPartition.get(p.index)!.forEach((i, k) => {
        if (p.errorCode === ErrorCode.NONE) offsets[i] = { partition: p.index, offset: Number(p.baseOffset) + k, error_code: null, error: null };
        else {
          const f = kafkaFailure(p.errorCode, p.errorMessage);
          offsets[i] = { partition: p.index, offset: null, error_code: f.code, error: f.message };
        }
      });
    }
    return json({ key_schema_id: keySchema?.id ?? null, value_schema_id: valueSchema?.id ?? null, offsets });
  };
  add('POST', '/topics/{topic}', (req) => produce(req, null));
  add('POST', '/topics/{topic}/partitions/{partition}', (req) => {
    const p = req.params.partition!;
    if (!/^\d+$/.test(p)) throw new V2Error(404, 40402, 'Partition not found.');
    return produce(req, Number(p));
  });

  // ---- consumer instances ----
  const instances = new Map<string, ConsumerInstance>();
  const ikey = (group: string, name: string) => `${group}\u0000${name}`;
  const instance = (req: HttpRequest): ConsumerInstance => {
    const c = instances.get(ikey(req.params.group!, req.params.instance!));
    if (!c) throw new V2Error(404, 40403, 'Consumer instance not found.');
    c.lastUsed = now();
    return c;
  };
  const partitionsOf = (list: unknown, what: string): Array<{ topic: string; partition: number }> => {
    if (!Array.isArray(list) || list.some((p: any) => !p || typeof p.topic !== 'string' || !Number.isInteger(p.partition) || p.partition < 0)) {
      throw new V2Error(422, 422, `${what} must be [{topic, partition}]`);
    }
    return list as Array<{ topic: string; partition: number }>;
  };

  add('POST', '/consumers/{group}', async (req) => {
    const b = body(req, true);
    const group = req.params.group!;
    const name = b.name ?? b.id ?? `rest-consumer-${crypto.randomUUID()}`;
    if (typeof name !== 'string' || name === '' || name.includes('/')) throw new V2Error(422, 42204, 'Invalid consumer configuration: name must be a non-empty string without /');
    const format = b.format ?? 'binary';
    if (!FORMATS.includes(format)) throw new V2Error(422, 42204, `Invalid consumer configuration: format ${JSON.stringify(format)} is not supported (binary, json, avro)`);
    if (format === 'avro') registryOrError();
    const reset = b['auto.offset.reset'] ?? 'latest';
    if (!['earliest', 'latest', 'none'].includes(reset)) throw new V2Error(422, 42204, `Invalid consumer configuration: auto.offset.reset ${JSON.stringify(reset)} (earliest, latest, none)`);
    const autoCommit = String(b['auto.commit.enable'] ?? 'true');
    if (!/^(true|false)$/i.test(autoCommit)) throw new V2Error(422, 42204, `Invalid consumer configuration: auto.commit.enable ${JSON.stringify(autoCommit)}`);
    const known = new Set(['name', 'id', 'format', 'auto.offset.reset', 'auto.commit.enable', 'fetch.min.bytes', 'consumer.request.timeout.ms']);
    const unknown = Object.keys(b).filter((k) => !known.has(k));
    if (unknown.length) throw new V2Error(422, 42204, `Invalid consumer configuration: unknown settings ${unknown.join(', ')}`);
    const k = ikey(group, name);
    if (instances.has(k)) throw new V2Error(409, 40902, 'Consumer with specified consumer ID already exists in the specified consumer group.');
    const memberId = crypto.randomBytes(16).toString('base64url').slice(0, 22);
    const c = new ConsumerInstance(call, { group, name, format, autoOffsetReset: reset, autoCommit: autoCommit.toLowerCase() === 'true', memberId });
    instances.set(k, c);
    const host = req.headers.host ?? 'localhost';
    return json({ instance_id: name, base_uri: `http://${host}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}` });
  });
  add('DELETE', '/consumers/{group}/instances/{instance}', async (req) => {
    const c = instance(req);
    instances.delete(ikey(c.opts.group, c.opts.name));
    await c.close();
    return noContent();
  });
  add('POST', '/consumers/{group}/instances/{instance}/subscription', async (req) => {
    const c = instance(req);
    const b = body(req);
    if (b.topic_pattern !== undefined) throw new V2Error(422, 422, 'topic_pattern subscriptions are not supported by gregor; list the topics');
    if (!Array.isArray(b.topics) || b.topics.length === 0 || b.topics.some((x: unknown) => typeof x !== 'string' || x === '')) throw new V2Error(422, 422, 'topics must be a non-empty array of topic names');
    if (c.topics.length > 0 && c.topics.join() !== [...new Set(b.topics as string[])].join()) {
      throw new V2Error(409, 40901, 'Consumer cannot subscribe the the specified target because it has already subscribed to other topics.');
    }
    await c.subscribe([...new Set(b.topics as string[])]);
    return noContent();
  });
  add('GET', '/consumers/{group}/instances/{instance}/subscription', async (req) => json({ topics: instance(req).topics }));
  add('DELETE', '/consumers/{group}/instances/{instance}/subscription', async (req) => { await instance(req).unsubscribe(); return noContent(); });
  add('GET', '/consumers/{group}/instances/{instance}/assignments', async (req) => json({ partitions: instance(req).assignment() }));
  add('GET', '/consumers/{group}/instances/{instance}/records', async (req) => {
    const c = instance(req);
    const accept = req.headers.accept;
    const wanted = formatOf(accept);
    if (wanted !== null && wanted !== c.opts.format) throw new V2Error(406, 40601, 'The requested embedded data format does not match the deserializer for this consumer instance');
    const timeout = Math.min(Math.max(Number(req.query.get('timeout') ?? 1000) || 0, 0), 30_000);
    const maxBytes = Math.max(Number(req.query.get('max_bytes') ?? 64 << 20) || 1, 1);
    const recs = await c.poll(timeout, maxBytes);
    c.lastUsed = now();
    const decode = (b: Buffer | null, what: string, r: { topic: string; partition: number; offset: number }) => {
      if (b === null) return null;
      if (c.opts.format === 'binary') return b.toString('base64');
      try {
        return c.opts.format === 'avro' ? decodeAvro(registryOrError(), b) : JSON.parse(b.toString('utf8'));
      } catch (e) {
        if (e instanceof V2Error) throw e;
        throw new V2Error(500, 50002, `Kafka error: the ${what} at ${r.topic}-${r.partition} offset ${r.offset} cannot be deserialized as ${c.opts.format}: ${(e as Error).message}`);
      }
    };
    return {
      status: 200, headers: { 'content-type': `application/vnd.kafka.${c.opts.format}.v2+json` },
      body: JSON.stringify(recs.map((r) => ({ topic: r.topic, key: decode(r.key, 'key', r), value: decode(r.value, 'value', r), partition: r.partition, offset: r.offset }))),
    };
  });
  add('POST', '/consumers/{group}/instances/{instance}/offsets', async (req) => {
    const c = instance(req);
    const b = body(req, true);
    const offsets = b.offsets === undefined ? null : partitionsOf(b.offsets, 'offsets') as Array<{ topic: string; partition: number; offset: number }>;
    if (offsets?.some((o) => !Number.isInteger(o.offset) || o.offset < 0)) throw new V2Error(422, 422, 'offsets must be [{topic, partition, offset}]');
    await c.commit(offsets);
    return noContent();
  });
  add('GET', '/consumers/{group}/instances/{instance}/offsets', async (req) => {
    const c = instance(req);
    const parts = partitionsOf(body(req).partitions, 'partitions');
    return json({ offsets: await c.committed(parts) });
  });
  add('POST', '/consumers/{group}/instances/{instance}/positions', async (req) => {
    const c = instance(req);
    const offsets = partitionsOf(body(req).offsets, 'offsets') as Array<{ topic: string; partition: number; offset: number }>;
    await c.serial(async () => {
      for (const o of offsets) c.positions.set(`${o.topic}\u0000${o.partition}`, { topic: o.topic, partition: o.partition, offset: o.offset });
    });
    return noContent();
  });
  for (const [end, ts] of [['beginning', -2], ['end', -1]] as const) {
    add('POST', `/consumers/{group}/instances/{instance}/positions/${end}`, async (req) => {
      const c = instance(req);
      const parts = partitionsOf(body(req).partitions, 'partitions');
      await c.serial(() => c.seek(parts, ts));
      return noContent();
    });
  }

  // Idle instances are closed after consumer.instance.timeout.ms (Confluent's default: 5 minutes).
  const sweep = setInterval(() => {
    const t = now();
    for (const [k, c] of instances) {
      if (t - c.lastUsed >= opts.instanceTimeoutMs) {
        instances.delete(k);
        void c.close().catch(() => {});
      }
    }
  }, Math.max(10, Math.min(1000, Math.floor(opts.instanceTimeoutMs / 4))));
  sweep.unref();

  return {
    routes,
    async close() {
      clearInterval(sweep);
      const all = [...instances.values()];
      instances.clear();
      await Promise.all(all.map((c) => c.close().catch(() => {})));
    },
  };
}
