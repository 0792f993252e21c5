// Where the dev stack (tools/dev-stack) listens; the apps use the same defaults.
export const DEV_SQS_ENDPOINT = 'http://127.0.0.1:9324';
export const DEV_QUEUE_URL = `${DEV_SQS_ENDPOINT}/000000000000/agent-conductor-intake`;
export const DEV_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor';
