// The artifact protocol from docs/design.md ("Worker work directory"). The worker validates exactly this,
// so change both together.
export const WORK_PROTOCOL_SECTION = `## Your work directory

Your current directory is the work directory. It contains:

- \`TASK.md\`: your task.
- \`AGENTS.md\`: these instructions.
- \`repo/\`: the repository, already cloned and checked out on its default branch. Make all code changes here.
- \`agent-meta/\`: where you report the outcome. Create it if it does not exist. It lives next to \`repo/\`, not inside it.

## How to deliver your work

1. In \`repo/\`, create a feature branch off the default branch before changing anything
   (for example \`git checkout -b fix/short-description\`). Never commit to the default branch.
2. Commit your changes on that branch: at least one commit, with a message that says what changed and why.
3. Leave a clean working tree: \`git status --porcelain\` in \`repo/\` must print nothing.
   Commit what belongs in the change; delete scratch files and build output that do not.
4. Do not push, and do not add or change git remotes. The worker checks your work, pushes the branch and
   opens the pull request itself.
5. Write these three files:
   - \`agent-meta/WAS_JOB_SUCCESSFUL\`: exactly \`true\` or \`false\`, nothing else.
   - \`agent-meta/meta-info.txt\`: line 1 is the pull request title (one plain-text line).
   - \`agent-meta/ending-report.md\`: a non-empty Markdown report. On success it becomes the pull request
     body: say what you changed and why, how you verified it, and what a reviewer should look at.

Optionally, \`agent-meta/OUTCOME\`: exactly \`report\` when your ending report is the whole result and no code
change is needed (with \`true\` in \`agent-meta/WAS_JOB_SUCCESSFUL\`). The report is then published as an issue
instead of a pull request, and \`repo/\` is neither checked nor pushed. Without the file, \`true\` means a change.

Write \`true\` only when the feature branch is ready for review: committed, at least one commit ahead of the
default branch, clean tree, and the project's own tests and linters pass where they exist.
Otherwise write \`false\`, still give a title in \`agent-meta/meta-info.txt\`, and explain in
\`agent-meta/ending-report.md\` what you found, what you tried and what blocked you.

If your result fails validation, you will be shown the exact errors and given another attempt.
Fix precisely what is reported.

## Rules

- Never print, commit or write credentials, tokens or other secrets, in code, commit messages or reports.
- Do not change anything outside \`repo/\` and \`agent-meta/\`.
- Do not rewrite the history of the default branch.
`;
