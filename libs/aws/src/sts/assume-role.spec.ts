import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { assumedRoleProvider, assumeRole, createStsClient, REFRESH_MARGIN_MS, type AssumeRoleRequest } from './assume-role';
import { READ_ONLY_INVESTIGATION_ACTIONS } from '@agent-conductor/scheduling-domain';
import { readOnlySessionPolicy } from './session-policy';

const ROLE = { roleArn: 'arn:aws:iam::123456789012:role/conductor-investigation', externalId: 'ext-7f3a' };
const REQUEST: AssumeRoleRequest = { ...ROLE, sessionName: 'conductor-job-42', durationSeconds: 3600, policy: readOnlySessionPolicy() };
const issued = (n: number, expiration: Date) => ({
  Credentials: { AccessKeyId: `ASIAEXAMPLE00000000${n}`, SecretAccessKey: `secret-${n}`, SessionToken: `token-${n}`, Expiration: expiration },
});

describe('assumeRole', () => {
  const sts = createStsClient({ region: 'eu-west-1' });
  const stsMock = mockClient(sts);
  beforeEach(() => stsMock.reset());
  afterAll(() => stsMock.restore());

  it('sends the external id, the session policy and the duration', async () => {
    stsMock.on(AssumeRoleCommand).resolves(issued(1, new Date('2026-11-30T18:00:00Z')));
    const credentials = await assumeRole(sts, REQUEST);
    expect(credentials).toEqual({ accessKeyId: 'ASIAEXAMPLE000000001', secretAccessKey: 'secret-1', sessionToken: 'token-1', expiration: new Date('2026-11-30T18:00:00Z') });
    const input = stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ RoleArn: ROLE.roleArn, ExternalId: 'ext-7f3a', RoleSessionName: 'conductor-job-42', DurationSeconds: 3600 });
    const policy: unknown = JSON.parse(input?.Policy ?? 'null');
    expect(policy).toEqual({ Version: '2012-10-17', Statement: [{ Sid: 'IncidentReadOnly', Effect: 'Allow', Action: [...READ_ONLY_INVESTIGATION_ACTIONS], Resource: '*' }] });
  });

  it('refuses a session longer than an hour or shorter than STS allows, without calling STS', async () => {
    await expect(assumeRole(sts, { ...REQUEST, durationSeconds: 3601 })).rejects.toThrow(/from 900 to 3600, got 3601/);
    await expect(assumeRole(sts, { ...REQUEST, durationSeconds: 899 })).rejects.toThrow(/got 899/);
    await expect(assumeRole(sts, { ...REQUEST, sessionName: 'has space' })).rejects.toThrow(/session name/);
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('rejects an answer without complete credentials', async () => {
    stsMock.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIAEXAMPLE000000001', SecretAccessKey: 's', SessionToken: undefined, Expiration: new Date() } });
    await expect(assumeRole(sts, REQUEST)).rejects.toThrow(/no complete credentials/);
  });
});

describe('assumedRoleProvider', () => {
  const sts = new STSClient({ region: 'eu-west-1' });
  const stsMock = mockClient(sts);
  beforeEach(() => stsMock.reset());
  afterAll(() => stsMock.restore());

  it('shares one AssumeRole between concurrent callers and assumes again shortly before expiry', async () => {
    let clock = Date.parse('2026-11-30T17:00:00Z');
    const expiry = new Date(clock + 3600_000);
    stsMock.on(AssumeRoleCommand).resolvesOnce(issued(1, expiry)).resolvesOnce(issued(2, new Date(clock + 7200_000)));
    const provider = assumedRoleProvider(sts, REQUEST, () => clock);

    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a.sessionToken).toBe('token-1');
    expect(b).toBe(a);
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);

    clock = expiry.getTime() - REFRESH_MARGIN_MS - 1;
    expect((await provider()).sessionToken).toBe('token-1');
    clock += 2;
    expect((await provider()).sessionToken).toBe('token-2');
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('tries again on the next call after a failure', async () => {
    stsMock.on(AssumeRoleCommand).rejectsOnce(new Error('AccessDenied: external id mismatch')).resolves(issued(3, new Date(Date.now() + 3600_000)));
    const provider = assumedRoleProvider(sts, REQUEST);
    await expect(provider()).rejects.toThrow(/AccessDenied/);
    expect((await provider()).sessionToken).toBe('token-3');
  });
});

describe('readOnlySessionPolicy', () => {
  it('refuses to build a policy from an action list with a write in it', () => {
    expect(() => readOnlySessionPolicy(['ec2:TerminateInstances'])).toThrow(/session policy: "ec2:TerminateInstances" is not a read-only action/);
    expect(JSON.parse(readOnlySessionPolicy(['ec2:Describe*']))).toMatchObject({ Statement: [{ Effect: 'Allow', Action: ['ec2:Describe*'], Resource: '*' }] });
  });
});
