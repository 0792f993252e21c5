import { IncidentGroupInput, IngestRepository, RecordMessageResult } from '@agent-conductor/db';
import {
  claimOf,
  classifyMessage,
  ClassifiedMessage,
  defaultRoutingTable,
  escapeNul,
  FollowUpPolicy,
  followUpPolicyProblems,
  incidentGroupOf,
  IncidentPolicy,
  incidentPolicyProblems,
  orderingKey,
  orderingLanes,
  renderTicketTask,
  incidentLogsFor,
  type IncidentLogsQuery,
  IncidentJobRoute,
  routeIncident,
  routeTicket,
  RoutingTable,
  routingTableProblems,
  ticketOfMessage,
} from '@agent-conductor/scheduling-domain';

export interface SchedulingConfig {
  /** The default route's repository when there is no routing table (DEFAULT_REPOSITORY_URL). */
  defaultRepositoryUrl: string;
  /** The default route's branch when there is no routing table (DEFAULT_REPOSITORY_BRANCH); default `main`. */
  defaultRepositoryBranch?: string;
  /** How alarms chain into incidents (window, cap). */
  incidentPolicy: IncidentPolicy;
  /**
   * Which repository (branch, sparse paths, worker task definition) each job works on: ticket rules, incident
   * rules by AWS account, and a default (ROUTING_FILE). Absent: every job takes the default route built from
   * defaultRepositoryUrl and defaultRepositoryBranch.
   */
  routing?: RoutingTable;
  /**
   * Follow-ups (docs/follow-ups.md): the mention that addresses the agent (FOLLOW_UP_MENTION) and the logins the system
   * posts as (FOLLOW_UP_SYSTEM_LOGINS). Absent: DEFAULT_FOLLOW_UP_POLICY (`@agent`, no logins).
   */
  followUpPolicy?: FollowUpPolicy;
}

export interface SubmittedMessage {
  /** The SQS message id: the idempotency key. */
  messageId: string;
  /** The raw queue body, exactly as delivered. */
  body: string;
  /** When the queue delivered it. The scheduler's only clock: alarms are timed by their own event time. */
  receivedAt: Date;
}

/**
 * One message's outcome in {@link SchedulingService.submitMany}: its result, or why it was not recorded, and how long
 * its decision took (classify, render and its transaction, without the wait for its lane).
 */
export type SubmitOutcome = { ok: true; result: RecordMessageResult; seconds: number } | { ok: false; error: unknown; seconds: number };

/**
 * Ingestion and scheduling: the one code path that both the scheduler service and the replay tool run, so that
 * what-if replays decide exactly as production does. No Nest here: tools construct it directly with
 * `new SchedulingService(new IngestRepository({ databaseUrl }), config)` (and close the repository when done).
 */
export class SchedulingService {
  private readonly config: Readonly<SchedulingConfig>;
  private readonly routing: RoutingTable;
  /** Each incident group's accounts, in routing-file order. */
  private readonly groups = new Map<string, string[]>();

  constructor(
    private readonly ingest: IngestRepository,
    config: SchedulingConfig,
  ) {
    const problems = [...incidentPolicyProblems(config.incidentPolicy), ...(config.followUpPolicy ? followUpPolicyProblems(config.followUpPolicy) : [])];
    if (config.defaultRepositoryUrl.trim() === '' && config.routing === undefined) {
      problems.push('defaultRepositoryUrl is empty');
    }
    const routing = config.routing ?? defaultRoutingTable(config.defaultRepositoryUrl, config.defaultRepositoryBranch);
    problems.push(...routingTableProblems(routing).map((problem) => `routing ${problem}`));
    if (problems.length > 0) {
      throw new Error(`SchedulingService: ${problems.join('; ')}`);
    }
    // A deep copy: the table is read on every message, and no caller may change routes under a running service.
    this.routing = structuredClone(routing);
    for (const rule of this.routing.incidents) {
      if (rule.group === undefined) continue;
      this.groups.set(rule.group, [...(this.groups.get(rule.group) ?? []), rule.account]);
    }
    this.config = Object.freeze({
      ...config,
      incidentPolicy: Object.freeze({ ...config.incidentPolicy }),
      ...(config.followUpPolicy ? { followUpPolicy: Object.freeze({ ...config.followUpPolicy, systemLogins: Object.freeze([...config.followUpPolicy.systemLogins]) }) } : {}),
    });
  }

  /**
   * The route a classified message's job would take (the default route for a rejected message, which spawns none,
   * and for a comment: its follow-up copies the route of the job it follows up).
   */
  routeFor(classified: ClassifiedMessage): IncidentJobRoute {
    const ticket = ticketOfMessage(classified);
    if (ticket !== null) return routeTicket(ticket, this.routing);
    if (classified.classification === 'alarm') return routeIncident(classified.alarm.account, this.routing);
    return structuredClone(this.routing.default);
  }

