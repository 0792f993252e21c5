import {
  DEFAULT_LOGS_LIMIT,
  type IncidentLogsQuery,
  isLogsLimit,
  logGroupProblem,
  MAX_LOGS_LIMIT,
  MAX_LOGS_LOG_GROUPS,
  MAX_LOGS_QUERY_LENGTH,
} from '@agent-conductor/scheduling-domain';
import { z } from 'zod';

const logGroup = z.string({ error: 'must be a string' }).superRefine((name, ctx) => {
  const problem = logGroupProblem(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * An incident route's `"logs": { "logGroups": [...], "query": "...", "limit": 200 }`, checked by the same rules as
 * `incidentLogsProblems` (the domain's check for tables built in code); `limit` defaults to DEFAULT_LOGS_LIMIT.
 */
export const incidentLogsSchema = z.strictObject(
  {
    logGroups: z
      .array(logGroup, { error: 'must be a list of log group names' })
      .min(1, `must list 1 to ${MAX_LOGS_LOG_GROUPS} log groups`)
      .max(MAX_LOGS_LOG_GROUPS, `must list 1 to ${MAX_LOGS_LOG_GROUPS} log groups`),
    query: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, 'must not be empty')
      .max(MAX_LOGS_QUERY_LENGTH, `must be at most ${MAX_LOGS_QUERY_LENGTH} characters`),
    limit: z
      .number({ error: 'must be a number' })
      .refine(isLogsLimit, `must be a whole number from 1 to ${MAX_LOGS_LIMIT}`)
      .optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object with "logGroups" and "query"' : undefined) },
);

export function toIncidentLogs(fields: z.infer<typeof incidentLogsSchema>): IncidentLogsQuery {
  return { logGroups: fields.logGroups, query: fields.query, limit: fields.limit ?? DEFAULT_LOGS_LIMIT };
}
