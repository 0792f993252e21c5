import { parseArgs } from './main';

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

  it.each([[['--messages', 'x']], [['--messages', '2']], [['--kills', '-1']], [['--bogus', '1']], [['--messages']]])('rejects %j', (args) => {
    expect(() => parseArgs(args)).toThrow();
  });
});
