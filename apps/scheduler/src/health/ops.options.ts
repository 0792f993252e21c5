import { z } from 'zod';

/** The scheduler's HTTP side: health and metrics next to its gRPC service. */
export interface SchedulerOpsOptions {
  /** SCHEDULER_HTTP_PORT; 0 picks a free port (tests). */
  httpPort: number;
  /** Budget of the readiness check's database ping. */
  healthCheckTimeoutMs: number;
}

export const SCHEDULER_OPS_OPTIONS = Symbol('SCHEDULER_OPS_OPTIONS');

const schema = z.object({
  SCHEDULER_HTTP_PORT: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(65535).default(8081)),
  HEALTH_CHECK_TIMEOUT_MS: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().positive().default(2000)),
});

export function loadSchedulerOpsOptions(env: NodeJS.ProcessEnv = process.env): SchedulerOpsOptions {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid scheduler environment:\n${parsed.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`).join('\n')}`);
  }
  return { httpPort: parsed.data.SCHEDULER_HTTP_PORT, healthCheckTimeoutMs: parsed.data.HEALTH_CHECK_TIMEOUT_MS };
}
