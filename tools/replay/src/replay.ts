import { classifyMessage } from '@agent-conductor/scheduling-domain';
import { parseScenarioLine } from './scenario';
import type { Scheduler } from './scheduler';
import { formatSimulationSummary, simulate, type SimulationInput, type SimulationSettings } from './simulate';

/** One spawn decision as replay prints it: one JSON object per line on stdout. */
export interface ReplayDecision {
  line: number;
  kind: 'ticket' | 'incident' | 'follow-up';
  key: string;
  jobId: string;
  /** A follow-up's thread: the job whose branch and pull request it continues (docs/follow-ups.md). */
  followUpOf?: string;
  incidentId?: string;
  alarmName?: string;
  /** With --simulate: the claim key the job is admitted under (its route's claim, else its repository). */
  repository?: string;
  /** With --simulate: when the job launches under the admission rules (ISO-8601); null if it never can. */
  startAt?: string | null;
  /**
   * True on the line of an ALARM whose new incident (`incidentId`, of account `key`) was attached to the pending job
   * `jobId` of another account of its routing group instead of spawning: not a new job.
   */
  attached?: true;
}

export interface ReplayOptions {
  /** Simulate admission: decisions are held back until the scenario ends, then printed with repository and startAt. */
  simulation?: SimulationSettings;
}

export interface ReplaySummary {
  /** Non-blank input lines. */
  lines: number;
  tickets: number;
  /** Jira ticket updates and comments, GitHub review events (follow-ups or not). */
  updates: number;
  alarms: number;
  rejected: number;
  duplicates: number;
  malformed: number;
  /** jobEnded lines applied. */
  jobEnds: number;
  decisions: number;
  /** Incidents attached to another account's job (incident groups). */
  attached: number;
  elapsedMs: number;
}

export interface ReplaySink {
  decision(decision: ReplayDecision): void;
  /** Human-readable notes: rejections and malformed lines. */
  note(text: string): void;
}

/** The alarm's AWS account (an attached incident's key). */
function keyOf(body: string): string {
  const classified = classifyMessage(body);
  return classified.classification === 'alarm' ? classified.alarm.account : '';
}

function alarmNameOf(body: string): string | undefined {
  // Classification is pure and cheap; re-running it here keeps the scheduler's result type free of display fields.
  const classified = classifyMessage(body);
  return classified.classification === 'alarm' ? classified.alarm.alarmName : undefined;
}

/**
 * Feeds scenario lines, in order, through the scheduler with each line's
 * receivedAt as the clock. Lines are submitted one at a time: decisions can
 * depend on everything before them, and a replay must be reproducible.
 */
