// Confluent REST Proxy API v3 (the subset listed in README.md): clusters, brokers, topics with partitions,
// topic create/delete and producing records, each answered from the broker's own handlers in process
// (Metadata, CreateTopics, DeleteTopics, Produce) in Confluent's JSON shapes.
import { ApiError, routeTable } from '../http/api-error.ts';
import { makeCreateTopicsRequest, type CreateTopicsResponse } from '../../protocol/generated/create-topics.ts';
import { makeDeleteTopicsRequest, type DeleteTopicsResponse } from '../../protocol/generated/delete-topics.ts';
import { makeDescribeConfigsRequest, type DescribeConfigsResponse } from '../../protocol/generated/describe-configs.ts';
import { ErrorCode, errorInfo } from '../../protocol/generated/errors.ts';
import { makeMetadataRequest, type MetadataResponse, type MetadataResponseTopic } from '../../protocol/generated/metadata.ts';
import { makeProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.ts';
import { buildRecordBatch } from '../../protocol/records.ts';
import type { InProcessCall } from '../http/in-process.ts';
import type { HttpRequest, HttpResponse, Route } from '../http/server.ts';
import { addConsumerGroupRoutes } from './consumer-groups.ts';
import { partitionForKey } from './murmur2.ts';

const METADATA = 3, PRODUCE = 0, CREATE_TOPICS = 19, DELETE_TOPICS = 20, DESCRIBE_CONFIGS = 32;
const TOPIC_RESOURCE = 2;
/** DescribeConfigs' ConfigSource numbers, as Confluent names them. */
const SOURCES = ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG', 'GROUP_CONFIG'];
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

export class RestError extends ApiError {}

const json = (body: unknown, status = 200): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
export const errorJson = (status: number, code: number, message: string): HttpResponse => json({ error_code: code, message }, status);

function kafkaError(code: number, topic?: string): RestError {
  if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return new RestError(404, 404, 'This server does not host this topic-partition.');
  if (code === ErrorCode.TOPIC_ALREADY_EXISTS) return new RestError(400, 40002, `Topic '${topic}' already exists.`);
  const info = errorInfo(code);
  return new RestError(400, 40002, info?.message ?? `Kafka error ${code}`);
}

function body(req: HttpRequest): Record<string, any> {
  try {
    const v = JSON.parse(req.body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch { /* answered below */ }
  throw new RestError(400, 400, 'The request body is not a JSON object');
}

interface Data { type: string; bytes: Buffer | null }

/** A key or value of a produce request: {type: BINARY|JSON|STRING, data}; absent or null data → null. */
function data(x: unknown, what: string): Data {
  if (x === undefined || x === null) return { type: 'JSON', bytes: null };
  if (typeof x !== 'object') throw new RestError(400, 400, `${what}: expected an object with "type" and "data"`);
  const { type = 'JSON', data: d } = x as { type?: unknown; data?: unknown };
  if (d === undefined || d === null) return { type: String(type), bytes: null };
  switch (type) {
    case 'BINARY':
      if (typeof d !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d)) throw new RestError(400, 400, `${what}: BINARY data must be base64`);
      return { type, bytes: Buffer.from(d, 'base64') };
    case 'STRING':
      if (typeof d !== 'string') throw new RestError(400, 400, `${what}: STRING data must be a string`);
      return { type, bytes: Buffer.from(d, 'utf8') };
    case 'JSON':
      return { type, bytes: Buffer.from(JSON.stringify(d), 'utf8') };
    default:
      throw new RestError(400, 400, `${what}: unsupported type ${JSON.stringify(type)} (BINARY, JSON, STRING)`);
  }
}

/** The top-level JSON objects of `text`, one after another (whitespace between); null when it is anything else. */
export function splitJsonObjects(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && /\s/.test(text[i])) i++;
    if (i >= n) break;
    if (text[i] !== '{') return null;
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (--depth === 0) { i++; break; }
      }
    }
    if (depth !== 0) return null;
    const part = text.slice(start, i);
    try {
      JSON.parse(part);
    } catch {
      return null;
    }
    out.push(part);
  }
  return out.length ? out : null;
}

