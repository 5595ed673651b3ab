// What Metadata and DescribeCluster say about the cluster: the registered brokers of the metadata image (Kafka's
// MetadataCache alive brokers: unfenced; DescribeCluster v2 may ask for fenced ones too), each with its endpoint on
// the listener the request came in on (a broker without one is left out, as Kafka; this node's own address is the
// one its listener was bound and advertised with, its registration may name port 0); the active controller's id
// (clients send admin requests there; a node that is not the active controller answers NOT_CONTROLLER); and each
// partition's leader/replicas/ISR (from the image with several nodes, this node alone otherwise).
import type { BrokerContext } from './context.ts';

export interface ClusterBroker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly fenced: boolean;
}

export function isMultiNodeContext(broker: BrokerContext): boolean {
  return broker.controller.raft.voters.length > 1;
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

/**
 * The controller id clients are told: the active controller, or this node alone. -1 while an election runs or
 * while this node's image does not have the new controller's registration yet (it would not be among the brokers
 * listed, and clients such as kafkajs fail instead of refreshing): clients ask again.
 */
export function controllerIdFor(broker: BrokerContext): number {
  if (!isMultiNodeContext(broker)) return broker.nodeId;
  const id = broker.controller.leaderAndEpoch().leaderId;
  return id === broker.nodeId || broker.controller.image.brokers.has(id) ? id : -1;
}

/** A partition's leader, replicas and ISR: from the image with several nodes, this node alone otherwise. */
export function partitionPlacement(broker: BrokerContext, topicId: string, partition: number): { leader: number; replicas: number[]; isr: number[] } {
  if (isMultiNodeContext(broker)) {
    const p = broker.controller.image.topics.byId.get(topicId)?.partitions.get(partition);
    if (p) return { leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] };
  }
  return { leader: broker.nodeId, replicas: [broker.nodeId], isr: [broker.nodeId] };
}
