import {
  AGENT_ACCESS_LEVELS,
  DEFAULT_ROUTE_BRANCH,
  externalIdProblem,
  investigationRoleArnProblem,
  sessionPolicyActionProblems,
  hasTicketCriteria,
  isAwsAccount,
  isTaskDefinition,
  ROUTE_APPROVALS,
  isTokenBudget,
  MAX_ROUTE_TOKENS,
  defaultRepositoryName,
  IncidentRoute,
  repositoryNameProblem,
  Route,
  RouteRepository,
  routeRepositoriesProblems,
  RoutingTable,
  sparsePathProblem, errorMessage } from '@agent-conductor/scheduling-domain';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { incidentLogsSchema, toIncidentLogs } from './routing-incident-logs';

/** The routing file (ROUTING_FILE) could not be read or is not a valid routing table. Lists every problem. */
export class RoutingFileError extends Error {
  override readonly name = 'RoutingFileError';
}

/** "must be an object" for a wrong type only: other issues (an unknown key) keep zod's own message. */
const objectError = (message: string) => (issue: { code: string }) => (issue.code === 'invalid_type' ? message : undefined);

const text = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');
const textList = z.array(text, { error: 'must be a list of strings' }).min(1, 'must not be empty when given');

const sparsePath = z.string({ error: 'must be a string' }).superRefine((path, ctx) => {
  const problem = sparsePathProblem(path);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const worker = z
  .strictObject(
    {
      taskDefinition: z
        .string({ error: 'must be a string' })
        .refine(isTaskDefinition, 'must be an ECS task definition family, family:revision or ARN')
        .optional(),
    },
    { error: objectError('must be an object') },
  )
  .optional();

const routeFields = {
  repository: text,
  branch: text.optional(),
  sparsePaths: z.array(sparsePath, { error: 'must be a list of relative paths' }).optional(),
  worker,
  claim: text.optional(),
  maxActive: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').optional(),
  maxTokens: z
    .number({ error: 'must be a number of tokens' })
    .refine(isTokenBudget, `must be a whole number of tokens from 1 to ${MAX_ROUTE_TOKENS}`)
    .optional(),
  approval: z.enum(ROUTE_APPROVALS, { error: 'must be "required" or "none"' }).optional(),
  jira: z.strictObject({ transition: text }, { error: objectError('must be an object') }).optional(),
};

const ticketRule = z.strictObject(
  {
    match: z
      .strictObject({ project: text.optional(), labels: textList.optional(), components: textList.optional() }, { error: objectError('must be an object') })
      .refine(hasTicketCriteria, 'must name project, labels or components'),
    ...routeFields,
  },
  { error: objectError('must be an object') },
);

const repositoryName = z.string({ error: 'must be a string' }).superRefine((name, ctx) => {
  const problem = repositoryNameProblem(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const incidentRepository = z.strictObject(
  {
    repository: text,
    branch: text.optional(),
    name: repositoryName.optional(),
    sparsePaths: z.array(sparsePath, { error: 'must be a list of relative paths' }).optional(),
  },
  { error: objectError('must be an object with at least "repository"') },
);

const investigation = z.strictObject(
  {
    roleArn: z.string({ error: 'must be a string' }),
    externalId: z.string({ error: 'must be a string' }).superRefine((externalId, ctx) => {
      const problem = externalIdProblem(externalId);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    }),
    agentAccess: z.enum(AGENT_ACCESS_LEVELS, { error: 'must be "none" or "read-only"' }),
    actions: z
      .array(z.string({ error: 'must be a string' }), { error: 'must be a list of IAM actions' })
      .superRefine((actions, ctx) => {
        for (const problem of sessionPolicyActionProblems(actions)) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  },
  { error: objectError('must be an object') },
);

const incidentRule = z
  .strictObject(
    {
      account: z.string({ error: 'must be a string' }).refine(isAwsAccount, 'must be a 12-digit AWS account id'),
      ...routeFields,
      // Optional here: a rule gives `repository`, `repositories`, or both (checked in incidentRoute).
      repository: text.optional(),
      repositories: z.array(incidentRepository, { error: 'must be a list of repositories' }).optional(),
      group: text.optional(),
      logs: incidentLogsSchema.optional(),
      investigation: investigation.optional(),
    },
    { error: objectError('must be an object') },
  )
  .superRefine((rule, ctx) => {
    if (rule.investigation === undefined) return;
    const problem = investigationRoleArnProblem(rule.investigation.roleArn, rule.account);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['investigation', 'roleArn'], message: problem });
  });

type IncidentRuleFields = z.infer<typeof incidentRule>;

const routingFileSchema = z
  .strictObject(
    {
      default: z.strictObject(routeFields, { error: objectError('is required: an object with at least "repository"') }),
      tickets: z.array(ticketRule, { error: 'must be a list of rules' }).default([]),
      incidents: z.array(incidentRule, { error: 'must be a list of rules' }).default([]),
    },
    { error: objectError('must be a JSON object') },
  );

/*
 * Checked on the raw value, beside zod: its refinements run only on input that parsed, and a duplicate account
 * should be reported together with every other problem.
 */
function duplicateAccounts(value: unknown): string[] {
  const incidents = isObject(value) ? value['incidents'] : undefined;
  if (!Array.isArray(incidents)) return [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  incidents.forEach((rule: unknown, index) => {
    const account = isObject(rule) ? rule['account'] : undefined;
    if (typeof account !== 'string') return;
    const first = seen.get(account);
    if (first === undefined) seen.set(account, index);
    else problems.push(`incidents[${index}].account: ${account} is already routed by incidents[${first}]`);
  });
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type RouteFields = z.infer<z.ZodObject<typeof routeFields>>;

/** `tickets[1].match`, `default.repository`, `incidents[0].sparsePaths[2]`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(file)' : out;
}

/**
 * Validates a parsed routing file and turns it into the domain's table. `baseDir` makes a relative local
 * repository path absolute (a worker's working directory differs from the scheduler's). Throws RoutingFileError
 * naming `source` and listing every problem with its JSON path.
 */
export function parseRoutingTable(value: unknown, source: string, baseDir: string): RoutingTable {
  const parsed = routingFileSchema.safeParse(value);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map((issue) => `${jsonPath(issue.path)}: ${issue.message}`)), ...duplicateAccounts(value)];
  if (!parsed.success || problems.length > 0) {
    const lines = problems.map((problem) => `  - ${problem}`);
    throw new RoutingFileError(`Invalid routing file ${source}:\n${lines.join('\n')}`);
  }
  const file = parsed.data;
  const incidentProblems: string[] = [];
  const incidents = file.incidents.map((rule, index) => incidentRoute(rule, `incidents[${index}]`, baseDir, incidentProblems));
  if (incidentProblems.length > 0) {
    const lines = incidentProblems.map((problem) => `  - ${problem}`);
    throw new RoutingFileError(`Invalid routing file ${source}:\n${lines.join('\n')}`);
  }
  const route = (fields: RouteFields): Route => {
    const out: Route = {
      repository: absoluteRepository(fields.repository, baseDir),
      branch: fields.branch ?? DEFAULT_ROUTE_BRANCH,
      sparsePaths: fields.sparsePaths ?? [],
    };
    if (fields.worker?.taskDefinition !== undefined) out.workerTaskDefinition = fields.worker.taskDefinition;
    if (fields.claim !== undefined) out.claim = fields.claim;
    if (fields.maxActive !== undefined) out.maxActive = fields.maxActive;
    if (fields.maxTokens !== undefined) out.maxTokens = fields.maxTokens;
    if (fields.approval !== undefined) out.approval = fields.approval;
    if (fields.jira !== undefined) out.jiraTransition = fields.jira.transition;
    return out;
  };
  return {
    default: route(file.default),
    tickets: file.tickets.map((rule) => {
      const match: RoutingTable['tickets'][number]['match'] = {};
      if (rule.match.project !== undefined) match.project = rule.match.project;
      if (rule.match.labels !== undefined) match.labels = rule.match.labels;
      if (rule.match.components !== undefined) match.components = rule.match.components;
      return { match, ...route(rule) };
    }),
    incidents: incidents.map(({ rule, repository, branch, sparsePaths, repositories }) => {
      const out: IncidentRoute = { account: rule.account, ...route({ ...rule, repository, branch, sparsePaths }) };
      if (repositories !== undefined) out.repositories = repositories;
      if (rule.group !== undefined) out.group = rule.group;
      if (rule.logs !== undefined) out.logs = toIncidentLogs(rule.logs);
      if (rule.investigation !== undefined) {
        out.investigation = {
          roleArn: rule.investigation.roleArn,
          externalId: rule.investigation.externalId,
          agentAccess: rule.investigation.agentAccess,
          ...(rule.investigation.actions !== undefined ? { actions: rule.investigation.actions } : {}),
        };
      }
      return out;
    }),
  };
}

/**
 * An incident rule's repository, branch and sparse paths, and its `repositories` with default names: with
 * `repositories`, the first entry is the route's repository; a `repository` beside it must name the same one, and
 * `branch` and `sparsePaths` go on each entry instead. Problems are added to `problems`.
 */
function incidentRoute(
  rule: IncidentRuleFields,
  path: string,
  baseDir: string,
  problems: string[],
): { rule: IncidentRuleFields; repository: string; branch?: string; sparsePaths?: string[]; repositories?: RouteRepository[] } {
  if (rule.repositories === undefined) {
    if (rule.repository === undefined) problems.push(`${path}: needs "repository" or "repositories"`);
    return { rule, repository: rule.repository ?? '', ...(rule.branch !== undefined ? { branch: rule.branch } : {}), ...(rule.sparsePaths !== undefined ? { sparsePaths: rule.sparsePaths } : {}) };
  }
  const repositories = rule.repositories.map((entry) => ({
    url: absoluteRepository(entry.repository, baseDir),
    branch: entry.branch ?? DEFAULT_ROUTE_BRANCH,
    name: entry.name ?? defaultRepositoryName(entry.repository),
    sparsePaths: entry.sparsePaths ?? [],
  }));
  problems.push(...routeRepositoriesProblems(`${path}.repositories`, repositories));
  if (rule.branch !== undefined) problems.push(`${path}.branch: give the branch on each of "repositories" instead`);
  if (rule.sparsePaths !== undefined) problems.push(`${path}.sparsePaths: give the sparse paths on each of "repositories" instead`);
  const first = repositories[0];
  if (rule.repository !== undefined && first !== undefined && absoluteRepository(rule.repository, baseDir) !== first.url) {
    problems.push(`${path}.repository: must be the first of "repositories" (${first.url}) when both are given`);
  }
  return { rule, repository: first?.url ?? '', branch: first?.branch ?? DEFAULT_ROUTE_BRANCH, sparsePaths: first?.sparsePaths ?? [], repositories };
}

/** Reads, parses and validates ROUTING_FILE (relative to `workspace`). Throws RoutingFileError. */
export function loadRoutingFile(file: string, workspace: string = process.cwd()): RoutingTable {
  const path = resolve(workspace, file);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RoutingFileError(`Routing file ${path} (ROUTING_FILE) cannot be read: ${errorMessage(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new RoutingFileError(`Routing file ${path} (ROUTING_FILE) is not valid JSON: ${errorMessage(error)}`);
  }
  return parseRoutingTable(json, path, dirname(path));
}

/** URLs and scp-style remotes stay as they are; a relative local path is taken relative to the file. */
export function absoluteRepository(repository: string, baseDir: string): string {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[^/\s]+@[^/\s]+:/.test(repository);
  return isUrl || isAbsolute(repository) ? repository : resolve(baseDir, repository);
}

/** Duck-typed: errors from Node's core can come from another realm (jest) and fail `instanceof Error`. */
