import { status } from '@grpc/grpc-js';
import { SchedulerClient, SchedulerMessageError, type SubmitOutcome } from '../src/scheduler-client/scheduler-client.service';
import { acceptedTicket, SchedulerStatusError, startFakeScheduler, type FakeScheduler, type Submit } from './support/fake-scheduler';

/** Answers every message but the one whose body says "poison", which fails as a failed commit does. */
const submit: { current: Submit } = {
  current: async (request) => {
    if (request.body === 'poison') throw new SchedulerStatusError(status.INTERNAL, 'could not commit');
    return acceptedTicket(`delivery-${request.messageId}`);
  },
};

const requests = ['a', 'poison', 'b'].map((body, index) => ({ messageId: `m-${index}`, body, receivedAt: '2026-12-03T10:00:00.000Z' }));

/** Each outcome as [message id, delivery id] or [message id, gRPC code]. */
function summary(outcomes: SubmitOutcome[]): Array<[string, string | number]> {
  return outcomes.map((outcome): [string, string | number] =>
    'response' in outcome ? [outcome.messageId, outcome.response.deliveryId] : [outcome.messageId, outcome.error.code],
  );
}

describe('SchedulerClient.submitMessages over real gRPC', () => {
  const schedulers: FakeScheduler[] = [];
  const clients: SchedulerClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.onModuleDestroy();
    await Promise.all(schedulers.splice(0).map((scheduler) => scheduler.stop()));
  });

  async function clientOf(options: { withoutBatches?: boolean } = {}): Promise<{ client: SchedulerClient; scheduler: FakeScheduler }> {
    const scheduler = await startFakeScheduler(submit, options);
    schedulers.push(scheduler);
    const client = new SchedulerClient({ schedulerGrpcAddr: scheduler.address, schedulerCallTimeoutMs: 5000 });
    clients.push(client);
    return { client, scheduler };
  }

  it('sends one SubmitMessages call and answers each message, the failed one with its gRPC code', async () => {
    const { client, scheduler } = await clientOf();
    const outcomes = await client.submitMessages(requests);
    expect(summary(outcomes)).toEqual([
      ['m-0', 'delivery-m-0'],
      ['m-1', status.INTERNAL],
      ['m-2', 'delivery-m-2'],
    ]);
    const failed = outcomes[1];
    expect(failed && 'error' in failed ? failed.error : undefined).toBeInstanceOf(SchedulerMessageError);
    expect(scheduler.batches).toEqual([['m-0', 'm-1', 'm-2']]);
  });

  it('falls back to one SubmitMessage per message against a scheduler without SubmitMessages (a rolling deploy)', async () => {
    const { client, scheduler } = await clientOf({ withoutBatches: true });
    const outcomes = await client.submitMessages(requests);
    expect(summary(outcomes)).toEqual([
      ['m-0', 'delivery-m-0'],
      ['m-1', status.INTERNAL],
      ['m-2', 'delivery-m-2'],
    ]);
    expect(scheduler.batches).toEqual([]);
  });

  it('fails the whole call when the scheduler does not answer, so that no message has an outcome', async () => {
    const { client, scheduler } = await clientOf();
    await scheduler.stop();
    await expect(client.submitMessages(requests)).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});
