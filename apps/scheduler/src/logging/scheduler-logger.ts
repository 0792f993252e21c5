import { debugFromEnv, jobAndWorkerIdsInText, logFormatFromEnv, StructuredLogger, type LogStream } from '@agent-conductor/observability';

/** LOG_FORMAT=json|pretty (json by default in production), LOG_LEVEL=debug for Nest's debug lines. */
export function createSchedulerLogger(env: NodeJS.ProcessEnv = process.env, write?: (line: string, stream: LogStream) => void): StructuredLogger {
  return new StructuredLogger({
    service: 'scheduler',
    format: logFormatFromEnv(env),
    debug: debugFromEnv(env),
    fieldsFromText: jobAndWorkerIdsInText,
    ...(write ? { write } : {}),
  });
}
