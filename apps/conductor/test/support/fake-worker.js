// A stand-in worker for durability tests: speaks the real WorkerService over gRPC with the
// credentials the conductor handed it, and misbehaves on request (argv[2] is the mode).
'use strict';
const { existsSync } = require('node:fs');
const { join, resolve } = require('node:path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const mode = process.argv[2] ?? 'complete';
const root = resolve(__dirname, '../../../../proto');
const definition = loader.loadSync('agentconductor/worker/v1/worker.proto', { keepCase: false, longs: Number, enums: Number, defaults: true, oneofs: true, includeDirs: [root] });
const Service = grpc.loadPackageDefinition(definition).agentconductor.worker.v1.WorkerService;
// The real worker's reconnect cap (apps/worker conductor-client.ts): without it a conductor that is down for a while
// makes grpc-js back off up to 120 s, and the adoption test waits out that backoff instead of testing the adoption.
const client = new Service(process.env.CONDUCTOR_GRPC_SERVER_ADDR, grpc.credentials.createInsecure(), {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 4000,
});
// The launch token buys one Handshake; its answer's session token is what every later call carries.
const credentials = { workerId: process.env.WORKER_ID, token: process.env.WORKER_TOKEN };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function call(method, request) {
  return new Promise((ok, fail) => client[method]({ credentials, ...request }, { deadline: Date.now() + 5000 }, (error, value) => (error ? fail(error) : ok(value))));
}

/** Like the real worker: retry while the conductor is UNAVAILABLE or CANCELLED (restarting). */
async function retrying(method, request) {
  for (let i = 0; ; i++) {
    try {
      return await call(method, request);
    } catch (error) {
      if ((error.code !== grpc.status.UNAVAILABLE && error.code !== grpc.status.CANCELLED) || i > 150) throw error;
      await sleep(200);
    }
  }
}

async function main() {
  const { sessionToken } = await retrying('handshake', { workerVersion: 'fake', hostname: 'fake' });
  credentials.token = sessionToken;
  if (mode === 'exit-after-handshake') process.exit(4);
  if (mode === 'report-error') {
    await retrying('reportAgentError', { stage: 'agent', message: 'the agent gave up' });
    process.exit(1);
  }
  if (mode === 'silent') {
    setInterval(() => undefined, 1000);
    return;
  }
  // complete: heartbeat until <WORK_DIR>/GO appears, then report success.
  const go = join(process.env.WORK_DIR ?? process.cwd(), 'GO');
  while (!existsSync(go)) {
    await call('heartbeat', { phase: 2 }).catch(() => undefined);
    await sleep(100);
  }
  await retrying('shutdown', { outcome: 1, result: { branch: 'feature/x', title: 'Done', report: 'ok' }, error: '' });
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`fake worker: ${error.message}\n`);
  process.exit(2);
});
