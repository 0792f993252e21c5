import { jobAndWorkerIdsInText, StructuredLogger, type LogStream } from '@agent-conductor/observability';
import type { ObservabilityConfig } from './observability.config';

export function createConductorLogger(
  config: Pick<ObservabilityConfig, 'logFormat' | 'debugLogs'>,
  write?: (line: string, stream: LogStream) => void,
): StructuredLogger {
  return new StructuredLogger({
    service: 'conductor',
    format: config.logFormat,
    debug: config.debugLogs,
    fieldsFromText: jobAndWorkerIdsInText,
    ...(write ? { write } : {}),
  });
}
