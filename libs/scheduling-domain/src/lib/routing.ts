import { incidentLogsProblems, type IncidentLogsQuery } from './incident-logs';
import { investigationAccessProblems, type InvestigationAccess } from './investigation-access';
import { TicketFacts } from './types';

/**
 * Where a job works: the repository it clones, the branch it starts from (and its pull request targets), the
 * paths a sparse clone checks out (empty: everything) and, optionally, the ECS task definition whose image the
 * worker needs. Stored on the job row when the scheduler decides it.
 */
export interface Route {
  repository: string;
  branch: string;
  sparsePaths: string[];
  /** An ECS task definition (family, family:revision or ARN); absent: the conductor's ECS_TASK_DEFINITION. */
  workerTaskDefinition?: string;
  /**
   * The claim key admission counts the job's active agents under; absent: the repository. Scopes a claim, for
   * example to one area of a monorepo, so agents on different areas run side by side.
   */
  claim?: string;
  /** At most this many active jobs under the route's claim; absent: the conductor's REPO_MAX_ACTIVE_JOBS. */
  maxActive?: number;
  /** Input plus output model tokens a job may spend; absent: only the worker's AGENT_MAX_TOKENS applies. */
  maxTokens?: number;
  /**
   * `required`: the route's jobs wait `pending` ("awaiting approval") until an operator approves or rejects them;
   * absent or `none`: admission alone decides when they start.
   */
  approval?: RouteApproval;
  /** The Jira transition (by name, e.g. "In Review") a ticket's issue goes through when its job succeeds. */
  jiraTransition?: string;
  /**
   * Several repositories (incident routes only): the job clones each under repo/<name>/. The first is the route's
   * `repository`, `branch` and `sparsePaths`, and its claim. Absent: the one repository, cloned into repo/.
   */
  repositories?: RouteRepository[];
}

/** One repository of a several-repository job, as stored in jobs.repositories. */
export interface RouteRepository {
  url: string;
  branch: string;
  /** The directory under repo/ the worker clones it into: unique within the job, `[A-Za-z0-9._-]`, no `..`. */
  name: string;
  sparsePaths: string[];
}

/** A route lists at most this many repositories: each is a clone and a pull request of its own. */
export const MAX_ROUTE_REPOSITORIES = 10;

export const ROUTE_APPROVALS = ['none', 'required'] as const;
export type RouteApproval = (typeof ROUTE_APPROVALS)[number];

export function isRouteApproval(value: unknown): value is RouteApproval {
  return typeof value === 'string' && (ROUTE_APPROVALS as readonly string[]).includes(value);
}

/** A ticket rule's criteria; every criterion given must match, and at least one must be given. */
export interface TicketMatch {
  /** Equals the ticket's project key. */
  project?: string;
  /** The ticket has at least one of these labels. */
  labels?: string[];
  /** The ticket has at least one of these components. */
  components?: string[];
}

export interface TicketRoute extends Route {
  match: TicketMatch;
}

export interface IncidentRoute extends Route {
  /** The alarm's AWS account id (12 digits). */
  account: string;
  /**
   * Incident routes sharing a group: a new incident of one account joins the still-pending job of a reachable
   * incident of another account of the group (incident-group.ts). Absent: the account's incidents stay on their own.
   */
  group?: string;
  /** A Logs Insights query for the evidence pack (docs/incidents.md); absent: the pack has no logs. */
  logs?: IncidentLogsQuery;
  /** The account's investigation role (docs/incident-access.md); absent: the conductor's own credentials, no agent access. */
  investigation?: InvestigationAccess;
}

/** Where an incident's job works, plus the investigation access of its account's rule (absent on the default route). */
export interface IncidentJobRoute extends Route {
  investigation?: InvestigationAccess;
}

/** Ticket rules are tried in order (first match wins); incident rules by account; everything else takes `default`. */
export interface RoutingTable {
  default: Route;
  tickets: TicketRoute[];
  incidents: IncidentRoute[];
}

export const DEFAULT_ROUTE_BRANCH = 'main';

const AWS_ACCOUNT = /^\d{12}$/;
/** A family, family:revision, or a task definition ARN (ECS's own character set for families). */
const TASK_DEFINITION = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}(:\d+)?$/;

/** A table with only the default route: every job goes to `repository`, as before routing existed. */
export function defaultRoutingTable(repository: string, branch: string = DEFAULT_ROUTE_BRANCH): RoutingTable {
  return { default: { repository, branch, sparsePaths: [] }, tickets: [], incidents: [] };
}

/** True when the rule has at least one criterion. A rule with none would match every ticket. */
export function hasTicketCriteria(match: TicketMatch): boolean {
  return match.project !== undefined || (match.labels?.length ?? 0) > 0 || (match.components?.length ?? 0) > 0;
}

