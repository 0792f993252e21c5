import { deployMigrations } from '@agent-conductor/db';
import { createFreshDatabase } from '@agent-conductor/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { replayLines } from '../src/replay';
import { parseScenarioLine } from '../src/scenario';
import { createScheduler } from '../src/scheduler';
import { decisionsOf, readScenario, runDatabaseUrl, runReplay, runTool, SCENARIOS } from './support';

const SOURCES = ['tickets-and-duplicates.jsonl', 'incident-chaining.jsonl', 'sns-and-eventbridge.jsonl', 'garbage.jsonl', 'follow-ups.jsonl'];

async function databaseCount(): Promise<number> {
  const client = new Client({ connectionString: runDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>('SELECT count(*)::text AS count FROM pg_database');
    return Number(rows[0]?.count);
  } finally {
    await client.end();
  }
}

/** messageId → decisions (without the per-run ids), to compare runs whose line numbers differ. */
function decisionsByMessage(scenario: ReturnType<typeof readScenario>, stdout: string): Map<string, string[]> {
  const byMessage = new Map<string, string[]>();
  const decisions = decisionsOf(stdout);
  // A follow-up names its first job by id, which differs per run: compared by that job's message instead.
  const keyOf = new Map(decisions.map((decision) => [decision.jobId, scenario[decision.line - 1]?.messageId]));
  for (const decision of decisions) {
    const message = scenario[decision.line - 1];
    if (!message) throw new Error(`decision on line ${decision.line}, which holds no message`);
    const entries = byMessage.get(message.messageId) ?? [];
    entries.push(`${decision.kind} ${decision.key} ${decision.alarmName ?? ''}${decision.followUpOf === undefined ? '' : ` follows ${keyOf.get(decision.followUpOf) ?? '?'}`}`);
    byMessage.set(message.messageId, entries);
  }
  return byMessage;
}

describe('export → replay round trip', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'replay-round-trip-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports recorded deliveries byte for byte, in arrival order, and replays them to the same decisions', async () => {
    // "Production": the example scenarios, recorded by the scheduler code into a database of their own.
    // Whole lines, job ends included: a review comment needs the end of the job that opened its pull request.
    const originalLines = SOURCES.flatMap((name) => readFileSync(join(SCENARIOS, name), 'utf8').trimEnd().split('\n'));
    const original = originalLines.map(parseScenarioLine).flatMap((parsed) => (parsed.kind === 'message' ? [parsed.message] : []));
    const originalFile = join(dir, 'original.jsonl');
    writeFileSync(originalFile, `${originalLines.join('\n')}\n`);
    const production = await createFreshDatabase(runDatabaseUrl(), 'ac_replay_prod');
    try {
      await deployMigrations({ databaseUrl: production.databaseUrl });
      const scheduler = createScheduler(production.databaseUrl, 'replay://default-repository');
      try {
        await replayLines(originalLines, scheduler, { decision: () => undefined, note: () => undefined });
      } finally {
        await scheduler.close();
      }

      const exported = await runTool('tools/replay/src/export.ts', [], { DATABASE_URL: production.databaseUrl });
      expect(exported.code).toBe(0);
      const exportedLines = exported.stdout.trimEnd().split('\n');
      const exportedMessages = exportedLines.flatMap((text) => {
        const parsed = parseScenarioLine(text);
        if (parsed.kind === 'job-end') return [];
        if (parsed.kind !== 'message') throw new Error(`export wrote a line replay cannot read: ${text}`);
        return [parsed.message];
      });
      // Both ends of FU-1's jobs, each at its time among the deliveries.
      const jobEnds = exportedLines.filter((text) => parseScenarioLine(text).kind === 'job-end');
      expect(jobEnds.map((text) => (JSON.parse(text) as { at: string }).at)).toEqual(['2026-05-12T10:20:00.000Z', '2026-05-12T10:50:00.000Z']);
      // Redeliveries are not stored twice; everything else is, with its body untouched.
      const firstDeliveries = new Map<string, string>();
      for (const message of original) if (!firstDeliveries.has(message.messageId)) firstDeliveries.set(message.messageId, message.body);
      expect(exportedMessages.map((message) => message.messageId).sort()).toEqual([...firstDeliveries.keys()].sort());
      for (const message of exportedMessages) expect(message.body).toBe(firstDeliveries.get(message.messageId));
      const times = exportedMessages.map((message) => Date.parse(message.receivedAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));

      // --since is inclusive, --until exclusive.
      const windowed = await runTool('tools/replay/src/export.ts', ['--since', '2026-05-12T10:00:00.000Z', '--until', '2026-05-12T10:05:00.000Z'], {
        DATABASE_URL: production.databaseUrl,
      });
      const windowedIds = windowed.stdout.trimEnd().split('\n').map((text) => (JSON.parse(text) as { messageId: string }).messageId);
      const expectedIds = exportedMessages
        .filter((message) => message.receivedAt >= '2026-05-12T10:00:00.000Z' && message.receivedAt < '2026-05-12T10:05:00.000Z')
        .map((message) => message.messageId);
      expect(expectedIds.length).toBeGreaterThan(1);
      expect(windowedIds).toEqual(expectedIds);

      const exportedFile = join(dir, 'exported.jsonl');
      writeFileSync(exportedFile, exported.stdout);
      const [fromOriginal, fromExport] = await Promise.all([runReplay(originalFile), runReplay(exportedFile)]);
      expect(fromOriginal.code).toBe(0);
      expect(fromExport.code).toBe(0);
      const expected = decisionsByMessage(readScenario(originalFile), fromOriginal.stdout);
      expect(expected.size).toBeGreaterThanOrEqual(8);
      expect(decisionsByMessage(readScenario(exportedFile), fromExport.stdout)).toEqual(expected);
    } finally {
      await production.drop();
    }
  });

  it('replay removes the database it created', async () => {
    const before = await databaseCount();
    const run = await runReplay(join(SCENARIOS, 'tickets-and-duplicates.jsonl'));
    expect(run.code).toBe(0);
    expect(await databaseCount()).toBe(before);
  });
});
