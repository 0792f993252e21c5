/**
 * Operator actions on a job, as the console's buttons do them, recorded with the actor `cli:<os user>`.
 *
 *   npm run jobs -- cancel <jobId> [--reason TEXT]
 *   npm run jobs -- rerun|approve|reject <jobId> [--reason TEXT] [--json]
 */
import { CliUsageError, startCli, type CliOptions, type CliSpec, type ParsedCli } from '@agent-conductor/cli-args';
import { createPrismaClient, JobActionRepository, type JobActionResult } from '@agent-conductor/db';
import { JOB_ACTIONS, type JobActionName } from '@agent-conductor/scheduling-domain';
import { userInfo } from 'node:os';
import { DEV_DATABASE_URL } from './dev-defaults';

const MAX_REASON_CHARS = 1000;

const CLI = {
  name: 'jobs',
  synopsis: `npm run jobs -- <${JOB_ACTIONS.join('|')}> <jobId> [--reason TEXT] [--json]`,
  summary: `Acts on one job and records who did it (cli:<your os user>), like the console's buttons:
  cancel   a waiting job ends now; a running one is asked to stop (the conductor kills it after CANCEL_GRACE_SECONDS)
  rerun    an ended job (succeeded, failed, cancelled) becomes a new pending job linked to it
  approve  a job awaiting approval may start
  reject   a job awaiting approval ends cancelled`,
  // The action and the job id are checked in readArguments, which names what is missing.
  positionals: { names: '<action> <jobId>', min: 0, max: 2 },
  options: {
    reason: { type: 'string', value: 'TEXT', description: `why, stored with the action (at most ${MAX_REASON_CHARS} characters)` },
    json: { type: 'boolean', description: 'print the outcome as one JSON document' },
  },
  notes: `A running conductor picks up an approved job or a re-run at its next pending sweep (PENDING_SWEEP_INTERVAL_MS).
DATABASE_URL selects the database (default: the dev stack's).
Exit 0: done, or nothing to do (already so); 1: refused by the job's state, or no such job; 2: a bad argument.`,
} satisfies CliSpec<CliOptions>;

function actionOf(value: string | undefined): JobActionName {
  const action = JOB_ACTIONS.find((candidate) => candidate === value);
  if (action === undefined) throw new CliUsageError(value === undefined ? 'missing the action and the job id' : `unknown action ${value}`);
  return action;
}

export function describeOutcome(action: JobActionName, jobId: string, result: JobActionResult): string {
  switch (result.outcome) {
    case 'not-found':
      return `job ${jobId} not found`;
    case 'refused':
      return result.message;
    case 'unchanged':
      return `job ${jobId}: nothing to do (${result.note})`;
    case 'applied':
      if (result.rerun) return `job ${jobId}: re-run as job ${result.rerun.id} (pending)`;
      if (action === 'cancel' && result.job.status !== 'cancelled') {
        return `job ${jobId}: stop requested; it ends cancelled once its worker stops (the conductor kills it after CANCEL_GRACE_SECONDS)`;
      }
      return `job ${jobId}: ${result.job.status}${result.job.approval === 'none' ? '' : `, approval ${result.job.approval}`}`;
  }
}

interface JobsArguments {
  action: JobActionName;
  jobId: string;
  reason: string | undefined;
  json: boolean;
}

function readArguments({ values, positionals }: ParsedCli<typeof CLI.options>): JobsArguments {
  const action = actionOf(positionals[0]);
  const jobId = positionals[1];
  if (jobId === undefined) throw new CliUsageError(`${action} needs a job id`);
  const reason = values.reason?.trim();
  if (reason !== undefined && (reason === '' || reason.length > MAX_REASON_CHARS)) {
    throw new CliUsageError(`--reason must hold 1 to ${MAX_REASON_CHARS} characters`);
  }
  return { action, jobId, reason, json: values.json === true };
}

async function main({ action, jobId, reason, json }: JobsArguments): Promise<number> {
  const prisma = createPrismaClient(process.env['DATABASE_URL'] ?? DEV_DATABASE_URL);
  try {
    const actor = `cli:${userInfo().username}`;
    const result = await new JobActionRepository(prisma).apply(action, { jobId, actor, ...(reason !== undefined ? { reason } : {}) });
    const ok = result.outcome === 'applied' || result.outcome === 'unchanged';
    if (json) process.stdout.write(`${JSON.stringify({ action, jobId, actor, ...result })}\n`);
    else (ok ? process.stdout : process.stderr).write(`${describeOutcome(action, jobId, result)}\n`);
    return ok ? 0 : 1;
  } finally {
    await prisma.$disconnect();
  }
}

main(startCli(CLI, readArguments)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`jobs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
