import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { freePort } from '@agent-conductor/testing';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { bootstrapConductor } from '../src/bootstrap';
import { ConductorConfigModule } from '../src/config/config.module';
import type { ConductorConfig } from '../src/config/env.validators';
import { ConsoleCaller } from '../src/console-auth/console-caller';
import { consoleAuthHandler, isNestRoutePath } from '../src/console-auth/console-auth.middleware';
import { ConsoleAuthModule } from '../src/console-auth/console-auth.module';
import { ConsoleAuthService } from '../src/console-auth/console-auth.service';
import { baseUrl, concretePath, FakeAlbKeys, httpRoutes, loginCookie, TEST_ALB_ARN, TEST_CONSOLE_TOKEN, type HttpRoute } from './support/console';
import { testConfig } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';
import { startLocalIntakeQueue, type LocalIntakeQueue } from './support/local-queue';

/** Stay outside console auth by design; everything else the server answers must not. */
const PUBLIC = new Set([
  'GET /health',
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'POST /api/v1/session',
  'DELETE /api/v1/session',
  // The console's login page and what it loads (console-ui); its other pages are protected.
  'GET /login',
  'GET /assets/login.js',
  'GET /assets/console.css',
  // GitHub authenticates with the webhook signature (github-webhooks.spec.ts).
  'POST /webhooks/github',
]);
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const key = (route: HttpRoute): string => `${route.method} ${route.path}`;

