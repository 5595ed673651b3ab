# gregor: a Kafka-compatible broker.
#   docker build -t gregor .                      (another Node 24 base image: --build-arg BASE=...)
#   docker run -p 9092:9092 -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 gregor
ARG BASE=node:24-slim
FROM ${BASE}
WORKDIR /app
# Health and Prometheus metrics on :9644 (/healthz, /readyz, /metrics); GREGOR_HTTP_LISTENER= turns it off.
# Confluent's Schema Registry API on :8081 and REST Proxy API on :8082 (broker/schema-registry/, broker/rest-proxy/);
# GREGOR_SCHEMA_REGISTRY_LISTENER= / GREGOR_REST_PROXY_LISTENER= turn them off.
ENV NODE_ENV=production NODE_COMPILE_CACHE=/app/compile-cache GREGOR_HTTP_LISTENER=:9644 \
    GREGOR_SCHEMA_REGISTRY_LISTENER=:8081 GREGOR_REST_PROXY_LISTENER=:8082
COPY package.json package-lock.json ./
# Production dependencies only; their native parts (crc32c, snappy, lz4) ship prebuilt: no compiler, no scripts.
# The data dir and the compile cache belong to the unprivileged user the broker runs as (uid 1000, `node` in the
# official image); a named volume mounted at /var/lib/gregor starts with that ownership. The data dirs the
# cp-kafka and bitnami images use are made too, so a pasted KAFKA_LOG_DIRS (and a volume mounted there) works.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
 && mkdir -p /var/lib/gregor /var/lib/kafka/data /bitnami/kafka/data compile-cache \
 && chown 1000:1000 /var/lib/gregor /var/lib/kafka/data /bitnami/kafka/data compile-cache
COPY broker ./broker
COPY protocol ./protocol
COPY storage ./storage
COPY controller ./controller
USER 1000:1000
# Fill Node's compile cache in the image (stripped TypeScript + V8 code cache, see broker/bin/gregor.js): every
# container then starts without the TypeScript stripper, faster and with ~30 MiB less RSS. Node keys the cache by
# uid, so it is filled as the user that runs the broker (another --user misses it and strips types at start).
RUN node broker/bin/gregor.js --fill-compile-cache
VOLUME /var/lib/gregor
# Only 9092 is EXPOSEd: tools such as Testcontainers wait for every exposed port to be published. Publish 9644 for
# metrics, 8081 for the Schema Registry and 8082 for the REST Proxy (-p 8081:8081 -p 8082:8082).
EXPOSE 9092
# Tool-free: node itself probes the broker (/healthz on GREGOR_HTTP_LISTENER, or ApiVersions on :9092 when it is empty).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["node", "broker/bin/healthcheck.js"]
# Exec form, no shell: node is PID 1 and gets docker stop's SIGTERM itself. PID 1 has no default signal actions,
# so the CLI installs its own SIGTERM/SIGINT handlers before the broker starts (clean stop; a second signal exits).
STOPSIGNAL SIGTERM
# --default, not --data-dir: KAFKA_LOG_DIRS / KAFKA_CFG_LOG_DIRS / a properties file given by the user win over it.
ENTRYPOINT ["node", "broker/bin/gregor.js", "--default", "log.dirs=/var/lib/gregor"]
