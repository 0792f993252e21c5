import {
  ActiveJob,
  AdmissionLimits,
  claimOf,
  compareQueued,
  describeWaiting,
  planAdmission,
  QueuedJob,
  SimulatedJob,
  simulateAdmission,
} from './admission';

const T0 = new Date('2026-12-02T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const LIMITS: AdmissionLimits = { maxActiveJobs: 10, claimMaxActiveJobs: 1 };

let arrival = 0;
function queued(id: string, overrides: Partial<QueuedJob> = {}): QueuedJob {
  arrival += 1;
  return { id, kind: 'ticket', claim: 'repo-a', decidedAt: T0, arrival, ...overrides };
}
const active = (id: string, claim = 'repo-a'): ActiveJob => ({ id, claim });
const plan = (input: { active?: ActiveJob[]; queued: QueuedJob[]; limits?: Partial<AdmissionLimits>; now?: Date }) =>
  planAdmission({ active: input.active ?? [], queued: input.queued, limits: { ...LIMITS, ...input.limits }, now: input.now ?? T0 });

describe('claimOf', () => {
  it('is the route repository unless the route names a claim', () => {
    expect(claimOf({ repository: 'https://github.com/acme/platform.git' })).toBe('https://github.com/acme/platform.git');
    expect(claimOf({ repository: 'https://github.com/acme/platform.git', claim: 'platform/billing' })).toBe('platform/billing');
  });
});

describe('planAdmission: global cap', () => {
  it('admits up to the cap and no further', () => {
    const jobs = Array.from({ length: 4 }, (_, index) => queued(`j${index}`, { claim: `repo-${index}` }));
    const result = plan({ queued: jobs, limits: { maxActiveJobs: 3 } });
    expect(result.admit).toEqual(['j0', 'j1', 'j2']);
    expect(result.waiting).toEqual([
      { id: 'j3', reason: 'waiting for a worker slot (3/3 active)', detail: { cause: 'slot', active: 3, max: 3 } },
    ]);
    expect(result.activeAfter).toBe(3);
  });

  it('counts jobs already active against the cap: one below admits one, at the cap admits none', () => {
    const running = [active('r0', 'x'), active('r1', 'y')];
    expect(plan({ active: running, queued: [queued('a', { claim: 'p' }), queued('b', { claim: 'q' })], limits: { maxActiveJobs: 3 } }).admit).toEqual(['a']);
    const full = plan({ active: [...running, active('r2', 'z')], queued: [queued('a', { claim: 'p' })], limits: { maxActiveJobs: 3 } });
    expect(full.admit).toEqual([]);
    expect(full.waiting[0]?.reason).toBe('waiting for a worker slot (3/3 active)');
  });

  it('admits nothing when more are active than the cap allows (the cap was lowered)', () => {
    const result = plan({ active: [active('r0', 'x'), active('r1', 'y')], queued: [queued('a', { claim: 'p' })], limits: { maxActiveJobs: 1 } });
    expect(result.admit).toEqual([]);
    expect(result.waiting[0]?.reason).toBe('waiting for a worker slot (2/1 active)');
  });

  it('uses the default cap of 10 in the example reason', () => {
    const jobs = Array.from({ length: 11 }, (_, index) => queued(`j${index}`, { claim: `repo-${index}` }));
    const result = plan({ queued: jobs });
    expect(result.admit).toHaveLength(10);
    expect(result.waiting.map((job) => job.reason)).toEqual(['waiting for a worker slot (10/10 active)']);
  });
});

describe('planAdmission: claims', () => {
  it('admits one job per claim by default, and names the holder in the reason', () => {
    const result = plan({ queued: [queued('a'), queued('b'), queued('c')] });
    expect(result.admit).toEqual(['a']);
    expect(result.waiting.map((job) => job.reason)).toEqual([
      'waiting for repository claim repo-a (held by job a)',
      'waiting for repository claim repo-a (held by job a)',
    ]);
    expect(result.waiting[0]?.detail).toEqual({ cause: 'claim', claim: 'repo-a', limit: 1, heldBy: ['a'] });
  });

  it('counts an already active job as the holder', () => {
    const result = plan({ active: [active('r0')], queued: [queued('a')] });
    expect(result.admit).toEqual([]);
    expect(result.waiting[0]?.reason).toBe('waiting for repository claim repo-a (held by job r0)');
  });

  it('REPO_MAX_ACTIVE_JOBS raises the limit for every claim: exactly that many start', () => {
    const result = plan({ active: [active('r0')], queued: [queued('a'), queued('b'), queued('c')], limits: { claimMaxActiveJobs: 3 } });
    expect(result.admit).toEqual(['a', 'b']);
    expect(result.waiting[0]?.reason).toBe('waiting for repository claim repo-a (held by jobs r0, a, b)');
  });

  it("a route's maxActive overrides the limit for its jobs only", () => {
    const result = plan({
      queued: [
        queued('a1', { claimLimit: 2 }),
        queued('a2', { claimLimit: 2 }),
        queued('a3', { claimLimit: 2 }),
        queued('b1', { claim: 'repo-b' }),
        queued('b2', { claim: 'repo-b' }),
      ],
    });
    expect(result.admit).toEqual(['a1', 'a2', 'b1']);
    expect(result.waiting.map((job) => job.id)).toEqual(['a3', 'b2']);
  });

  it('a null claim limit means the default', () => {
    expect(plan({ queued: [queued('a', { claimLimit: null }), queued('b', { claimLimit: null })] }).admit).toEqual(['a']);
  });

  it('jobs of different claims on one repository (route claims) do not block each other', () => {
    const result = plan({ queued: [queued('a', { claim: 'platform/billing' }), queued('b', { claim: 'platform/auth' })] });
    expect(result.admit).toEqual(['a', 'b']);
  });

  it('reports the claim, not the slot, when both hold a job back', () => {
    const result = plan({ active: [active('r0')], queued: [queued('a')], limits: { maxActiveJobs: 1 } });
    expect(result.waiting[0]?.reason).toBe('waiting for repository claim repo-a (held by job r0)');
  });
});

describe('planAdmission: order', () => {
  it('puts incidents before tickets, even older tickets', () => {
    const jobs = [queued('t-old', { decidedAt: at(0) }), queued('i-new', { kind: 'incident', decidedAt: at(5) })];
    expect(plan({ queued: jobs }).admit).toEqual(['i-new']);
  });

  it('within a kind, the earlier decision first, whatever the input order', () => {
    const jobs = [queued('later', { decidedAt: at(2) }), queued('earlier', { decidedAt: at(1) })];
    expect(plan({ queued: jobs }).admit).toEqual(['earlier']);
  });

  it('decided at the same instant: the earlier arrival first, then the id', () => {
    expect(plan({ queued: [queued('b', { arrival: 2 }), queued('a', { arrival: 1 })] }).admit).toEqual(['a']);
    expect(plan({ queued: [queued('b', { arrival: 7 }), queued('a', { arrival: 7 })] }).admit).toEqual(['a']);
    expect(compareQueued(queued('a', { arrival: 7 }), queued('a', { arrival: 7 }))).toBe(0);
  });

  it('arrival order never outranks decision time', () => {
    const jobs = [queued('late-decided', { decidedAt: at(1), arrival: 1 }), queued('early-decided', { decidedAt: at(0), arrival: 2 })];
    expect(plan({ queued: jobs }).admit).toEqual(['early-decided']);
  });

  it('lists waiting jobs in line order', () => {
    const jobs = [queued('t2', { decidedAt: at(2) }), queued('t1', { decidedAt: at(1) }), queued('i1', { kind: 'incident', decidedAt: at(3) })];
    const result = plan({ queued: jobs });
    expect([...result.admit, ...result.waiting.map((job) => job.id)]).toEqual(['i1', 't1', 't2']);
  });
});

describe('planAdmission: work-conserving', () => {
  it('a job blocked by its claim does not block a later job of another claim', () => {
    const result = plan({ active: [active('r0', 'repo-a')], queued: [queued('a1'), queued('a2'), queued('b1', { claim: 'repo-b' })] });
    expect(result.admit).toEqual(['b1']);
  });

  it('fills every free slot, skipping only what does not fit', () => {
    const jobs = [queued('a1'), queued('a2'), queued('b1', { claim: 'repo-b' }), queued('c1', { claim: 'repo-c' }), queued('d1', { claim: 'repo-d' })];
    const result = plan({ queued: jobs, limits: { maxActiveJobs: 3 } });
    expect(result.admit).toEqual(['a1', 'b1', 'c1']);
    expect(result.waiting.map((job) => [job.id, job.detail.cause])).toEqual([
      ['a2', 'claim'],
      ['d1', 'slot'],
    ]);
  });

  it('an empty line admits nothing and lists nothing', () => {
    expect(plan({ active: [active('r0')], queued: [] })).toEqual({ admit: [], waiting: [], activeAfter: 1 });
  });

  it('limits below 1 admit nothing', () => {
    expect(plan({ queued: [queued('a')], limits: { maxActiveJobs: 0 } }).admit).toEqual([]);
    expect(plan({ queued: [queued('a')], limits: { claimMaxActiveJobs: 0 } }).waiting[0]?.reason).toBe(
      'waiting for repository claim repo-a (limit 0)',
    );
  });
});

describe('planAdmission: retry backoff', () => {
  it('a job in backoff holds nothing: a later job of its claim starts', () => {
    const result = plan({ queued: [queued('retrying', { notBefore: at(1) }), queued('next')] });
    expect(result.admit).toEqual(['next']);
    expect(result.waiting).toEqual([
      { id: 'retrying', reason: 'waiting for retry backoff until 2026-12-02T10:01:00.000Z', detail: { cause: 'backoff', until: at(1) } },
    ]);
  });

  it('a backoff ending exactly now is over, and the job keeps its place ahead of later jobs', () => {
    const jobs = [queued('later', { decidedAt: at(1) }), queued('retried', { decidedAt: at(0), notBefore: at(5) })];
    expect(plan({ queued: jobs, now: at(5) }).admit).toEqual(['retried']);
    expect(plan({ queued: jobs, now: new Date(at(5).getTime() - 1) }).admit).toEqual(['later']);
  });

  it('a job in backoff does not take a slot', () => {
    const result = plan({ queued: [queued('retrying', { notBefore: at(1) }), queued('b', { claim: 'repo-b' })], limits: { maxActiveJobs: 1 } });
    expect(result.admit).toEqual(['b']);
  });
});

describe('planAdmission: follow-up threads', () => {
  const activeIn = (id: string, thread: string, claim = 'repo-a'): ActiveJob => ({ id, claim, thread });

  it('holds a follow-up while a job of its thread runs, even with room under every cap', () => {
    const result = plan({ active: [activeIn('fu-1', 'first')], queued: [queued('fu-2', { followUpOf: 'first', claim: 'repo-b' })] });
    expect(result.admit).toEqual([]);
    expect(result.waiting).toEqual([
      {
        id: 'fu-2',
        reason: 'waiting for job fu-1 of its follow-up thread to end (one job per pull request at a time)',
        detail: { cause: 'thread', thread: 'first', heldBy: ['fu-1'] },
      },
    ]);
  });

  it('holds a follow-up while the first job itself runs (its thread is its own id)', () => {
    expect(plan({ active: [activeIn('first', 'first', 'repo-b')], queued: [queued('fu-1', { followUpOf: 'first' })] }).admit).toEqual([]);
  });

  it('starts it once the thread is idle, under its claim like any job', () => {
    expect(plan({ active: [activeIn('other', 'other')], queued: [queued('fu-1', { followUpOf: 'first', claim: 'repo-b' })] }).admit).toEqual(['fu-1']);
    expect(plan({ active: [activeIn('other', 'other')], queued: [queued('fu-1', { followUpOf: 'first' })] }).waiting[0]?.detail).toEqual({
      cause: 'claim',
      claim: 'repo-a',
      limit: 1,
      heldBy: ['other'],
    });
  });

  it('admits one follow-up of a thread per pass, and a held follow-up blocks no other thread', () => {
    const result = plan({
      queued: [queued('fu-1', { followUpOf: 'first' }), queued('fu-2', { followUpOf: 'first' }), queued('fu-x', { followUpOf: 'second' })],
      limits: { claimMaxActiveJobs: 5 },
    });
    expect(result.admit).toEqual(['fu-1', 'fu-x']);
    expect(result.waiting.map((job) => job.id)).toEqual(['fu-2']);
  });

  it('does not hold jobs that are not follow-ups', () => {
    expect(plan({ active: [activeIn('first', 'first')], queued: [queued('ticket', { claim: 'repo-b' })] }).admit).toEqual(['ticket']);
  });
});

describe('describeWaiting', () => {
  it('words every cause', () => {
    expect(describeWaiting({ cause: 'claim', claim: 'k', limit: 1, heldBy: ['x'] })).toBe('waiting for repository claim k (held by job x)');
    expect(describeWaiting({ cause: 'claim', claim: 'k', limit: 2, heldBy: ['x', 'y'] })).toBe('waiting for repository claim k (held by jobs x, y)');
    expect(describeWaiting({ cause: 'slot', active: 10, max: 10 })).toBe('waiting for a worker slot (10/10 active)');
    expect(describeWaiting({ cause: 'backoff', until: T0 })).toBe('waiting for retry backoff until 2026-12-02T10:00:00.000Z');
    expect(describeWaiting({ cause: 'thread', thread: 'f', heldBy: ['x', 'y'] })).toBe('waiting for jobs x, y of its follow-up thread to end (one job per pull request at a time)');
  });
});

describe('simulateAdmission', () => {
  const MINUTE = 60_000;
  let line = 0;
  function sim(id: string, decidedMinute: number, overrides: Partial<SimulatedJob> = {}): SimulatedJob {
    line += 1;
    return { id, kind: 'ticket', claim: 'repo-a', decidedAt: at(decidedMinute), arrival: line, durationMs: 30 * MINUTE, ...overrides };
  }
  const startMinutes = (starts: ReturnType<typeof simulateAdmission>): Record<string, number | null> =>
    Object.fromEntries(starts.map((start) => [start.id, start.startAt === null ? null : (start.startAt.getTime() - T0.getTime()) / MINUTE]));

  it('a burst on one repository runs one at a time, in order', () => {
    const starts = simulateAdmission([sim('a', 0), sim('b', 0), sim('c', 0)], LIMITS);
    expect(startMinutes(starts)).toEqual({ a: 0, b: 30, c: 60 });
    expect(starts[0]?.firstWaiting).toBeNull();
    expect(starts[1]?.firstWaiting).toBe('waiting for repository claim repo-a (held by job a)');
    expect(starts[2]?.endAt).toEqual(at(90));
  });

  it('an incident overtakes the tickets queued before it', () => {
    const starts = simulateAdmission([sim('t1', 0), sim('t2', 1), sim('t3', 2), sim('inc', 10, { kind: 'incident' })], LIMITS);
    expect(startMinutes(starts)).toEqual({ t1: 0, inc: 30, t2: 60, t3: 90 });
  });

  it('ends before starts: a job decided the instant another ends takes the freed slot', () => {
    const starts = simulateAdmission([sim('a', 0), sim('b', 30)], LIMITS);
    expect(startMinutes(starts)).toEqual({ a: 0, b: 30 });
    expect(starts[1]?.firstWaiting).toBeNull();
  });

  it('is work-conserving across claims under the global cap', () => {
    const limits = { maxActiveJobs: 2, claimMaxActiveJobs: 1 };
    const starts = simulateAdmission([sim('a1', 0), sim('a2', 0), sim('b1', 0, { claim: 'repo-b' }), sim('c1', 5, { claim: 'repo-c' })], limits);
    expect(startMinutes(starts)).toEqual({ a1: 0, a2: 30, b1: 0, c1: 30 });
  });

  it('a decision arriving while all slots are taken starts at the next end, in line order', () => {
    const limits = { maxActiveJobs: 1, claimMaxActiveJobs: 5 };
    const starts = simulateAdmission([sim('a', 0, { durationMs: 10 * MINUTE }), sim('b', 3), sim('c', 1)], limits);
    expect(startMinutes(starts)).toEqual({ a: 0, c: 10, b: 40 });
  });

  it('honours per-route limits', () => {
    const starts = simulateAdmission([sim('a', 0, { claimLimit: 2 }), sim('b', 0, { claimLimit: 2 }), sim('c', 0, { claimLimit: 2 })], LIMITS);
    expect(startMinutes(starts)).toEqual({ a: 0, b: 0, c: 30 });
  });

  it('a zero-length job frees its claim at the same instant', () => {
    expect(startMinutes(simulateAdmission([sim('a', 0, { durationMs: 0 }), sim('b', 0)], LIMITS))).toEqual({ a: 0, b: 0 });
  });

  it('returns starts in input order, and null for a job the limits can never admit', () => {
    const starts = simulateAdmission([sim('late', 5), sim('early', 0)], { maxActiveJobs: 0, claimMaxActiveJobs: 1 });
    expect(starts.map((start) => [start.id, start.startAt])).toEqual([
      ['late', null],
      ['early', null],
    ]);
    expect(starts[0]?.firstWaiting).toBe('waiting for a worker slot (0/0 active)');
  });

  it('rejects two jobs with one id', () => {
    expect(() => simulateAdmission([sim('a', 0), sim('a', 1)], LIMITS)).toThrow('job id a appears twice');
  });
});

describe('planAdmission: approval', () => {
  it('holds a job awaiting approval without a slot or its claim, so the next job in line starts', () => {
    const result = plan({ queued: [queued('held', { awaitingApproval: true }), queued('next')], limits: { maxActiveJobs: 1 } });
    expect(result.admit).toEqual(['next']);
    expect(result.waiting).toEqual([{ id: 'held', reason: 'awaiting approval', detail: { cause: 'approval' } }]);
    expect(result.activeAfter).toBe(1);
  });

  it('lists held jobs in line order among the other waiting jobs', () => {
    const result = plan({
      active: [active('r0')],
      queued: [queued('late', { decidedAt: at(2) }), queued('held', { decidedAt: at(1), awaitingApproval: true }), queued('early', { decidedAt: at(0) })],
    });
    expect(result.admit).toEqual([]);
    expect(result.waiting.map((job) => [job.id, job.detail.cause])).toEqual([
      ['early', 'claim'],
      ['held', 'approval'],
      ['late', 'claim'],
    ]);
  });

  it('never starts a held job in a simulation, and the simulation still ends', () => {
    const starts = simulateAdmission(
      [
        { id: 'held', kind: 'ticket', claim: 'repo-a', decidedAt: at(0), arrival: 1, durationMs: 60_000, awaitingApproval: true },
        { id: 'free', kind: 'ticket', claim: 'repo-a', decidedAt: at(1), arrival: 2, durationMs: 60_000 },
      ],
      LIMITS,
    );
    expect(starts).toEqual([
      { id: 'held', startAt: null, endAt: null, firstWaiting: 'awaiting approval' },
      { id: 'free', startAt: at(1), endAt: at(2), firstWaiting: null },
    ]);
  });
});
