// gregor's public entry point: everything outside broker/ (the CLI, compat-tests) uses only this.
export { startBroker, type Broker, type BrokerOptions, type BoundListener } from './server.ts';
export { buildBrokerConfig, parseProperties, configFromEnv, BrokerConfig, ConfigError, brokerConfigDefs } from './config.ts';
export { consoleLogger, silentLogger, memoryLogger, type Logger, type LogLevel } from './log.ts';
