// gregor.schema.registry.listener: Confluent's Schema Registry API in the broker process. Loaded only when the
// listener is configured. At start `_schemas` is created if missing and replayed through the broker's own
// Fetch handler; the listener is bound once the state is the log's, so the first answer is never stale.
import type { Logger } from '../log.ts';
import type { Broker } from '../server.ts';
import { startHttpServer, type HttpServer } from '../http/server.ts';
import { InProcessTopic } from './kafka-log.ts';
import { Registry } from './registry.ts';
import { errorJson, schemaRegistryRoutes } from './routes.ts';
import { attachSchemaValidation, detachSchemaValidation } from './validation.ts';
import { attachRegistry, detachRegistry } from './in-process.ts';

export const SCHEMA_REGISTRY_LISTENER_CONFIG = 'gregor.schema.registry.listener';
export const SCHEMAS_TOPIC = '_schemas';

export interface SchemaRegistryService {
  readonly registry: Registry;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSchemaRegistry(broker: Broker, spec: { host: string; port: number }, log: Logger, maxBodyBytes: number): Promise<SchemaRegistryService> {
  const topic = new InProcessTopic(broker, SCHEMAS_TOPIC);
  await topic.ensure();
  const registry = new Registry({ append: (k, v) => topic.append(k, v) });
  let skipped = 0;
  for await (const r of topic.readToEnd()) if (!registry.state.apply(r.key, r.value)) skipped++;
  log.info(`schema registry: ${registry.state.applied} records of ${SCHEMAS_TOPIC} replayed, ${registry.state.byId.size} schemas, next id ${registry.state.maxId + 1}`
    + (skipped ? `; ${skipped} records that are not Confluent's format skipped` : ''));
  const server: HttpServer = await startHttpServer({
    ...spec, log, name: SCHEMA_REGISTRY_LISTENER_CONFIG, routes: schemaRegistryRoutes(registry),
    limits: { maxBodyBytes },
    // Confluent's (Jersey's) shapes for the server's own answers.
    errorBody(status, message) {
      const m = status === 404 ? 'HTTP 404 Not Found' : status === 405 ? 'HTTP 405 Method Not Allowed'
        : status === 413 ? `Request body larger than ${maxBodyBytes} bytes` : status === 500 ? 'Internal Server Error' : message;
      const r = errorJson(status, status === 500 ? 50001 : status, m);
      return { contentType: r.headers!['content-type'], body: r.body as string };
    },
  });
  attachSchemaValidation(broker.context, registry.state);
  attachRegistry(broker.context, registry);
  return {
    registry, host: spec.host, port: server.port,
    close: () => { detachSchemaValidation(broker.context); detachRegistry(broker.context); return server.close(); },
  };
}
