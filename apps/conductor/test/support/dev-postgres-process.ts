import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const WORKSPACE = resolve(__dirname, '../../../..');

export interface PostgresProcess {
  databaseUrl: string;
  /** Stops the cluster (a clean shutdown that drops every connection) and waits for it. */
  stop(): Promise<void>;
}

/**
 * A persistent embedded Postgres (libs/testing's startDevPostgres) in a child
 * process; starting it again on the same dataDir and port brings the same
 * database back, which is how the outage tests restart it.
 */
export async function startPostgresProcess(dataDir: string, port: number, database: string): Promise<PostgresProcess> {
  const child: ChildProcess = spawn(join(WORKSPACE, 'node_modules/.bin/tsx'), [join(__dirname, 'dev-postgres.main.ts'), dataDir, String(port), database], {
    cwd: WORKSPACE,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const databaseUrl = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolveUrl((JSON.parse(line) as { databaseUrl: string }).databaseUrl);
    });
    void exited.then((code) => reject(new Error(`postgres process exited with ${code} before it was ready:\n${stderr}`)));
  });
  return {
    databaseUrl,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
