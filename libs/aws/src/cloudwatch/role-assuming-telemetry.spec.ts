import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStsClient } from '../sts/assume-role';
import { roleAssumingTelemetry } from './role-assuming-telemetry';

const MONITORED = '123456789012';
const OTHER = '210987654321';
const ROLE = { roleArn: `arn:aws:iam::${MONITORED}:role/conductor-investigation`, externalId: 'ext-7f3a' };

describe('roleAssumingTelemetry', () => {
  const sts = createStsClient({ region: 'eu-west-1' });
  const stsMock = mockClient(sts);
  const requests: IncomingHttpHeaders[] = [];
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    // A loopback CloudWatch that records how each request was signed and refuses it: the signature is the point.
    server = createServer((req, res) => {
      requests.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(403).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    stsMock.restore();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    stsMock.reset();
    requests.length = 0;
  });

  it('signs CloudWatch calls for a routed account with the assumed role\'s session, assumed once with the external id', async () => {
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIAROLESESSION00001', SecretAccessKey: 'role-secret', SessionToken: 'role-session-token', Expiration: new Date(Date.now() + 3600_000) },
    });
    const factory = roleAssumingTelemetry({ sts, roleFor: (account) => (account === MONITORED ? ROLE : null), client: { endpoint, maxAttempts: 1 } });

    const source = factory({ account: MONITORED, region: 'eu-west-1' });
    expect(factory({ account: MONITORED, region: 'eu-west-1' })).toBe(source);
    await expect(source.describeAlarm('orders-5xx')).rejects.toThrow();
    await expect(source.describeAlarm('orders-5xx')).rejects.toThrow();

    expect(requests).toHaveLength(2);
    for (const headers of requests) {
      expect(headers.authorization).toContain('Credential=ASIAROLESESSION00001/');
      expect(headers['x-amz-security-token']).toBe('role-session-token');
    }
    const calls = stsMock.commandCalls(AssumeRoleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({ RoleArn: ROLE.roleArn, ExternalId: 'ext-7f3a', DurationSeconds: 3600, RoleSessionName: `conductor-evidence-${MONITORED}` });
    // The conductor's own evidence reads are limited by the role's policy, not a session policy.
    expect(calls[0]?.args[0].input.Policy).toBeUndefined();
  });

  it("reads through the role the target names (the job's own), with no roleFor", async () => {
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIAJOBROLESESSION01', SecretAccessKey: 'job-secret', SessionToken: 'job-session-token', Expiration: new Date(Date.now() + 3600_000) },
    });
    const factory = roleAssumingTelemetry({ sts, client: { endpoint, maxAttempts: 1 } });
    await expect(factory({ account: MONITORED, region: 'eu-west-1', role: ROLE }).describeAlarm('orders-5xx')).rejects.toThrow();
    expect(requests[0]?.authorization).toContain('Credential=ASIAJOBROLESESSION01/');
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({ RoleArn: ROLE.roleArn, ExternalId: 'ext-7f3a' });
  });

  it('assumes nothing for an account without an investigation role', async () => {
    const factory = roleAssumingTelemetry({ sts, roleFor: () => null, client: { endpoint, maxAttempts: 1 } });
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    // The conductor's own credentials, as the SDK's default chain finds them.
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIAOWNCREDENTIALS01';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'own-secret';
    try {
      await expect(factory({ account: OTHER, region: 'eu-west-1' }).describeAlarm('x')).rejects.toThrow();
    } finally {
      restoreEnv('AWS_ACCESS_KEY_ID', saved.id);
      restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret);
    }
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.authorization).toContain('Credential=AKIAOWNCREDENTIALS01/');
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
