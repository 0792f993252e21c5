/**
 * Writes a synthetic scenario to stdout (deterministic for a seed).
 *
 *   npm run --silent scenario:generate -- --accounts 50 --alarms-per-hour 200 --hours 24 \
 *     --tickets 500 --duplicates 0.05 [--garbage 0.01] [--seed 42] [--start 2026-05-12T00:00:00Z] > big.jsonl
 */
import { dateFlag, numberFlag, parseFlags } from './args';
import { DEFAULT_GENERATOR_OPTIONS, generateScenario, GeneratorOptions } from './generator';
import { formatScenarioLine } from './scenario';

const FLAGS = ['accounts', 'alarms-per-hour', 'hours', 'tickets', 'duplicates', 'garbage', 'seed', 'start'] as const;

export function generatorOptionsFrom(argv: string[]): GeneratorOptions {
  const flags = parseFlags(argv, FLAGS);
  const d = DEFAULT_GENERATOR_OPTIONS;
  const nonNegative = (value: number): boolean => value >= 0;
  const fraction = (value: number): boolean => value >= 0 && value <= 1;
  return {
    accounts: numberFlag(flags, 'accounts', d.accounts, (value) => Number.isInteger(value) && value >= 1),
    alarmsPerHour: numberFlag(flags, 'alarms-per-hour', d.alarmsPerHour, nonNegative),
    hours: numberFlag(flags, 'hours', d.hours, (value) => value > 0),
    tickets: numberFlag(flags, 'tickets', d.tickets, (value) => Number.isInteger(value) && value >= 0),
    duplicates: numberFlag(flags, 'duplicates', d.duplicates, fraction),
    garbage: numberFlag(flags, 'garbage', d.garbage, fraction),
    seed: numberFlag(flags, 'seed', d.seed, Number.isInteger),
    start: dateFlag(flags, 'start') ?? d.start,
  };
}

function main(argv: string[]): void {
  const messages = generateScenario(generatorOptionsFrom(argv));
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

try {
  main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`scenario:generate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