  private incidentLogsFor(classified: ClassifiedMessage): { incidentLogs?: IncidentLogsQuery } {
    const logs = classified.classification === 'alarm' ? incidentLogsFor(classified.alarm.account, this.routing) : null;
    return logs ? { incidentLogs: logs } : {};
  }

  /** Classify → render TASK.md → persist and decide, in one transaction. Redelivery of a message id is a no-op. */
  async submit(message: SubmittedMessage): Promise<RecordMessageResult> {
    return this.record(message, this.classify(message));
  }

  /**
   * Several messages, each in its own transaction, with an outcome each in input order: a message that fails (bad
   * input, a refused statement) fails alone, and its neighbours neither wait for it nor roll back with it. Messages
   * of one account or ticket key are decided one after another in input order, as one consumer would take them, so
   * the incident rules see them in arrival order; the other lanes run at the same time.
   */
  async submitMany(messages: readonly SubmittedMessage[]): Promise<SubmitOutcome[]> {
    const outcomes = new Array<SubmitOutcome>(messages.length);
    const classifySeconds: number[] = [];
    const classified = messages.map((message, position): ClassifiedMessage | undefined => {
      const started = performance.now();
      try {
        return this.classify(message);
      } catch (error) {
        outcomes[position] = { ok: false, error, seconds: (performance.now() - started) / 1000 };
        return undefined;
      } finally {
        classifySeconds[position] = (performance.now() - started) / 1000;
      }
    });
    const groupOf = (account: string): string | undefined => incidentGroupOf(account, this.routing);
    const keys = classified.map((one) => (one === undefined ? undefined : orderingKey(one, groupOf)));
    await Promise.all(
      orderingLanes(keys).map(async (lane) => {
        for (const position of lane) {
          const message = messages[position];
          const classification = classified[position];
          if (message === undefined || classification === undefined) continue;
          const started = performance.now();
          const seconds = (): number => (classifySeconds[position] ?? 0) + (performance.now() - started) / 1000;
          try {
            const result = await this.record(message, classification);
            outcomes[position] = { ok: true, result, seconds: seconds() };
          } catch (error) {
            outcomes[position] = { ok: false, error, seconds: seconds() };
          }
        }
      }),
    );
    return outcomes;
  }

  private classify(message: SubmittedMessage): ClassifiedMessage {
    if (message.messageId.trim() === '') {
      throw new Error('SchedulingService.submit: messageId is empty');
    }
    if (Number.isNaN(message.receivedAt.getTime())) {
      throw new Error(`SchedulingService.submit: receivedAt of ${message.messageId} is not a valid date`);
    }
    return classifyMessage(message.body, message.receivedAt);
  }

  /** The alarm's incident group and its accounts, when its route has one. */
  private incidentGroupFor(classified: ClassifiedMessage): IncidentGroupInput | undefined {
    if (classified.classification !== 'alarm') return undefined;
    const name = incidentGroupOf(classified.alarm.account, this.routing);
    return name === undefined ? undefined : { name, accounts: [...(this.groups.get(name) ?? [])] };
  }

  private record(message: SubmittedMessage, classified: ClassifiedMessage): Promise<RecordMessageResult> {
    const route = this.routeFor(classified);
    const ticket = ticketOfMessage(classified);
    const incidentGroup = this.incidentGroupFor(classified);
    return this.ingest.recordMessage({
      sqsMessageId: message.messageId,
      receivedAt: message.receivedAt,
      // A body with a raw NUL is rejected by the classifier, whose reason says it is stored escaped.
      body: escapeNul(message.body),
      classified,
      repository: route.repository,
      branch: route.branch,
      sparsePaths: route.sparsePaths,
      ...(route.workerTaskDefinition !== undefined ? { workerTaskDefinition: route.workerTaskDefinition } : {}),
      claim: claimOf(route),
      ...(route.maxActive !== undefined ? { claimLimit: route.maxActive } : {}),
      ...(route.maxTokens !== undefined ? { maxTokens: route.maxTokens } : {}),
      ...(route.approval === 'required' ? { approvalRequired: true } : {}),
      ...(route.jiraTransition !== undefined ? { jiraTransition: route.jiraTransition } : {}),
      ...this.incidentLogsFor(classified),
      ...(route.investigation !== undefined ? { investigation: route.investigation } : {}),
      taskMarkdown: ticket !== null ? renderTicketTask(ticket) : undefined,
      incidentPolicy: this.config.incidentPolicy,
      ...(this.config.followUpPolicy ? { followUpPolicy: this.config.followUpPolicy } : {}),
      ...(route.repositories !== undefined ? { repositories: route.repositories } : {}),
      ...(incidentGroup !== undefined ? { incidentGroup } : {}),
    });
  }
}
