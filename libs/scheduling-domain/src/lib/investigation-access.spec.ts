import { READ_ONLY_INVESTIGATION_ACTIONS, sessionPolicyActionProblems } from './investigation-access';

describe('sessionPolicyActionProblems', () => {
  it('accepts the default list and a narrower read-only one', () => {
    expect(sessionPolicyActionProblems(READ_ONLY_INVESTIGATION_ACTIONS)).toEqual([]);
    expect(sessionPolicyActionProblems(['cloudwatch:GetMetricData', 'logs:StartQuery', 'ec2:Describe*'])).toEqual([]);
  });

  it('names every write, wildcard-service or malformed action, and an empty list', () => {
    expect(sessionPolicyActionProblems(['s3:PutObject', 'cloudwatch:*', 'iam:PassRole', 'logs:StartLiveTail', '*:Describe*', 'not an action'])).toEqual([
      '"s3:PutObject" is not a read-only action',
      '"cloudwatch:*" is not a read-only action',
      '"iam:PassRole" is not a read-only action',
      '"logs:StartLiveTail" is not a read-only action',
      '"*:Describe*" is not an IAM action (service:Action)',
      '"not an action" is not an IAM action (service:Action)',
    ]);
    expect(sessionPolicyActionProblems([])).toEqual(['must list at least one action']);
  });
});
