module.exports = {
  displayName: 'replay',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/../../libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest-global-teardown.ts',
  // Each test spawns the CLI as a child process, which creates and migrates its own database.
  testTimeout: 120000,
  // The child processes share the run's Postgres server and the machine's two cores.
  maxWorkers: 1,
};
