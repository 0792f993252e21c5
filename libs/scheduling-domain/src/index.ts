export type { AlarmFacts, AlarmState, ClassifiedMessage, JobKind, MetricFacts, TicketFacts } from './lib/types';
export { ALARM_STATES, isAlarmState, isJobKind, JOB_KINDS } from './lib/types';
export { classifyMessage, ticketOfMessage, EARLIEST_EVENT_TIME, eventTimeProblem, MAX_EVENT_TIME_AHEAD_MS } from './lib/classify-message';
export { errorMessage, escapeNul } from './lib/json';
export { flattenAdf } from './lib/adf';
export { parseAwsTimestamp } from './lib/aws-time';
export { SUPPORTED_WEBHOOK_EVENTS } from './lib/jira';
export type { GitHubWebhookEnvelope, GitHubWebhookEvent } from './lib/github';
export { GITHUB_WEBHOOK_EVENTS, gitHubWebhookEnvelope, isGitHubWebhookEvent } from './lib/github';
export { renderTicketTask } from './lib/render-ticket-task';
export { renderAgentsFile } from './lib/render-agents-file';
export type { JobRepositoriesReading } from './lib/job-repositories';
export { readJobRepositories } from './lib/job-repositories';
export type { FollowUpComment, FollowUpTaskFacts } from './lib/render-follow-up-task';
export { FOLLOW_UP_TASK_HEADING, FOLLOW_UP_TASK_LIMITS, renderFollowUpAgentsFile, renderFollowUpTask } from './lib/render-follow-up-task';
export { isAlarmActive } from './lib/alarm';
export type { IncidentAssignment, IncidentPolicy, IncidentSpan } from './lib/incident';
export {
  chooseIncident,
  DEFAULT_INCIDENT_POLICY,
  extendSpan,
  incidentAccepts,
  incidentCoversRecovery,
  incidentLookupBounds,
  incidentPolicyProblems,
} from './lib/incident';
export type { GroupCandidate, GroupedIncidentAssignment } from './lib/incident-group';
export { chooseGroupJob, incidentLockKey, jobRepositoriesOf, mergeJobRepositories, planGroupedIncidents, planIncidents, safeRepositoryName } from './lib/incident-group';
export type { IncidentTaskFacts } from './lib/incident-task';
export { renderIncidentTask } from './lib/incident-task';
export type { IncidentLogsQuery } from './lib/incident-logs';
export {
  asIncidentLogsQuery,
  DEFAULT_LOGS_LIMIT,
  incidentLogsProblems,
  isLogsLimit,
  logGroupProblem,
  MAX_LOGS_LIMIT,
  MAX_LOGS_LOG_GROUPS,
  MAX_LOGS_QUERY_LENGTH,
} from './lib/incident-logs';
export type { IncidentJobRoute, IncidentRoute, Route, RouteRepository, RoutingTable, TicketMatch, TicketRoute } from './lib/routing';
export {
  DEFAULT_ROUTE_BRANCH,
  defaultRepositoryName,
  incidentGroupOf,
  MAX_ROUTE_REPOSITORIES,
  repositoryNameProblem,
  routeRepositoriesProblems,
  defaultRoutingTable,
  hasTicketCriteria,
  isAwsAccount,
  isTaskDefinition,
  isTokenBudget,
  isRouteApproval,
  ROUTE_APPROVALS,
  MAX_ROUTE_TOKENS,
  incidentLogsFor,
  routeIncident,
  routeTicket,
  routingTableProblems,
  sparsePathProblem,
  ticketMatches,
} from './lib/routing';
export type {
  ActiveJob,
  AdmissionInput,
  AdmissionLimits,
  AdmissionPlan,
  QueuedJob,
  SimulatedJob,
  SimulatedStart,
  WaitingCause,
  WaitingJob,
} from './lib/admission';
export {
  claimLimitOf,
  claimOf,
  compareQueued,
  DEFAULT_ADMISSION_LIMITS,
  DEFAULT_CLAIM_MAX_ACTIVE_JOBS,
  DEFAULT_MAX_ACTIVE_JOBS,
  AWAITING_APPROVAL,
  describeWaiting,
  planAdmission,
  simulateAdmission,
} from './lib/admission';
export type { ActionableJob, ActionJobStatus, JobActionName, JobActionStep, JobApprovalState } from './lib/job-actions';
export { isEndedStatus, JOB_ACTIONS, planJobAction } from './lib/job-actions';
export { orderingKey, orderingLanes } from './lib/ordering';
export {
  AGENT_ACCESS_LEVELS,
  externalIdProblem,
  investigationAccessOf,
  investigationAccessProblems,
  investigationRoleArnProblem,
  isAgentAccess,
  READ_ONLY_INVESTIGATION_ACTIONS,
  sessionPolicyActionProblems,
  type AgentAccess,
  type InvestigationAccess,
} from './lib/investigation-access';
export type { FollowUpDecision, FollowUpPolicy, ThreadJob, ThreadLookup, ThreadRef, UpdateComment, UpdateFacts } from './lib/follow-up';
export {
  addressesAgent,
  decideFollowUp,
  DEFAULT_FOLLOW_UP_MENTION,
  DEFAULT_FOLLOW_UP_POLICY,
  followUpPlaceholderTask,
  followUpPolicyProblems,
  JIRA_REPORT_MARKER,
  listedOnThread,
  screenUpdate,
  ticketUpdateReason,
  WORKER_REPLY_MARKER,
  WRITE_ASSOCIATIONS,
} from './lib/follow-up';
