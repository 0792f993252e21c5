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
