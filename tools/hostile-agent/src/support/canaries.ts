import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';

/** Where a canary turned up, in which encoding. */
export interface Sighting {
  canary: string;
  form: string;
  where: string;
}

interface Needle {
  canary: string;
  form: string;
  bytes: Buffer;
}

/** A unique, shape-less secret: no redaction rule can recognise it by its looks, only by its value. */
export function makeCanary(name: string): string {
  return `canary${name.replace(/[^A-Za-z0-9]/g, '')}${randomBytes(12).toString('hex')}`;
}

/**
 * base64 of `value` wherever it sits in a longer stream: one substring per byte alignment, trimmed of the
 * characters its neighbours would change.
 */
function base64Forms(value: Buffer): string[] {
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), value]).toString('base64').replace(/=+$/, '');
    const head = Math.ceil((offset * 4) / 3);
    return encoded.slice(head, encoded.length - 3);
  });
}

/**
 * The canaries planted in every place a real secret lives, and every encoding in which one could leave:
 * as is, URL-encoded, hex, and base64 (standard and URL-safe, at any alignment: git's Basic credential is
 * base64 of "x-access-token:<token>").
 */
export class Canaries {
  private readonly values = new Map<string, string>();
  private needles: Needle[] = [];

  add(name: string, value: string): this {
    if (value.length < 16) throw new Error(`canary ${name} is too short to be unique`);
    this.values.set(name, value);
    const raw = Buffer.from(value, 'utf8');
    const forms: Array<[string, string]> = [
      ['raw', value],
      ['url-encoded', encodeURIComponent(value)],
      ['hex', raw.toString('hex')],
      ...base64Forms(raw).map((form, i): [string, string] => [`base64@${i}`, form]),
      ...base64Forms(raw).map((form, i): [string, string] => [`base64url@${i}`, form.replace(/\+/g, '-').replace(/\//g, '_')]),
    ];
    // One needle per distinct text, named by its first form: an alphanumeric canary is its own URL encoding.
    const unique = new Map<string, string>();
    for (const [form, text] of forms) if (text.length >= 12 && !unique.has(text)) unique.set(text, form);
    for (const [text, form] of unique) this.needles.push({ canary: name, form, bytes: Buffer.from(text, 'utf8') });
    return this;
  }

  value(name: string): string {
    const value = this.values.get(name);
    if (value === undefined) throw new Error(`no canary named ${name}`);
    return value;
  }

  get names(): string[] {
    return [...this.values.keys()];
  }

  get longestNeedle(): number {
    return Math.max(0, ...this.needles.map((n) => n.bytes.length));
  }

  scan(data: Buffer | string, where: string): Sighting[] {
    const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.needles.filter((n) => buffer.includes(n.bytes)).map((n) => ({ canary: n.canary, form: n.form, where }));
  }

  /** Streams a file of any size (a sparse filler included), gunzipping it too when it is gzip. */
  async scanFile(path: string, where = path): Promise<Sighting[]> {
    const found = await this.scanStream(createReadStream(path, { flags: 'r' }), where);
    const head = await readHead(path);
    if (head[0] === 0x1f && head[1] === 0x8b) {
      found.push(...(await this.scanStream(createReadStream(path).pipe(createGunzip()), `${where} (gunzipped)`).catch(() => [])));
    }
    return found;
  }

  private async scanStream(stream: NodeJS.ReadableStream, where: string): Promise<Sighting[]> {
    const overlap = this.longestNeedle;
    const seen = new Map<string, Sighting>();
    let carry = Buffer.alloc(0);
    for await (const chunk of stream) {
      const window = Buffer.concat([carry, chunk as Buffer]);
      for (const sighting of this.scan(window, where)) seen.set(`${sighting.canary}/${sighting.form}`, sighting);
      carry = window.subarray(Math.max(0, window.length - overlap));
    }
    return [...seen.values()];
  }

  /** Every regular file under `root` (symlinks are not followed: they are the agent's, not content). */
  async scanTree(root: string, options: { ownedBy?: number; maxDepth?: number; skip?: (path: string) => boolean } = {}): Promise<{ sightings: Sighting[]; files: number }> {
    const sightings: Sighting[] = [];
    let files = 0;
    const visit = async (dir: string, depth: number): Promise<void> => {
      let entries: string[];
      try {
        entries = await readdir(dir);
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry);
        if (options.skip?.(path)) continue;
        const stat = await lstat(path).catch(() => undefined);
        if (!stat) continue;
        if (stat.isDirectory() && depth < (options.maxDepth ?? 12)) await visit(path, depth + 1);
        else if (stat.isFile() && (options.ownedBy === undefined || stat.uid === options.ownedBy)) {
          files += 1;
          sightings.push(...(await this.scanFile(path).catch(() => [])));
        }
      }
    };
    await visit(root, 0);
    return { sightings, files };
  }
}

async function readHead(path: string): Promise<Buffer> {
  for await (const chunk of createReadStream(path, { start: 0, end: 1 })) return chunk as Buffer;
  return Buffer.alloc(0);
}
