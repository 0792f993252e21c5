import { WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { credentials, status } from '@grpc/grpc-js';
import type { INestApplication } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import { loadConductorConfig, type ConductorConfig } from '../src/config/env.validators';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const MAKE_CERTS = resolve(__dirname, '../../../tools/tls/make-dev-certs.sh');

/** Real certificates, made by openssl for this run: a CA, the conductor's certificate, a client's, and an unrelated CA. */
async function makeCertificates(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'conductor-tls-'));
  execFileSync('bash', [MAKE_CERTS, dir], { stdio: 'pipe' });
  return dir;
}

describe('TLS on the worker gRPC channel', () => {
  let prisma: PrismaClient;
  let certs: string;
  let app: INestApplication | undefined;
  const clients: TestWorkerClient[] = [];

  async function start(env: Record<string, string>): Promise<ConductorConfig> {
    const fromEnv = loadConductorConfig({ NODE_ENV: 'test', ...env });
    const config = await testConfig(fromEnv.grpcTls ? { grpcTls: fromEnv.grpcTls } : {});
    app = await startConductorParts(config);
    return config;
  }

  function client(address: string, channel?: ConstructorParameters<typeof TestWorkerClient>[1]): TestWorkerClient {
    const created = new TestWorkerClient(address, channel);
    clients.push(created);
    return created;
  }

  /** A registered worker's handshake: the first call a real worker makes. */
  async function handshake(through: TestWorkerClient): Promise<string> {
    if (!app) throw new Error('no app');
    const job = await createPendingJob(prisma);
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1 } });
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    const response = await through.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'tls' });
    return response.sessionToken;
  }

  const pem = (name: string): Promise<Buffer> => readFile(join(certs, name));

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    certs = await makeCertificates();
  });

  afterEach(async () => {
    for (const each of clients.splice(0)) each.close();
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  describe('server certificate only (CONDUCTOR_TLS_CERT / CONDUCTOR_TLS_KEY as files)', () => {
    let config: ConductorConfig;

    beforeEach(async () => {
      config = await start({ CONDUCTOR_TLS_CERT: join(certs, 'server.pem'), CONDUCTOR_TLS_KEY: join(certs, 'server.key') });
    });

    it('lets a worker that trusts the CA handshake', async () => {
      const trusting = client(config.grpcListenAddr, { credentials: credentials.createSsl(await pem('ca.pem')) });
      expect(await handshake(trusting)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('checks the name: a server name override makes a certificate for conductor.internal fit a dialled IP', async () => {
      const named = client(config.grpcListenAddr, {
        credentials: credentials.createSsl(await pem('ca.pem')),
        options: { 'grpc.ssl_target_name_override': 'conductor.internal', 'grpc.default_authority': 'conductor.internal' },
      });
      expect(await handshake(named)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const wrongName = client(config.grpcListenAddr, {
        credentials: credentials.createSsl(await pem('ca.pem')),
        options: { 'grpc.ssl_target_name_override': 'elsewhere.example', 'grpc.default_authority': 'elsewhere.example' },
      });
      await expect(handshake(wrongName)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    });

    it('refuses a plaintext client', async () => {
      const plaintext = client(config.grpcListenAddr);
      await expect(handshake(plaintext)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    });

    it('is refused by a worker that trusts another CA', async () => {
      const wrongCa = client(config.grpcListenAddr, { credentials: credentials.createSsl(await pem('other-ca.pem')) });
      await expect(handshake(wrongCa)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    });
  });

  it('with CONDUCTOR_TLS_CLIENT_CA, takes only workers presenting a certificate that CA signed; PEM values work as well as files', async () => {
    const config = await start({
      CONDUCTOR_TLS_CERT: (await pem('server.pem')).toString(),
      CONDUCTOR_TLS_KEY: (await pem('server.key')).toString(),
      CONDUCTOR_TLS_CLIENT_CA: join(certs, 'ca.pem'),
    });
    const withCertificate = client(config.grpcListenAddr, {
      credentials: credentials.createSsl(await pem('ca.pem'), await pem('client.key'), await pem('client.pem')),
    });
    expect(await handshake(withCertificate)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const without = client(config.grpcListenAddr, { credentials: credentials.createSsl(await pem('ca.pem')) });
    await expect(handshake(without)).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it('stays plaintext without TLS settings, the local default', async () => {
    const config = await start({});
    expect(config.grpcTls).toBeUndefined();
    expect(await handshake(client(config.grpcListenAddr))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
