import { CliUsageError, dateOption, formatUsage, numberOption, parseCli, startCli, type CliIo, type CliOptions, type CliSpec } from './cli-args';

const SPEC = {
  name: 'tool',
  synopsis: 'npm run tool -- <file> [--count N] [--tag T ...] [--dry-run]',
  summary: 'Does a thing.',
  positionals: { names: '<file>', min: 1, max: 1 },
  options: {
    count: { type: 'string', value: 'N', description: 'how many' },
    tag: { type: 'string', value: 'T', description: 'a tag', multiple: true },
    'dry-run': { type: 'boolean', description: 'change nothing' },
  },
} satisfies CliSpec<CliOptions>;

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function captured(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
    exit: (code: number): never => {
      throw new Exit(code);
    },
  };
  return io;
}

describe('parseCli', () => {
  it('returns typed values and positionals', () => {
    expect(parseCli(SPEC, ['a.json', '--count', '3', '--tag', 'x', '--tag', 'y', '--dry-run'])).toEqual({
      values: { count: '3', tag: ['x', 'y'], 'dry-run': true },
      positionals: ['a.json'],
    });
  });

  it('drops the one leading -- that npm may pass on', () => {
    expect(parseCli(SPEC, ['--', 'a.json', '--count', '1'])).toEqual({ values: { count: '1' }, positionals: ['a.json'] });
  });

  it('answers help even next to a mistake, but not after the -- terminator', () => {
    expect(parseCli(SPEC, ['--bogus', '--help'])).toBe('help');
    expect(parseCli(SPEC, ['-h'])).toBe('help');
    expect(() => parseCli(SPEC, ['x', '--', '--help', 'y'])).toThrow('too many arguments');
  });

  it.each<[string, string[], string]>([
    ['an unknown option, with the known ones', ['a', '--bogus'], 'unknown option --bogus (known: --count --tag --dry-run)'],
    ['a value missing', ['a', '--count'], '--count needs a value'],
    ['a value for a switch', ['a', '--dry-run=yes'], '--dry-run takes no value'],
    ['a repeated single option', ['a', '--count', '1', '--count', '2'], '--count is given twice'],
    ['a missing positional', ['--count', '1'], 'missing <file>'],
    ['too many positionals', ['a', 'b'], 'too many arguments: a b (expected <file>)'],
  ])('refuses %s', (_case, argv, message) => {
    expect(() => parseCli(SPEC, argv)).toThrow(new CliUsageError(message));
  });

  it('refuses positionals when the command takes none', () => {
    expect(() => parseCli({ ...SPEC, positionals: undefined }, ['stray'])).toThrow(new CliUsageError('unexpected argument stray (this command takes options only)'));
  });
});

describe('startCli', () => {
  it('prints the usage on stdout and exits 0 for --help, without reading the options', () => {
    const io = captured();
    const read = jest.fn();
    expect(() => startCli(SPEC, read, ['--help'], io)).toThrow(new Exit(0));
    expect(read).not.toHaveBeenCalled();
    expect(io.out).toBe(formatUsage(SPEC));
    expect(io.err).toBe('');
  });

  it('prints the problem and the synopsis on stderr and exits 2, for bad arguments and bad values alike', () => {
    const io = captured();
    expect(() => startCli(SPEC, () => 'unused', ['a', '--nope'], io)).toThrow(new Exit(2));
    expect(io.err).toBe(`tool: unknown option --nope (known: --count --tag --dry-run)\nusage: ${SPEC.synopsis}   (--help for more)\n`);
    const again = captured();
    expect(() => startCli(SPEC, ({ values }) => numberOption(values.count, 'count', { fallback: 1, whole: true }), ['a', '--count', 'x'], again)).toThrow(new Exit(2));
    expect(again.err).toMatch(/^tool: --count must be a whole number, got "x"\n/);
    expect(again.out).toBe('');
  });

  it('returns what read makes of the arguments', () => {
    expect(startCli(SPEC, ({ values, positionals }) => `${positionals[0]}:${values.count}`, ['f', '--count', '2'], captured())).toBe('f:2');
  });

  describe("the AWS SDK's Node-version warning", () => {
    const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
    const before = process.env[SWITCH];
    afterEach(() => {
      if (before === undefined) delete process.env[SWITCH];
      else process.env[SWITCH] = before;
    });

    it('is switched off for local commands (and the processes they start)', () => {
      delete process.env[SWITCH];
      startCli(SPEC, () => undefined, ['f'], captured());
      expect(process.env[SWITCH]).toBe('true');
    });

    it('stays as the user set it', () => {
      process.env[SWITCH] = 'false';
      startCli(SPEC, () => undefined, ['f'], captured());
      expect(process.env[SWITCH]).toBe('false');
    });
  });

  it('lets other errors through: they are not usage mistakes', () => {
    expect(() => startCli(SPEC, () => { throw new Error('boom'); }, ['f'], captured())).toThrow('boom');
  });
});

describe('formatUsage', () => {
  it('lists every option with its placeholder, aligned, and --help', () => {
    expect(formatUsage(SPEC)).toBe(
      [
        `usage: ${SPEC.synopsis}`,
        '',
        'Does a thing.',
        '',
        'options:',
        '  --count N   how many',
        '  --tag T     a tag (may be repeated)',
        '  --dry-run   change nothing',
        '  -h, --help  print this help and exit',
        '',
      ].join('\n'),
    );
  });
});

describe('option values', () => {
  it('numbers: the fallback when absent, the bounds checked when present', () => {
    expect(numberOption(undefined, 'n', { fallback: 7 })).toBe(7);
    expect(numberOption('2.5', 'n', { fallback: 7, above: 0 })).toBe(2.5);
    expect(() => numberOption('0', 'n', { fallback: 7, above: 0 })).toThrow('--n must be a number > 0, got "0"');
    expect(() => numberOption('1.5', 'n', { fallback: 7, whole: true, min: 1 })).toThrow('--n must be a whole number ≥ 1, got "1.5"');
    expect(() => numberOption('2', 'n', { fallback: 0, min: 0, max: 1 })).toThrow('--n must be a number ≥ 0 and ≤ 1, got "2"');
    expect(() => numberOption(' ', 'n', { fallback: 0 })).toThrow(CliUsageError);
  });

  it('dates: ISO-8601 or a usage error', () => {
    expect(dateOption('2026-05-12T00:00:00Z', 'start')?.toISOString()).toBe('2026-05-12T00:00:00.000Z');
    expect(dateOption(undefined, 'start')).toBeUndefined();
    expect(() => dateOption('yesterday', 'start')).toThrow('--start must be an ISO-8601 timestamp, got "yesterday"');
  });
});
