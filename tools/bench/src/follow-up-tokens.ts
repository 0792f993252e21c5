/**
 * What context reuse saves: the tokens of a follow-up job that resumes the earlier job's Codex thread versus one
 * that starts a fresh thread and must find its way around the repository again (docs/context-reuse.md).
 *
 *   npm run --silent bench:follow-up-tokens [-- --runs <N>]   (--help)
 *
 * The real codex CLI (0.163, through @openai/codex-sdk) talks to the scripted model (libs/testing), which computes
 * each response's usage from the request it got, so a resumed thread's history is paid for as it would be:
 *   input  = request body bytes / 4;
 *   cached = the prefix shared with the job's previous request, in whole 128-token blocks once it reaches 1024
 *            tokens (how OpenAI's prompt caching counts); nothing is cached across jobs (the cache has expired);
 *   output = the scripted items' bytes / 4.
 * Each run: a first job explores a small repository (five commands), fixes it and writes its ending report; its
 * session files are copied into a new CODEX_HOME, as the worker restores `agent-session/`; then the same review
 * comment is answered by a resumed follow-up (it already knows the code) and by a fresh one (it re-explores).
 *
 * Human-readable lines first; the LAST line is one JSON object:
 *   {"runs":N,"first":{…},"resumed":{…},"fresh":{…},"ratio":{"input":…,"uncachedInput":…,"total":…}}
 */
import { numberOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { startScriptedModel, type ScriptedItem, type ScriptedModel, type ScriptedRequest, type ScriptedTurn } from '@agent-conductor/testing';
import type * as CodexSdk from '@openai/codex-sdk';
import type { Codex, Thread, ThreadOptions } from '@openai/codex-sdk';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROVIDER_ID = 'bench_scripted_model';
const KEY_ENV = 'BENCH_MODEL_KEY';
const BYTES_PER_TOKEN = 4;
/** OpenAI's prompt caching: prefixes from 1024 tokens on, counted in 128-token steps. */
const CACHE_MIN_TOKENS = 1024;
const CACHE_BLOCK_TOKENS = 128;

const CLI = {
  name: 'bench:follow-up-tokens',
  synopsis: 'npm run --silent bench:follow-up-tokens [-- --runs N]',
  summary: 'Tokens of a follow-up that resumes the earlier Codex thread versus one that starts fresh (real codex CLI, scripted model).',
  options: {
    runs: { type: 'string', value: 'N', description: 'runs; medians are reported (default 3)' },
  },
  notes: 'Human-readable lines first; the last line is one JSON object.',
} satisfies CliSpec<CliOptions>;

interface Usage {
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

/** A scripted model whose usage is computed from each request, with a per-job prompt cache. */
class MeteredModel {
  readonly usage: Usage = { requests: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
  private previous = '';

  private constructor(readonly server: ScriptedModel) {}

  static async start(script: ScriptedItem[][]): Promise<MeteredModel> {
    const holder: { model?: MeteredModel } = {};
    const turns: ScriptedTurn[] = script.map((items) => (request: ScriptedRequest) => ({ items, usage: holder.model?.meter(request, items) ?? {} }));
    holder.model = new MeteredModel(await startScriptedModel(turns));
    return holder.model;
  }

  private meter(request: ScriptedRequest, items: ScriptedItem[]): { inputTokens: number; cachedInputTokens: number; outputTokens: number } {
    const inputTokens = Math.ceil(Buffer.byteLength(request.text) / BYTES_PER_TOKEN);
    const shared = Math.floor(sharedPrefixBytes(this.previous, request.text) / BYTES_PER_TOKEN);
    const cachedInputTokens = shared >= CACHE_MIN_TOKENS ? Math.floor(shared / CACHE_BLOCK_TOKENS) * CACHE_BLOCK_TOKENS : 0;
    const outputTokens = Math.ceil(Buffer.byteLength(JSON.stringify(items)) / BYTES_PER_TOKEN);
    this.previous = request.text;
    this.usage.requests += 1;
    this.usage.inputTokens += inputTokens;
    this.usage.cachedInputTokens += cachedInputTokens;
    this.usage.outputTokens += outputTokens;
    return { inputTokens, cachedInputTokens, outputTokens };
  }
}

function sharedPrefixBytes(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a.charCodeAt(index) === b.charCodeAt(index)) index += 1;
  return Buffer.byteLength(a.slice(0, index));
}

/** The repository the agents work on: enough code that reading it is what costs. */
async function writeRepository(dir: string): Promise<void> {
  const files: Record<string, string> = {
    'README.md': '# orders-api\n\nOrder totals, lines and discounts for the shop.\n',
    'src/orders/line.ts': lines('line', 'export function lineTotal(price: number, quantity: number): number {\n  return Math.round(price * quantity * 100) / 100;\n}\n'),
    'src/orders/total.ts': lines('total', "import { lineTotal } from './line';\n\nexport function orderTotal(lines: Array<{ price: number; quantity: number }>): number {\n  return lines.reduce((sum, line) => sum + lineTotal(line.price, line.quantity), 0);\n}\n"),
    'src/orders/discount.ts': lines('discount', 'export function discounted(total: number, percent: number): number {\n  return total - (total * percent) / 100;\n}\n'),
    'src/orders/tax.ts': lines('tax', 'export function withTax(total: number, rate: number): number {\n  return total * (1 + rate);\n}\n'),
    'test/total.test.ts': lines('test', "import { orderTotal } from '../src/orders/total';\n\ntest('sums the lines', () => {\n  expect(orderTotal([{ price: 1.005, quantity: 3 }])).toBe(3.02);\n});\n"),
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, 'repo', path, '..'), { recursive: true });
    await writeFile(join(dir, 'repo', path), content);
  }
}

