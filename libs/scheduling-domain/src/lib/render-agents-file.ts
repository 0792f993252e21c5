import { INCIDENT_AGENTS_TEMPLATE } from './templates/incident.agents.md';
import { multiRepositorySection } from './templates/multi-repository.md';
import { TICKET_AGENTS_TEMPLATE } from './templates/ticket.agents.md';
import { JobKind } from './types';

/**
 * The AGENTS.md placed in the worker's task archive for a job of this kind; `repositoryNames` (jobs.repositories,
 * in order) adds the multi-repository layout when the job has any.
 */
export function renderAgentsFile(kind: JobKind, repositoryNames: readonly string[] = []): string {
  const layout = repositoryNames.length > 0 ? multiRepositorySection(repositoryNames) : '';
  switch (kind) {
    case 'ticket':
      return `${TICKET_AGENTS_TEMPLATE}${layout}`;
    case 'incident':
      return `${INCIDENT_AGENTS_TEMPLATE}${layout}`;
    default: {
      // Kinds are read back from the database as strings; an unknown one is a bug upstream, not a default.
      const unknownKind: never = kind;
      throw new Error(`no AGENTS.md template for job kind "${String(unknownKind)}"`);
    }
  }
}
