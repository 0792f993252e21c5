import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';

/** An intake queue on the project's own SQS endpoint, for tests that run the conductor as a real process. */
export interface LocalIntakeQueue {
  endpoint: string;
  queueUrl: string;
  sqs: SQSClient;
  stop(): Promise<void>;
}

export async function startLocalIntakeQueue(queueName: string): Promise<LocalIntakeQueue> {
  const server = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
  const { endpoint } = await server.start();
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl ?? '';
  return {
    endpoint,
    queueUrl,
    sqs,
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  };
}
