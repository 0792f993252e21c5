/**
 * Writes a synthetic scenario to stdout (deterministic for a seed).
 *
 *   npm run --silent scenario:generate -- --accounts 50 --alarms-per-hour 200 --hours 24 \
 *     --tickets 500 --duplicates 0.05 [--garbage 0.01] [--seed 42] [--start 2026-05-12T00:00:00Z] > big.jsonl   (--help)
 */
import { dateOption, numberOption, startCli, type CliOptions, type CliSpec, type ParsedCli } from '@agent-conductor/cli-args';
import { DEFAULT_GENERATOR_OPTIONS, generateScenario, GeneratorOptions } from './generator';
import { formatScenarioLine } from './scenario';

const d = DEFAULT_GENERATOR_OPTIONS;

export const GENERATE_CLI = {
  name: 'scenario:generate',
  synopsis: 'npm run --silent scenario:generate -- [--accounts N] [--alarms-per-hour R] [--hours H] [--tickets T] [--duplicates F] [--garbage F] [--seed S] [--start ISO] > big.jsonl',
  summary: 'Writes a synthetic replay scenario to stdout, the same for the same seed.',
  options: {
    accounts: { type: 'string', value: 'N', description: `AWS accounts raising alarms (default ${d.accounts})` },
    'alarms-per-hour': { type: 'string', value: 'R', description: `alarms per hour, all accounts together (default ${d.alarmsPerHour})` },
    hours: { type: 'string', value: 'H', description: `length of the scenario (default ${d.hours})` },
    tickets: { type: 'string', value: 'T', description: `tickets over the whole scenario (default ${d.tickets})` },
    duplicates: { type: 'string', value: 'F', description: `fraction of messages delivered a second time with the same message id, 0–1 (default ${d.duplicates})` },
    garbage: { type: 'string', value: 'F', description: `extra messages with garbage bodies, as a fraction, 0–1 (default ${d.garbage})` },
    seed: { type: 'string', value: 'S', description: `seed of the generator (default ${d.seed})` },
    start: { type: 'string', value: 'ISO', description: `the scenario's first instant (default ${d.start.toISOString()})` },
  },
} satisfies CliSpec<CliOptions>;

export function generatorOptions({ values }: ParsedCli<typeof GENERATE_CLI.options>): GeneratorOptions {
  return {
    accounts: numberOption(values.accounts, 'accounts', { fallback: d.accounts, whole: true, min: 1 }),
    alarmsPerHour: numberOption(values['alarms-per-hour'], 'alarms-per-hour', { fallback: d.alarmsPerHour, min: 0 }),
    hours: numberOption(values.hours, 'hours', { fallback: d.hours, above: 0 }),
    tickets: numberOption(values.tickets, 'tickets', { fallback: d.tickets, whole: true, min: 0 }),
    duplicates: numberOption(values.duplicates, 'duplicates', { fallback: d.duplicates, min: 0, max: 1 }),
    garbage: numberOption(values.garbage, 'garbage', { fallback: d.garbage, min: 0, max: 1 }),
    seed: numberOption(values.seed, 'seed', { fallback: d.seed, whole: true }),
    start: dateOption(values.start, 'start') ?? d.start,
  };
}

function main(options: GeneratorOptions): void {
  const messages = generateScenario(options);
  // One write per chunk: a day of traffic is tens of thousands of lines.
  const chunk: string[] = [];
  for (const message of messages) {
    chunk.push(formatScenarioLine(message));
    if (chunk.length === 1000) {
      process.stdout.write(`${chunk.join('\n')}\n`);
      chunk.length = 0;
    }
  }
  if (chunk.length > 0) process.stdout.write(`${chunk.join('\n')}\n`);
  process.stderr.write(`scenario:generate: ${messages.length} lines\n`);
}

main(startCli(GENERATE_CLI, generatorOptions));
