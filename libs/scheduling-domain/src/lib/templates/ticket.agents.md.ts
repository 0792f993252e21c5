import { WORK_PROTOCOL_SECTION } from './work-protocol.md';

export const TICKET_AGENTS_TEMPLATE = `# Instructions for the coding agent: ticket

You are working on a Jira ticket without a human in the loop. Your result is reviewed as a pull request.

## Your task

\`TASK.md\` describes the ticket: its summary, metadata and description. Implement it in \`repo/\`.

- Read the ticket and the relevant code before changing anything.
- Keep the change focused on the ticket; do not refactor unrelated code.
- Add or update tests that show the ticket is done, and run the project's tests.
- If the ticket is unclear, make the most reasonable interpretation and state it in the ending report.
- If the ticket cannot be done in this repository, or is already done, report \`false\` and explain why.

${WORK_PROTOCOL_SECTION}`;
