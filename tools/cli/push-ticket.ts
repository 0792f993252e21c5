/**
 * Puts a message (a Jira issue or webhook, or a CloudWatch alarm event) on the
 * intake queue, byte for byte as the file holds it.
 *
 *   npm run push:ticket -- <file.json> [--copies N]   (--help)
 *
 * SQS_QUEUE_URL / SQS_ENDPOINT / AWS_REGION select the queue; without them the
 * dev stack's local endpoint is used.
 */
import { numberOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { readFile } from 'node:fs/promises';
import { DEV_SQS_ENDPOINT, DEV_QUEUE_URL } from './dev-defaults';

const CLI = {
  name: 'push:ticket',
  synopsis: 'npm run push:ticket -- <file.json> [--copies N]',
  summary: 'Puts a message (a Jira issue or webhook, or a CloudWatch alarm event) on the intake queue, byte for byte as the file holds it.',
  positionals: { names: '<file.json>', min: 1, max: 1 },
  options: {
    copies: { type: 'string', value: 'N', description: 'send it N times, each as a new message (default 1)' },
  },
  notes: "SQS_QUEUE_URL / SQS_ENDPOINT / AWS_REGION select the queue; without them, the dev stack's local endpoint.",
} satisfies CliSpec<CliOptions>;

async function main({ file, copies }: { file: string; copies: number }): Promise<void> {
  const body = await readFile(file, 'utf8');
  const queueUrl = process.env['SQS_QUEUE_URL'] ?? DEV_QUEUE_URL;
  const endpoint = process.env['SQS_ENDPOINT'] ?? (process.env['SQS_QUEUE_URL'] ? undefined : DEV_SQS_ENDPOINT);
  const sqs = new SQSClient({
    region: process.env['AWS_REGION'] ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(endpoint && !process.env['AWS_ACCESS_KEY_ID'] ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  try {
    for (let copy = 0; copy < copies; copy += 1) {
      const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body })).catch((error: unknown) => {
        if (!isConnectionRefused(error)) throw error;
        const tried = endpoint ?? new URL(queueUrl).origin;
        // A bare "connect ECONNREFUSED" leaves a newcomer guessing; nearly always the dev stack is simply not up.
        const hint = endpoint === DEV_SQS_ENDPOINT ? 'is `npm run dev` running?' : 'is `npm run dev` running, and are SQS_QUEUE_URL / SQS_ENDPOINT right?';
        throw new Error(`nothing is listening at ${tried} (the SQS endpoint for ${queueUrl}): ${hint}`);
      });
      process.stdout.write(`sent ${file} as message ${sent.MessageId ?? '?'} to ${queueUrl}\n`);
    }
  } finally {
    sqs.destroy();
  }
}

/** Node reports a refused connection as an error with code ECONNREFUSED, or an AggregateError of them when it tried several addresses. */
function isConnectionRefused(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ('code' in error && error.code === 'ECONNREFUSED') return true;
  return error instanceof AggregateError && error.errors.some(isConnectionRefused);
}

main(
  startCli(CLI, ({ values, positionals }) => ({
    file: positionals[0] ?? '',
    copies: numberOption(values.copies, 'copies', { fallback: 1, whole: true, min: 1 }),
  })),
).catch((error: unknown) => {
  process.stderr.write(`push:ticket: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