/** Real-looking bulk: a file's documented history, so that a `cat` costs what reading a real module would. */
function lines(topic: string, code: string): string {
  const history = Array.from({ length: 40 }, (_, index) => `// ${topic} ${index + 1}: kept for the ${topic} rules of the 20${10 + (index % 15)} price list; see the finance handbook, section ${index + 3}.`);
  return `${history.join('\n')}\n\n${code}`;
}

const EXPLORE: ScriptedItem[][] = [
  [{ exec: 'cd repo && find . -type f | sort' }],
  [{ exec: 'cd repo && cat src/orders/total.ts' }],
  [{ exec: 'cd repo && cat src/orders/line.ts' }],
  [{ exec: 'cd repo && grep -rn "Math.round" src test' }],
  [{ exec: 'cd repo && cat test/total.test.ts' }],
];
const FIX: ScriptedItem[][] = [
  [{ exec: "cd repo && sed -i 's/return Math.round(price \\* quantity \\* 100) \\/ 100;/return price * quantity;/' src/orders/line.ts && git diff --stat" }],
  [{ message: 'Rounding now happens once, in orderTotal; lineTotal no longer rounds each line (src/orders/line.ts).' }],
];
const ADD_TEST: ScriptedItem[][] = [
  [{ exec: "cd repo && printf \"\\ntest('an empty order is 0', () => {\\n  expect(orderTotal([])).toBe(0);\\n});\\n\" >> test/total.test.ts && tail -3 test/total.test.ts" }],
  [{ message: 'Added the test for an empty order to test/total.test.ts, next to the rounding test.' }],
];
const ENDING_REPORT: ScriptedItem[][] = [
  [{ exec: "mkdir -p agent-meta && printf 'true\\n' > agent-meta/WAS_JOB_SUCCESSFUL && printf '# Done\\n\\nSee the pull request.\\n' > agent-meta/ending-report.md" }],
  [{ message: 'Wrote the ending report.' }],
];

const FIRST_TASK = 'Do the task in TASK.md following AGENTS.md.\n\n# ABC-12: Fix order total rounding\n\nOrder totals are rounded per line instead of once per order.\n';
const REVIEW = '# Review comments on ABC-12\n\n- test/total.test.ts: please add a test for an empty order.\n';
/** The fresh follow-up gets what the conductor puts in TASK.md instead of the session: the earlier ending report. */
const FRESH_SECTION =
  '\n## Earlier work in this thread\n\nAn earlier agent did the work you continue. It cannot be resumed, so you start without its memory of the repository.\n\n~~~text\nRounding now happens once, in orderTotal; lineTotal no longer rounds each line (src/orders/line.ts).\n~~~\n';
const ENDING_PROMPT = 'Write the ending report: agent-meta/WAS_JOB_SUCCESSFUL, agent-meta/meta-info.txt and agent-meta/ending-report.md.';

const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

async function newCodex(model: MeteredModel, codexHome: string): Promise<Codex> {
  const { Codex: CodexClass } = (await nativeImport('@openai/codex-sdk')) as typeof CodexSdk;
  return new CodexClass({
    config: {
      model_provider: PROVIDER_ID,
      model_providers: { [PROVIDER_ID]: { name: 'bench scripted model', base_url: model.server.baseUrl, env_key: KEY_ENV, wire_api: 'responses', supports_websockets: false } },
    },
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: codexHome, CODEX_HOME: codexHome, [KEY_ENV]: 'bench-key' },
  });
}

function threadOptions(workDir: string): ThreadOptions {
  return { workingDirectory: workDir, skipGitRepoCheck: true, sandboxMode: 'danger-full-access', approvalPolicy: 'never' };
}

/** One job's two turns (task, ending report), as the worker runs them. */
async function runJob(thread: Thread, prompt: string): Promise<void> {
  for (const turn of [prompt, ENDING_PROMPT]) {
    const result = await thread.run(turn);
    if (result.finalResponse === '') throw new Error('a codex turn ended without a message');
  }
}