/** Every criterion given matches: project equals the project key, labels and components share at least one value. */
export function ticketMatches(match: TicketMatch, ticket: Pick<TicketFacts, 'projectKey' | 'labels' | 'components'>): boolean {
  if (!hasTicketCriteria(match)) return false;
  if (match.project !== undefined && match.project !== ticket.projectKey) return false;
  if (match.labels !== undefined && match.labels.length > 0 && !match.labels.some((label) => ticket.labels.includes(label))) return false;
  if (
    match.components !== undefined &&
    match.components.length > 0 &&
    !match.components.some((component) => ticket.components.includes(component))
  ) {
    return false;
  }
  return true;
}

/** The first ticket rule that matches, else the default route. */
export function routeTicket(ticket: Pick<TicketFacts, 'projectKey' | 'labels' | 'components'>, table: RoutingTable): Route {
  const rule = table.tickets.find((candidate) => ticketMatches(candidate.match, ticket));
  return toRoute(rule ?? table.default);
}

/** The incident rule for the alarm's AWS account, else the default route. */
export function routeIncident(account: string, table: RoutingTable): IncidentJobRoute {
  const rule = table.incidents.find((candidate) => candidate.account === account);
  const route: IncidentJobRoute = toRoute(rule ?? table.default);
  const investigation = rule?.investigation;
  if (investigation !== undefined) {
    route.investigation = { ...investigation, ...(investigation.actions !== undefined ? { actions: [...investigation.actions] } : {}) };
  }
  return route;
}

/** The incident rule's Logs Insights query for the alarm's account, or null (no rule, or a rule without one). */
export function incidentLogsFor(account: string, table: RoutingTable): IncidentLogsQuery | null {
  const logs = table.incidents.find((candidate) => candidate.account === account)?.logs;
  return logs ? { logGroups: [...logs.logGroups], query: logs.query, limit: logs.limit } : null;
}

/** The incident group of the account's rule; undefined when it has no rule or no group. */
export function incidentGroupOf(account: string, table: Pick<RoutingTable, 'incidents'>): string | undefined {
  return table.incidents.find((candidate) => candidate.account === account)?.group;
}

const REPOSITORY_NAME = /^[A-Za-z0-9._-]+$/;

/** Why a repository name cannot be a directory under repo/, or null. */
export function repositoryNameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (!REPOSITORY_NAME.test(name)) return `must use only letters, digits, ".", "_" and "-" (got ${JSON.stringify(name)})`;
  if (name.includes('..') || name === '.') return `must not be "." or contain ".." (got ${JSON.stringify(name)})`;
  return null;
}

/** A repository's default name: the last segment of its URL, scp remote or path, without `.git`. */
export function defaultRepositoryName(repository: string): string {
  const trimmed = repository.trim().replace(/[/\\]+$/, '');
  const last = trimmed.split(/[/\\:]/).pop() ?? '';
  return last.replace(/\.git$/i, '');
}

/** The problems of a route's `repositories`, each prefixed with `path` (e.g. `incidents[0].repositories`). */
export function routeRepositoriesProblems(path: string, repositories: readonly RouteRepository[]): string[] {
  const problems: string[] = [];
  if (repositories.length === 0) problems.push(`${path}: must list at least one repository`);
  if (repositories.length > MAX_ROUTE_REPOSITORIES) {
    problems.push(`${path}: at most ${MAX_ROUTE_REPOSITORIES} repositories per route (got ${repositories.length})`);
  }
  const names = new Map<string, number>();
  const urls = new Map<string, number>();
  repositories.forEach((repository, index) => {
    const at = `${path}[${index}]`;
    if (repository.url.trim() === '') problems.push(`${at}.repository: must not be empty`);
    if (repository.branch.trim() === '') problems.push(`${at}.branch: must not be empty`);
    repository.sparsePaths.forEach((sparse, sparseIndex) => {
      const problem = sparsePathProblem(sparse);
      if (problem !== null) problems.push(`${at}.sparsePaths[${sparseIndex}]: ${problem}`);
    });
    const nameProblem = repositoryNameProblem(repository.name);
    if (nameProblem !== null) problems.push(`${at}.name: ${nameProblem}${repository.name === '' ? ' (name the repository: its URL ends without one)' : ''}`);
    const firstName = names.get(repository.name);
    if (firstName !== undefined) problems.push(`${at}.name: "${repository.name}" is already used by ${path}[${firstName}] (give one a "name")`);
    else names.set(repository.name, index);
    const firstUrl = urls.get(repository.url);
    if (firstUrl !== undefined) problems.push(`${at}.repository: ${repository.url} is already listed by ${path}[${firstUrl}]`);
    else urls.set(repository.url, index);
  });
  return problems;
}

/** Why a sparse path cannot be used, or null: relative, non-empty, no `..` segment, no leading `/`. */
export function sparsePathProblem(path: string): string | null {
  if (path.trim() === '') return 'must not be empty';
  if (path.startsWith('/')) return 'must be relative (no leading /)';
  if (path.includes('\\')) return 'must use / as separator';
  if (path.split('/').some((segment) => segment === '..')) return 'must not contain ..';
  return null;
}

