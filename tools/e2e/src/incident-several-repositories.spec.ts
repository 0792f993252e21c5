import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { ensureSampleRemote, eventually, listBranches, type LocalStack, startLocalStack } from '@agent-conductor/dev-stack';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SAMPLE_ALARM = join(__dirname, '../fixtures/cloudwatch-alarm.eventbridge.json');
const SAMPLE_ACCOUNT = '123456789012';

describe('an incident route with several repositories, end to end (docs/multi-repository.md)', () => {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const prisma = createPrismaClient(databaseUrl);
  let stack: LocalStack;
  let base: string;
  let orders: string;
  let billing: string;

  beforeAll(async () => {
    // The e2e files share one database: a ticket key or an account's open incident left by another file would be
    // answered as a duplicate or joined instead of decided afresh.
    await resetDatabase(prisma);
    base = await mkdtemp(join(tmpdir(), 'e2e-several-repositories-'));
    orders = join(base, 'orders.git');
    billing = join(base, 'billing.git');
    await ensureSampleRemote(orders);
    await ensureSampleRemote(billing);
    const routingFile = join(base, 'routing.json');
    const routing = {
      default: { repository: orders, branch: 'main' },
      incidents: [{ account: SAMPLE_ACCOUNT, repositories: [{ repository: orders, branch: 'main' }, { repository: billing, branch: 'main', sparsePaths: ['src'] }] }],
    };
    await writeFile(routingFile, `${JSON.stringify(routing, null, 2)}\n`);
    stack = await startLocalStack(databaseUrl, {}, { repository: orders, extraSchedulerEnv: { ROUTING_FILE: routingFile } });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(base, { recursive: true, force: true });
    await prisma.$disconnect();
  });

  it('clones both, the demo agent changes both, each gets its branch and pull request, and the job records both', async () => {
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: readFileSync(SAMPLE_ALARM, 'utf8') }));

    const job = await eventually(
      'the incident job to finish',
      async () => {
        const found = await prisma.job.findFirst({ where: { kind: 'incident' }, include: { workers: true } });
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
});
