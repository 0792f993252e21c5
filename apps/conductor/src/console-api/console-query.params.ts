import { CONSOLE_PAGE_DEFAULT, CONSOLE_PAGE_MAX, JobKind, JobStatus } from '@agent-conductor/db';
import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

const paging = {
  limit: z.coerce.number().int().min(1).max(CONSOLE_PAGE_MAX).default(CONSOLE_PAGE_DEFAULT),
  cursor: z.string().min(1).max(512).optional(),
};

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

// Strict: a misspelt filter (`?stauts=failed`) is an error, not a silently unfiltered list.
export const pageQuery = z.strictObject(paging);
export const jobsQuery = z.strictObject({
  ...paging,
  status: z.enum(Object.values(JobStatus) as [JobStatus, ...JobStatus[]]).optional(),
  kind: z.enum(Object.values(JobKind) as [JobKind, ...JobKind[]]).optional(),
  repository: z.string().min(1).max(2048).optional(),
  key: z.string().min(1).max(512).optional(),
});
export const deliveriesQuery = z.strictObject({ ...paging, rejected: flag.optional() });
export const workersQuery = z.strictObject({ ...paging, active: flag.optional() });

/** Query parameters checked against `schema`; every problem is named in the 400. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  throw new BadRequestException(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`));
}
