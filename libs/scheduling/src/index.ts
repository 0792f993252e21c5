export { SchedulingService } from './lib/scheduling.service';
export type { SchedulingConfig, SubmitOutcome, SubmittedMessage } from './lib/scheduling.service';
// Re-exported so callers configure and read results without reaching into two more libraries.
export { DEFAULT_FOLLOW_UP_POLICY, DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling-domain';
export type { FollowUpPolicy, IncidentPolicy } from '@agent-conductor/scheduling-domain';
export type { AlarmOutcome, FollowUpOutcome, RecordMessageResult, SpawnDecisionRecord, SpawnKind } from '@agent-conductor/db';
// The routing file format (ROUTING_FILE): read by the scheduler at boot and by replay's --routing.
export { absoluteRepository, jsonPath, loadRoutingFile, parseRoutingTable, RoutingFileError } from './lib/routing-file';
