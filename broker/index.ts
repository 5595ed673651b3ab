// gregor's public entry point: everything outside broker/ (the CLI, compat-tests) uses only this.
export { startBroker, type Broker, type BrokerOptions, type BoundListener } from './server.ts';
export { buildBrokerConfig, parseProperties, configFromEnv, BrokerConfig, ConfigError, brokerConfigDefs } from './config.ts';
export { consoleLogger, silentLogger, memoryLogger, type Logger, type LogLevel } from './log.ts';
// Fault injection for tests: per-broker request interception, the transport listeners accept on, and the
// file systems storage can run on (BrokerOptions.fs).
export { FaultRules, FaultRuleError, type FaultRuleSpec, type FaultRuleState } from './fault-rules.ts';
export { ANY_API } from './intercept.ts';
export type { InterceptAction, InterceptDecision, InterceptOptions, InterceptedRequest, Interception } from './intercept.ts';
export { netTransport, type Transport, type TransportSocket, type ListenSpec, type BoundServer } from './transport.ts';
export { MemFs, FaultyFs, nodeFs, type FsLike, type FsOp } from '../storage/index.ts';
