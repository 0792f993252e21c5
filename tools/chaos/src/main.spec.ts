import { CliUsageError } from '@agent-conductor/cli-args';
import { type ChaosOptions } from './harness';
import { parseChaosArgs } from './main';

function parseArgs(argv: string[]): ChaosOptions {
  const options = parseChaosArgs(argv);
  if (options === 'help') throw new Error(`${argv.join(' ')} asked for help`);
  return options;
}

describe('chaos command line', () => {
  it('reads messages, kills and seed, and sizes the windows from N by default', () => {
    const options = parseArgs(['--messages', '200', '--kills', '10', '--seed', '5']);
    expect(options).toMatchObject({ messages: 200, kills: 10, seed: 5, restartPostgres: true, keep: false });
    expect(options.flowWindowMs).toBeGreaterThan(10_000);
    expect(options.settleTimeoutMs).toBeGreaterThan(options.flowWindowMs);
  });

  it('takes explicit windows and flags', () => {
    expect(parseArgs(['--messages', '20', '--kills', '0', '--window-seconds', '10', '--settle-timeout-seconds', '60', '--no-postgres-restart', '--keep'])).toEqual({
      messages: 20,
      kills: 0,
      seed: 1,
      flowWindowMs: 10_000,
      settleTimeoutMs: 60_000,
      restartPostgres: false,
      keep: true,
    });
  });

  it('answers --help whatever else is on the line', () => {
    expect(parseChaosArgs(['--messages', '200', '--help'])).toBe('help');
    expect(parseChaosArgs(['--bogus', '-h'])).toBe('help');
  });

  it.each([[['--messages', 'x']], [['--messages', '2']], [['--kills', '-1']], [['--bogus', '1']], [['--messages']], [['extra']]])('rejects %j as bad usage', (args) => {
    expect(() => parseArgs(args)).toThrow(CliUsageError);
  });
});
