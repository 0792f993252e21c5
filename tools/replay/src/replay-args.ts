import { CliUsageError, numberOption, type CliOptions, type CliSpec, type ParsedCli } from '@agent-conductor/cli-args';
import { DEFAULT_CLAIM_MAX_ACTIVE_JOBS, DEFAULT_MAX_ACTIVE_JOBS } from '@agent-conductor/scheduling-domain';
import { DEFAULT_JOB_MINUTES, type SimulationSettings } from './simulate';

export const REPLAY_CLI = {
  name: 'replay',
  synopsis: 'npm run --silent replay -- <scenario.jsonl> [--routing FILE] [--simulate [--job-minutes M] [--max-active-jobs N] [--repo-max-active-jobs K]]',
  summary: "What-if scheduling: runs a scenario through the scheduler's own code against a fresh, throw-away database.",
  positionals: { names: '<scenario.jsonl>', min: 1, max: 1 },
  options: {
    simulate: { type: 'boolean', description: `add "repository" (claim key) and "startAt" to every decision: admission on the scenario's clock` },
    routing: { type: 'string', value: 'FILE', description: 'routes as in ROUTING_FILE (claims, incident groups included); default: one default repository' },
    'job-minutes': { type: 'string', value: 'M', description: `every job runs exactly M minutes (default ${DEFAULT_JOB_MINUTES})` },
    'max-active-jobs': { type: 'string', value: 'N', description: `MAX_ACTIVE_JOBS (default ${DEFAULT_MAX_ACTIVE_JOBS})` },
    'repo-max-active-jobs': { type: 'string', value: 'K', description: `REPO_MAX_ACTIVE_JOBS (default ${DEFAULT_CLAIM_MAX_ACTIVE_JOBS})` },
  },
  notes:
    'stdout: one JSON object per spawn decision and nothing else. stderr: rejections, malformed lines, a summary.\n' +
    'Exit 0 when the scenario ran (rejected lines included), 1 when it could not run, 2 on bad usage.',
} satisfies CliSpec<CliOptions>;

export interface ReplayArgs {
  file: string;
  /** --routing: the scenario is routed (and incident groups applied) as the scheduler would with this ROUTING_FILE. */
  routingFile?: string;
  /** Present with --simulate. */
  simulation?: SimulationSettings;
}

const SIMULATION_FLAGS = ['job-minutes', 'max-active-jobs', 'repo-max-active-jobs'] as const;

/** The replay command line, once parsed; throws CliUsageError saying what is wrong. */
export function replayArgs({ values, positionals }: ParsedCli<typeof REPLAY_CLI.options>): ReplayArgs {
  const file = positionals[0] ?? '';
  const routingFile = values.routing;
  const routed = routingFile !== undefined ? { routingFile } : {};
  if (!values.simulate) {
    const stray = SIMULATION_FLAGS.filter((flag) => values[flag] !== undefined);
    if (stray.length > 0) throw new CliUsageError(`${stray.map((flag) => `--${flag}`).join(' ')} only make${stray.length === 1 ? 's' : ''} sense with --simulate`);
    return { file, ...routed };
  }
  return {
    file,
    ...routed,
    simulation: {
      jobMinutes: numberOption(values['job-minutes'], 'job-minutes', { fallback: DEFAULT_JOB_MINUTES, above: 0 }),
      limits: {
        maxActiveJobs: numberOption(values['max-active-jobs'], 'max-active-jobs', { fallback: DEFAULT_MAX_ACTIVE_JOBS, whole: true, min: 1 }),
        claimMaxActiveJobs: numberOption(values['repo-max-active-jobs'], 'repo-max-active-jobs', { fallback: DEFAULT_CLAIM_MAX_ACTIVE_JOBS, whole: true, min: 1 }),
      },
    },
  };
}