export function isAwsAccount(account: string): boolean {
  return AWS_ACCOUNT.test(account);
}

export function isTaskDefinition(value: string): boolean {
  return TASK_DEFINITION.test(value);
}

/** Stored in an int4 column; two billion tokens is beyond any job. */
export const MAX_ROUTE_TOKENS = 2_147_483_647;

/** A positive whole number of tokens that fits the job row. */
export function isTokenBudget(value: number): boolean {
  return Number.isInteger(value) && value > 0 && value <= MAX_ROUTE_TOKENS;
}

/**
 * The table's problems, each prefixed with its JSON path, for tables built in code (the scheduler's file loader
 * reports the same rules through zod). Empty when the table can be used.
 */
export function routingTableProblems(table: RoutingTable): string[] {
  const problems: string[] = [];
  const route = (path: string, candidate: Route): void => {
    if (candidate.repository.trim() === '') problems.push(`${path}.repository: must not be empty`);
    if (candidate.branch.trim() === '') problems.push(`${path}.branch: must not be empty`);
    candidate.sparsePaths.forEach((sparse, index) => {
      const problem = sparsePathProblem(sparse);
      if (problem !== null) problems.push(`${path}.sparsePaths[${index}]: ${problem}`);
    });
    if (candidate.workerTaskDefinition !== undefined && !isTaskDefinition(candidate.workerTaskDefinition)) {
      problems.push(`${path}.worker.taskDefinition: must be a task definition family, family:revision or ARN`);
    }
    if (candidate.claim !== undefined && candidate.claim.trim() === '') problems.push(`${path}.claim: must not be empty`);
    if (candidate.maxActive !== undefined && !(Number.isInteger(candidate.maxActive) && candidate.maxActive >= 1)) {
      problems.push(`${path}.maxActive: must be a whole number of at least 1`);
    }
    if (candidate.maxTokens !== undefined && !isTokenBudget(candidate.maxTokens)) {
      problems.push(`${path}.maxTokens: must be a whole number of tokens from 1 to ${MAX_ROUTE_TOKENS}`);
    }
    if (candidate.approval !== undefined && !isRouteApproval(candidate.approval)) {
      problems.push(`${path}.approval: must be "required" or "none"`);
    }
    if (candidate.jiraTransition !== undefined && candidate.jiraTransition.trim() === '') problems.push(`${path}.jira.transition: must not be empty`);
    if (candidate.repositories !== undefined) {
      problems.push(...routeRepositoriesProblems(`${path}.repositories`, candidate.repositories));
      const first = candidate.repositories[0];
      if (first !== undefined && (first.url !== candidate.repository || first.branch !== candidate.branch)) {
        problems.push(`${path}.repositories[0]: must be the route's repository and branch (the job's first repository)`);
      }
    }
  };
  route('default', table.default);
  if (table.default.repositories !== undefined) problems.push('default.repositories: only incident rules may list several repositories');
  table.tickets.forEach((rule, index) => {
    if (!hasTicketCriteria(rule.match)) problems.push(`tickets[${index}].match: must name project, labels or components`);
    route(`tickets[${index}]`, rule);
    if (rule.repositories !== undefined) problems.push(`tickets[${index}].repositories: only incident rules may list several repositories`);
  });
  const seen = new Map<string, number>();
  table.incidents.forEach((rule, index) => {
    if (!isAwsAccount(rule.account)) problems.push(`incidents[${index}].account: must be a 12-digit AWS account id`);
    const first = seen.get(rule.account);
    if (first !== undefined) problems.push(`incidents[${index}].account: ${rule.account} is already routed by incidents[${first}]`);
    else seen.set(rule.account, index);
    if (rule.group !== undefined && rule.group.trim() === '') problems.push(`incidents[${index}].group: must not be empty`);
    route(`incidents[${index}]`, rule);
    if (rule.logs !== undefined) problems.push(...incidentLogsProblems(rule.logs).map((problem) => `incidents[${index}].logs${problem}`));
    if (rule.investigation !== undefined) {
      problems.push(...investigationAccessProblems(rule.investigation, rule.account).map((problem) => `incidents[${index}].investigation.${problem}`));
    }
  });
  return problems;
}

function toRoute(source: Route): Route {
  const route: Route = { repository: source.repository, branch: source.branch, sparsePaths: [...source.sparsePaths] };
  if (source.workerTaskDefinition !== undefined) route.workerTaskDefinition = source.workerTaskDefinition;
  if (source.claim !== undefined) route.claim = source.claim;
  if (source.maxActive !== undefined) route.maxActive = source.maxActive;
  if (source.maxTokens !== undefined) route.maxTokens = source.maxTokens;
  if (source.approval !== undefined) route.approval = source.approval;
  if (source.jiraTransition !== undefined) route.jiraTransition = source.jiraTransition;
  if (source.repositories !== undefined) route.repositories = source.repositories.map((repository) => ({ ...repository, sparsePaths: [...repository.sparsePaths] }));
  return route;
}
