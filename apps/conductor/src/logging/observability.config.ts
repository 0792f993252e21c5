import { debugFromEnv, logFormatFromEnv, type LogFormat } from '@agent-conductor/observability';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { z } from 'zod';

/** Logging, health and metrics settings; separate from ConductorConfig so a test module can leave them out. */
export interface ObservabilityConfig {
  logFormat: LogFormat;
  debugLogs: boolean;
  /** Budget of each readiness check (database ping, scheduler connect). */
  healthCheckTimeoutMs: number;
  /** How long a scrape reuses the jobs/workers counts before asking Postgres again. */
  metricsDbCacheMs: number;
}

export const DEFAULT_OBSERVABILITY: Omit<ObservabilityConfig, 'logFormat'> = {
  debugLogs: false,
  healthCheckTimeoutMs: 2000,
  metricsDbCacheMs: 5000,
};

const schema = z.object({
  HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_OBSERVABILITY.healthCheckTimeoutMs),
  METRICS_DB_CACHE_MS: z.coerce.number().int().min(0).default(DEFAULT_OBSERVABILITY.metricsDbCacheMs),
});

export function loadObservabilityConfig(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid observability environment: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return {
    logFormat: logFormatFromEnv(env),
    debugLogs: debugFromEnv(env),
    healthCheckTimeoutMs: parsed.data.HEALTH_CHECK_TIMEOUT_MS,
    metricsDbCacheMs: parsed.data.METRICS_DB_CACHE_MS,
  };
}

export const OBSERVABILITY_CONFIG = Symbol('OBSERVABILITY_CONFIG');

@Global()
@Module({})
export class ObservabilityConfigModule {
  static forRoot(config: ObservabilityConfig): DynamicModule {
    return { module: ObservabilityConfigModule, providers: [{ provide: OBSERVABILITY_CONFIG, useValue: config }], exports: [OBSERVABILITY_CONFIG] };
  }
}
