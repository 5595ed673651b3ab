// The broker's Prometheus registry (prom-client): one per broker, never prom-client's global default, so two
// brokers in one process keep separate metrics. Every gregor metric is computed at scrape time from the
// hot-path counters (counters.ts) and the broker's state (topics, partitions, committed offsets); nothing is
// registered as a prom-client Counter/Gauge that the hot path would have to update.
//
// Names are what dashboards expect: the Prometheus JMX exporter's Kafka rules (example_configs/kafka-2_0_0.yml,
// with the Strimzi rule for socket-server-metrics) applied to Kafka's MBeans, and kafka_exporter's names for
// consumer lag and partition offsets. The list is in the README ("Health and metrics").
import { createRequire } from 'node:module';
import { Registry } from 'prom-client';
import { apiNames } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../context.ts';
import { type BrokerMetrics, latencyQuantile } from './counters.ts';

type Labels = Record<string, string | number>;
interface Sample { labels?: Labels; value: number; metricName?: string }
type MetricType = 'counter' | 'gauge' | 'summary';

/** Kafka's histogram percentiles as the JMX exporter labels them (`quantile: "0.$N"` of NthPercentile). */
const QUANTILES: ReadonlyArray<[label: string, q: number]> = [
  ['0.50', 0.5], ['0.75', 0.75], ['0.95', 0.95], ['0.98', 0.98], ['0.99', 0.99], ['0.999', 0.999],
];
const FETCH = 1;

// prom-client's default Node process metrics (collectDefaultMetrics) except nodejs_gc_duration_seconds: that one
// observes every garbage collection (a perf_hooks 'gc' observer), which cost ~10 % more broker CPU per produce
// request in scripts/bench/metrics.ts, far beyond the rest together. Loaded one by one from prom-client's
// metrics/ folder (the version is pinned in package.json); each computes its values at scrape time, except the
// event loop delay monitor, which samples every 10 ms as collectDefaultMetrics would.
const requireCjs = createRequire(import.meta.url);
const PROCESS_METRICS = [
  'processCpuTotal', 'processStartTime', 'osMemoryHeap', 'processOpenFileDescriptors', 'processMaxFileDescriptors',
  'eventLoopLag', 'processResources', 'processHandles', 'processRequests', 'heapSizeAndUsed', 'heapSpacesSizeAndUsed', 'version',
];

function registerProcessMetrics(registry: Registry): void {
  for (const name of PROCESS_METRICS) {
    const add = requireCjs(`prom-client/lib/metrics/${name}`) as (r: Registry, config: object) => void;
    add(registry, { eventLoopMonitoringPrecision: 10 });
  }
}

/** A metric whose samples `collect` computes at scrape time. */
function register(registry: Registry, name: string, help: string, type: MetricType, collect: () => Sample[]): void {
  const metric = {
    name, help, type, aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: collect() }),
    reset() {},
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

