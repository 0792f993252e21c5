/**
 * The line that makes a comment recognisable as the report of one (job, attempt): after a call whose answer was
 * lost (a timeout after Jira stored the comment), the delivery finds it among the comments instead of
 * posting a second one.
 */
export function jiraReportMarker(jobId: string, attempt: number): string {
  return `agent-conductor report: job ${jobId} attempt ${attempt}`;
}

export interface EndedTicketJob {
  id: string;
  key: string;
  status: 'succeeded' | 'failed';
  error: string | null;
  result: { pullRequest?: string; report?: string; summary?: string } | null;
}

/**
 * What is posted when a ticket job ends: the pull request and the ending report's summary, or the failure reason and
 * the failure issue. Agent-written text goes through `redact` (the shared redactor): a token it echoed must not reach Jira.
 */
export function jiraReportText(job: EndedTicketJob, attempt: number, redact: (text: string) => string): string {
  const lines: string[] = [];
  if (job.status === 'succeeded') {
    lines.push(`Agent Conductor finished ${job.key}.`);
    lines.push(job.result?.pullRequest ? `Pull request: ${job.result.pullRequest}` : 'No pull request was opened.');
    if (job.result?.summary) lines.push('', 'Summary:', ...redact(job.result.summary).split('\n'));
  } else {
    lines.push(`Agent Conductor could not finish ${job.key}.`);
    lines.push(`Reason: ${redact(job.error ?? 'no reason was recorded')}`);
    if (job.result?.report) lines.push(`Failure report: ${job.result.report}`);
  }
  lines.push('', jiraReportMarker(job.id, attempt));
  return lines.join('\n');
}
