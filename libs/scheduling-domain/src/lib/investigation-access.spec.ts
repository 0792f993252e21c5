import { externalIdProblem, investigationAccessProblems, investigationRoleArnProblem, READ_ONLY_INVESTIGATION_ACTIONS, sessionPolicyActionProblems } from './investigation-access';

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

describe('investigationAccessProblems', () => {
  const ok = { roleArn: 'arn:aws:iam::123456789012:role/team/investigation', externalId: 'ac-7f3c:prod/1', agentAccess: 'read-only' as const };

  it('accepts a role of the route account, with a path, and a narrower action list', () => {
    expect(investigationAccessProblems(ok, '123456789012')).toEqual([]);
    expect(investigationAccessProblems({ ...ok, actions: ['logs:FilterLogEvents'] }, '123456789012')).toEqual([]);
  });

  it("refuses another account's role, a non-role ARN, a wildcard, a bad external id and write actions", () => {
    expect(investigationRoleArnProblem(ok.roleArn, '999999999999')).toBe("must be a role in the route's account 999999999999, not 123456789012");
    expect(investigationRoleArnProblem('arn:aws:iam::123456789012:user/bob', '123456789012')).toMatch(/IAM role ARN/);
    expect(investigationRoleArnProblem('arn:aws:iam::123456789012:role/*', '123456789012')).toMatch(/IAM role ARN/);
    expect(externalIdProblem('a')).not.toBeNull();
    expect(externalIdProblem('x'.repeat(1225))).not.toBeNull();
    expect(externalIdProblem('x'.repeat(1224))).toBeNull();
    expect(investigationAccessProblems({ ...ok, externalId: 'no spaces', actions: ['iam:PassRole'] }, '123456789012')).toEqual([
      'externalId: must be 2-1224 characters of letters, digits and _+=,.@:/-',
      'actions: "iam:PassRole" is not a read-only action',
    ]);
  });
});