async function call(base: string, route: HttpRoute, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${base}${concretePath(route.path, randomUUID())}`, {
    method: route.method,
    headers: { ...(UNSAFE.has(route.method) ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(UNSAFE.has(route.method) ? { body: '{}' } : {}),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The whole conductor (bootstrapConductor), so the routes of every module it wires are checked. */
async function startConductorWithConfig(
  queue: LocalIntakeQueue,
  scheduler: string,
  consoleAuth: ConductorConfig['consoleAuth'],
): Promise<{ app: INestApplication; config: ConductorConfig }> {
  const config = await testConfig({
    sqsQueueUrl: queue.queueUrl,
    sqsEndpoint: queue.endpoint,
    schedulerGrpcAddr: scheduler,
    orphanCheckIntervalMs: 3_600_000,
    consoleAuth,
  });
  const silent = { log: () => undefined, error: () => undefined, warn: () => undefined, debug: () => undefined, verbose: () => undefined };
  return { app: await bootstrapConductor(config, { logger: silent }), config };
}

async function startConductor(queue: LocalIntakeQueue, scheduler: string, consoleAuth: ConductorConfig['consoleAuth']): Promise<INestApplication> {
  return (await startConductorWithConfig(queue, scheduler, consoleAuth)).app;
}

describe('console auth over HTTP (the whole conductor)', () => {
  let queue: LocalIntakeQueue;
  let scheduler: Server;
  let schedulerAddr: string;

  beforeAll(async () => {
    queue = await startLocalIntakeQueue('console-auth-spec');
    // Reachable is all the conductor checks before a message arrives, and none will.
    const port = await freePort();
    scheduler = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => scheduler.listen(port, '127.0.0.1', () => resolve()));
    schedulerAddr = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await queue?.stop();
    await new Promise<void>((resolve) => scheduler?.close(() => resolve()));
  });

  describe('token mode', () => {
    let app: INestApplication;
    let base: string;
    let routes: HttpRoute[];
    let protectedRoutes: HttpRoute[];

    let config: ConductorConfig;

    beforeAll(async () => {
      ({ app, config } = await startConductorWithConfig(queue, schedulerAddr, { mode: 'token', token: TEST_CONSOLE_TOKEN, sessionTtlMs: 3_600_000 }));
      base = baseUrl(app);
      routes = httpRoutes(app);
      protectedRoutes = routes.filter((route) => !PUBLIC.has(key(route)));
    });
    afterAll(() => app?.close());

    it('finds every route: the read API, the docs and each OpenAPI path are among them', async () => {
      const keys = routes.map(key);
      for (const expected of ['GET /api/v1/jobs', 'GET /api/v1/jobs/:id', 'GET /api/v1/jobs/:id/transcript', 'GET /api/v1/incidents', 'GET /api/v1/incidents/:id', 'GET /api/v1/deliveries', 'GET /api/v1/deliveries/:id', 'GET /api/v1/queues', 'GET /api/v1/workers', 'GET /api/v1/admission', 'GET /api/v1/overview', 'GET /api/docs', 'GET /api/docs/openapi.json']) {
        expect(keys).toContain(expected);
      }
      for (const route of PUBLIC) expect(keys).toContain(route);
      const response = await fetch(`${base}/api/docs/openapi.json`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
      const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
      );
      expect(documented.length).toBeGreaterThan(10);
      for (const operation of documented) expect(keys).toContain(operation);
    });

    it('answers 401 on every protected route without credentials, with a wrong token, or a forged cookie', async () => {
      const forged = `conductor_console=v1.${Date.now() + 3_600_000}.AAAA.${'A'.repeat(43)}`;
      for (const route of protectedRoutes) {
        const outcomes = {
          route: key(route),
          none: await call(base, route),
          wrong: await call(base, route, { authorization: 'Bearer wrong-token-wrong-token-wrong-token-xx' }),
          notBearer: await call(base, route, { authorization: `Basic ${Buffer.from(`x:${TEST_CONSOLE_TOKEN}`).toString('base64')}` }),
          forged: await call(base, route, { cookie: forged }),
          proxyHeader: await call(base, route, { 'x-amzn-oidc-data': 'a.b.c' }),
        };
        expect(outcomes).toEqual({ route: key(route), none: 401, wrong: 401, notBearer: 401, forged: 401, proxyHeader: 401 });
      }
    });

    it('lets the bearer token and the session cookie through on every protected route; unsafe cookie calls need X-Requested-With', async () => {
      const cookie = await loginCookie(base);
      for (const route of protectedRoutes) {
        const bearer = await call(base, route, { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` });
        expect({ route: key(route), bearer: [401, 403].includes(bearer) }).toEqual({ route: key(route), bearer: false });
        if (UNSAFE.has(route.method)) {
          expect({ route: key(route), noCsrf: await call(base, route, { cookie }) }).toEqual({ route: key(route), noCsrf: 403 });
          const withCsrf = await call(base, route, { cookie, 'x-requested-with': 'console' });
          expect({ route: key(route), csrf: [401, 403].includes(withCsrf) }).toEqual({ route: key(route), csrf: false });
        } else {
          const viaCookie = await call(base, route, { cookie });
          expect({ route: key(route), cookie: [401, 403].includes(viaCookie) }).toEqual({ route: key(route), cookie: false });
        }
      }
      // Not just "not refused": a list answers with a page (whatever other spec files left in the shared database).
      const jobs = await fetch(`${base}/api/v1/jobs`, { headers: { cookie } });
      expect(jobs.status).toBe(200);
      const page = (await jobs.json()) as { items: unknown; nextCursor: unknown };
      expect({ items: Array.isArray(page.items), nextCursor: page.nextCursor === null || typeof page.nextCursor === 'string' }).toEqual({ items: true, nextCursor: true });
    });

    it('leaves the worker gRPC API to its own auth: an unknown worker is UNAUTHENTICATED by worker auth, not by the console guard', async () => {
      const client = new TestWorkerClient(config.grpcDialAddr, { deadlineMs: 10_000 });
      try {
        const failure = await client.heartbeat({ credentials: { workerId: randomUUID(), token: 'not-a-worker-token' }, phase: 1 }).then(
          () => undefined,
          (error: ServiceError) => error,
        );
        expect({ code: failure?.code, details: failure?.details }).toEqual({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/worker/i) });
      } finally {
        client.close();
      }
    });

    it('keeps health and metrics open', async () => {
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
    });

    it('logs in with the token into an HttpOnly, SameSite=Strict cookie that never holds the token, and logs out', async () => {
      const wrong = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'not-the-token' }) });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('set-cookie')).toBeNull();
      const malformed = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: TEST_CONSOLE_TOKEN }) });
      expect(malformed.status).toBe(400);

      const login = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TEST_CONSOLE_TOKEN }) });
      expect(login.status).toBe(204);
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/^conductor_console=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
      expect(setCookie).not.toContain(TEST_CONSOLE_TOKEN);
      const cookie = setCookie.split(';')[0] ?? '';
      expect((await fetch(`${base}/api/v1/overview`, { headers: { cookie } })).status).not.toBe(401);

      // Any change to the signed session (here: a later expiry) is refused.
      const [name, value] = cookie.split('=');
      const parts = (value ?? '').split('.');
      parts[1] = String(Number(parts[1]) + 1);
      expect((await fetch(`${base}/api/v1/jobs`, { headers: { cookie: `${name}=${parts.join('.')}` } })).status).toBe(401);

      const logout = await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
      expect(logout.status).toBe(204);
      expect(logout.headers.get('set-cookie')).toMatch(/^conductor_console=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    });

    it('serves the OpenAPI document and Swagger UI to an authenticated caller only', async () => {
      expect((await fetch(`${base}/api/docs`)).status).toBe(401);
      expect((await fetch(`${base}/api/docs/openapi.json`)).status).toBe(401);
      const ui = await fetch(`${base}/api/docs`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('swagger');
    });
  });

  describe('without a token', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await startConductor(queue, schedulerAddr, { mode: 'token', token: undefined, sessionTtlMs: 3_600_000 });
    });
    afterAll(() => app?.close());

    it('turns the console off: 404 on every console route, even with a token; health stays up', async () => {
      const base = baseUrl(app);
      for (const route of httpRoutes(app).filter((candidate) => !candidate.path.startsWith('/health') && candidate.path !== '/metrics')) {
        expect({ route: key(route), status: await call(base, route, { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` }) }).toEqual({ route: key(route), status: 404 });
      }
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    });
  });

  describe('the dev stack (NODE_ENV=development, no token)', () => {
    it('makes a token in the run dir, logs where to log in, and serves the console with it', async () => {
      const lines: string[] = [];
      const capture = { log: (message: unknown) => void lines.push(String(message)), error: () => undefined, warn: () => undefined, debug: () => undefined, verbose: () => undefined };
      const config = await testConfig({
        nodeEnv: 'development',
        sqsQueueUrl: queue.queueUrl,
        sqsEndpoint: queue.endpoint,
        schedulerGrpcAddr: schedulerAddr,
        orphanCheckIntervalMs: 3_600_000,
        consoleAuth: { mode: 'token', token: undefined, sessionTtlMs: 3_600_000 },
      });
      const app = await bootstrapConductor(config, { logger: capture });
      try {
        const token = (await readFile(join(config.runDir, 'console-token'), 'utf8')).trim();
        expect(token).toMatch(/^[0-9a-f]{64}$/);
        expect(lines).toContain(`operator console: open http://localhost:0 and log in with ${token} (kept in ${join(config.runDir, 'console-token')})`);
        expect((await fetch(`${baseUrl(app)}/api/v1/jobs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
        expect((await fetch(`${baseUrl(app)}/api/v1/jobs`)).status).toBe(401);
      } finally {
        await app.close();
      }
    });
  });

  describe('proxy mode (ALB with OIDC)', () => {
    let app: INestApplication;
    let base: string;
    let keys: FakeAlbKeys;
    let protectedRoutes: HttpRoute[];

    beforeAll(async () => {
      keys = new FakeAlbKeys();
      const publicKeyUrl = await keys.start();
      app = await startConductor(queue, schedulerAddr, { mode: 'proxy', albArn: TEST_ALB_ARN, publicKeyUrl });
      base = baseUrl(app);
      protectedRoutes = httpRoutes(app).filter((route) => !PUBLIC.has(key(route)));
    });
    afterAll(async () => {
      await app?.close();
      await keys?.stop();
    });

    it('answers 401 on every protected route without the header, with a bad signature, another signer, an expired JWT or a token', async () => {
      const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const valid = keys.jwt();
      const tampered = `${valid.split('.').slice(0, 2).join('.')}.${keys.jwt({ email: 'mallory@example.com' }).split('.')[2] ?? ''}`;
      for (const route of protectedRoutes) {
        const outcomes = {
          route: key(route),
          missing: await call(base, route),
          badSignature: await call(base, route, { 'x-amzn-oidc-data': keys.jwt({ key: otherKey }) }),
          tampered: await call(base, route, { 'x-amzn-oidc-data': tampered }),
          otherSigner: await call(base, route, { 'x-amzn-oidc-data': keys.jwt({ signer: TEST_ALB_ARN.replace('console', 'other') }) }),
          expired: await call(base, route, { 'x-amzn-oidc-data': keys.jwt({ exp: Math.floor(Date.now() / 1000) - 3600 }) }),
          pathKid: await call(base, route, { 'x-amzn-oidc-data': keys.jwt({ kid: '../../evil' }) }),
          token: await call(base, route, { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` }),
        };
        expect(outcomes).toEqual({ route: key(route), missing: 401, badSignature: 401, tampered: 401, otherSigner: 401, expired: 401, pathKid: 401, token: 401 });
      }
    });

    it('lets a valid ALB identity through on every protected route, fetching the key once', async () => {
      for (const route of protectedRoutes) {
        const status = await call(base, route, { 'x-amzn-oidc-data': keys.jwt() });
        expect({ route: key(route), refused: [401, 403].includes(status) }).toEqual({ route: key(route), refused: false });
      }
      expect(keys.fetches).toBe(1);
      const login = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TEST_CONSOLE_TOKEN }) });
      expect(login.status).toBe(400);
    });
  });
});

