module.exports = {
  displayName: 'worker',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // @openai/codex-sdk is ESM-only and jest's sandbox cannot import() it: resolve its one entry point and
  // let @swc/jest compile it to CommonJS (swc rewrites its import.meta.url to a file URL of __filename).
  moduleNameMapper: { '^@openai/codex-sdk$': '<rootDir>/../../node_modules/@openai/codex-sdk/dist/index.js' },
  transformIgnorePatterns: ['/node_modules/(?!@openai/codex-sdk/)'],
  // Agents of every suite run as the one AGENT_UID, and the isolation specs kill everything of that uid: suites
  // in parallel (jest's default on a machine with more than two cores) would kill each other's agents.
  maxWorkers: 1,
};
