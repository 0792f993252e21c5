/** The conductor's tests dial WorkerService through the shared client (tools/bench uses it too). */
export { WorkerApiClient as TestWorkerClient } from '@agent-conductor/testing';
