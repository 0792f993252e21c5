import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeCanary } from './canaries';

/** One AssumeRole the conductor made, as STS received it, and the session it got back. */
export interface AssumeRoleCall {
  roleArn: string;
  externalId: string | null;
  sessionName: string;
  durationSeconds: number;
  /** The session policy JSON, or null when none was sent. */
  policy: string | null;
  issued: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
}

/**
 * STS on loopback, for the conductor's STS_ENDPOINT: the AWS Query protocol's AssumeRole (a form POST) answered
 * with fresh credentials each time. Secret key and token are shape-less canaries, so only their exact values can
 * hide them; the key id looks like a real session's (ASIA…). Every other action is refused as STS would.
 */
export class FakeSts {
  readonly calls: AssumeRoleCall[] = [];
  url = '';
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then((body) => {
        const form = new URLSearchParams(body);
        if (request.method !== 'POST' || form.get('Action') !== 'AssumeRole') {
          response.writeHead(400, { 'content-type': 'text/xml' });
          response.end(errorXml('InvalidAction', `unsupported action ${form.get('Action') ?? '(none)'}`));
          return;
        }
        const durationSeconds = Number(form.get('DurationSeconds') ?? 3600);
        const issued = {
          accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
          secretAccessKey: makeCanary('stssecret'),
          sessionToken: makeCanary('ststoken'),
          expiration: new Date(Math.floor(Date.now() / 1000) * 1000 + durationSeconds * 1000),
        };
        this.calls.push({
          roleArn: form.get('RoleArn') ?? '',
          externalId: form.get('ExternalId'),
          sessionName: form.get('RoleSessionName') ?? '',
          durationSeconds,
          policy: form.get('Policy'),
          issued,
        });
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
            `<AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>` +
            `<SessionToken>${issued.sessionToken}</SessionToken><Expiration>${issued.expiration.toISOString()}</Expiration>` +
            `</Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:${escapeXml(form.get('RoleSessionName') ?? '')}</AssumedRoleId>` +
            `<Arn>${escapeXml(form.get('RoleArn') ?? '')}</Arn></AssumedRoleUser></AssumeRoleResult>` +
            `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
