import { Logger } from '@nestjs/common';
import { addLogContext, runWithLogContext } from './log-context';
import { logFormatFromEnv } from './log-format';
import { redactText } from './redact';
import { StructuredLogger, type LogStream } from './structured-logger';

// What newWorkerToken() hands out: 32 random bytes as base64url.
const WORKER_TOKEN = 'q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0x1C';

function capture(format: 'json' | 'pretty' = 'json'): { logger: StructuredLogger; lines: Array<{ line: string; stream: LogStream }> } {
  const lines: Array<{ line: string; stream: LogStream }> = [];
  const logger = new StructuredLogger({ service: 'conductor', format, write: (line, stream) => lines.push({ line, stream }) });
  return { logger, lines };
}

function parsed(lines: Array<{ line: string }>): Array<Record<string, unknown>> {
  return lines.map(({ line }) => JSON.parse(line) as Record<string, unknown>);
}

describe('StructuredLogger', () => {
  it('writes one JSON object per line with job and worker ids as fields', () => {
    const { logger, lines } = capture();
    logger.log({ msg: 'launched', jobId: 'job-1', workerId: 'worker-1' }, 'JobLaunchService');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.line.endsWith('\n')).toBe(true);
    expect(parsed(lines)[0]).toMatchObject({ level: 'info', service: 'conductor', context: 'JobLaunchService', msg: 'launched', jobId: 'job-1', workerId: 'worker-1' });
  });

  it('takes ids from the async context, for lines written by code that never saw them', async () => {
    const { logger, lines } = capture();
    await runWithLogContext({ jobId: 'job-2' }, async () => {
      addLogContext({ workerId: 'worker-2' });
      await new Promise((resolve) => setImmediate(resolve));
      logger.log('handshake', 'WorkerApiController');
    });
    logger.log('outside');
    const [inside, outside] = parsed(lines);
    expect(inside).toMatchObject({ msg: 'handshake', jobId: 'job-2', workerId: 'worker-2' });
    expect(outside).not.toHaveProperty('jobId');
  });

  it('serves as Nest’s logger: context, error stacks on stderr', () => {
    const { logger, lines } = capture();
    Logger.overrideLogger(logger);
    try {
      const nest = new Logger('IntakeService');
      nest.log('receiving');
      nest.error('submit failed', 'Error: boom\n    at x (y.ts:1:1)');
    } finally {
      Logger.overrideLogger(false);
    }
    const [info, error] = parsed(lines);
    expect(info).toMatchObject({ context: 'IntakeService', msg: 'receiving', level: 'info' });
    expect(error).toMatchObject({ context: 'IntakeService', msg: 'submit failed', level: 'error', stack: expect.stringContaining('at x') });
    expect(lines.map((line) => line.stream)).toEqual(['stdout', 'stderr']);
  });

  it('never prints a token: by field name, by assignment, by shape, in URLs and bearer headers', () => {
    const { logger, lines } = capture();
    logger.log({ msg: 'spawn', workerId: 'w', token: WORKER_TOKEN, env: { WORKER_TOKEN, GITHUB_TOKEN: 'ghp_abcdefgh' }, headers: { authorization: 'Bearer xyz' } });
    logger.warn(`spawned with WORKER_TOKEN=${WORKER_TOKEN} and a stray ${WORKER_TOKEN}`);
    logger.error(new Error(`push to https://x-access-token:ghp_secret123@github.com/a/b.git failed; Authorization: Bearer abcdefghijkl`));
    const output = lines.map(({ line }) => line).join('');
    expect(output).not.toContain(WORKER_TOKEN);
    expect(output).not.toContain('ghp_abcdefgh');
    expect(output).not.toContain('ghp_secret123');
    expect(output).not.toContain('abcdefghijkl');
    expect(output).not.toContain('xyz');
    const [first] = parsed(lines);
    expect(first).toMatchObject({ workerId: 'w', token: '[REDACTED]', env: { WORKER_TOKEN: '[REDACTED]' } });
  });

  it('hides registered secrets wherever they appear', () => {
    const lines: string[] = [];
    const logger = new StructuredLogger({ service: 'worker', format: 'json', secrets: ['hunter2-is-my-pass'], write: (line) => lines.push(line) });
    logger.log('cloning with hunter2-is-my-pass inside');
    expect(lines.join('')).not.toContain('hunter2');
  });

  it('keeps counts and ids that merely look related', () => {
    expect(redactText('input_tokens 1200, job 3f1c2a9e-7b4d-4e0a-9c1b-2d3e4f5a6b7c, commit 0123456789abcdef0123456789abcdef01234567')).toBe(
      'input_tokens 1200, job 3f1c2a9e-7b4d-4e0a-9c1b-2d3e4f5a6b7c, commit 0123456789abcdef0123456789abcdef01234567',
    );
  });

  it('pretty prints for a terminal, fields after the message', () => {
    const { logger, lines } = capture('pretty');
    logger.log({ msg: 'launched', jobId: 'job-3', workerId: 'worker-3' }, 'JobLaunchService');
    expect(lines[0]?.line).toMatch(/^\[conductor\] \d+ \S+ INFO {2}\[JobLaunchService\] launched {2}jobId=job-3 workerId=worker-3\n$/);
  });

  it('picks the format from LOG_FORMAT, else from NODE_ENV', () => {
    expect(logFormatFromEnv({})).toBe('pretty');
    expect(logFormatFromEnv({ NODE_ENV: 'production' })).toBe('json');
    expect(logFormatFromEnv({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).toBe('pretty');
    expect(logFormatFromEnv({ LOG_FORMAT: 'JSON' })).toBe('json');
    expect(() => logFormatFromEnv({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});
