import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { QueueDepthReader } from './queue-depths';

const INTAKE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/intake';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/intake-dlq';

describe('QueueDepthReader (SQS client mocked)', () => {
  const sqs = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const sqsMock = mockClient(sqs);
  afterAll(() => sqsMock.restore());
  beforeEach(() => sqsMock.reset());

  it('finds the DLQ through the RedrivePolicy once, then only asks for depths', async () => {
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: INTAKE }).resolves({
      Attributes: {
        ApproximateNumberOfMessages: '4',
        ApproximateNumberOfMessagesNotVisible: '1',
        ApproximateNumberOfMessagesDelayed: '0',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:123456789012:intake-dlq', maxReceiveCount: 5 }),
      },
    });
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: DLQ }).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: DLQ });
    const reader = new QueueDepthReader(sqs, { sqsQueueUrl: INTAKE, sqsDlqUrl: undefined });

    for (let read = 0; read < 3; read += 1) {
      expect(await reader.read()).toEqual({ intake: { visible: 4, inFlight: 1, delayed: 0 }, dlq: { visible: 2, inFlight: 0, delayed: 0 }, errors: [] });
    }
    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((call) => call.args[0].input)).toEqual([{ QueueName: 'intake-dlq', QueueOwnerAWSAccountId: '123456789012' }]);
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)).toHaveLength(6);
  });

  it('reports a queue SQS refuses as null with the reason, and still reads the other', async () => {
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: INTAKE }).rejects(new Error('Access to the resource is denied.'));
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: DLQ }).resolves({ Attributes: { ApproximateNumberOfMessages: '7' } });
    const reader = new QueueDepthReader(sqs, { sqsQueueUrl: INTAKE, sqsDlqUrl: DLQ });
    expect(await reader.read()).toEqual({ intake: null, dlq: { visible: 7, inFlight: 0, delayed: 0 }, errors: ['intake queue: Access to the resource is denied.'] });
    expect(sqsMock.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
  });

  it('has no DLQ when the intake queue has no RedrivePolicy and none is configured', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    expect(await new QueueDepthReader(sqs, { sqsQueueUrl: INTAKE, sqsDlqUrl: undefined }).read()).toEqual({
      intake: { visible: 0, inFlight: 0, delayed: 0 },
      dlq: null,
      errors: [],
    });
  });
});