export function restProxyRoutes(call: InProcessCall, clusterId: string, nodeId: number): Route[] {
  const { routes, add } = routeTable((e) => (e instanceof RestError ? errorJson(e.status, e.code, e.message) : undefined));
  const base = (req: HttpRequest) => `http://${req.headers.host ?? 'localhost'}/v3/clusters/${clusterId}`;
  const cluster = (req: HttpRequest) => {
    if (req.params.cluster !== clusterId) throw new RestError(404, 404, `Cluster ${req.params.cluster} cannot be found.`);
  };
  const metadata = (topics: string[] | null) => call<MetadataResponse>(METADATA, 12, makeMetadataRequest({
    topics: topics && topics.map((name) => ({ topicId: NO_ID, name })), allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
  }));
  const topicOf = async (name: string): Promise<MetadataResponseTopic> => {
    const t = (await metadata([name])).topics[0];
    if (!t || t.errorCode !== ErrorCode.NONE) throw kafkaError(t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name);
    return t;
  };
  const clusterJson = (req: HttpRequest) => {
    const b = base(req);
    return {
      kind: 'KafkaCluster', metadata: { self: b, resource_name: `crn:///kafka=${clusterId}` }, cluster_id: clusterId,
      controller: { related: `${b}/brokers/${nodeId}` }, acls: { related: `${b}/acls` }, brokers: { related: `${b}/brokers` },
      broker_configs: { related: `${b}/broker-configs` }, consumer_groups: { related: `${b}/consumer-groups` },
      topics: { related: `${b}/topics` }, partition_reassignments: { related: `${b}/topics/-/partitions/-/reassignment` },
    };
  };
  const topicJson = (req: HttpRequest, t: MetadataResponseTopic) => {
    const self = `${base(req)}/topics/${t.name}`;
    return {
      kind: 'KafkaTopic', metadata: { self, resource_name: `crn:///kafka=${clusterId}/topic=${t.name}` }, cluster_id: clusterId,
      topic_name: t.name, is_internal: t.isInternal, replication_factor: t.partitions[0]?.replicaNodes.length ?? 1,
      partitions_count: t.partitions.length, partitions: { related: `${self}/partitions` }, configs: { related: `${self}/configs` },
      partition_reassignments: { related: `${self}/partitions/-/reassignment` }, authorized_operations: [],
    };
  };
  const partitionJson = (req: HttpRequest, topic: string, p: { partitionIndex: number; leaderId: number }) => {
    const self = `${base(req)}/topics/${topic}/partitions/${p.partitionIndex}`;
    return {
      kind: 'KafkaPartition', metadata: { self, resource_name: `crn:///kafka=${clusterId}/topic=${topic}/partition=${p.partitionIndex}` },
      cluster_id: clusterId, topic_name: topic, partition_id: p.partitionIndex,
      leader: { related: `${self}/replicas/${p.leaderId}` }, replicas: { related: `${self}/replicas` }, reassignment: { related: `${self}/reassignment` },
    };
  };
  const list = (kind: string, self: string, items: unknown[]) => ({ kind, metadata: { self, next: null }, data: items });

  add('GET', '/v3/clusters', async (req) => json(list('KafkaClusterList', `http://${req.headers.host}/v3/clusters`, [clusterJson(req)])));
  add('GET', '/v3/clusters/{cluster}', async (req) => { cluster(req); return json(clusterJson(req)); });
  add('GET', '/v3/clusters/{cluster}/brokers', async (req) => {
    cluster(req);
    const md = await metadata([]);
    return json(list('KafkaBrokerList', `${base(req)}/brokers`, md.brokers.map((b) => ({
      kind: 'KafkaBroker', metadata: { self: `${base(req)}/brokers/${b.nodeId}`, resource_name: `crn:///kafka=${clusterId}/broker=${b.nodeId}` },
      cluster_id: clusterId, broker_id: b.nodeId, host: b.host, port: b.port, rack: b.rack,
      configs: { related: `${base(req)}/brokers/${b.nodeId}/configs` }, partition_replicas: { related: `${base(req)}/brokers/${b.nodeId}/partition-replicas` },
    }))));
  });
  add('GET', '/v3/clusters/{cluster}/topics', async (req) => {
    cluster(req);
    const md = await metadata(null);
    const topics = md.topics.filter((t) => t.errorCode === ErrorCode.NONE).sort((a, b) => (a.name! < b.name! ? -1 : 1));
    return json(list('KafkaTopicList', `${base(req)}/topics`, topics.map((t) => topicJson(req, t))));
  });
  add('POST', '/v3/clusters/{cluster}/topics', async (req) => {
    cluster(req);
    const b = body(req);
    if (typeof b.topic_name !== 'string' || b.topic_name === '') throw new RestError(400, 400, 'topic_name is required');
    const configs = Array.isArray(b.configs) ? b.configs : [];
    if (configs.some((c: any) => !c || typeof c.name !== 'string')) throw new RestError(400, 400, 'configs must be [{name, value}]');
    const res = await call<CreateTopicsResponse>(CREATE_TOPICS, 5, makeCreateTopicsRequest({
      timeoutMs: 30_000, validateOnly: false,
      topics: [{
        name: b.topic_name, numPartitions: Number.isInteger(b.partitions_count) ? b.partitions_count : -1,
        replicationFactor: Number.isInteger(b.replication_factor) ? b.replication_factor : -1, assignments: [],
        configs: configs.map((c: any) => ({ name: c.name, value: c.value === undefined || c.value === null ? null : String(c.value) })),
      }],
    }));
    const r = res.topics[0];
    if (r.errorCode !== ErrorCode.NONE) {
      if (r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) throw kafkaError(r.errorCode, b.topic_name);
      throw new RestError(400, 40002, r.errorMessage ?? errorInfo(r.errorCode)?.message ?? `Kafka error ${r.errorCode}`);
    }
    return json(topicJson(req, await topicOf(b.topic_name)), 201);
  });
  add('GET', '/v3/clusters/{cluster}/topics/{topic}', async (req) => { cluster(req); return json(topicJson(req, await topicOf(req.params.topic!))); });
  add('DELETE', '/v3/clusters/{cluster}/topics/{topic}', async (req) => {
    cluster(req);
    const res = await call<DeleteTopicsResponse>(DELETE_TOPICS, 5, makeDeleteTopicsRequest({ topicNames: [req.params.topic!], timeoutMs: 30_000 }));
    const r = res.responses[0];
    if (r.errorCode !== ErrorCode.NONE) throw kafkaError(r.errorCode, req.params.topic);
    return { status: 204 };
  });
  add('GET', '/v3/clusters/{cluster}/topics/{topic}/partitions', async (req) => {
    cluster(req);
    const t = await topicOf(req.params.topic!);
    return json(list('KafkaPartitionList', `${base(req)}/topics/${t.name}/partitions`, t.partitions.map((p) => partitionJson(req, t.name!, p))));
  });
  add('GET', '/v3/clusters/{cluster}/topics/{topic}/partitions/{partition}', async (req) => {
    cluster(req);
    const t = await topicOf(req.params.topic!);
    const p = t.partitions.find((x) => String(x.partitionIndex) === req.params.partition);
    if (!p) throw new RestError(404, 404, 'This server does not host this topic-partition.');
    return json(partitionJson(req, t.name!, p));
  });

  const topicConfigs = async (req: HttpRequest, topic: string, names: string[] | null) => {
    const res = await call<DescribeConfigsResponse>(DESCRIBE_CONFIGS, 4, makeDescribeConfigsRequest({
      resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: names }], includeSynonyms: true, includeDocumentation: false,
    }));
    const r = res.results[0];
    if (!r || r.errorCode !== ErrorCode.NONE) throw kafkaError(r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, topic);
    const self = `${base(req)}/topics/${topic}/configs`;
    return r.configs.map((c) => ({
      kind: 'KafkaTopicConfig', metadata: { self: `${self}/${c.name}`, resource_name: `crn:///kafka=${clusterId}/topic=${topic}/config=${c.name}` },
      cluster_id: clusterId, topic_name: topic, name: c.name, value: c.value, is_default: c.configSource === 5, is_read_only: c.readOnly,
      is_sensitive: c.isSensitive, source: SOURCES[c.configSource] ?? 'UNKNOWN',
      synonyms: c.synonyms.map((y) => ({ name: y.name, value: y.value, source: SOURCES[y.source] ?? 'UNKNOWN' })),
    }));
  };
  add('GET', '/v3/clusters/{cluster}/topics/{topic}/configs', async (req) => {
    cluster(req);
    const topic = req.params.topic!;
    return json(list('KafkaTopicConfigList', `${base(req)}/topics/${topic}/configs`, await topicConfigs(req, topic, null)));
  });
  add('GET', '/v3/clusters/{cluster}/topics/{topic}/configs/{name}', async (req) => {
    cluster(req);
    const [c] = await topicConfigs(req, req.params.topic!, [req.params.name!]);
    if (!c) throw new RestError(404, 404, `Config ${req.params.name} cannot be found for topic ${req.params.topic}.`);
    return json(c);
  });

  addConsumerGroupRoutes(call, {
    add, cluster, base, json, clusterId, nodeId,
    notFound: (message) => new RestError(404, 404, message),
  });

  const roundRobin = new Map<string, number>();
  /** Produces one record of a request; answers Confluent's ProduceResponse (or throws RestError). */
  const produceOne = async (topic: string, b: Record<string, any>): Promise<Record<string, unknown>> => {
    const key = data(b.key, 'key');
    const value = data(b.value, 'value');
    const headers = b.headers ?? [];
    if (!Array.isArray(headers) || headers.some((h: any) => !h || typeof h.name !== 'string' || (h.value !== null && h.value !== undefined && typeof h.value !== 'string'))) {
      throw new RestError(400, 400, 'headers must be [{name, value (base64)}]');
    }
    let timestamp = Date.now();
    if (b.timestamp !== undefined && b.timestamp !== null) {
      timestamp = Date.parse(String(b.timestamp));
      if (!Number.isFinite(timestamp)) throw new RestError(400, 400, `invalid timestamp ${JSON.stringify(b.timestamp)}`);
    }
    const t = await topicOf(topic);
    const n = t.partitions.length;
    let partition: number;
    if (b.partition_id !== undefined && b.partition_id !== null) {
      if (!Number.isInteger(b.partition_id) || b.partition_id < 0 || b.partition_id >= n) throw new RestError(404, 404, 'This server does not host this topic-partition.');
      partition = b.partition_id;
    } else if (key.bytes) partition = partitionForKey(key.bytes, n);
    else {
      partition = (roundRobin.get(topic) ?? 0) % n;
      roundRobin.set(topic, partition + 1);
    }
    const batch = buildRecordBatch({
      records: [{ key: key.bytes, value: value.bytes, timestamp, headers: headers.map((h: any) => ({ key: h.name, value: h.value == null ? null : Buffer.from(h.value, 'base64') })) }],
    });
    const res = await call<ProduceResponse>(PRODUCE, 9, makeProduceRequest({
      acks: -1, timeoutMs: 30_000, transactionalId: null,
      topicData: [{ name: topic, topicId: NO_ID, partitionData: [{ index: partition, records: batch }] }],
    }));
    const p = res.responses[0]?.partitionResponses[0];
    if (!p || p.errorCode !== ErrorCode.NONE) throw kafkaError(p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, topic);
    const ts = p.logAppendTimeMs >= 0n ? Number(p.logAppendTimeMs) : timestamp;
    return {
      error_code: 200, cluster_id: clusterId, topic_name: topic, partition_id: partition, offset: Number(p.baseOffset),
      timestamp: new Date(ts).toISOString(),
      ...(key.bytes ? { key: { type: key.type, size: key.bytes.length } } : {}),
      ...(value.bytes ? { value: { type: value.type, size: value.bytes.length } } : {}),
    };
  };
  // One record per request, or a stream of them (Confluent's streamed produce: JSON objects one after another in
  // the body): then one result per record, each on its own line, errors inline, in order.
  add('POST', '/v3/clusters/{cluster}/topics/{topic}/records', async (req) => {
    cluster(req);
    const topic = req.params.topic!;
    const parts = splitJsonObjects(req.body.toString('utf8'));
    if (parts === null) throw new RestError(400, 400, 'The request body is not a JSON object or a stream of them');
    if (parts.length === 1) return json(await produceOne(topic, JSON.parse(parts[0])));
    const lines: string[] = [];
    for (const p of parts) {
      try {
        lines.push(JSON.stringify(await produceOne(topic, JSON.parse(p))));
      } catch (e) {
        if (!(e instanceof RestError)) throw e;
        lines.push(JSON.stringify({ error_code: e.code, message: e.message }));
      }
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: lines.join('\n') + '\n' };
  });
  return routes;
}
