// gregor.rest.proxy.listener: Confluent's REST Proxy API (v3 subset) in the broker process. Loaded only when
// the listener is configured; every request goes through the broker's own handlers (../http/in-process.ts).
import { ConfigError } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Broker } from '../server.ts';
import { inProcessCaller } from '../http/in-process.ts';
import { startHttpServer } from '../http/server.ts';
import { errorJson, restProxyRoutes } from './routes.ts';
import { restProxyV2 } from './v2.ts';
import { registryOf } from '../schema-registry/in-process.ts';

export const REST_PROXY_LISTENER_CONFIG = 'gregor.rest.proxy.listener';

export async function startRestProxy(broker: Broker, spec: { host: string; port: number }, log: Logger, maxBodyBytes: number): Promise<{ host: string; port: number; close(): Promise<void> }> {
  const call = inProcessCaller(broker, 'gregor-rest-proxy');
  const timeout = broker.context.config.int('gregor.rest.proxy.consumer.instance.timeout.ms');
  if (timeout < 1) throw new ConfigError(`gregor.rest.proxy.consumer.instance.timeout.ms must be at least 1, got ${timeout}`);
  const v2 = restProxyV2(call, { instanceTimeoutMs: timeout, registry: () => registryOf(broker.context) });
  const server = await startHttpServer({
    ...spec, log, name: REST_PROXY_LISTENER_CONFIG, limits: { maxBodyBytes },
    routes: [...restProxyRoutes(call, broker.clusterId, broker.nodeId), ...v2.routes],
    errorBody(status, message) {
      const m = status === 404 ? 'HTTP 404 Not Found' : status === 405 ? 'HTTP 405 Method Not Allowed'
        : status === 413 ? `Request body larger than ${maxBodyBytes} bytes` : status === 500 ? 'Internal Server Error' : message;
      const r = errorJson(status, status, m);
      return { contentType: r.headers!['content-type'], body: r.body as string };
    },
  });
  // Consumer instances leave their groups before the listener (and then the broker) closes.
  return { host: spec.host, port: server.port, close: () => v2.close().finally(() => server.close()) };
}
