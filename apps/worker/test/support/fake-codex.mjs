#!/usr/bin/env node
// FAKE CODEX — stands in for the `codex` CLI in tests; not an AI.
//
// It speaks the protocol @openai/codex-sdk uses: argv `exec --experimental-json [--config k=v]… [--model m]
// [--sandbox s] [--cd dir] [--skip-git-repo-check] [resume <thread id>]`, the prompt on stdin, and one JSON
// event per line on stdout (thread.started, turn.started, item.*, turn.completed | turn.failed | error).
//
// FAKE_CODEX_LOG       a file outside the work dir; every invocation appends one JSON line describing what
//                      this process received (argv, cwd, prompt, the secrets it could see)
// FAKE_CODEX_SCENARIO  succeed (default) | invalid-first | leak | turn-failed | stream-error | crash | hang
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const scenario = process.env.FAKE_CODEX_SCENARIO ?? 'succeed';

function option(name) {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
let itemCount = 0;
const nextId = () => `item_${itemCount++}`;

function completed(item) {
  emit({ type: 'item.completed', item: { id: nextId(), ...item } });
}

/** Runs a real command in dir and reports it the way codex does. */
function command(dir, file, commandArgs) {
  const id = nextId();
  const line = [file, ...commandArgs].join(' ');
  emit({ type: 'item.started', item: { id, type: 'command_execution', command: line, aggregated_output: '', status: 'in_progress' } });
  let output = '';
  let exitCode = 0;
  try {
    output = execFileSync(file, commandArgs, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    exitCode = typeof error.status === 'number' ? error.status : 1;
  }
  emit({ type: 'item.completed', item: { id, type: 'command_execution', command: line, aggregated_output: output, exit_code: exitCode, status: exitCode === 0 ? 'completed' : 'failed' } });
}

function usage(input, cached, output) {
  return { input_tokens: input, cached_input_tokens: cached, cache_write_input_tokens: 0, output_tokens: output, reasoning_output_tokens: 7 };
}

function doTheTask(workDir) {
  const repo = join(workDir, 'repo');
  completed({ type: 'reasoning', text: 'FAKE-REASONING: weighing where the change goes' });
  command(repo, 'git', ['checkout', '--quiet', '-b', 'agent/fake-codex-change']);
  command(repo, 'cat', ['does-not-exist.txt']);
  writeFileSync(join(repo, 'CHANGES.md'), '# Changes\n\n- Rounded order totals once.\n');
  completed({ type: 'file_change', changes: [{ path: join(repo, 'CHANGES.md'), kind: 'add' }], status: 'completed' });
  command(repo, 'git', ['add', 'CHANGES.md']);
  command(repo, 'git', ['commit', '--quiet', '-m', 'Round order totals once']);
  completed({ type: 'agent_message', text: 'I committed the change on agent/fake-codex-change.' });
}

function writeArtifacts(workDir, verdict) {
  const meta = join(workDir, 'agent-meta');
  mkdirSync(meta, { recursive: true });
  writeFileSync(join(meta, 'WAS_JOB_SUCCESSFUL'), `${verdict}\n`);
  writeFileSync(join(meta, 'meta-info.txt'), 'ABC-12: Round order totals once\n');
  writeFileSync(join(meta, 'ending-report.md'), '# Done\n\nOrder totals are now rounded once.\n');
  completed({
    type: 'file_change',
    changes: ['WAS_JOB_SUCCESSFUL', 'meta-info.txt', 'ending-report.md'].map((name) => ({ path: join(meta, name), kind: 'add' })),
    status: 'completed',
  });
  completed({ type: 'agent_message', text: `Wrote the ending report (verdict ${verdict}).` });
}

async function main() {
  const prompt = await readStdin();
  const workDir = option('--cd') ?? process.cwd();
  process.chdir(workDir);
  const resumeIndex = args.indexOf('resume');
  const threadId = resumeIndex === -1 ? `thread_fake_${process.pid}` : args[resumeIndex + 1];
  if (process.env.FAKE_CODEX_LOG) {
    const record = {
      pid: process.pid,
      argv: args,
      cwd: process.cwd(),
      prompt,
      openaiApiKey: process.env.OPENAI_API_KEY ?? null,
      codexApiKey: process.env.CODEX_API_KEY ?? null,
      workerToken: process.env.WORKER_TOKEN ?? null,
      envNames: Object.keys(process.env).sort(),
      uid: process.getuid(),
      home: process.env.HOME ?? null,
    };
    appendFileSync(process.env.FAKE_CODEX_LOG, `${JSON.stringify(record)}\n`);
  }

  if (scenario === 'crash') {
    process.stderr.write('fake codex: crashing on purpose\n');
    process.exit(3);
  }
  emit({ type: 'thread.started', thread_id: threadId });
  emit({ type: 'turn.started' });

  if (scenario === 'turn-failed') {
    completed({ type: 'error', message: 'fake: the model stream was interrupted' });
    emit({ type: 'turn.failed', error: { message: 'fake: quota exceeded for this key' } });
    process.stderr.write('fake codex: turn failed\n');
    process.exit(1);
  }
  if (scenario === 'stream-error') {
    emit({ type: 'error', message: 'fake: stream disconnected before completion' });
    process.exit(1);
  }
  if (scenario === 'hang') {
    completed({ type: 'agent_message', text: 'Starting a very long build.' });
    emit({ type: 'item.started', item: { id: nextId(), type: 'command_execution', command: 'make forever', aggregated_output: '', status: 'in_progress' } });
    setInterval(() => undefined, 60_000);
    return;
  }

  if (prompt.includes('did not pass validation')) {
    writeArtifacts(workDir, 'true');
    emit({ type: 'turn.completed', usage: usage(400, 300, 60) });
  } else if (prompt.includes('Write the ending report')) {
    writeArtifacts(workDir, scenario === 'invalid-first' ? 'maybe' : 'true');
    emit({ type: 'turn.completed', usage: usage(500, 100, 80) });
  } else {
    doTheTask(workDir);
    if (scenario === 'leak') {
      const key = process.env.OPENAI_API_KEY ?? '';
      completed({ type: 'command_execution', command: 'env', aggregated_output: `HOME=/root\nOPENAI_API_KEY=${key}\n`, exit_code: 0, status: 'completed' });
      completed({ type: 'agent_message', text: `My key is ${key}, by the way.` });
    }
    emit({ type: 'turn.completed', usage: usage(1000, 200, 300) });
  }
}

await main();
