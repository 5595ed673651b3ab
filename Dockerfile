# gregor: a Kafka-compatible broker. Build: docker build -t gregor .
# Run:   docker run -p 9092:9092 -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 gregor
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
# Runtime dependencies only: their native parts (crc32c, snappy, lz4) ship prebuilt, no compiler needed.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY broker ./broker
COPY protocol ./protocol
COPY storage ./storage
COPY controller ./controller
VOLUME /var/lib/gregor
EXPOSE 9092
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "broker/bin/gregor.ts", "--data-dir", "/var/lib/gregor"]
