// Environment variables the Kafka Docker images (apache/kafka, confluentinc/cp-kafka, bitnami/kafka,
// wurstmeister/kafka) read for their JVM, ZooKeeper or their own start scripts rather than as broker configs,
// and ones container platforms set on their own. gregor lists them as ignored at start; any other KAFKA_*
// variable must name a broker config (config.ts readEnvironment) or start is refused, as an unknown
// --override is. Values are never logged (several hold passwords).

export interface IgnoredEnv {
  /** An exact name, or a prefix when it ends with `_`. */
  readonly match: string;
  readonly why: string;
}

const JVM = 'a JVM setting';
const LOG4J = 'a log4j setting (gregor: --log-level / GREGOR_LOG_LEVEL)';
const ZK = 'ZooKeeper mode (gregor is a KRaft-style single node)';
const SCRIPT = "the Kafka image's start script";
const BITNAMI_AUTH = "bitnami's SASL/TLS setup (gregor serves PLAINTEXT only; an SSL/SASL listener is refused)";

export const IGNORED_ENV: readonly IgnoredEnv[] = [
  // kafka-run-class.sh / the images' launch scripts
  { match: 'KAFKA_HEAP_OPTS', why: JVM },
  { match: 'KAFKA_JVM_PERFORMANCE_OPTS', why: JVM },
  { match: 'KAFKA_OPTS', why: JVM },
  { match: 'KAFKA_GC_LOG_OPTS', why: JVM },
  { match: 'KAFKA_JMX_', why: JVM },
  { match: 'KAFKA_DEBUG', why: JVM },
  { match: 'KAFKA_LOG4J_', why: LOG4J },
  { match: 'KAFKA_TOOLS_LOG4J_LOGLEVEL', why: LOG4J },
  // ZooKeeper-era settings (Kafka 4 has no ZooKeeper mode)
  { match: 'KAFKA_ZOOKEEPER_', why: ZK },
  { match: 'KAFKA_CFG_ZOOKEEPER_', why: ZK },
  { match: 'KAFKA_ENABLE_KRAFT', why: ZK },
  // image scripts
  { match: 'KAFKA_HOME', why: SCRIPT },
  { match: 'KAFKA_VERSION', why: SCRIPT },
  { match: 'KAFKA_SKIP_KRAFT_STORAGE_INIT', why: SCRIPT },
  { match: 'KAFKA_MOUNTED_CONF_DIR', why: SCRIPT },
  { match: 'KAFKA_BASE_DIR', why: SCRIPT },
  { match: 'KAFKA_VOLUME_DIR', why: SCRIPT },
  { match: 'KAFKA_DATA_DIR', why: SCRIPT },
  { match: 'KAFKA_CONF_DIR', why: SCRIPT },
  { match: 'KAFKA_CONF_FILE', why: SCRIPT },
  { match: 'KAFKA_CERTS_DIR', why: SCRIPT },
  { match: 'KAFKA_INITSCRIPTS_DIR', why: SCRIPT },
  { match: 'KAFKA_DAEMON_USER', why: SCRIPT },
  { match: 'KAFKA_DAEMON_GROUP', why: SCRIPT },
  { match: 'KAFKA_PID_FILE', why: SCRIPT },
  { match: 'KAFKA_CLIENT_USERS', why: BITNAMI_AUTH },
  { match: 'KAFKA_CLIENT_PASSWORDS', why: BITNAMI_AUTH },
  { match: 'KAFKA_CLIENT_LISTENER_NAME', why: BITNAMI_AUTH },
  { match: 'KAFKA_INTER_BROKER_USER', why: BITNAMI_AUTH },
  { match: 'KAFKA_INTER_BROKER_PASSWORD', why: BITNAMI_AUTH },
  { match: 'KAFKA_CONTROLLER_USER', why: BITNAMI_AUTH },
  { match: 'KAFKA_CONTROLLER_PASSWORD', why: BITNAMI_AUTH },
  { match: 'KAFKA_CERTIFICATE_PASSWORD', why: BITNAMI_AUTH },
  { match: 'KAFKA_TLS_', why: BITNAMI_AUTH },
  { match: 'KAFKA_KRAFT_BOOTSTRAP_SCRAM_USERS', why: BITNAMI_AUTH },
  // Confluent Server's proprietary settings (cp-server / cp-all-in-one files)
  { match: 'KAFKA_CONFLUENT_', why: 'a Confluent Server feature' },
  // Kubernetes service links and Docker's legacy --link variables for a service or container named "kafka"
  { match: 'KAFKA_SERVICE_', why: 'a Kubernetes service link' },
  { match: 'KAFKA_PORT_', why: 'a Kubernetes/Docker service link' },
  { match: 'KAFKA_NAME', why: 'a Docker link' },
  { match: 'KAFKA_ENV_', why: 'a Docker link' },
];

/** Why `name` is ignored, or undefined when it is not one of the ignored variables. */
export function ignoredEnvReason(name: string, value: string): string | undefined {
  // KAFKA_PORT=tcp://10.0.0.7:9092 is a service link; any other KAFKA_PORT is the old `port` config (refused).
  if (name === 'KAFKA_PORT' && /^tcp:\/\//.test(value)) return 'a Kubernetes/Docker service link';
  for (const e of IGNORED_ENV) {
    if (e.match.endsWith('_') ? name.startsWith(e.match) : name === e.match || name === `${e.match}_FILE`) return e.why;
  }
  return undefined;
}

/** Broker configs Kafka removed, which compose files from the ZooKeeper era still set: a hint for the refusal. */
export const REMOVED_CONFIG_HINTS: ReadonlyMap<string, string> = new Map([
  ['advertised.host.name', 'removed in Kafka 3.0: use KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://HOST:PORT'],
  ['advertised.port', 'removed in Kafka 3.0: use KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://HOST:PORT'],
  ['host.name', 'removed in Kafka 3.0: use KAFKA_LISTENERS=PLAINTEXT://HOST:PORT'],
  ['port', 'removed in Kafka 3.0: use KAFKA_LISTENERS=PLAINTEXT://:PORT'],
]);
