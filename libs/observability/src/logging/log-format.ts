export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT=json|pretty; unset means json in production (one object per line for CloudWatch Logs Insights)
 * and pretty elsewhere (a terminal).
 */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const value = env['LOG_FORMAT']?.trim().toLowerCase();
  if (value === 'json' || value === 'pretty') return value;
  if (value) throw new Error(`LOG_FORMAT: expected json or pretty, got ${JSON.stringify(env['LOG_FORMAT'])}`);
  return env['NODE_ENV'] === 'production' ? 'json' : 'pretty';
}

/** LOG_LEVEL=debug adds Nest's debug and verbose lines; anything else keeps log, warn, error and fatal. */
export function debugFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env['LOG_LEVEL']?.trim().toLowerCase();
  return value === 'debug' || value === 'verbose';
}
