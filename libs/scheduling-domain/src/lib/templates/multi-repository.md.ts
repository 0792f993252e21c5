// The multi-repository layout and its branches file (docs/multi-repository.md). The worker validates exactly
// this, so change both together.
export function multiRepositorySection(names: readonly string[]): string {
  const listed = names.map((name, index) => `- \`repo/${name}/\`${index === 0 ? ' (the primary repository)' : ''}`).join('\n');
  const example = JSON.stringify(Object.fromEntries(names.slice(0, 2).map((name) => [name, 'fix/short-description'])));
  return `
## Several repositories

This job spans several repositories. \`repo/\` is not itself a repository: each one is its own git
repository, already cloned and checked out on its base branch, in its own directory:

${listed}

Everything above about \`repo/\` applies to each repository you change: a feature branch off its base branch,
at least one commit, a clean working tree, no pushes. Leave the repositories you do not change on their base
branch, untouched.

Also write \`agent-meta/branches.json\`: one JSON object naming, for each repository you changed, the feature
branch that holds its commits, for example \`${example}\`. Each named branch must be the one checked out in
that repository. The worker pushes each one and opens one pull request per repository, and the pull requests
link each other. Every repository with commits ahead of its base branch must be listed. With \`report\` in
\`agent-meta/OUTCOME\`, or \`false\`, the file may be left out.
`;
}
