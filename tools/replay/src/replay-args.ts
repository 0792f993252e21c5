import { DEFAULT_CLAIM_MAX_ACTIVE_JOBS, DEFAULT_MAX_ACTIVE_JOBS } from '@agent-conductor/scheduling-domain';
import { numberFlag } from './args';
import { DEFAULT_JOB_MINUTES, type SimulationSettings } from './simulate';

export const REPLAY_USAGE =
  'usage: npm run --silent replay -- <scenario.jsonl> [--simulate [--routing FILE] [--job-minutes M] [--max-active-jobs N] [--repo-max-active-jobs K]]\n' +
  `  --simulate                  add "repository" (claim key) and "startAt" to every decision: admission on the scenario's clock\n` +
  '  --routing FILE              routes as in ROUTING_FILE (claim, maxActive included); default: one default repository\n' +
  `  --job-minutes M             every job runs exactly M minutes (default ${DEFAULT_JOB_MINUTES})\n` +
  `  --max-active-jobs N         MAX_ACTIVE_JOBS (default ${DEFAULT_MAX_ACTIVE_JOBS})\n` +
  `  --repo-max-active-jobs K    REPO_MAX_ACTIVE_JOBS (default ${DEFAULT_CLAIM_MAX_ACTIVE_JOBS})\n`;

export interface ReplayArgs {
  file: string;
  /** Present with --simulate. */
  simulation?: SimulationSettings & { routingFile?: string };
}

export class ReplayUsageError extends Error {
  override readonly name = 'ReplayUsageError';
}

const VALUE_FLAGS = ['routing', 'job-minutes', 'max-active-jobs', 'repo-max-active-jobs'] as const;
const isWholeAtLeastOne = (value: number): boolean => Number.isInteger(value) && value >= 1;

/** The replay command line; 'help' for -h/--help. Throws ReplayUsageError saying what is wrong. */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs | 'help' {
  const args = argv.filter((argument) => argument !== '--');
  if (args.includes('--help') || args.includes('-h')) return 'help';
  const files: string[] = [];
  const flags = new Map<string, string>();
  let simulate = false;
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index] ?? '';
    if (argument === '--simulate') {
      simulate = true;
      continue;
    }
    if (!argument.startsWith('--')) {
      files.push(argument);
      continue;
    }
    const name = argument.slice(2);
    if (!(VALUE_FLAGS as readonly string[]).includes(name)) {
      throw new ReplayUsageError(`unknown argument ${argument} (known: --simulate ${VALUE_FLAGS.map((flag) => `--${flag}`).join(' ')})`);
    }
    const value = args[index + 1];
    if (value === undefined || value.startsWith('--')) throw new ReplayUsageError(`${argument} needs a value`);
    if (flags.has(name)) throw new ReplayUsageError(`${argument} is given twice`);
    flags.set(name, value);
    index += 1;
  }
  if (files.length !== 1) throw new ReplayUsageError(files.length === 0 ? 'no scenario file given' : `one scenario file at a time, got ${files.length}: ${files.join(' ')}`);
  const file = files[0] ?? '';
  if (!simulate) {
    const stray = [...flags.keys()];
    if (stray.length > 0) throw new ReplayUsageError(`${stray.map((flag) => `--${flag}`).join(' ')} only make${stray.length === 1 ? 's' : ''} sense with --simulate`);
    return { file };
  }
  try {
    const routingFile = flags.get('routing');
    return {
      file,
      simulation: {
        jobMinutes: numberFlag(flags, 'job-minutes', DEFAULT_JOB_MINUTES, (value) => value > 0),
        limits: {
          maxActiveJobs: numberFlag(flags, 'max-active-jobs', DEFAULT_MAX_ACTIVE_JOBS, isWholeAtLeastOne),
          claimMaxActiveJobs: numberFlag(flags, 'repo-max-active-jobs', DEFAULT_CLAIM_MAX_ACTIVE_JOBS, isWholeAtLeastOne),
        },
        ...(routingFile !== undefined ? { routingFile } : {}),
      },
    };
  } catch (error) {
    throw new ReplayUsageError(error instanceof Error ? error.message : String(error));
  }
}
