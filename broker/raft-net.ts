// Multi-node combined mode (process.roles=broker,controller with several controller.quorum.voters): the network
// between the voters. Loaded only then (server.ts imports it dynamically), so a single node never loads the Raft
// network codecs. The controller listener (controller.listener.names) serves only what Kafka's controller serves to
// its peers and tools here: Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch (of __cluster_metadata), FetchSnapshot,
// ApiVersions, DescribeQuorum and DescribeCluster (controller endpoints); any other API key is unknown on it (the connection closes, as Kafka does).
import { loadRaftMessages, type RaftClient } from '../controller/raft/raft-client.ts';
import { RaftNetwork } from '../controller/net/raft-network.ts';
import { parseQuorumVoters, RAFT_API_VERSIONS, type RaftApi, type VoterEndpoint } from '../controller/raft/types.ts';
import { VoteApi } from '../protocol/generated/vote.ts';
import { BeginQuorumEpochApi } from '../protocol/generated/begin-quorum-epoch.ts';
import { EndQuorumEpochApi } from '../protocol/generated/end-quorum-epoch.ts';
import { FetchApi } from '../protocol/generated/fetch.ts';
import { FetchSnapshotApi } from '../protocol/generated/fetch-snapshot.ts';
import type { ApiDescriptor } from '../protocol/generated/descriptors.ts';
import { type BrokerConfig, parseListeners } from './config.ts';
import type { Clock } from '../storage/clock.ts';
import { Connection } from './connection.ts';
import type { BrokerContext } from './context.ts';
import type { BrokerMetrics } from './metrics/counters.ts';
import type { BoundListener, BrokerOptions } from './server.ts';
import { type BoundServer, netTransport } from './transport.ts';
import type { Handler } from './handler.ts';
import { advertisedVersions, buildHandlerTable, type HandlerTable } from './handler-table.ts';
import { handlerRows, loadHandler } from './handlers/index.ts';
import type { Logger } from './log.ts';
import { describeClusterControllerHandler, describeQuorumHandler } from './controller-apis.ts';
import type { QuorumController } from '../controller/quorum-controller.ts';
import { BrokerRegistrationApi, makeBrokerRegistrationResponse } from '../protocol/generated/broker-registration.ts';
import { BrokerHeartbeatApi, makeBrokerHeartbeatResponse } from '../protocol/generated/broker-heartbeat.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { answerBrokerHeartbeat, answerBrokerRegistration, type ControllerChannel, inProcessChannel } from './controller-channel.ts';
import { Connection as ClientConnection } from './cli/client.ts';

export interface QuorumNetwork {
  readonly network: RaftNetwork;
  readonly voters: VoterEndpoint[];
  readonly voterIds: number[];
  /** The controller listener's handler table and what its ApiVersions advertises. */
  readonly handlers: HandlerTable;
  readonly apiVersions: Array<{ apiKey: number; minVersion: number; maxVersion: number }>;
}

const DESCRIPTORS: Record<RaftApi, ApiDescriptor<any, any>> = {
  Vote: VoteApi, BeginQuorumEpoch: BeginQuorumEpochApi, EndQuorumEpoch: EndQuorumEpochApi, Fetch: FetchApi, FetchSnapshot: FetchSnapshotApi,
};

/** The voters' network; `raft()` is the node's RaftClient once the controller is built (DescribeQuorum). */
export async function openQuorumNetwork(config: BrokerConfig, log: Logger, raft: () => RaftClient | null, controller: () => QuorumController | null = () => null): Promise<QuorumNetwork> {
  await loadRaftMessages();
  const voters = parseQuorumVoters(config.list('controller.quorum.voters').join(','));
  const network = new RaftNetwork({
    // The reconnect backoffs at Kafka's client defaults (reconnect.backoff[.max].ms are not broker configs).
    nodeId: config.int('node.id'), voters, log,
    requestTimeoutMs: config.int('controller.quorum.request.timeout.ms'),
    connectTimeoutMs: config.int('socket.connection.setup.timeout.ms'),
  });
  // The core speaks one version of each Raft API; the listener serves exactly those.
  const rows: Handler[] = (Object.keys(DESCRIPTORS) as RaftApi[]).map((api) => ({
    api: DESCRIPTORS[api], minVersion: RAFT_API_VERSIONS[api], maxVersion: RAFT_API_VERSIONS[api],
    async handle(_ctx, req) { return (await network.serve(api, req)).body; },
  }));
  rows.push(describeQuorumHandler(raft, voters, config.list('controller.listener.names')[0]!.toUpperCase()));
  rows.push(describeClusterControllerHandler(raft, voters));
  // The brokers' lifecycle (BrokerRegistration, BrokerHeartbeat) from every node's ControllerChannel; a node that
  // is not the active controller answers NOT_CONTROLLER (the caller retries at the new one).
  rows.push({
    api: BrokerRegistrationApi, minVersion: 0, maxVersion: 4,
    handle: (_ctx, req) => { const c = controller(); return c ? answerBrokerRegistration(c, req) : makeBrokerRegistrationResponse({ errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n }); },
  } as Handler);
  rows.push({
    api: BrokerHeartbeatApi, minVersion: 0, maxVersion: 2,
    handle: (_ctx, req) => { const c = controller(); return c ? answerBrokerHeartbeat(c, req) : makeBrokerHeartbeatResponse({ errorCode: ErrorCode.NOT_CONTROLLER, isCaughtUp: false, isFenced: true, shouldShutDown: false }); },
  } as Handler);
  const apiVersionsRow = handlerRows.find((r) => r.apiKey === 18)!;
  const handlers = buildHandlerTable([...rows, apiVersionsRow], false, loadHandler);
  return { network, voters, voterIds: voters.map((v) => v.id), handlers, apiVersions: advertisedVersions(handlers) };
}

