import { configurationDocProblems, documentedVariables, statedDefault, type EnvField } from './configuration-doc';

const DOC = [
  '### alpha',
  '',
  '| variable | default | meaning |',
  '|---|---|---|',
  '| `PORT` | `8080` | a port |',
  '| `BASE_MS`, `MAX_MS` | `5000`, 5 min | backoff |',
  '| `URL` | dev stack\'s | computed |',
  '',
  '### Shared settings',
  '',
  '| app | variable | default | meaning |',
  '|---|---|---|---|',
  '| alpha | `MODE=fast`, `SPOOL` | `<RUN_DIR>/spool` | a `MODE=fast` mention is not a row of MODE |',
  '| beta | `PORT` | – | another app |',
  '',
].join('\n');

/** A field as zod's would answer an unset variable. */
const field = (unset: unknown): EnvField => ({ safeParse: () => (unset === undefined ? { success: true, data: undefined } : { success: true, data: unset }) });
const required: EnvField = { safeParse: () => ({ success: false }) };

describe('documentedVariables', () => {
  it('reads each table row per app: from the heading, or from an app column', () => {
    expect(documentedVariables(DOC).map(({ app, name, defaultText }) => [app, name, defaultText])).toEqual([
      ['alpha', 'PORT', '`8080`'],
      ['alpha', 'BASE_MS', '`5000`'],
      ['alpha', 'MAX_MS', '5 min'],
      ['alpha', 'URL', "dev stack's"],
      ['alpha', 'SPOOL', '`<RUN_DIR>/spool`'],
      ['beta', 'PORT', '–'],
    ]);
  });
});

describe('statedDefault', () => {
  it.each<[string, string, string | undefined]>([
    ['PORT', '`8080`', '8080'],
    ['MAX_UPLOAD_BYTES', '512 MiB', String(512 * 1024 * 1024)],
    ['TIMEOUT_MS', '1 h', '3600000'],
    ['TIMEOUT_MS', '10 min', '600000'],
    ['WINDOW_MINUTES', '10 min', undefined],
    ['WORKER_COMMAND', '`node <cwd>/main.js`', undefined],
    ['DATABASE_URL', "dev stack's Postgres", undefined],
    ['X', '–', undefined],
  ])('%s %s', (name, text, expected) => {
    expect(statedDefault(name, text)).toBe(expected);
  });
});

describe('configurationDocProblems', () => {
  const shape = { PORT: field(8080), BASE_MS: field(5000), MAX_MS: field(300_000), URL: field(undefined), SPOOL: field(undefined), MODE: field('slow') };

  it('is empty when the table and the validator agree', () => {
    expect(configurationDocProblems('alpha', { ...shape, MODE: field(undefined) }, {}, DOC.replace('`MODE=fast`, ', '').replace('| `URL` |', '| `MODE` | – | m |\n| `URL` |'))).toEqual([]);
  });

  it('reports both directions and wrong defaults', () => {
    expect(configurationDocProblems('alpha', { PORT: field(9090), BASE_MS: field(5000), URL: field('postgres://x'), SPOOL: required, EXTRA: field(undefined) }, { MAX_MS: 300_000 }, DOC)).toEqual([
      'docs/configuration.md:5: PORT defaults to "9090" in the alpha, the table says "`8080`"',
      'docs/configuration.md:7: URL defaults to "postgres://x" in the alpha, the table says "dev stack\'s"',
      'EXTRA is read by the alpha but missing from docs/configuration.md',
    ]);
    expect(configurationDocProblems('beta', {}, {}, DOC)).toEqual(['docs/configuration.md:14: PORT is documented for the beta, but the beta does not read it']);
  });
});
