import { TicketFacts } from './types';

/**
 * The job's TASK.md. Built only from ticket facts, so it can hold nothing secret; everything here is
 * visible to the agent and may end up quoted in a pull request.
 */
export function renderTicketTask(ticket: TicketFacts): string {
  const summary = ticket.summary.replace(/\s+/g, ' ').trim();
  const lines = [summary === '' ? `# ${ticket.key}` : `# ${ticket.key}: ${summary}`, ''];

  const metadata: [string, string | null][] = [
    ['Project', ticket.projectKey],
    ['Type', ticket.issueType],
    ['Priority', ticket.priority],
    ['Labels', ticket.labels.length > 0 ? ticket.labels.join(', ') : null],
    ['Components', ticket.components.length > 0 ? ticket.components.join(', ') : null],
  ];
  const present = metadata.filter((entry): entry is [string, string] => entry[1] !== null && entry[1].trim() !== '');
  if (present.length > 0) {
    lines.push(...present.map(([label, value]) => `- **${label}:** ${value}`), '');
  }

  const description = ticket.description.trim();
  lines.push('## Description', '', description === '' ? '_No description was given; work from the summary._' : description);
  return `${lines.join('\n')}\n`;
}
