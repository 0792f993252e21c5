import { planJobAction, type ActionableJob, type ActionJobStatus } from './job-actions';

const REQUESTED = new Date('2026-12-03T11:00:00.000Z');
const job = (status: ActionJobStatus, overrides: Partial<ActionableJob> = {}): ActionableJob => ({
  id: 'job-1',
  status,
  approval: 'none',
  cancelRequestedAt: null,
  ...overrides,
});

describe('planJobAction: cancel', () => {
  it('cancels a waiting job at once', () => {
    expect(planJobAction('cancel', job('pending'))).toEqual({ step: 'cancel-waiting' });
    expect(planJobAction('cancel', job('pending', { approval: 'required' }))).toEqual({ step: 'cancel-waiting' });
  });

  it.each(['launching', 'running'] as const)('asks a %s job to stop, once', (status) => {
    expect(planJobAction('cancel', job(status))).toEqual({ step: 'request-stop' });
    expect(planJobAction('cancel', job(status, { cancelRequestedAt: REQUESTED }))).toEqual({
      step: 'unchanged',
      note: 'stop already requested at 2026-12-03T11:00:00.000Z',
    });
  });

  it('is idempotent on a cancelled job and refused on a job that ended otherwise', () => {
    expect(planJobAction('cancel', job('cancelled'))).toEqual({ step: 'unchanged', note: 'already cancelled' });
    expect(planJobAction('cancel', job('succeeded'))).toEqual({ step: 'refused', message: 'job job-1 has already ended (succeeded); it cannot be cancelled' });
    expect(planJobAction('cancel', job('failed')).step).toBe('refused');
  });
});

describe('planJobAction: rerun', () => {
  it.each(['succeeded', 'failed', 'cancelled'] as const)('re-runs a %s job', (status) => {
    expect(planJobAction('rerun', job(status))).toEqual({ step: 'rerun' });
  });

  it.each(['pending', 'launching', 'running'] as const)('refuses a %s job', (status) => {
    expect(planJobAction('rerun', job(status))).toEqual({
      step: 'refused',
      message: `job job-1 is ${status}; only an ended job (succeeded, failed or cancelled) can be re-run`,
    });
  });
});

describe('planJobAction: approve and reject', () => {
  it('moves a job awaiting approval', () => {
    expect(planJobAction('approve', job('pending', { approval: 'required' }))).toEqual({ step: 'approve' });
    expect(planJobAction('reject', job('pending', { approval: 'required' }))).toEqual({ step: 'reject' });
  });

  it('is idempotent for the same decision and refuses the opposite one', () => {
    expect(planJobAction('approve', job('launching', { approval: 'approved' }))).toEqual({ step: 'unchanged', note: 'already approved' });
    expect(planJobAction('reject', job('cancelled', { approval: 'rejected' }))).toEqual({ step: 'unchanged', note: 'already rejected' });
    expect(planJobAction('reject', job('pending', { approval: 'approved' }))).toEqual({ step: 'refused', message: 'job job-1 was already approved' });
    expect(planJobAction('approve', job('cancelled', { approval: 'rejected' }))).toEqual({ step: 'refused', message: 'job job-1 was already rejected' });
  });

  it('refuses a job whose route asks for no approval, and one that is no longer waiting', () => {
    expect(planJobAction('approve', job('pending'))).toEqual({ step: 'refused', message: 'job job-1 does not need approval (its route does not ask for it)' });
    expect(planJobAction('approve', job('cancelled', { approval: 'required' }))).toEqual({
      step: 'refused',
      message: 'job job-1 is cancelled; only a job awaiting approval can be approved',
    });
  });
});
