import { PROTO_LOADER_OPTIONS, protoRoot, WORKER_PROTO_FILE, WORKER_PROTO_PACKAGE, type workerV1 } from '@agent-conductor/contracts';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConductorClient } from '../src/conductor/conductor-client';
import { parseWorkerEnv } from '../src/config/env.validators';
import { conductorLostExitMsFromEnv } from '../src/heartbeat/conductor-lost';
import { HeartbeatService } from '../src/heartbeat/heartbeat.service';

const SESSION_TOKEN = 'session-token-1';

/** A real gRPC server with only Handshake and Heartbeat, answering heartbeats as the test says. */
async function heartbeatServer(answer: () => status | null): Promise<{ server: Server; address: string; beats: () => number }> {
  const definition = loadSync(WORKER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const service = definition[`${WORKER_PROTO_PACKAGE}.WorkerService`] as ServiceDefinition;
  const server = new Server();
  let beats = 0;
  server.addService(service, {
    // Only to hand out the session token heartbeats carry.
    Handshake: (_call: ServerUnaryCall<workerV1.HandshakeRequest, workerV1.HandshakeResponse>, callback: sendUnaryData<Partial<workerV1.HandshakeResponse>>) => {
      callback(null, { sessionToken: SESSION_TOKEN });
    },
    Heartbeat: (call: ServerUnaryCall<workerV1.HeartbeatRequest, workerV1.HeartbeatResponse>, callback: sendUnaryData<workerV1.HeartbeatResponse>) => {
      if (call.request.credentials?.token !== SESSION_TOKEN) return callback({ code: status.UNAUTHENTICATED, details: 'not the session token' }, null);
      beats += 1;
      const code = answer();
      if (code === null) callback(null, { stopRequested: false });
      else callback({ code, details: 'worker has ended' }, null);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}`, beats: () => beats };
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a worker that loses its conductor', () => {
  const previous = process.env['CONDUCTOR_LOST_EXIT_MS'];
  let heartbeat: HeartbeatService | undefined;
  let client: ConductorClient | undefined;

  afterEach(() => {
    heartbeat?.stop();
    client?.onModuleDestroy();
    if (previous === undefined) delete process.env['CONDUCTOR_LOST_EXIT_MS'];
    else process.env['CONDUCTOR_LOST_EXIT_MS'] = previous;
  });

  async function worker(address: string, lostExitMs: number): Promise<{ workDir: string; lost: string[] }> {
    process.env['CONDUCTOR_LOST_EXIT_MS'] = String(lostExitMs);
    const workDir = await mkdtemp(join(tmpdir(), 'conductor-lost-'));
    await writeFile(join(workDir, 'notes.md'), 'half done\n');
    const config = parseWorkerEnv({ WORKER_ID: 'w-1', WORKER_TOKEN: 'secret-token', CONDUCTOR_GRPC_SERVER_ADDR: address, WORK_DIR: workDir, AGENT_COMMAND: 'true' });
    client = new ConductorClient(config);
    await client.handshake({ workerVersion: 'test', hostname: 'test' });
    const lost: string[] = [];
    heartbeat = new HeartbeatService(client, config, (reason) => lost.push(reason));
    heartbeat.start(50);
    return { workDir, lost };
  }

  it('reads CONDUCTOR_LOST_EXIT_MS, ten minutes by default, and refuses nonsense', () => {
    expect(conductorLostExitMsFromEnv({})).toBe(600_000);
    expect(conductorLostExitMsFromEnv({ CONDUCTOR_LOST_EXIT_MS: '2500' })).toBe(2500);
    expect(() => conductorLostExitMsFromEnv({ CONDUCTOR_LOST_EXIT_MS: 'soon' })).toThrow(/CONDUCTOR_LOST_EXIT_MS/);
  });

  it('keeps working through a short outage, then saves its work dir and gives up after CONDUCTOR_LOST_EXIT_MS', async () => {
    const conductor = await heartbeatServer(() => null);
    const { workDir, lost } = await worker(conductor.address, 800);
    await until('a heartbeat', () => conductor.beats() > 0);
    conductor.server.forceShutdown();
    const gone = Date.now();
    await until('the worker to give up', () => lost.length > 0);
    expect(Date.now() - gone).toBeGreaterThanOrEqual(700);
    expect(lost[0]).toMatch(/^no answer from the conductor for \d+ ms \(CONDUCTOR_LOST_EXIT_MS=800\)$/);
    const saved = (await readdir(join(workDir, '..'))).filter((name) => name.startsWith(`${workDir.split('/').pop() ?? ''}.salvage-`));
    expect(saved).toHaveLength(1);
    expect(existsSync(join(workDir, '..', saved[0] ?? ''))).toBe(true);
  });

  it('gives up at once when the conductor says it ended this worker', async () => {
    let ended = false;
    const conductor = await heartbeatServer(() => (ended ? status.FAILED_PRECONDITION : null));
    const { lost } = await worker(conductor.address, 600_000);
    await until('a heartbeat', () => conductor.beats() > 0);
    ended = true;
    await until('the worker to give up', () => lost.length > 0);
    expect(lost[0]).toMatch(/^the conductor no longer knows this worker/);
    conductor.server.forceShutdown();
  });
});
