import { INCIDENT_AGENTS_TEMPLATE } from './templates/incident.agents.md';
import { TICKET_AGENTS_TEMPLATE } from './templates/ticket.agents.md';
import { JobKind } from './types';

/** The AGENTS.md placed in the worker's task archive for a job of this kind. */
export function renderAgentsFile(kind: JobKind): string {
  switch (kind) {
    case 'ticket':
      return TICKET_AGENTS_TEMPLATE;
    case 'incident':
      return INCIDENT_AGENTS_TEMPLATE;
    default: {
      // Kinds are read back from the database as strings; an unknown one is a bug upstream, not a default.
      const unknownKind: never = kind;
      throw new Error(`no AGENTS.md template for job kind "${String(unknownKind)}"`);
    }
  }
}
