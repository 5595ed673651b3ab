// gregor.http.listener: health and Prometheus metrics over HTTP. Loaded only when the listener is configured,
// so a broker without it never loads node:http or prom-client, and keeps no metrics (context.metrics unset).
//
//   GET /healthz  200 while the process runs (liveness: also during start-up log recovery and shutdown)
//   GET /readyz   200 once every Kafka listener is bound and storage is open; 503 during start and shutdown
//   GET /metrics  Prometheus text format (metrics/registry.ts); 503 until storage is open
//   /faults       fault rules (faults-api.ts), only with gregor.fault.injection.enable=true
//   /console/...  the web console (../console/routes.ts), only with gregor.console.enable=true
//
// The HTTP listener is bound first, before storage opens, so an orchestrator sees "live, not ready" during a
// long recovery; it closes last, after the broker has stopped.
import type { Registry } from 'prom-client';
import type { BrokerMetrics } from '../metrics/counters.ts';
import type { Broker, BrokerOptions } from '../server.ts';
import type { Logger } from '../log.ts';
import { BrokerMetrics as Metrics } from '../metrics/counters.ts';
import { createRegistry } from '../metrics/registry.ts';
import { faultRoutes } from './faults-api.ts';
import { parseHostPort, startHttpServer } from './server.ts';
import { ConfigError } from '../config.ts';

export const HTTP_LISTENER_CONFIG = 'gregor.http.listener';

type State = 'starting' | 'serving' | 'stopping';

/**
 * Starts the HTTP listener `value` names (HOST:PORT), then the broker through `start` with a fresh
 * BrokerMetrics; the broker's close() also closes the listener. A broker that fails to start closes it too.
 */
export async function startWithHttpListener(
  value: string, options: BrokerOptions & { logger: Logger },
  start: (options: BrokerOptions, metrics: BrokerMetrics) => Promise<Broker>,
): Promise<Broker> {
  const spec = parseHostPort(HTTP_LISTENER_CONFIG, value)!;
  const metrics = new Metrics();
  let state: State = 'starting';
  let registry: Registry | undefined;
  let broker: Broker | undefined;
  const faults = options.config?.bool('gregor.fault.injection.enable') ? faultRoutes(() => (state === 'serving' ? broker!.faults : null)) : [];
  const consoleUi = options.config?.bool('gregor.console.enable') ? await loadConsole(options) : null;
  const text = (status: number, body: string) => ({ status, body: body + '\n', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const server = await startHttpServer({
    ...spec, log: options.logger, name: HTTP_LISTENER_CONFIG,
    routes: [
      { method: 'GET', path: '/healthz', handle: () => text(200, 'ok') },
      { method: 'GET', path: '/readyz', handle: () => (state === 'serving' ? text(200, 'ready') : text(503, state)) },
      {
        method: 'GET', path: '/metrics',
        handle: async () => (registry
          ? { status: 200, headers: { 'content-type': registry.contentType }, body: await registry.metrics() }
          : text(503, state)),
      },
      ...faults,
      ...(consoleUi?.routes ?? []),
    ],
  });
  try {
    broker = await start(options, metrics);
  } catch (err) {
    state = 'stopping';
    await server.close();
    throw err;
  }
  registry = createRegistry(metrics, broker.context);
  const started = broker;
  state = 'serving';
  consoleUi?.start(started);
  let closing: Promise<void> | undefined;
  return {
    ...started,
    http: { host: spec.host, port: server.port },
    close() {
      state = 'stopping';
      consoleUi?.stop();
      closing ??= started.close().finally(() => server.close());
      return closing;
    },
  };
}

/** The console (loaded only when it is on); its sample interval is checked here, at start. */
async function loadConsole(options: BrokerOptions & { logger: Logger }) {
  const interval = options.config!.int('gregor.console.lag.sample.interval.ms');
  if (!(interval >= 100)) throw new ConfigError(`gregor.console.lag.sample.interval.ms: at least 100, got ${interval}`);
  const { createConsole } = await import('../console/routes.ts');
  return createConsole({ log: options.logger, lagSampleIntervalMs: interval, faultsOverHttp: options.config!.bool('gregor.fault.injection.enable') });
}
