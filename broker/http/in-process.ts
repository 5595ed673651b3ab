// Requests to this broker's own handlers, in process, in the generated request and response types: what the
// HTTP APIs (Schema Registry, REST Proxy) use to reach the log as a Kafka client would, so the broker's limits
// and validation apply to them unchanged and nothing outside the handlers is touched.
import type { RequestContext } from '../handler.ts';
import type { Broker } from '../server.ts';

export type InProcessCall = <Res>(apiKey: number, apiVersion: number, req: unknown) => Promise<Res>;

export class InProcessError extends Error {}

export function inProcessCaller(broker: Broker, clientId: string): InProcessCall {
  let correlation = 0;
  return async <Res>(apiKey: number, apiVersion: number, req: unknown): Promise<Res> => {
    const slot = broker.handlers[apiKey];
    if (!slot) throw new InProcessError(`the broker serves no API ${apiKey}`);
    if (apiVersion < slot.minVersion || apiVersion > slot.maxVersion) throw new InProcessError(`${slot.name} v${apiVersion} is not served`);
    const handler = await slot.load();
    const ctx: RequestContext = {
      broker: broker.context, apiKey, apiVersion, correlationId: correlation++, clientId,
      listenerName: broker.listeners[0]?.name ?? 'PLAINTEXT', connectionId: clientId, clientHost: '/127.0.0.1',
      closeConnection: () => {},
    };
    const res = await handler.handle(ctx, req);
    if (res === null) throw new InProcessError(`no answer from ${slot.name}`);
    return res as Res;
  };
}
