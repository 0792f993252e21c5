import { PrismaService } from '@agent-conductor/db';
import { probe, PROMETHEUS_CONTENT_TYPE } from '@agent-conductor/observability';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchedulerMetrics } from '../metrics/scheduler-metrics.service';
import { SCHEDULER_OPS_OPTIONS, type SchedulerOpsOptions } from './ops.options';

function send(response: ServerResponse, status: number, body: string, contentType = 'application/json; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  response.end(body);
}

/**
 * A plain HTTP server beside the gRPC microservice (a Nest hybrid app would change what
 * createSchedulerMicroservice returns to every caller): /health/live, /health/ready (Postgres), /health (= ready)
 * and /metrics.
 */
@Injectable()
export class SchedulerOpsServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SchedulerOpsServer.name);
  private server: Server | undefined;

  constructor(
    @Inject(SCHEDULER_OPS_OPTIONS) private readonly options: SchedulerOpsOptions,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly metrics: SchedulerMetrics,
  ) {}

  /** The bound port (differs from the option when it was 0). */
  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('the scheduler HTTP server is not listening');
    return (address as AddressInfo).port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        this.logger.error(`${request.url ?? ''}: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) send(response, 500, JSON.stringify({ status: 'error' }));
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.options.httpPort, () => resolve()));
    this.server = server;
    this.logger.log(`health and metrics on :${this.port}`);
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, JSON.stringify({ status: 'error', reason: 'GET only' }));
    switch (path) {
      case '/health/live':
        return send(response, 200, JSON.stringify({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));
      case '/health':
      case '/health/ready':
        return this.ready(response);
      case '/metrics':
        return send(response, 200, await this.metrics.render(), PROMETHEUS_CONTENT_TYPE);
      default:
        return send(response, 404, JSON.stringify({ status: 'error', reason: `no route ${path}` }));
    }
  }

  private async ready(response: ServerResponse): Promise<void> {
    try {
      const result = await this.health.check([
        () => probe(this.indicators, 'database', this.options.healthCheckTimeoutMs, async () => void (await this.prisma.$queryRaw`SELECT 1`)),
      ]);
      send(response, 200, JSON.stringify(result));
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      send(response, 503, JSON.stringify(error.getResponse()));
    }
  }
}