export interface ControllerListener {
  readonly name: string;
  readonly quorum: QuorumNetwork;
  readonly bound: BoundListener;
  /** The node's controller, once built (DescribeQuorum reads its RaftClient; the lifecycle APIs call it). */
  setController(controller: QuorumController): void;
  /**
   * How this node's broker reaches the active controller: in process when it is this node, else over TCP to that
   * voter's controller listener (one connection, re-made when the leader changes or it breaks).
   */
  controllerChannel(controller: QuorumController): ControllerChannel;
  /** Stops the listener, its connections and the outbound network. */
  close(): Promise<void>;
}

/** Binds the controller listener (before the controller waits for its election: the voters need it to vote). */
export async function openControllerListener(
  config: BrokerConfig, options: BrokerOptions, log: Logger, clock: Clock, clusterId: string, metrics: BrokerMetrics | undefined,
): Promise<ControllerListener> {
  const name = config.list('controller.listener.names')[0]!.toUpperCase();
  const spec = parseListeners(config.list('listeners')).find((l) => l.name === name)!;
  let raft: RaftClient | null = null;
  let qc: QuorumController | null = null;
  const quorum = await openQuorumNetwork(config, log, () => raft, () => qc);
  const nodeId = config.int('node.id');
  // What a connection on this listener reads of the broker: its identity, clock, log and this listener's versions.
  const context = { nodeId, clusterId, config, log, clock, metrics, apiVersions: quorum.apiVersions, get controller() { return qc ?? undefined; } } as unknown as BrokerContext;
  const connections = new Set<Connection>();
  let closing = false;
  let n = 0;
  const transport = options.transport ?? netTransport;
  const host = spec.host === '' || spec.host === '0.0.0.0' || spec.host === '::' ? undefined : spec.host;
  let server: BoundServer;
  try {
    server = await transport.listen({
      name, port: spec.port, host, backlog: config.int('socket.listen.backlog.size'),
      onError: (err) => log.error(`listener ${name}: ${err.message}`),
    }, (socket) => {
      if (closing) return socket.destroy();
      const c = new Connection(socket, context, name, `${name}-${n++}`, config.int('socket.request.max.bytes'), quorum.handlers);
      connections.add(c);
      socket.once('close', () => connections.delete(c));
    });
  } catch (err) {
    quorum.network.close();
    throw err;
  }
  log.info(`listening on ${name}://${spec.host || '*'}:${server.port} (controller listener: the metadata quorum's voters ${quorum.voters.map((v) => `${v.id}@${v.host}:${v.port}`).join(',')})`);
  const advHost = host ?? 'localhost';
  return {
    name, quorum,
    bound: { name, host: spec.host, port: server.port, advertised: { host: advHost, port: server.port } },
    setController: (c) => { qc = c; raft = c.raft; },
    controllerChannel: (c) => routedChannel(c, quorum.voters, nodeId, config.int('controller.quorum.request.timeout.ms'), () => closing),
    async close() {
      if (closing) return;
      closing = true;
      quorum.network.close();
      const stopped = server.close();
      for (const c of connections) c.close();
      await stopped;
    },
  };
}

function routedChannel(controller: QuorumController, voters: readonly VoterEndpoint[], nodeId: number, timeoutMs: number, closed: () => boolean): ControllerChannel {
  const local = inProcessChannel(controller);
  let conn: { leader: number; c: Promise<ClientConnection> } | null = null;
  return {
    async send(api, body) {
      const leader = controller.leaderAndEpoch().leaderId;
      if (leader === nodeId) return local.send(api, body);
      const v = voters.find((x) => x.id === leader);
      if (!v || closed()) throw new Error(leader < 0 ? 'no active controller yet' : `no controller endpoint for node ${leader}`);
      if (!conn || conn.leader !== leader) {
        void conn?.c.then((c) => c.close(), () => {});
        conn = { leader, c: ClientConnection.connect(v.host, v.port, `gregor-broker-${nodeId}`, timeoutMs) };
      }
      const mine = conn;
      try {
        const c = await mine.c;
        if (c.closed) throw new Error(`connection to controller ${leader} closed`);
        return await c.request(api.apiKey, body as object);
      } catch (e) {
        if (conn === mine) conn = null; // re-made on the next send
        throw e;
      }
    },
  };
}
