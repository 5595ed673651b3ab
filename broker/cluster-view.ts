// What Metadata and DescribeCluster say about the cluster. A single node: itself, its own controller, the leader
// of every partition (as before). Several nodes (combined mode): the brokers registered in the metadata image
// (RegisterBrokerRecord endpoints of the listener the request came in on), the active controller's id (clients
// send admin requests there; a node that is not the active controller answers NOT_CONTROLLER), and each
// partition's leader/replicas/ISR from the image.
import type { BrokerContext } from './context.ts';

export interface BrokerEntry { nodeId: number; host: string; port: number; rack: string | null }

export function isMultiNodeContext(broker: BrokerContext): boolean {
  return broker.controller.raft.voters.length > 1;
}

/** The brokers to list: this node with the listener's advertised address, then the other registered ones. */
export function clusterBrokers(broker: BrokerContext, listenerName: string, self: { host: string; port: number }): BrokerEntry[] {
  const out: BrokerEntry[] = [{ nodeId: broker.nodeId, host: self.host, port: self.port, rack: broker.rack }];
  if (!isMultiNodeContext(broker)) return out;
  for (const [id, b] of broker.controller.image.brokers) {
    if (id === broker.nodeId || b.fenced) continue;
    const e = b.endpoints.find((x) => x.name === listenerName);
    if (e) out.push({ nodeId: id, host: e.host, port: e.port, rack: b.rack });
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
