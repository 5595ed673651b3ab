// The registry of a broker, for other in-process APIs (the REST Proxy's avro embedded format): attached by
// service.ts once `_schemas` is replayed, detached when it closes.
import type { Registry } from './registry.ts';

const registries = new WeakMap<object, Registry>();

export function attachRegistry(context: object, registry: Registry): void {
  registries.set(context, registry);
}

export function detachRegistry(context: object): void {
  registries.delete(context);
}

export function registryOf(context: object): Registry | undefined {
  return registries.get(context);
}
