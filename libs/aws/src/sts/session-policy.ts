import { READ_ONLY_INVESTIGATION_ACTIONS, sessionPolicyActionProblems } from '@agent-conductor/scheduling-domain';

/** The policy document for AssumeRole's `Policy`. Throws on an action list with problems, so nothing wider is sent. */
export function readOnlySessionPolicy(actions: readonly string[] = READ_ONLY_INVESTIGATION_ACTIONS): string {
  const problems = sessionPolicyActionProblems(actions);
  if (problems.length > 0) throw new Error(`session policy: ${problems.join('; ')}`);
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'IncidentReadOnly', Effect: 'Allow', Action: [...actions], Resource: '*' }] });
}