export async function replayLines(
  lines: AsyncIterable<string> | Iterable<string>,
  scheduler: Scheduler,
  sink: ReplaySink,
  options: ReplayOptions = {},
): Promise<ReplaySummary> {
  const started = performance.now();
  // A start depends on every decision after it (an incident overtakes the queue), so simulated lines wait for the end.
  const held: Array<{ decision: ReplayDecision; input: SimulationInput }> = [];
  // Attached incidents add no job: with --simulate they are printed at the end with their shared job's start.
  const heldAttached: ReplayDecision[] = [];
  const summary: ReplaySummary = { lines: 0, tickets: 0, updates: 0, jobEnds: 0, alarms: 0, rejected: 0, duplicates: 0, malformed: 0, decisions: 0, attached: 0, elapsedMs: 0 };
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    const parsed = parseScenarioLine(text);
    if (parsed.kind === 'blank') continue;
    summary.lines += 1;
    if (parsed.kind === 'malformed') {
      summary.malformed += 1;
      sink.note(`line ${lineNumber}: malformed scenario line, skipped: ${parsed.reason}`);
      continue;
    }
    if (parsed.kind === 'job-end') {
      const ended = await scheduler.endJob(parsed.end, parsed.at);
      if (ended === null) sink.note(`line ${lineNumber}: jobEnded: ${parsed.end.key} has no job that has not ended; skipped`);
      else summary.jobEnds += 1;
      continue;
    }
    const { message, receivedAt } = parsed;
    const result = await scheduler.submit({ messageId: message.messageId, body: message.body, receivedAt });
    if (result.duplicate) {
      // A redelivery reports the first delivery's decisions again; they were printed then.
      summary.duplicates += 1;
      continue;
    }
    if (result.classification === 'ticket') summary.tickets += 1;
    if (result.classification === 'alarm') summary.alarms += 1;
    if (result.classification === 'update') {
      summary.updates += 1;
      if (result.rejectionReason !== null) sink.note(`line ${lineNumber}: update recorded (message ${message.messageId}): ${result.rejectionReason}`);
      if (result.followUp?.outcome === 'batched') sink.note(`line ${lineNumber}: batched into follow-up job ${result.followUp.jobId}`);
    }
    if (result.classification === 'rejected') {
      summary.rejected += 1;
      sink.note(`line ${lineNumber}: rejected (message ${message.messageId}): ${result.rejectionReason ?? 'no reason given'}`);
    }
    if (result.alarm?.outcome === 'attached' && result.alarm.jobId !== undefined) {
      summary.attached += 1;
      const attached: ReplayDecision = { line: lineNumber, kind: 'incident', key: keyOf(message.body), jobId: result.alarm.jobId, attached: true };
      if (result.alarm.incidentId !== null) attached.incidentId = result.alarm.incidentId;
      const alarmName = alarmNameOf(message.body);
      if (alarmName !== undefined) attached.alarmName = alarmName;
      if (options.simulation) heldAttached.push(attached);
      else sink.decision(attached);
    }
    for (const decision of result.decisions) {
      summary.decisions += 1;
      const printed: ReplayDecision = { line: lineNumber, kind: decision.kind, key: decision.key, jobId: decision.jobId };
      if (decision.kind === 'follow-up' && result.followUp) printed.followUpOf = result.followUp.threadJobId;
      if (decision.kind === 'incident') {
        if (decision.incidentId !== undefined) printed.incidentId = decision.incidentId;
        const alarmName = alarmNameOf(message.body);
        if (alarmName !== undefined) printed.alarmName = alarmName;
      }
      if (options.simulation) {
        // A follow-up keeps its first job's kind and claim, which its message does not say: read them off its row.
        const { kind, claim, claimLimit, followUpOf } =
          decision.kind === 'follow-up' ? await scheduler.storedClaim(decision.jobId) : { kind: decision.kind, ...scheduler.claimFor(message.body), followUpOf: null };
        held.push({ decision: printed, input: { jobId: decision.jobId, kind, claim, claimLimit, followUpOf, decidedAt: receivedAt, line: lineNumber } });
      } else {
        sink.decision(printed);
      }
    }
  }
  if (options.simulation) {
    const inputs = held.map((entry) => entry.input);
    const outcomes = simulate(inputs, options.simulation);
    const printed = held.map(({ decision }, index) => {
      const outcome = outcomes[index];
      return { ...decision, repository: outcome?.claim ?? '', startAt: outcome?.startAt?.toISOString() ?? null };
    });
    const byJob = new Map(printed.map((decision) => [decision.jobId, decision]));
    const attached = heldAttached.map((decision) => {
      const job = byJob.get(decision.jobId);
      return { ...decision, repository: job?.repository ?? '', startAt: job?.startAt ?? null };
    });
    // In line order, as without --simulate.
    [...printed, ...attached].sort((a, b) => a.line - b.line).forEach((decision) => sink.decision(decision));
    sink.note(formatSimulationSummary(inputs, outcomes, options.simulation, new Map(held.map(({ decision }) => [decision.jobId, `${decision.kind} ${decision.key}`]))));
  }
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

export function formatSummary(summary: ReplaySummary): string {
  const rate = summary.elapsedMs > 0 ? Math.round((summary.lines * 1000) / summary.elapsedMs) : summary.lines;
  return (
    `replay: ${summary.lines} lines (${summary.tickets} tickets, ${summary.updates} updates, ${summary.alarms} alarms, ${summary.rejected} rejected, ` +
    `${summary.duplicates} duplicates, ${summary.malformed} malformed, ${summary.jobEnds} job ends) -> ${summary.decisions} decisions` +
    `${summary.attached > 0 ? ` (+${summary.attached} incidents attached to another account's job)` : ''} in ${summary.elapsedMs} ms (${rate} lines/s)`
  );
}
