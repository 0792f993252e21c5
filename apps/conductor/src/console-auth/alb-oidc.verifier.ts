import { errorMessage } from '@agent-conductor/scheduling-domain';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Why a proxy identity was refused; the message names the check, never the token. */
export class ProxyIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyIdentityError';
  }
}

export interface AlbOidcOptions {
  /** The ALB whose signature is accepted (the JWT header's `signer`). */
  albArn: string;
  /** Keys are fetched from `<publicKeyUrl>/<kid>` as PEM: the ALB's regional endpoint, or a test server. */
  publicKeyUrl: string;
  keyFetchTimeoutMs?: number;
  now?: () => number;
}

interface AlbJwtHeader {
  alg?: unknown;
  kid?: unknown;
  signer?: unknown;
}

// A kid goes into a URL path; anything but this shape is an attempt to point us elsewhere.
const KID = /^[A-Za-z0-9-]{1,128}$/;
const CLOCK_SKEW_SECONDS = 60;
const MAX_CACHED_KEYS = 32;

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ProxyIdentityError(`the ${what} is not a JSON object`);
}

/**
 * Verifies `x-amzn-oidc-data` the way AWS documents it: ES256 by the ALB named in `signer`, with the key the
 * regional endpoint serves for `kid`, not expired. Returns the caller's email.
 */
export class AlbOidcVerifier {
  private readonly keys = new Map<string, Promise<KeyObject>>();
  private readonly now: () => number;

  constructor(private readonly options: AlbOidcOptions) {
    this.now = options.now ?? Date.now;
  }

  async verify(jwt: string): Promise<{ email: string }> {
    // ALB pads its base64url segments with '='; strip it before splitting the signature off.
    const parts = jwt.trim().split('.');
    if (parts.length !== 3) throw new ProxyIdentityError('x-amzn-oidc-data is not a JWT');
    const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
    const header = decodeJson(headerPart, 'JWT header') as AlbJwtHeader;
    if (header.alg !== 'ES256') throw new ProxyIdentityError('the JWT is not signed with ES256');
    if (header.signer !== this.options.albArn) throw new ProxyIdentityError('the JWT was not signed by the configured ALB');
    if (typeof header.kid !== 'string' || !KID.test(header.kid)) throw new ProxyIdentityError('the JWT has no valid kid');
    const key = await this.key(header.kid);
    const signature = Buffer.from(signaturePart.replace(/=+$/, ''), 'base64url');
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    if (!verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)) {
      throw new ProxyIdentityError('the JWT signature does not verify');
    }
    const payload = decodeJson(payloadPart.replace(/=+$/, ''), 'JWT payload');
    const exp = payload['exp'];
    if (typeof exp !== 'number' || exp + CLOCK_SKEW_SECONDS < this.now() / 1000) throw new ProxyIdentityError('the JWT has expired');
    const email = payload['email'];
    if (typeof email !== 'string' || !email.includes('@')) throw new ProxyIdentityError('the JWT carries no email claim');
    return { email };
  }

  private key(kid: string): Promise<KeyObject> {
    const cached = this.keys.get(kid);
    if (cached) return cached;
    const loading = this.fetchKey(kid);
    // A failed fetch is not cached: the next request tries again.
    loading.catch(() => this.keys.delete(kid));
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
    this.keys.set(kid, loading);
    return loading;
  }

  private async fetchKey(kid: string): Promise<KeyObject> {
    const url = `${this.options.publicKeyUrl}/${kid}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.options.keyFetchTimeoutMs ?? 5000) });
    } catch (error) {
      throw new ProxyIdentityError(`cannot fetch the ALB public key ${kid}: ${errorMessage(error)}`);
    }
    if (!response.ok) throw new ProxyIdentityError(`the ALB public key ${kid} answered HTTP ${response.status}`);
    try {
      return createPublicKey(await response.text());
    } catch (error) {
      throw new ProxyIdentityError(`the ALB public key ${kid} is not a PEM key: ${errorMessage(error)}`);
    }
  }
}
