// How a broker talks to the active controller's broker-facing APIs (BrokerRegistration, BrokerHeartbeat): the
// `ControllerChannel` interface, and its in-process implementation for a node that runs its own controller
// (process.roles=broker,controller on one node: no network). A network channel (TCP to the controller listener)
// implements the same interface.
//
// The answers are built here once, for both the in-process channel and the handlers serving the APIs on the
// controller listener (handlers/broker-registration.ts, handlers/broker-heartbeat.ts).
import type { ApiDescriptor } from '../protocol/generated/descriptors.ts';
import { ErrorCode } from '../protocol/generated/errors.ts';
import { type BrokerRegistrationRequest, type BrokerRegistrationResponse, makeBrokerRegistrationResponse } from '../protocol/generated/broker-registration.ts';
import { type BrokerHeartbeatRequest, type BrokerHeartbeatResponse, makeBrokerHeartbeatResponse } from '../protocol/generated/broker-heartbeat.ts';
import { ControllerError, MembershipError, type QuorumController } from '../controller/quorum-controller.ts';

/**
 * One request to the active controller, answered with its response body. Kafka error codes come back in the
 * body (errorCode); the promise rejects only when no answer came (connection lost, timeout): the caller retries.
 */
export interface ControllerChannel {
  send<Req, Res>(api: ApiDescriptor<Req, Res>, body: Req): Promise<Res>;
}

function codeOf(e: unknown): number {
  if (e instanceof MembershipError || e instanceof ControllerError) return e.code;
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** BrokerRegistration answered by `controller` (errors as codes, as Kafka's ControllerApis). */
export async function answerBrokerRegistration(controller: QuorumController, req: BrokerRegistrationRequest): Promise<BrokerRegistrationResponse> {
  try {
    return makeBrokerRegistrationResponse({ errorCode: ErrorCode.NONE, brokerEpoch: await controller.registerBroker(req) });
  } catch (e) {
    return makeBrokerRegistrationResponse({ errorCode: codeOf(e), brokerEpoch: -1n });
  }
}

/** BrokerHeartbeat answered by `controller`. */
export async function answerBrokerHeartbeat(controller: QuorumController, req: BrokerHeartbeatRequest): Promise<BrokerHeartbeatResponse> {
  try {
    const r = await controller.brokerHeartbeat(req);
    return makeBrokerHeartbeatResponse({ errorCode: ErrorCode.NONE, isCaughtUp: r.isCaughtUp, isFenced: r.isFenced, shouldShutDown: r.shouldShutDown });
  } catch (e) {
    return makeBrokerHeartbeatResponse({ errorCode: codeOf(e), isCaughtUp: false, isFenced: true, shouldShutDown: false });
  }
}

/** The channel of a node to its own controller: calls it directly. */
export function inProcessChannel(controller: QuorumController): ControllerChannel {
  return {
    send<Req, Res>(api: ApiDescriptor<Req, Res>, body: Req): Promise<Res> {
      if (api.apiKey === 62) return answerBrokerRegistration(controller, body as BrokerRegistrationRequest) as Promise<Res>;
      if (api.apiKey === 63) return answerBrokerHeartbeat(controller, body as BrokerHeartbeatRequest) as Promise<Res>;
      return Promise.reject(new Error(`in-process controller channel: API ${api.name} is not served`));
    },
  };
}
