module.exports = {
  displayName: 'cli',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/../../libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest-global-teardown.ts',
  // Each case runs the CLI as child processes, several seconds each on a loaded machine (tsx compiles on start).
  testTimeout: 180000,
  // Test files share the run's database and reset it between tests.
  maxWorkers: 1,
};
