import { Supervisor } from './supervisor';

function supervisor(overrides: { settleMs?: number; partStopMs?: number } = {}) {
  const lines: string[] = [];
  const exits: number[] = [];
  const instance = new Supervisor({
    log: (line) => lines.push(line),
    settleMs: overrides.settleMs ?? 5_000,
    partStopMs: overrides.partStopMs ?? 5_000,
    exit: (code) => exits.push(code),
  });
  return { instance, lines, exits };
}

describe('Supervisor', () => {
  it('stops what it owns once, last started first, then exits with the first reason’s code', async () => {
    const { instance, exits } = supervisor();
    const stopped: string[] = [];
    for (const name of ['postgres', 'sqs', 'scheduler', 'conductor']) {
      instance.own(name, async () => void stopped.push(name));
    }

    await Promise.all([instance.stop('SIGINT', 130), instance.stop('SIGTERM', 143)]);

    expect(stopped).toEqual(['conductor', 'scheduler', 'sqs', 'postgres']);
    expect(exits).toEqual([130]);
    expect(instance.signal.aborted).toBe(true);
  });

  it('lets a running start step settle first, so that what it started is stopped too', async () => {
    const { instance } = supervisor();
    const stopped: string[] = [];
    let finishStart: () => void = () => undefined;
    const starting = instance.step(async () => {
      await new Promise<void>((resolve) => (finishStart = resolve));
      instance.own('postgres', async () => void stopped.push('postgres'));
    });

    const stopping = instance.stop('parent gone', 1);
    finishStart();
    await Promise.all([starting, stopping]);

    expect(stopped).toEqual(['postgres']);
    await expect(instance.step(async () => 'too late')).rejects.toThrow('stopping: parent gone');
  });

  it('gives up on a part that does not stop, and still stops the others', async () => {
    const { instance, lines, exits } = supervisor({ partStopMs: 50 });
    const stopped: string[] = [];
    instance.own('postgres', async () => void stopped.push('postgres'));
    instance.own('stuck', () => new Promise<void>(() => undefined));
    instance.own('failing', async () => {
      throw new Error('no such process');
    });

    await instance.stop('start failed', 1);

    expect(stopped).toEqual(['postgres']);
    expect(lines).toEqual(expect.arrayContaining(['stopping failing failed: no such process', 'stuck did not stop within 50 ms', 'stopped postgres']));
    expect(exits).toEqual([1]);
  });
});
