import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

/** Every object of a repository (loose and packed, reachable or not), contents included: what was pushed. */
export async function allGitObjects(bareDir: string): Promise<Buffer> {
  const { stdout } = await run('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: bareDir, encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
  return stdout;
}

/** Every row of every table of the app's schema, as JSON text: all text, JSON and bytea columns included. */
export async function dumpDatabase(databaseUrl: string): Promise<{ text: string; tables: number; rows: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    const parts: string[] = [];
    let rows = 0;
    for (const { name } of tables) {
      const result = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${client.escapeIdentifier(name)} t`);
      rows += result.rows.length;
      parts.push(`## ${name}`, ...result.rows.map((r) => r.row));
    }
    return { text: parts.join('\n'), tables: tables.length, rows };
  } finally {
    await client.end();
  }
}

export interface ProcessInfo {
  pid: number;
  uid: number;
  cmdline: string;
  environ: string[];
}

/** The processes this (root) test can see, with what /proc says of each. */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [status, cmdline, environ] = await Promise.all([
        readFile(`/proc/${entry}/status`, 'utf8'),
        readFile(`/proc/${entry}/cmdline`, 'utf8'),
        readFile(`/proc/${entry}/environ`, 'utf8').catch(() => ''),
      ]);
      if (/^State:\s+Z/m.test(status)) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      found.push({ pid: Number(entry), uid, cmdline: cmdline.replace(/\0/g, ' '), environ: environ.split('\0').filter(Boolean) });
    } catch {
      // Gone in the meantime.
    }
  }
  return found;
}
