export * as workerV1 from './generated/agentconductor/worker/v1/worker';
export * as schedulerV1 from './generated/agentconductor/scheduler/v1/scheduler';
export * from './proto-files';
export * from './transfer';
export * from './earlier-work';
export * from './redaction';
export * from './pem';
export * from './agent-session';
