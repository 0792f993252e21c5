import { DEFAULT_FOLLOW_UP_POLICY, DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling';
import { eventually, freePort } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { bootstrapScheduler } from '../src/bootstrap';
import { refused } from './port-probe';

/** A TCP hop in front of the shared test Postgres: closing it is a database outage for this scheduler only. */
class DatabaseHop {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
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

describe('scheduler /health/live and /health/ready', () => {
  let app: INestApplication;
  let hop: DatabaseHop;
  let base: string;

  beforeAll(async () => {
    const real = new URL(process.env['DATABASE_URL'] ?? '');
    hop = new DatabaseHop(await freePort(), { host: real.hostname, port: Number(real.port || 5432) });
    await hop.up();
    const proxied = new URL(real.toString());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(hop.port);
    app = await bootstrapScheduler(
      {
        production: false,
        databaseUrl: proxied.toString(),
        dbConnectTimeoutMs: 0,
        grpcListenAddr: `127.0.0.1:${await freePort()}`,
        defaultRepositoryUrl: '/srv/git/sample-app.git',
        defaultRepositoryBranch: 'main',
        incidentPolicy: DEFAULT_INCIDENT_POLICY,
        followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
      },
      { logger: false, ops: { httpPort: 0, healthCheckTimeoutMs: 1000 } },
    );
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await hop?.up().catch(() => undefined);
    await app?.close();
    await hop?.down();
  });

  it('is ready while Postgres answers, 503 with the reason while it is gone, ready again after', async () => {
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });

    await hop.down();
    try {
      const body = await eventually('503 from /health/ready', async () => {
        const response = await fetch(`${base}/health/ready`);
        return response.status === 503 ? ((await response.json()) as unknown) : undefined;
      });
      expect(body).toMatchObject({ status: 'error', error: { database: { status: 'down', message: expect.any(String) } } });
      expect((await fetch(`${base}/health`)).status).toBe(503);
      const live = await fetch(`${base}/health/live`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok', uptimeSeconds: expect.any(Number) });
    } finally {
      await hop.up();
    }
    await eventually('200 after Postgres is back', async () => ((await fetch(`${base}/health/ready`)).status === 200 ? true : undefined));
    const health = await fetch(`${base}/health/`);
    expect(health.status).toBe(200);
    expect(health.headers.get('cache-control')).toBe('no-store');
    expect(await health.json()).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });
});

describe('the scheduler as one hybrid app', () => {
  it('serves gRPC and HTTP from one app, and close() stops both', async () => {
    const grpcPort = await freePort();
    const app = await bootstrapScheduler(
      {
        production: false,
        databaseUrl: process.env['DATABASE_URL'] ?? '',
        dbConnectTimeoutMs: 0,
        grpcListenAddr: `127.0.0.1:${grpcPort}`,
        defaultRepositoryUrl: '/srv/git/sample-app.git',
        defaultRepositoryBranch: 'main',
        incidentPolicy: DEFAULT_INCIDENT_POLICY,
        followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
      },
      { logger: false, ops: { httpPort: 0, healthCheckTimeoutMs: 1000 } },
    );
    const httpPort = (app.getHttpServer().address() as AddressInfo).port;
    try {
      expect(await refused(grpcPort)).toBe(false);
      expect((await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).status).toBe(200);
    } finally {
      await app.close();
    }
    expect(await refused(grpcPort)).toBe(true);
    expect(await refused(httpPort)).toBe(true);
  });
});
