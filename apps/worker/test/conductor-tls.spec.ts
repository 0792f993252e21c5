import { ServerCredentials } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConductorClient } from '../src/conductor/conductor-client';
import { parseWorkerEnv, WorkerConfigError } from '../src/config/env.validators';
import { FakeConductor } from './support/fake-conductor';

const MAKE_CERTS = resolve(__dirname, '../../../tools/tls/make-dev-certs.sh');
const TOKEN = 'launch-token';
const WORKER_ID = 'w-tls';

describe('the worker dials a TLS conductor', () => {
  let certs: string;
  let scratch: string;
  let conductor: FakeConductor | undefined;
  let client: ConductorClient | undefined;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'worker-tls-'));
    certs = join(scratch, 'certs');
    // Real certificates from openssl, made for this run.
    execFileSync('bash', [MAKE_CERTS, certs], { stdio: 'pipe' });
  });

  afterEach(async () => {
    client?.onModuleDestroy();
    client = undefined;
    await conductor?.stop();
    conductor = undefined;
  });

  async function tlsConductor(): Promise<FakeConductor> {
    const taskDir = join(scratch, 'task');
    await mkdir(taskDir, { recursive: true });
    await writeFile(join(taskDir, 'TASK.md'), '# Task\n');
    const serverCredentials = ServerCredentials.createSsl(null, [
      { cert_chain: await readFile(join(certs, 'server.pem')), private_key: await readFile(join(certs, 'server.key')) },
    ]);
    conductor = await new FakeConductor({
      workerId: WORKER_ID,
      token: TOKEN,
      taskDir,
      scratchDir: await mkdtemp(join(scratch, 'fake-')),
      repository: { cloneUrl: 'file:///nowhere.git', defaultBranch: 'main', sparsePaths: [], name: 'nowhere' },
      serverCredentials,
    }).start();
    return conductor;
  }

  function workerClient(address: string, tls: Record<string, string>): ConductorClient {
    const config = parseWorkerEnv({
      WORKER_ID,
      WORKER_TOKEN: TOKEN,
      CONDUCTOR_GRPC_SERVER_ADDR: address,
      WORK_DIR: scratch,
      AGENT_COMMAND: 'true',
      // A wrong CA must fail fast rather than be retried for the default ten minutes.
      CONDUCTOR_RETRY_WINDOW_MS: '1500',
      ...tls,
    });
    client = new ConductorClient(config);
    return client;
  }

  it('handshakes with CONDUCTOR_TLS_CA naming the CA that signed the conductor', async () => {
    const { address } = await tlsConductor();
    const response = await workerClient(address, { CONDUCTOR_TLS_CA: join(certs, 'ca.pem') }).handshake({ workerVersion: 'test', hostname: 'tls' });
    expect(response.sessionToken).toBe(conductor?.sessionToken);
  });

  it('takes the CA as a PEM value and a server name override for a certificate issued to another name', async () => {
    const { address } = await tlsConductor();
    const ca = (await readFile(join(certs, 'ca.pem'), 'utf8')).replace(/\n/g, '\\n');
    const response = await workerClient(address, { CONDUCTOR_TLS_CA: ca, CONDUCTOR_TLS_SERVER_NAME: 'conductor.internal' }).handshake({
      workerVersion: 'test',
      hostname: 'tls',
    });
    expect(response.sessionToken).toBe(conductor?.sessionToken);
  });

  it('refuses a conductor whose certificate another CA signed', async () => {
    const { address } = await tlsConductor();
    await expect(workerClient(address, { CONDUCTOR_TLS_CA: join(certs, 'other-ca.pem') }).handshake({ workerVersion: 'test', hostname: 'tls' })).rejects.toThrow();
    expect(conductor?.methods()).toEqual([]);
  });

  it('cannot talk plaintext to a TLS conductor', async () => {
    const { address } = await tlsConductor();
    await expect(workerClient(address, {}).handshake({ workerVersion: 'test', hostname: 'tls' })).rejects.toThrow();
    expect(conductor?.methods()).toEqual([]);
  });

  it('reports an unreadable CA file at startup, without its contents', () => {
    expect(() => workerClient('127.0.0.1:1', { CONDUCTOR_TLS_CA: join(certs, 'missing.pem') })).toThrow(WorkerConfigError);
    expect(() => workerClient('127.0.0.1:1', { CONDUCTOR_TLS_CA: join(certs, 'missing.pem') })).toThrow(/CONDUCTOR_TLS_CA cannot be read from .*missing\.pem \(ENOENT\)/);
    expect(() => workerClient('127.0.0.1:1', { CONDUCTOR_TLS_SERVER_NAME: 'conductor.internal' })).toThrow(/CONDUCTOR_TLS_SERVER_NAME needs CONDUCTOR_TLS_CA/);
  });
});
