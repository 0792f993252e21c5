/**
 * How long a ticket takes through the local stack, per stage, with real
 * processes: SQS endpoint → conductor → scheduler → worker (demo agent) → push.
 *
 *   npm run bench:ticket -- [--tickets N]   (--help)
 *
 * Tickets are sent one at a time, each after the previous job finished, so the
 * numbers are latencies, not queueing. Prints medians and the spread; the
 * machine is shared, so compare medians, not single runs.
 */
import { numberOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient } from '@agent-conductor/db';
import { startTestPostgres } from '@agent-conductor/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startLocalStack, WORKSPACE } from '@agent-conductor/dev-stack';

interface Sample {
  received: number;
  launched: number;
  handshake: number;
  finished: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return Math.round((sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (position - low));
}

const CLI = {
  name: 'bench:ticket',
  synopsis: 'npm run bench:ticket -- [--tickets N]',
  summary: 'How long a ticket takes through the local stack, per stage, with real processes; one ticket at a time.',
  options: {
    tickets: { type: 'string', value: 'N', description: 'tickets sent, each after the previous job finished (default 10)' },
  },
  notes: 'Prints the median, p90, min and max per stage, in ms after SendMessage.',
} satisfies CliSpec<CliOptions>;

async function main(tickets: number): Promise<void> {
  const template = JSON.parse(readFileSync(join(WORKSPACE, 'tools/e2e/fixtures/jira-issue.json'), 'utf8')) as Record<string, unknown>;

  const postgres = await startTestPostgres();
  const prisma = createPrismaClient(postgres.databaseUrl);
  const stack = await startLocalStack(postgres.databaseUrl);
  const samples: Sample[] = [];
  try {
    for (let index = 0; index < tickets; index += 1) {
      const key = `BENCH-${index + 1}`;
      const body = JSON.stringify({ ...template, id: String(20000 + index), key });
      const sentAt = Date.now();
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: body }));
      const job = await eventually(
        `${key} to finish`,
        async () => {
          const found = await prisma.job.findFirst({ where: { key }, include: { workers: true, delivery: true } });
          return found?.finishedAt ? found : undefined;
        },
        120000,
      );
      const worker = job.workers[0];
      if (job.status !== 'succeeded' || !worker?.launchedAt || !worker.handshakeAt || !job.finishedAt) {
        throw new Error(`${key} did not succeed: ${job.status} ${job.error ?? ''}`);
      }
      samples.push({
        received: job.delivery.receivedAt.getTime() - sentAt,
        launched: worker.launchedAt.getTime() - sentAt,
        handshake: worker.handshakeAt.getTime() - sentAt,
        finished: job.finishedAt.getTime() - sentAt,
      });
      process.stderr.write(`${key}: launched +${samples.at(-1)?.launched} ms, finished +${samples.at(-1)?.finished} ms\n`);
    }
  } finally {
    await stack.stop();
    await prisma.$disconnect();
    await postgres.stop();
  }

  const stages: Array<keyof Sample> = ['received', 'launched', 'handshake', 'finished'];
  process.stdout.write(`ticket latency over ${samples.length} tickets (ms after SendMessage)\n`);
  process.stdout.write('stage        median   p90    min    max\n');
  for (const stage of stages) {
    const sorted = samples.map((sample) => sample[stage]).sort((a, b) => a - b);
    process.stdout.write(
      `${stage.padEnd(12)} ${String(quantile(sorted, 0.5)).padStart(6)} ${String(quantile(sorted, 0.9)).padStart(6)} ${String(sorted[0]).padStart(6)} ${String(sorted.at(-1)).padStart(6)}\n`,
    );
  }
}

main(startCli(CLI, ({ values }) => numberOption(values.tickets, 'tickets', { fallback: 10, whole: true, min: 1 }))).catch((error: unknown) => {
  process.stderr.write(`bench:ticket: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
