/** Large enough for any real ticket; beyond it the agent reads the file itself rather than the prompt growing without bound. */
const EMBEDDED_FILE_MAX_CHARS = 64 * 1024;

export interface TaskFiles {
  agentsMd: string | undefined;
  taskMd: string;
}

/** The first turn: the working agreement and the task inline, so the agent starts without a file read. */
export function initialPrompt(files: TaskFiles, instruction: string): string {
  return [
    instruction.trim(),
    '',
    'Your working directory is the job\'s work directory: TASK.md and AGENTS.md are here, the repository is cloned in repo/,',
    'and agent-meta/ is where your ending artifacts go. Commit your work in repo/ on a feature branch, never on the default branch.',
    '',
    embed('AGENTS.md', files.agentsMd ?? '_(there is no AGENTS.md in this work directory)_'),
    '',
    embed('TASK.md', files.taskMd),
    '',
  ].join('\n');
}

/** The second turn of attempt 1: the artifacts the worker validates (docs/design.md, "Worker work directory"). */
export const ENDING_REPORT_PROMPT = [
  'Write the ending report now.',
  '',
  '1. If you changed the repository, make sure every change in repo/ is committed on your feature branch and `git status` is clean.',
  '   If AGENTS.md lists several repositories under repo/, do this in each one you changed, and write agent-meta/branches.json as AGENTS.md describes.',
  '2. Write agent-meta/WAS_JOB_SUCCESSFUL containing exactly `true` or `false`: whether you completed the task.',
  '3. Write agent-meta/meta-info.txt whose first line is a short title for the change (it becomes the pull request title).',
  '4. Write agent-meta/ending-report.md: what you changed and why, how you verified it, and anything a reviewer must know.',
  '   If you could not complete the task, explain what you found, what you tried and what blocked you.',
  '',
  '5. Only if you completed the task and it needs no code change (for example an incident whose cause is outside the repository): write agent-meta/OUTCOME containing exactly `report`; your ending report is then the result.',
  '',
  'Create agent-meta/ if it does not exist. Do not write anything else into agent-meta/ (agent-meta/branches.json aside, when AGENTS.md asks for it).',
  '',
].join('\n');

function embed(name: string, content: string): string {
  const clipped =
    content.length <= EMBEDDED_FILE_MAX_CHARS
      ? content
      : `${content.slice(0, EMBEDDED_FILE_MAX_CHARS)}\n\n_(${name} continues; read the rest from the file)_`;
  return `===== ${name} =====\n${clipped.trimEnd()}\n===== end of ${name} =====`;
}
