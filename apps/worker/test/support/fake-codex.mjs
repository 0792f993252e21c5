#!/usr/bin/env node
// FAKE CODEX — stands in for the `codex` CLI only where a test needs what the real one cannot be made to do:
// crash, or hang. Every other Codex test runs the real CLI against the scripted model (libs/testing).
//
// It reads the prompt on stdin like `codex exec --experimental-json` and writes JSON events on stdout.
//
// FAKE_CODEX_LOG       a file outside the work dir; every invocation appends one JSON line (pid, argv, cwd)
// FAKE_CODEX_SCENARIO  crash | hang
import { appendFileSync } from 'node:fs';

const args = process.argv.slice(2);
const scenario = process.env.FAKE_CODEX_SCENARIO ?? 'hang';
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

await readStdin();
if (process.env.FAKE_CODEX_LOG) {
  appendFileSync(process.env.FAKE_CODEX_LOG, `${JSON.stringify({ pid: process.pid, argv: args, cwd: process.cwd() })}\n`);
}
if (scenario === 'crash') {
  process.stderr.write('fake codex: crashing on purpose\n');
  process.exit(3);
}
emit({ type: 'thread.started', thread_id: `thread_fake_${process.pid}` });
emit({ type: 'turn.started' });
emit({ type: 'item.completed', item: { id: 'item_0', type: 'agent_message', text: 'Starting a very long build.' } });
emit({ type: 'item.started', item: { id: 'item_1', type: 'command_execution', command: 'make forever', aggregated_output: '', status: 'in_progress' } });
setInterval(() => undefined, 60_000);
