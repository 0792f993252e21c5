import type { PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

const ACCOUNT = '123456789012';
const ROLE = { roleArn: `arn:aws:iam::${ACCOUNT}:role/agent-conductor-investigation`, externalId: 'ac-ext-7f3c' };

/**
 * The evidence pack of a job whose route names an investigation role is read through that role. CloudWatch is a
 * loopback server that records how each request was signed (and refuses it: the signature is the point).
 */
describe('incident evidence through the job\'s investigation role', () => {
  const sts = mockClient(STSClient);
  const requests: IncomingHttpHeaders[] = [];
  let server: Server;
  let prisma: PrismaClient;
  let app: INestApplication;

  async function incidentJob(investigation: object | null): Promise<string> {
    const job = await createPendingJob(prisma, { kind: 'incident', key: ACCOUNT, taskMarkdown: '# Incident in 123456789012\n' });
    if (investigation) await prisma.job.update({ where: { id: job.id }, data: { investigation } });
    const at = new Date(Date.now() - 600_000);
    // The scheduler stores the rule's role on the job and on its incident; the evidence reads the incident's.
    const incident = await prisma.incident.create({
      data: { account: ACCOUNT, firstEventAt: at, lastEventAt: at, alarmCount: 1, jobId: job.id, ...(investigation ? { investigation } : {}) },
    });
    const delivery = await prisma.delivery.create({ data: { sqsMessageId: randomUUID(), receivedAt: at, body: '{}', classification: 'alarm' } });
    await prisma.alarm.create({ data: { deliveryId: delivery.id, account: ACCOUNT, region: 'eu-west-1', alarmName: 'orders-5xx', state: 'ALARM', eventTime: at, incidentId: incident.id, metrics: [] } });
    return job.id;
  }

  async function launch(jobId: string): Promise<string> {
    const outcome = await app.get(JobLaunchService).launch(jobId);
    if (outcome.status !== 'launched') throw new Error(`expected a launch, got ${JSON.stringify(outcome)}`);
    return outcome.workerId;
  }

  async function evidenceEvent(workerId: string): Promise<{ type: string; detail: unknown } | null> {
    return prisma.workerEvent.findFirst({ where: { workerId, type: { startsWith: 'incident-evidence-' } }, select: { type: true, detail: true } });
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(403, { 'content-type': 'text/plain' }).end('denied'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    prisma = testPrisma();
    const config = await testConfig({ incidentEvidence: true, workerLauncher: 'spool', cloudWatchEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    config.workerSpoolDir = join(config.runDir, 'spool');
    app = await startConductorParts(config);
  });

  afterAll(async () => {
    sts.restore();
    await app.close();
    await prisma.$disconnect();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    sts.reset();
    requests.length = 0;
  });

  it('signs the CloudWatch calls with the assumed session (external id, no session policy)', async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIAEVIDENCESESSION1', SecretAccessKey: 'evidence-secret', SessionToken: 'evidence-token', Expiration: new Date(Date.now() + 3600_000) },
    });
    const workerId = await launch(await incidentJob({ ...ROLE, agentAccess: 'none' }));

    expect(requests.length).toBeGreaterThan(0);
    for (const headers of requests) {
      expect(headers.authorization).toContain('Credential=ASIAEVIDENCESESSION1/');
      expect(headers['x-amz-security-token']).toBe('evidence-token');
    }
    const input = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ RoleArn: ROLE.roleArn, ExternalId: ROLE.externalId });
    expect(input?.Policy).toBeUndefined();
    // The loopback refuses, so gathering fails, is recorded and the worker is launched anyway.
    expect((await evidenceEvent(workerId))?.type).toBe('incident-evidence-failed');
  });

  it('records a failed AssumeRole like any evidence failure and launches the agent anyway', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
    // Another external id: sessions are cached per account, region and role, and the first test's is still valid.
    const workerId = await launch(await incidentJob({ ...ROLE, externalId: 'ac-ext-rotated', agentAccess: 'read-only' }));

    expect(await evidenceEvent(workerId)).toEqual({ type: 'incident-evidence-failed', detail: { reason: 'User is not authorized to perform: sts:AssumeRole' } });
    expect(requests).toHaveLength(0);
    expect(await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).toMatchObject({ state: 'launched' });
  });

  it('uses the conductor\'s own credentials for a job without a role', async () => {
    await launch(await incidentJob(null));
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests[0]?.authorization ?? '').not.toContain('ASIAEVIDENCESESSION1');
  });
});
