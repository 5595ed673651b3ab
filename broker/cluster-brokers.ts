// The brokers Metadata and DescribeCluster report: the registered ones in the metadata image (Kafka's
// MetadataCache alive brokers: unfenced; DescribeCluster v2 may ask for fenced ones too), each with its endpoint
// on the listener the request came in on (a broker without one is left out, as Kafka). This node's own address
// is the one its listener was bound and advertised with (its registration may name port 0).
import type { BrokerContext } from './context.ts';

export interface ClusterBroker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly fenced: boolean;
}

export function clusterBrokers(broker: BrokerContext, listenerName: string, includeFenced = false): ClusterBroker[] {
  const out: ClusterBroker[] = [];
  const regs = [...broker.controller.image.brokers.values()].sort((a, b) => a.id - b.id);
  for (const b of regs) {
    if (b.fenced && !includeFenced) continue;
    const own = b.id === broker.nodeId ? broker.advertisedAddress(listenerName) : undefined;
    const ep = own ?? b.endpoints.find((e) => e.name === listenerName);
    if (!ep) continue;
    out.push({ nodeId: b.id, host: ep.host, port: ep.port, rack: b.rack, fenced: b.fenced });
  }
  return out;
}
