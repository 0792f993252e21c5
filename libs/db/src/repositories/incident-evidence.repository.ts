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
  /** The route's Logs Insights query stored on the job (jobs.incident_logs), or null. */
  logs: IncidentLogsQuery | null;
  /** The job's investigation role (jobs.investigation): the evidence is read through it. Null: the conductor's own credentials. */
  investigation: InvestigationAccess | null;
}

/** Reads an incident job's alarms for the evidence pack gathered before each attempt. */
@Injectable()
export class IncidentEvidenceRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  async targetOfJob(jobId: string): Promise<IncidentEvidenceTarget | null> {
    // The job's own incident (its account's); incidents of other accounts attached to it are not gathered yet.
    const incident = await this.prisma.incident.findFirst({
      where: { jobId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: {
        alarms: { where: { state: 'ALARM' }, orderBy: [{ eventTime: 'asc' }, { id: 'asc' }] },
        job: { select: { incidentLogs: true, investigation: true } },
      },
    });
    if (!incident) return null;
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
      logs: asIncidentLogsQuery(incident.job.incidentLogs),
      investigation: investigationAccessOf(incident.job.investigation),
    };
  }
}
