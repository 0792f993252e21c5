import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { eventually, freePort } from '@agent-conductor/testing';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { INestApplication } from '@nestjs/common';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { bootstrapConductor } from '../src/bootstrap';
import { databaseUrl, testConfig } from './support/fixtures';

/**
 * A TCP hop we can pull: closing it is, to the conductor, exactly a database (or scheduler) that went away,
 * without stopping the Postgres the other test files share.
 */
class Outage {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number } | undefined,
  ) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (!this.target) return;
      const upstream = connect(this.target);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()));
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('health and readiness (bootstrapConductor, real Postgres behind a pullable hop)', () => {
  let app: INestApplication;
  let base: string;
  let database: Outage;
  let scheduler: Outage;
  let sqsServer: LocalSqsServer;
  let sqs: SQSClient;

  beforeAll(async () => {
    const real = new URL(databaseUrl());
    database = new Outage(await freePort(), { host: real.hostname, port: Number(real.port || 5432) });
    await database.up();
    const proxied = new URL(real.toString());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(database.port);
    // Only reachability is judged; a listening socket is what a scheduler looks like before any call.
    scheduler = new Outage(await freePort(), undefined);
    await scheduler.up();
    sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
    const { endpoint } = await sqsServer.start();
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'conductor-health-spec' }))).QueueUrl ?? '';
    app = await bootstrapConductor({
      ...(await testConfig()),
      databaseUrl: proxied.toString(),
      sqsQueueUrl: queueUrl,
      sqsEndpoint: endpoint,
      schedulerGrpcAddr: `127.0.0.1:${scheduler.port}`,
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await database?.up().catch(() => undefined);
    await app?.close();
    await database?.down();
    await scheduler?.down();
    sqs?.destroy();
    await sqsServer?.stop();
  });

  it('is ready with Postgres, the intake and the scheduler up', async () => {
    const ready = await get(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, intake: { status: 'up', state: 'receiving' }, scheduler: { status: 'up' } },
    });
    expect(await get(`${base}/health`)).toEqual({ status: 200, body: { status: 'ok', draining: false, intake: 'receiving' } });
    expect((await get(`${base}/health/live`)).status).toBe(200);
  });

  it('reports not-ready with the reason while Postgres is down, stays live, and recovers by itself', async () => {
    await database.down();
    try {
      const notReady = await eventually('503 from /health/ready', async () => {
        const response = await get(`${base}/health/ready`);
        return response.status === 503 ? response : undefined;
      });
      expect(notReady.body).toMatchObject({ status: 'error', error: { database: { status: 'down', message: expect.any(String) } } });
      const legacy = await get(`${base}/health`);
      expect(legacy.status).toBe(503);
      expect(legacy.body['reason']).toMatch(/database: /);
      // Liveness must not follow the database, or the orchestrator would restart a conductor riding out the outage.
      expect((await get(`${base}/health/live`)).status).toBe(200);
    } finally {
      await database.up();
    }
    await eventually('200 from /health/ready after Postgres is back', async () => ((await get(`${base}/health/ready`)).status === 200 ? true : undefined), 30_000);
  });

  it('reports not-ready while the scheduler is unreachable', async () => {
    await scheduler.down();
    try {
      const notReady = await get(`${base}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(notReady.body).toMatchObject({ error: { scheduler: { status: 'down', message: expect.stringContaining(String(scheduler.port)) } } });
    } finally {
      await scheduler.up();
    }
    expect((await get(`${base}/health/ready`)).status).toBe(200);
  });
});
