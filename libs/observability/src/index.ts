export { addLogContext, currentLogContext, runWithLogContext } from './logging/log-context';
export type { LogContextFields } from './logging/log-context';
export { debugFromEnv, logFormatFromEnv } from './logging/log-format';
export type { LogFormat } from './logging/log-format';
export { isSensitiveKey, REDACTED, redactText, redactValue } from './logging/redact';
export { jobAndWorkerIdsInText, StructuredLogger } from './logging/structured-logger';
export type { LogStream, StructuredLoggerOptions } from './logging/structured-logger';
export { probe } from './health/probe';
export { createMetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './metrics/registry';
