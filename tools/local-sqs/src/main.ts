/**
 * Local SQS endpoint for development:
 *   tsx tools/local-sqs/src/main.ts [--port 9324] [--host 127.0.0.1] [--region us-east-1]
 *     [--queue NAME]... [--dlq NAME] [--max-receive-count 5] [--visibility-timeout 30]
 * Env fallbacks: LOCAL_SQS_PORT (or PORT), LOCAL_SQS_HOST, AWS_REGION, LOCAL_SQS_QUEUES (comma-separated),
 * LOCAL_SQS_DLQ, LOCAL_SQS_MAX_RECEIVE_COUNT. Every --queue gets the --dlq as its dead-letter queue.
 */
import { parseArgs } from 'node:util';
import { LocalSqsServer } from './server';

function intOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      queue: { type: 'string', multiple: true },
      dlq: { type: 'string' },
      'max-receive-count': { type: 'string' },
      'visibility-timeout': { type: 'string' },
    },
    strict: true,
  });
  const env = process.env;
  const port = intOption('port', values.port ?? env['LOCAL_SQS_PORT'] ?? env['PORT'], 9324);
  const host = values.host ?? env['LOCAL_SQS_HOST'] ?? '127.0.0.1';
  const region = values.region ?? env['AWS_REGION'] ?? 'us-east-1';
  const queues = values.queue ?? (env['LOCAL_SQS_QUEUES'] ?? '').split(',').map((q) => q.trim()).filter((q) => q !== '');
  const dlq = values.dlq ?? env['LOCAL_SQS_DLQ'];
  const maxReceiveCount = intOption('max-receive-count', values['max-receive-count'] ?? env['LOCAL_SQS_MAX_RECEIVE_COUNT'], 5);
  const visibilityTimeout = values['visibility-timeout'];

  const server = new LocalSqsServer({ port, host, region });
  const { endpoint } = await server.start();
  process.stdout.write(`local-sqs listening on ${endpoint}\n`);

  const attributes: Record<string, string> = {};
  if (visibilityTimeout !== undefined) attributes['VisibilityTimeout'] = String(intOption('visibility-timeout', visibilityTimeout, 30));
  if (dlq) {
    process.stdout.write(`queue ${dlq} ${server.createQueue(dlq)}\n`);
    attributes['RedrivePolicy'] = JSON.stringify({ deadLetterTargetArn: server.queueArn(dlq), maxReceiveCount });
  }
  for (const name of queues) {
    process.stdout.write(`queue ${name} ${server.createQueue(name, attributes)}\n`);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`local-sqs stopping (${signal})\n`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`local-sqs: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`local-sqs: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