@Controller('api/v1/test-probe')
class CallerProbeController {
  @Get()
  read(@ConsoleCaller() caller: ConsoleCaller): ConsoleCaller {
    return caller;
  }

  @Post()
  write(@ConsoleCaller() caller: ConsoleCaller): ConsoleCaller {
    return caller;
  }
}

@Module({ controllers: [CallerProbeController] })
class CallerProbeModule {}

describe('ConsoleCaller, CSRF and the handler for static files (ConsoleAuthModule alone)', () => {
  let app: INestApplication;
  let base: string;
  let keys: FakeAlbKeys;
  let proxyApp: INestApplication;

  async function start(consoleAuth: ConductorConfig['consoleAuth']): Promise<INestApplication> {
    const config = await testConfig({ consoleAuth });
    const moduleRef = await Test.createTestingModule({ imports: [ConductorConfigModule.forRoot(config), ConsoleAuthModule, CallerProbeModule] }).compile();
    const nest = moduleRef.createNestApplication({ logger: ['error'] });
    const auth = nest.get(ConsoleAuthService);
    // How the UI serves its files: the handler first, the login page left open.
    nest.use(consoleAuthHandler(auth, { isPublic: (path) => path === '/login' || path.startsWith('/assets/login'), loginPath: '/login' }));
    nest.use((request: { url?: string }, response: { end: (body: string) => void }, next: () => void) =>
      isNestRoutePath(request.url ?? '/') ? next() : response.end(`static ${request.url ?? ''}`),
    );
    await nest.listen(0, '127.0.0.1');
    return nest;
  }

  beforeAll(async () => {
    app = await start({ mode: 'token', token: TEST_CONSOLE_TOKEN, sessionTtlMs: 60_000 });
    base = baseUrl(app);
    keys = new FakeAlbKeys();
    proxyApp = await start({ mode: 'proxy', albArn: TEST_ALB_ARN, publicKeyUrl: await keys.start() });
  });
  afterAll(async () => {
    await app?.close();
    await proxyApp?.close();
    await keys?.stop();
  });

  it('hands the caller to the handler: the token, or the proxy user by email', async () => {
    const viaToken = await fetch(`${base}/api/v1/test-probe`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
    expect(await viaToken.json()).toEqual({ kind: 'token', name: 'token' });
    const viaProxy = await fetch(`${baseUrl(proxyApp)}/api/v1/test-probe`, { method: 'POST', headers: { 'x-amzn-oidc-data': keys.jwt({ email: 'ana@example.com' }) } });
    expect(viaProxy.status).toBe(201);
    expect(await viaProxy.json()).toEqual({ kind: 'proxy', name: 'ana@example.com' });
  });

  it('refuses a cookie POST without X-Requested-With: console (CSRF), accepts it with the header, and a bearer POST without it', async () => {
    const cookie = await loginCookie(base);
    const forged = await fetch(`${base}/api/v1/test-probe`, { method: 'POST', headers: { cookie } });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { message: string }).message).toMatch(/X-Requested-With: console/);
    expect((await fetch(`${base}/api/v1/test-probe`, { method: 'POST', headers: { cookie, 'x-requested-with': 'other' } })).status).toBe(403);
    expect((await fetch(`${base}/api/v1/test-probe`, { method: 'POST', headers: { cookie, 'x-requested-with': 'console' } })).status).toBe(201);
    expect((await fetch(`${base}/api/v1/test-probe`, { method: 'POST', headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } })).status).toBe(201);
  });

  it('guards static files with the same rules, sends browsers to /login, and leaves the login page open', async () => {
    expect((await fetch(`${base}/jobs`)).status).toBe(401);
    const browser = await fetch(`${base}/jobs`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/login');
    expect(await (await fetch(`${base}/login`)).text()).toBe('static /login');
    expect(await (await fetch(`${base}/assets/login.js`)).text()).toBe('static /assets/login.js');
    const cookie = await loginCookie(base);
    expect(await (await fetch(`${base}/jobs`, { headers: { cookie } })).text()).toBe('static /jobs');
  });
});