export function createRegistry(metrics: BrokerMetrics, broker: BrokerContext): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const gauge = (name: string, help: string, collect: () => Sample[]) => register(registry, name, help, 'gauge', collect);
  const counter = (name: string, help: string, collect: () => Sample[]) => register(registry, name, help, 'counter', collect);

  // ---- kafka.server:type=BrokerTopicMetrics: per topic, and over all topics without a topic label ----
  const topicCounter = (name: string, help: string, field: 'messagesIn' | 'bytesIn' | 'bytesOut') => counter(name, help, () => {
    let all = 0;
    const out: Sample[] = [];
    for (const [topic, c] of metrics.topics) {
      // Kafka drops a deleted topic's metrics (BrokerTopicStats.removeMetrics).
      if (!broker.topics.get(topic)) { metrics.topics.delete(topic); continue; }
      all += c[field];
      out.push({ labels: { topic }, value: c[field] });
    }
    out.unshift({ value: all });
    return out;
  });
  topicCounter('kafka_server_brokertopicmetrics_messagesin_total', 'Records appended by producers (MessagesInPerSec count)', 'messagesIn');
  topicCounter('kafka_server_brokertopicmetrics_bytesin_total', 'Record batch bytes appended by producers (BytesInPerSec count)', 'bytesIn');
  topicCounter('kafka_server_brokertopicmetrics_bytesout_total', 'Record batch bytes sent to consumers in fetch responses (BytesOutPerSec count)', 'bytesOut');

  // ---- kafka.network:type=RequestMetrics: requests per API and version, total time per API ----
  // Kafka records a consumer's Fetch also as request=FetchConsumer (RequestChannel.metricNames); no follower fetches here.
  const requestNames = (apiKey: number): string[] => apiKey === FETCH ? ['Fetch', 'FetchConsumer'] : [apiNames[apiKey] ?? `Api${apiKey}`];
  counter('kafka_network_requestmetrics_requests_total', 'Requests answered, by API and version (RequestsPerSec count)', () => {
    const out: Sample[] = [];
    metrics.requests.forEach((r, apiKey) => {
      if (!r) return;
      for (const request of requestNames(apiKey)) r.byVersion.forEach((n, version) => { if (n) out.push({ labels: { request, version }, value: n }); });
    });
    return out;
  });
  register(registry, 'kafka_network_requestmetrics_totaltimems',
    'Time from a request read to its answer ready, ms (TotalTimeMs); quantiles over the last 1-2 minutes, ~19 % bucket resolution', 'summary', () => {
      metrics.rotate();
      const out: Sample[] = [];
      metrics.requests.forEach((r, apiKey) => {
        if (!r) return;
        const qs = QUANTILES.map(([quantile, q]) => [quantile, latencyQuantile(r, q)] as const);
        for (const request of requestNames(apiKey)) {
          for (const [quantile, v] of qs) out.push({ labels: { request, quantile }, value: v });
          out.push({ metricName: 'kafka_network_requestmetrics_totaltimems_sum', labels: { request }, value: r.sumMs });
          out.push({ metricName: 'kafka_network_requestmetrics_totaltimems_count', labels: { request }, value: r.count });
        }
      });
      return out;
    });

  // ---- kafka.server:type=ReplicaManager and kafka.controller:type=KafkaController (one node, one replica) ----
  const partitionCount = () => { let n = 0; for (const _ of broker.partitions.all()) n++; return n; };
  gauge('kafka_server_replicamanager_underreplicatedpartitions', 'Partitions with fewer in-sync replicas than replicas (always 0: one replica each)', () => [{ value: 0 }]);
  gauge('kafka_server_replicamanager_partitioncount', 'Partitions hosted by this broker', () => [{ value: partitionCount() }]);
  gauge('kafka_server_replicamanager_leadercount', 'Partitions this broker leads', () => [{ value: partitionCount() }]);
  gauge('kafka_server_replicamanager_offlinereplicacount', 'Partitions that cannot take appends (storage errors)', () => [{ value: broker.partitions.offline().length }]);
  gauge('kafka_controller_kafkacontroller_activecontrollercount', 'Whether this node is the active controller (gregor is its own)', () => [{ value: 1 }]);
  gauge('kafka_controller_kafkacontroller_offlinepartitionscount', 'Partitions without an online leader', () => [{ value: broker.partitions.offline().length }]);
  gauge('kafka_controller_kafkacontroller_globaltopiccount', 'Topics in the cluster', () => [{ value: broker.topics.size }]);
  gauge('kafka_controller_kafkacontroller_globalpartitioncount', 'Partitions in the cluster', () => [{ value: partitionCount() }]);

  // ---- kafka.server:type=socket-server-metrics,listener=…,networkProcessor=… (Strimzi's rule) ----
  const perListener = (field: 'open' | 'created' | 'closed') => () =>
    [...metrics.listeners].map(([listener, c]) => ({ labels: { listener, networkProcessor: '0' }, value: c[field] }));
  gauge('kafka_server_socket_server_metrics_connection_count', 'Open client connections per listener', perListener('open'));
  counter('kafka_server_socket_server_metrics_connection_creation_total', 'Client connections accepted per listener', perListener('created'));
  counter('kafka_server_socket_server_metrics_connection_close_total', 'Client connections closed per listener', perListener('closed'));

  // ---- kafka.log:type=Log,topic=…,partition=… ----
  const perPartition = (value: (p: ReturnType<BrokerContext['partitions']['partitionsOf']>[number]) => number) => () => {
    const out: Sample[] = [];
    for (const p of broker.partitions.all()) out.push({ labels: { topic: p.topic, partition: p.index }, value: value(p) });
    return out;
  };
  gauge('kafka_log_log_size', 'Bytes of the partition\'s log segments', perPartition((p) => p.log.size));
  gauge('kafka_log_log_logstartoffset', 'The partition\'s log start offset', perPartition((p) => p.logStartOffset));
  gauge('kafka_log_log_logendoffset', 'The partition\'s log end offset', perPartition((p) => p.logEndOffset));

  // ---- kafka_exporter's names: partition offsets and consumer group lag ----
  gauge('kafka_brokers', 'Brokers in the cluster', () => [{ value: 1 }]);
  gauge('kafka_topic_partitions', 'Partitions of the topic', () => [...broker.topics.all()].map((t) => ({ labels: { topic: t.name }, value: t.partitions })));
  gauge('kafka_topic_partition_current_offset', 'The partition\'s high watermark (newest offset a consumer reads up to)', perPartition((p) => p.highWatermark));
  gauge('kafka_topic_partition_oldest_offset', 'The partition\'s log start offset (oldest offset)', perPartition((p) => p.logStartOffset));
  // kafka_exporter: lag = the partition's newest offset (high watermark) - the committed offset.
  const lagSamples = (field: 'current' | 'lag' | 'sum') => (): Sample[] => {
    const out: Sample[] = [];
    for (const [consumergroup, topics] of broker.groups.offsets) {
      for (const [topic, parts] of topics) {
        let total = 0;
        let any = false;
        for (const [partition, om] of parts) {
          const offset = Number(om.offset);
          if (field === 'current') { out.push({ labels: { consumergroup, topic, partition }, value: offset }); continue; }
          const p = broker.partitions.get(topic, partition);
          if (!p || offset < 0) continue;
          const lag = p.highWatermark - offset;
          if (field === 'lag') out.push({ labels: { consumergroup, topic, partition }, value: lag });
          total += lag;
          any = true;
        }
        if (field === 'sum' && any) out.push({ labels: { consumergroup, topic }, value: total });
      }
    }
    return out;
  };
  gauge('kafka_consumergroup_current_offset', 'Committed offset of the group for the partition', lagSamples('current'));
  gauge('kafka_consumergroup_lag', 'High watermark minus the group\'s committed offset', lagSamples('lag'));
  gauge('kafka_consumergroup_lag_sum', 'Lag of the group summed over the topic\'s partitions', lagSamples('sum'));
  return registry;
}
