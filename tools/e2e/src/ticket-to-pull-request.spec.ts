import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient } from '@agent-conductor/db';
import { ensureSampleRemote, eventually, listBranches, LocalStack, startLocalStack } from '@agent-conductor/dev-stack';
import { FakeGitHub, type RecordedApiCall, resetDatabase } from '@agent-conductor/testing';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures', name), 'utf8');

const GITHUB_TOKEN = 'ghs_e2e-push-token';
const REPOSITORY = 'acme/sample-app';

describe('a ticket becomes a pull request, end to end on one machine', () => {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const prisma = createPrismaClient(databaseUrl);
  let stack: LocalStack;
  let gitRoot: string;
  let github: FakeGitHub;

  beforeAll(async () => {
    // The e2e files share one database: a ticket key or an account's open incident left by another file would be
    // answered as a duplicate or joined instead of decided afresh.
    await resetDatabase(prisma);
    // The workers publish through the real GitHub publisher: git over HTTP and the REST API, both served by FakeGitHub.
    gitRoot = await mkdtemp(join(tmpdir(), 'e2e-github-'));
    await ensureSampleRemote(join(gitRoot, 'sample-app.git'));
    github = await new FakeGitHub({ gitRoot, pushToken: GITHUB_TOKEN }).start();
    github
      .on('GET', `/repos/${REPOSITORY}`, () => ({ status: 200, body: { default_branch: 'main', html_url: `${github.url}/${REPOSITORY}` } }))
      .on('POST', `/repos/${REPOSITORY}/pulls`, () => ({ status: 201, body: { html_url: `${github.url}/${REPOSITORY}/pull/1`, number: 1 } }));
    stack = await startLocalStack(
      databaseUrl,
      { PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_API_URL: github.apiUrl, GITHUB_REPOSITORY: REPOSITORY },
      { repository: github.cloneUrl('sample-app') },
    );
  });

  afterAll(async () => {
    await stack?.stop();
    await github?.stop();
    await rm(gitRoot, { recursive: true, force: true });
    await prisma.$disconnect();
  });

  it('runs the demo agent, pushes the branch and records the job as succeeded, once per ticket', async () => {
    const ticketBody = fixture('jira-issue.json');
    const sentAt = Date.now();
    // The same ticket twice (two deliveries, two message ids) and a malformed message.
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: ticketBody }));
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: ticketBody }));
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: '{"not": "a ticket"' }));

    const job = await eventually(
      'the ENG-123 job to finish',
      async () => {
        const found = await prisma.job.findFirst({ where: { key: 'ENG-123' }, include: { workers: true } });
        return found && (found.status === 'succeeded' || found.status === 'failed') ? found : undefined;
      },
      150000,
    );

    expect({ status: job.status, error: job.error }).toEqual({ status: 'succeeded', error: null });
    expect(job.workers).toHaveLength(1);
    const worker = job.workers[0];
    expect(worker?.state).toBe('ended');

    const result = job.result as { branch?: string; pullRequest?: string; title?: string } | null;
    expect(result?.branch).toMatch(new RegExp(`^worker/${worker?.id}/agent/eng-123-`));
    const remote = join(gitRoot, 'sample-app.git');
    expect(await listBranches(remote)).toContain(result?.branch);
    // The pushed branch carries the agent's commit on top of main.
    const ahead = execFileSync('git', ['rev-list', '--count', `main..${result?.branch ?? ''}`], { cwd: remote, encoding: 'utf8' });
    expect(Number(ahead.trim())).toBeGreaterThanOrEqual(1);

    // Exactly one pull request, from the pushed branch into main, titled and described by the agent's own files.
    const opened = github.apiCalls.filter((call: RecordedApiCall) => call.method === 'POST' && call.path === `/repos/${REPOSITORY}/pulls`);
    expect(opened.map((call) => call.authorization)).toEqual([`token ${GITHUB_TOKEN}`]);
    const agentMeta = join(stack.resultsDir, job.id, worker?.id ?? 'missing', 'agent-meta');
    const title = readFileSync(join(agentMeta, 'meta-info.txt'), 'utf8').trim();
    expect(title).toBe('ENG-123: Login fails after session timeout');
    expect(opened[0]?.body).toEqual({
      title,
      head: result?.branch,
      base: 'main',
      body: readFileSync(join(agentMeta, 'ending-report.md'), 'utf8').trimEnd(),
    });
    expect(result).toMatchObject({ pullRequest: `${github.url}/${REPOSITORY}/pull/1`, title });

    // Both deliveries of the ticket and the malformed one are persisted; nothing is left on the queue.
    const deliveries = await eventually(
      'three deliveries',
      async () => {
        const rows = await prisma.delivery.findMany({ orderBy: { receivedAt: 'asc' } });
        return rows.length >= 3 ? rows : undefined;
      },
      30000,
    );
    expect(deliveries.filter((d) => d.classification === 'ticket')).toHaveLength(2);
    const rejected = deliveries.filter((d) => d.classification === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.rejectionReason).toMatch(/JSON/i);
    // Both deliveries of ENG-123 have been decided by now: still one job, one worker.
    expect(await prisma.job.count({ where: { key: 'ENG-123' } })).toBe(1);
    expect(await prisma.worker.count({ where: { jobId: job.id } })).toBe(1);

    // Fails by timing out, naming what was left, if any message stays on the queue.
    let lastSeen = '';
    await eventually(
      'the intake queue to drain',
      async () => {
        const attrs = await stack.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
        );
        lastSeen = JSON.stringify(attrs.Attributes);
        const left = Number(attrs.Attributes?.['ApproximateNumberOfMessages']) + Number(attrs.Attributes?.['ApproximateNumberOfMessagesNotVisible']);
        return left === 0 ? true : undefined;
      },
      30000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; queue attributes: ${lastSeen}`);
    });
    const dlq = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(dlq.Attributes?.['ApproximateNumberOfMessages']).toBe('0');

    // The worker's results were uploaded and extracted under the results dir.
    expect(existsSync(join(stack.resultsDir, job.id, worker?.id ?? 'missing'))).toBe(true);

    const firstDelivery = deliveries[0];
    if (worker?.launchedAt && worker.handshakeAt && firstDelivery) {
      process.stdout.write(
        `e2e timings: send→launch ${worker.launchedAt.getTime() - sentAt} ms, send→handshake ${worker.handshakeAt.getTime() - sentAt} ms, ` +
          `send→finished ${(job.finishedAt?.getTime() ?? Date.now()) - sentAt} ms\n`,
      );
    }
  });

  it('drains through the safe-shutdown gate when the file says true', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    await writeFile(join(stack.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'true');
    const code = await Promise.race([stack.conductor.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30000))]);
    expect(code).toBe(0);
    expect(existsSync(join(stack.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN'))).toBe(true);
    expect(await readFile(join(stack.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'utf8')).toBe('true');
  });
});
