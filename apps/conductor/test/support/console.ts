import type { INestApplication } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** A console token as an operator would set it (≥ 32 characters). */
export const TEST_CONSOLE_TOKEN = 'test-console-token-0123456789abcdef0123456789';
export const TEST_ALB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/console/50dc6c495c0c9188';

export function baseUrl(app: INestApplication): string {
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

export interface HttpRoute {
  method: string;
  /** Express path, `:params` included. */
  path: string;
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

/**
 * Every route the HTTP server answers, read from the Express router itself: controllers from any module, Swagger's
 * own routes too. A route added later is in this list without anyone editing a test.
 */
export function httpRoutes(app: INestApplication): HttpRoute[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: RouterLayer[] } };
  const stack = express.router?.stack ?? [];
  const routes: HttpRoute[] = [];
  for (const layer of stack) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    for (const [method, enabled] of Object.entries(layer.route.methods)) {
      if (enabled && method !== '_all') routes.push({ method: method.toUpperCase(), path: layer.route.path });
    }
  }
  return routes;
}

/** A concrete URL path for a route pattern: every `:param` becomes `value`. */
export function concretePath(path: string, value: string): string {
  return path.replace(/:[A-Za-z_]+/g, value);
}

/** The login a browser does: the session cookie (name=value) from POST /api/v1/session. */
export async function loginCookie(base: string, token: string = TEST_CONSOLE_TOKEN): Promise<string> {
  const response = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  if (response.status !== 204) throw new Error(`login answered ${response.status}`);
  const cookie = response.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0] ?? '';
}

/**
 * Stands in for the ALB's regional public-key endpoint (`/<kid>` → PEM) and signs `x-amzn-oidc-data` JWTs the way
 * the ALB does (ES256, `signer` and `kid` in the header).
 */
export class FakeAlbKeys {
  readonly kid = 'b2c5b1a7-4c1e-4f3a-9d55-2a1f5d7a3c01';
  private readonly privateKey: KeyObject;
  private readonly publicPem: string;
  private server: Server | undefined;
  url = '';
  fetches = 0;

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.privateKey = pair.privateKey;
    this.publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.fetches += 1;
      if (request.url === `/${this.kid}`) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(this.publicPem);
        return;
      }
      response.writeHead(404);
      response.end();
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A JWT as the ALB sends it; `overrides` change the header or claims, `key` signs with another key. */
  jwt(options: { email?: string; exp?: number; signer?: string; kid?: string; key?: KeyObject } = {}): string {
    const header = { alg: 'ES256', kid: options.kid ?? this.kid, signer: options.signer ?? TEST_ALB_ARN, iss: 'https://idp.example', client: 'console', exp: 0 };
    const claims = { sub: 'user-1', email: options.email ?? 'ops@example.com', exp: options.exp ?? Math.floor(Date.now() / 1000) + 60, iss: 'https://idp.example' };
    const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signed = `${encode(header)}.${encode(claims)}`;
    const signature = sign('sha256', Buffer.from(signed), { key: options.key ?? this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signed}.${signature.toString('base64url')}`;
  }
}

/** The subset of OpenAPI 3.0 schema objects the console documents with. */
export interface DocumentedSchema {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, DocumentedSchema>;
  items?: DocumentedSchema;
}

/**
 * Where `value` departs from `schema`, as "path: problem" lines: wrong types, missing required or undocumented
 * properties, values outside an enum. Strict both ways, so the document cannot drift from the answers.
 */
export function schemaProblems(value: unknown, schema: DocumentedSchema, path = '$'): string[] {
  if (value === null) return schema.nullable || schema.type === undefined ? [] : [`${path}: null but not nullable`];
  if (schema.enum && !schema.enum.includes(value)) return [`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case undefined:
      return [];
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
      const record = value as Record<string, unknown>;
      const properties = schema.properties;
      if (!properties) return [];
      const problems = (schema.required ?? []).filter((key) => !(key in record)).map((key) => `${path}.${key}: missing`);
      for (const [key, item] of Object.entries(record)) {
        const property = properties[key];
        if (!property) problems.push(`${path}.${key}: not documented`);
        else problems.push(...schemaProblems(item, property, `${path}.${key}`));
      }
      return problems;
    }
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, index) => (schema.items ? schemaProblems(item, schema.items, `${path}[${index}]`) : [])) : [`${path}: expected an array`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: expected an integer`];
    default:
      return typeof value === schema.type ? [] : [`${path}: expected ${schema.type}, got ${typeof value}`];
  }
}