function gitInit(dir: string): void {
  const git = (args: string[]): void => void execFileSync('git', ['-C', join(dir, 'repo'), ...args], { stdio: 'ignore', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });
  git(['init', '--quiet', '-b', 'main']);
  git(['add', '-A']);
  git(['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '--quiet', '-m', 'orders-api']);
}

async function oneRun(scratch: string): Promise<{ first: Usage; resumed: Usage; fresh: Usage }> {
  const firstDir = join(scratch, 'first');
  await writeRepository(firstDir);
  gitInit(firstDir);
  const firstHome = join(scratch, 'home-first');
  await mkdir(firstHome);
  const firstModel = await MeteredModel.start([...EXPLORE, ...FIX, ...ENDING_REPORT]);
  let threadId: string;
  try {
    const thread = (await newCodex(firstModel, firstHome)).startThread(threadOptions(firstDir));
    await runJob(thread, FIRST_TASK);
    if (!thread.id) throw new Error('the first job has no thread id');
    threadId = thread.id;
  } finally {
    await firstModel.server.close();
  }

  // Both follow-ups start from the first job's branch, as checked out by the worker.
  const resumedDir = join(scratch, 'resumed');
  const freshDir = join(scratch, 'fresh');
  await cp(firstDir, resumedDir, { recursive: true });
  await cp(firstDir, freshDir, { recursive: true });

  // What the worker does with agent-session/: the thread's session files into the new CODEX_HOME.
  const resumedHome = join(scratch, 'home-resumed');
  await cp(join(firstHome, 'sessions'), join(resumedHome, 'sessions'), { recursive: true });
  const resumedModel = await MeteredModel.start([...ADD_TEST, ...ENDING_REPORT]);
  try {
    await runJob((await newCodex(resumedModel, resumedHome)).resumeThread(threadId, threadOptions(resumedDir)), `Do the task in TASK.md following AGENTS.md.\n\n${REVIEW}`);
    const firstRequest = resumedModel.server.requests[0]?.text ?? '';
    // Honest numbers only: the resumed thread must really carry the first job's conversation.
    if (!firstRequest.includes('lineTotal no longer rounds each line')) throw new Error('the resumed follow-up did not send the earlier conversation');
  } finally {
    await resumedModel.server.close();
  }

  const freshHome = join(scratch, 'home-fresh');
  await mkdir(freshHome);
  const freshModel = await MeteredModel.start([...EXPLORE, ...ADD_TEST, ...ENDING_REPORT]);
  try {
    await runJob((await newCodex(freshModel, freshHome)).startThread(threadOptions(freshDir)), `Do the task in TASK.md following AGENTS.md.\n\n${REVIEW}${FRESH_SECTION}`);
  } finally {
    await freshModel.server.close();
  }
  return { first: firstModel.usage, resumed: resumedModel.usage, fresh: freshModel.usage };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : Math.round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2);
}

function medianUsage(samples: Usage[]): Usage {
  return {
    requests: median(samples.map((usage) => usage.requests)),
    inputTokens: median(samples.map((usage) => usage.inputTokens)),
    cachedInputTokens: median(samples.map((usage) => usage.cachedInputTokens)),
    outputTokens: median(samples.map((usage) => usage.outputTokens)),
  };
}

const describeUsage = (usage: Usage): string =>
  `${usage.requests} requests, ${usage.inputTokens} input (${usage.cachedInputTokens} cached, ${usage.inputTokens - usage.cachedInputTokens} uncached), ${usage.outputTokens} output`;

const ratio = (a: number, b: number): number => (b === 0 ? 0 : Math.round((a / b) * 100) / 100);

async function main(runs: number): Promise<void> {
  const samples: Array<{ first: Usage; resumed: Usage; fresh: Usage }> = [];
  for (let run = 0; run < runs; run += 1) {
    const scratch = await mkdtemp(join(tmpdir(), 'bench-follow-up-'));
    try {
      const sample = await oneRun(scratch);
      samples.push(sample);
      console.log(`run ${run + 1}: resumed ${describeUsage(sample.resumed)}; fresh ${describeUsage(sample.fresh)}`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const first = medianUsage(samples.map((sample) => sample.first));
  const resumed = medianUsage(samples.map((sample) => sample.resumed));
  const fresh = medianUsage(samples.map((sample) => sample.fresh));
  const summary = {
    runs,
    first,
    resumed,
    fresh,
    ratio: {
      input: ratio(resumed.inputTokens, fresh.inputTokens),
      uncachedInput: ratio(resumed.inputTokens - resumed.cachedInputTokens, fresh.inputTokens - fresh.cachedInputTokens),
      total: ratio(resumed.inputTokens + resumed.outputTokens, fresh.inputTokens + fresh.outputTokens),
    },
  };
  console.log(`first job (median of ${runs}):        ${describeUsage(first)}`);
  console.log(`follow-up, resumed (median of ${runs}): ${describeUsage(resumed)}`);
  console.log(`follow-up, fresh (median of ${runs}):   ${describeUsage(fresh)}`);
  console.log(`resumed / fresh: input ${summary.ratio.input}, uncached input ${summary.ratio.uncachedInput}, input + output ${summary.ratio.total}`);
  console.log(JSON.stringify(summary));
}

main(startCli(CLI, ({ values }) => numberOption(values.runs, 'runs', { fallback: 3, whole: true, min: 1 }))).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
