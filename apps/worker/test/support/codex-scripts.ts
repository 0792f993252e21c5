import type { ScriptedRequest, ScriptedTurn } from '@agent-conductor/testing';
import { toolOutputs, userTexts } from '@agent-conductor/testing';

/*
 * Scripts for the scripted model that make the real codex CLI do a job's work through exec_command calls: the
 * commands run in the work dir, in a real shell, exactly as a model's tool calls would.
 */

export const BRANCH = 'agent/scripted-change';
export const COMMIT_SUBJECT = 'Round order totals once';
export const TITLE = 'ABC-12: Round order totals once';

/** The task turn: a commit on a feature branch in repo/, then a closing message. */
export function taskTurns(): ScriptedTurn[] {
  return [
    {
      items: [
        {
          exec: `cd repo && git checkout --quiet -b ${BRANCH} && printf '# Changes\\n\\n- Rounded order totals once.\\n' > CHANGES.md && git add CHANGES.md && git commit --quiet -m '${COMMIT_SUBJECT}' && git log --format=%s -1`,
        },
      ],
      usage: { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 300 },
    },
    { items: [{ message: `I committed the change on ${BRANCH}.` }], usage: { inputTokens: 1100, cachedInputTokens: 900, outputTokens: 20 } },
  ];
}

/** The ending-report turn: the three artifacts, with the given verdict. */
export function endingReportTurns(verdict: string): ScriptedTurn[] {
  return [
    {
      items: [
        {
          exec: `mkdir -p agent-meta && printf '${verdict}\\n' > agent-meta/WAS_JOB_SUCCESSFUL && printf '${TITLE}\\n' > agent-meta/meta-info.txt && printf '# Done\\n\\nOrder totals are now rounded once.\\n' > agent-meta/ending-report.md`,
        },
      ],
      usage: { inputTokens: 500, cachedInputTokens: 100, outputTokens: 80 },
    },
    { items: [{ message: `Wrote the ending report (verdict ${verdict}).` }], usage: { inputTokens: 600, cachedInputTokens: 500, outputTokens: 10 } },
  ];
}

/** The correction turn: rewrite the verdict. */
export function correctionTurns(): ScriptedTurn[] {
  return [
    { items: [{ exec: `printf 'true\\n' > agent-meta/WAS_JOB_SUCCESSFUL` }], usage: { inputTokens: 400, cachedInputTokens: 300, outputTokens: 60 } },
    { items: [{ message: 'Fixed the verdict.' }], usage: { inputTokens: 450, cachedInputTokens: 400, outputTokens: 5 } },
  ];
}

/** The last user message of a request: the prompt of the codex turn that made it. */
export function lastUserText(request: ScriptedRequest | undefined): string {
  if (!request) return '';
  const texts = userTexts(request);
  return texts[texts.length - 1] ?? '';
}

/** All exec_command output codex sent back in a request. */
export function lastToolOutput(request: ScriptedRequest | undefined): string {
  if (!request) return '';
  const outputs = toolOutputs(request);
  return outputs[outputs.length - 1] ?? '';
}
