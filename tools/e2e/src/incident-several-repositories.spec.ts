import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient, JobActionRepository } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { CloudWatchFixtureServer, ensureSampleRemote, eventually, listBranches, type LocalStack, startLocalStack, TELEMETRY_FIXTURE_DIR } from '@agent-conductor/dev-stack';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SAMPLE_ALARM = join(__dirname, '../fixtures/cloudwatch-alarm.eventbridge.json');
const SAMPLE_ACCOUNT = '123456789012';
/** Two accounts of one routing group; the fixture server answers every account with the recorded telemetry. */
const SHOP_A = '210000000001';
const SHOP_B = '210000000002';

/** The sample alarm as account `account` sends it, `minutes` after the sample's own time. */
function sampleAlarmOf(account: string, minutes: number): string {
  const event = JSON.parse(readFileSync(SAMPLE_ALARM, 'utf8')) as { account: string; time: string; resources: string[] };
  event.account = account;
  event.time = new Date(Date.parse(event.time) + minutes * 60_000).toISOString();
  event.resources = event.resources.map((arn) => arn.replace(SAMPLE_ACCOUNT, account));
  return JSON.stringify(event);
}

describe('an incident route with several repositories, end to end (docs/multi-repository.md)', () => {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const prisma = createPrismaClient(databaseUrl);
  let stack: LocalStack;
  let base: string;
  let orders: string;
  let billing: string;
  let telemetry: CloudWatchFixtureServer;

  beforeAll(async () => {
    // The e2e files share one database: a ticket key or an account's open incident left by another file would be
    // answered as a duplicate or joined instead of decided afresh.
    await resetDatabase(prisma);
    base = await mkdtemp(join(tmpdir(), 'e2e-several-repositories-'));
    orders = join(base, 'orders.git');
    billing = join(base, 'billing.git');
    await ensureSampleRemote(orders);
    await ensureSampleRemote(billing);
    telemetry = await CloudWatchFixtureServer.fromDirectory();
    const { endpoint } = await telemetry.start();
    const routingFile = join(base, 'routing.json');
    const logs = { logGroups: telemetry.recordedLogGroups, query: 'fields @timestamp, @logStream, @message', limit: 200 };
    const routing = {
      default: { repository: orders, branch: 'main' },
      incidents: [
        { account: SAMPLE_ACCOUNT, repositories: [{ repository: orders, branch: 'main' }, { repository: billing, branch: 'main', sparsePaths: ['src'] }] },
        // A's job waits for approval, so B's incident attaches to it while it is still pending.
        { account: SHOP_A, group: 'shop', repository: orders, branch: 'main', approval: 'required', logs },
        { account: SHOP_B, group: 'shop', repository: billing, branch: 'main', logs },
      ],
    };
    await writeFile(routingFile, `${JSON.stringify(routing, null, 2)}\n`);
    stack = await startLocalStack(databaseUrl, { INCIDENT_EVIDENCE: 'on', CLOUDWATCH_ENDPOINT: endpoint }, { repository: orders, extraSchedulerEnv: { ROUTING_FILE: routingFile } });
  });

  afterAll(async () => {
    await stack?.stop();
    await telemetry?.stop();
    await rm(base, { recursive: true, force: true });
    await prisma.$disconnect();
  });

  it('clones both, the demo agent changes both, each gets its branch and pull request, and the job records both', async () => {
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: readFileSync(SAMPLE_ALARM, 'utf8') }));

    const job = await eventually(
      'the incident job to finish',
      async () => {
        const found = await prisma.job.findFirst({ where: { kind: 'incident', key: SAMPLE_ACCOUNT }, include: { workers: true } });
        return found && (found.status === 'succeeded' || found.status === 'failed') ? found : undefined;
      },
      150_000,
    );
    expect({ status: job.status, error: job.error }).toEqual({ status: 'succeeded', error: null });
    expect(job.repositories).toEqual([
      { url: orders, branch: 'main', name: 'orders', sparsePaths: [] },
      { url: billing, branch: 'main', name: 'billing', sparsePaths: ['src'] },
    ]);

    const result = job.result as { branch: string; pullRequest: string; changes: { name: string; branch: string; pullRequest: string }[] };
    expect(result.changes.map((change) => change.name)).toEqual(['orders', 'billing']);
    const [first, second] = result.changes;
    expect(result).toMatchObject({ branch: first?.branch, pullRequest: first?.pullRequest });
    expect(await listBranches(orders)).toContain(first?.branch);
    expect(await listBranches(billing)).toContain(second?.branch);
    expect(second?.pullRequest).toBe(`${billing}#${second?.branch ?? ''}`);

    // The agent was told the layout, and each pull request record lists the other.
    const worker = job.workers[0];
    const results = join(stack.resultsDir, job.id, worker?.id ?? 'missing');
    expect(readFileSync(join(results, 'AGENTS.md'), 'utf8')).toContain('- `repo/orders/` (the primary repository)\n- `repo/billing/`');
    const record = JSON.parse(readFileSync(join(results, 'publication', 'pull-requests', 'billing.json'), 'utf8')) as { related: unknown };
    expect(record.related).toEqual([{ name: 'orders', url: first?.pullRequest }]);
  });

  it("gives a job with incidents of two accounts both accounts' evidence, each under its account", async () => {
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: sampleAlarmOf(SHOP_A, 0) }));
    const held = await eventually('account A\'s job, held for approval', async () => (await prisma.job.findFirst({ where: { kind: 'incident', key: SHOP_A } })) ?? undefined, 60_000);
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: sampleAlarmOf(SHOP_B, 5) }));
    await eventually('account B\'s incident on A\'s job', async () => ((await prisma.incident.count({ where: { jobId: held.id, account: SHOP_B } })) === 1 ? true : undefined), 60_000);
    expect(await new JobActionRepository(prisma).apply('approve', { jobId: held.id, actor: 'e2e' })).toMatchObject({ outcome: 'applied' });

    const worker = await eventually(
      'the grouped job to launch a worker',
      async () => {
        const found = await prisma.worker.findFirst({ where: { jobId: held.id }, include: { events: { orderBy: { id: 'asc' } } } });
        return found?.events.some((event) => event.type === 'launched') ? found : undefined;
      },
      120_000,
    );
    expect(worker.events.filter((event) => event.type.startsWith('incident-evidence-')).map((event) => event.type)).toEqual(['incident-evidence-gathered']);
    const extracted = join(base, 'grouped-task');
    await mkdir(extracted);
    await run('tar', ['-xzf', join(stack.runDir, 'tasks', `${worker.id}.tar.gz`), '-C', extracted]);

    expect((await readdir(join(extracted, 'incident'))).sort()).toEqual([SHOP_A, SHOP_B, 'README.md']);
    const recorded = await readFile(join(TELEMETRY_FIXTURE_DIR, 'api-high-cpu', 'metric.csv'), 'utf8');
    for (const account of [SHOP_A, SHOP_B]) {
      expect((await readdir(join(extracted, 'incident', account))).sort()).toEqual(['01-api-high-cpu', 'logs.csv', 'logs.md']);
      expect(await readFile(join(extracted, 'incident', account, '01-api-high-cpu', 'metric.csv'), 'utf8')).toBe(recorded);
    }
    const task = await readFile(join(extracted, 'TASK.md'), 'utf8');
    expect(task).toContain(`Accounts: ${SHOP_A} (the job's own), ${SHOP_B}.`);
    expect(task).toContain(`in account ${SHOP_A}.`);
    expect(task).toContain(`[chart](incident/${SHOP_B}/01-api-high-cpu/chart.png)`);

    // Let the agent finish before the stack stops, so no worker is killed mid-publication.
    await eventually('the grouped job to end', async () => {
      const job = await prisma.job.findUniqueOrThrow({ where: { id: held.id } });
      return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
    }, 150_000);
  });
});
