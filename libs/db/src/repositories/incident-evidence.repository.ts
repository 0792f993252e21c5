import { asIncidentLogsQuery, type IncidentLogsQuery } from '@agent-conductor/scheduling-domain';
import { investigationAccessOf, type InvestigationAccess } from '@agent-conductor/scheduling-domain';
import { Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';

/** One distinct alarm of an incident, with when it first went to ALARM there. */
export interface IncidentEvidenceAlarm {
  name: string;
  /** Null on alarms whose message named no region: the conductor's own region is the best guess. */
  region: string | null;
  firstAlarmAt: Date;
}

/** What the evidence pack of an incident job is gathered for. */
export interface IncidentEvidenceTarget {
  incidentId: string;
  account: string;
  firstEventAt: Date;
  lastEventAt: Date;
  /** Distinct alarms in the order they first fired. */
  alarms: IncidentEvidenceAlarm[];
  /** The Logs Insights query of the incident's own account rule (incidents.incident_logs), or null. */
  logs: IncidentLogsQuery | null;
  /** The incident's own account rule's role (incidents.investigation): its evidence is read through it. Null: the conductor's own credentials. */
  investigation: InvestigationAccess | null;
}

/** Reads an incident job's alarms for the evidence pack gathered before each attempt. */
@Injectable()
export class IncidentEvidenceRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  /** The job's own incident (its account's, the first recorded), or null for a job without one. */
  async targetOfJob(jobId: string): Promise<IncidentEvidenceTarget | null> {
    return (await this.targetsOfJob(jobId))[0] ?? null;
  }

  /**
   * Every incident of the job, its own first and then those of other accounts of its routing group attached to it,
   * in the order they were recorded; each with its own account's logs query and investigation role.
   */
  async targetsOfJob(jobId: string): Promise<IncidentEvidenceTarget[]> {
    const incidents = await this.prisma.incident.findMany({
      where: { jobId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: { alarms: { where: { state: 'ALARM' }, orderBy: [{ eventTime: 'asc' }, { id: 'asc' }] } },
    });
    return incidents.map((incident) => {
      const alarms = new Map<string, IncidentEvidenceAlarm>();
      for (const alarm of incident.alarms) {
        // The same name in two regions is two alarms.
        const key = `${alarm.region ?? ''}\u0000${alarm.alarmName}`;
        if (!alarms.has(key)) alarms.set(key, { name: alarm.alarmName, region: alarm.region, firstAlarmAt: alarm.eventTime });
      }
      return {
        incidentId: incident.id,
        account: incident.account,
        firstEventAt: incident.firstEventAt,
        lastEventAt: incident.lastEventAt,
        alarms: [...alarms.values()],
        logs: asIncidentLogsQuery(incident.incidentLogs),
        investigation: investigationAccessOf(incident.investigation),
      };
    });
  }
}
