/**
 * What an incident agent with "agentAccess": "read-only" may do in the alarm's account. The conductor sends these as
 * the session policy of the agent's AssumeRole; a session policy can only narrow the role's own policy, so even a role
 * that grants more hands the agent no more than this.
 */

/** Read-only CloudWatch, Logs, X-Ray and `Describe*`: what an on-call human reads first. */
export const READ_ONLY_INVESTIGATION_ACTIONS: readonly string[] = [
  'cloudwatch:Describe*',
  'cloudwatch:Get*',
  'cloudwatch:List*',
  'logs:Describe*',
  'logs:Get*',
  'logs:FilterLogEvents',
  'logs:StartQuery',
  'logs:StopQuery',
  'logs:TestMetricFilter',
  'xray:BatchGet*',
  'xray:Get*',
  'xray:List*',
  // Describe* of the services an alarm usually points at; IAM has no wildcard service prefix.
  'autoscaling:Describe*',
  'dynamodb:Describe*',
  'ec2:Describe*',
  'ecs:Describe*',
  'elasticloadbalancing:Describe*',
  'lambda:GetFunctionConfiguration',
  'rds:Describe*',
];

/** An IAM action: `service:Action`, wildcards only in the action part. */
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*?]+$/;

/** Verbs that write; a route's custom list must not smuggle one in, even behind a wildcard. */
const WRITE_VERB = /^(Put|Create|Delete|Update|Set|Tag|Untag|Start(?!Query$)|Stop(?!Query$)|Attach|Detach|Associate|Disassociate|Enable|Disable|Modify|Run|Invoke|Send|Pass|Assume|Import|Export|Restore|Reboot|Terminate|Cancel)/;

/** Problems with a route's `sessionPolicy` action list; empty when every action is a read. */
export function sessionPolicyActionProblems(actions: readonly string[]): string[] {
  const problems: string[] = [];
  if (actions.length === 0) problems.push('must list at least one action');
  for (const action of actions) {
    if (!ACTION.test(action)) {
      problems.push(`"${action}" is not an IAM action (service:Action)`);
      continue;
    }
    const verb = action.slice(action.indexOf(':') + 1);
    if (verb === '*' || verb.startsWith('*') || WRITE_VERB.test(verb)) problems.push(`"${action}" is not a read-only action`);
  }
  return problems;
}

/** `none`: the conductor alone uses the role (evidence); `read-only`: the agent also gets a session-policy-scoped session. */
export const AGENT_ACCESS_LEVELS = ['none', 'read-only'] as const;
export type AgentAccess = (typeof AGENT_ACCESS_LEVELS)[number];

/**
 * An incident route's `investigation`: the role the conductor assumes in the route's account, with its external id,
 * and whether the agent gets credentials too. `actions` narrows the agent's session policy (absent: the default list).
 * Stored on the incident's job (jobs.investigation) so the conductor, which has no routing file, can act on it.
 */
export interface InvestigationAccess {
  roleArn: string;
  externalId: string;
  agentAccess: AgentAccess;
  actions?: string[];
}

export function isAgentAccess(value: unknown): value is AgentAccess {
  return typeof value === 'string' && (AGENT_ACCESS_LEVELS as readonly string[]).includes(value);
}

/** An IAM role ARN (any partition), with its account captured; a path is allowed, a wildcard is not. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** STS: 2 to 1224 characters of letters, digits and `+=,.@:/-` (and `_`). */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** Why the ARN cannot be the route's investigation role, or null: a role ARN in exactly the route's own account. */
export function investigationRoleArnProblem(roleArn: string, account: string): string | null {
  const match = ROLE_ARN.exec(roleArn);
  if (!match) return 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)';
  // Evidence and agent sessions must stay in the incident's own account: a role elsewhere would widen both.
  if (match[1] !== account) return `must be a role in the route's account ${account}, not ${match[1]}`;
  return null;
}

export function externalIdProblem(externalId: string): string | null {
  return EXTERNAL_ID.test(externalId) ? null : 'must be 2-1224 characters of letters, digits and _+=,.@:/-';
}

/** Every problem of a route's `investigation`, each prefixed with its key; empty when the conductor can use it. */
export function investigationAccessProblems(access: InvestigationAccess, account: string): string[] {
  const problems: string[] = [];
  const arn = investigationRoleArnProblem(access.roleArn, account);
  if (arn !== null) problems.push(`roleArn: ${arn}`);
  const external = externalIdProblem(access.externalId);
  if (external !== null) problems.push(`externalId: ${external}`);
  if (!isAgentAccess(access.agentAccess)) problems.push('agentAccess: must be "none" or "read-only"');
  if (access.actions !== undefined) problems.push(...sessionPolicyActionProblems(access.actions).map((problem) => `actions: ${problem}`));
  return problems;
}

/**
 * jobs.investigation narrowed to its shape, or null when absent or not of that shape (a row the scheduler did not
 * write): a malformed value grants nothing rather than guessing.
 */
export function investigationAccessOf(value: unknown): InvestigationAccess | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { roleArn, externalId, agentAccess, actions } = value as Record<string, unknown>;
  if (typeof roleArn !== 'string' || typeof externalId !== 'string' || !isAgentAccess(agentAccess)) return null;
  if (actions !== undefined && !(Array.isArray(actions) && actions.every((action): action is string => typeof action === 'string'))) return null;
  return { roleArn, externalId, agentAccess, ...(actions !== undefined ? { actions } : {}) };
}
