module.exports = {
  displayName: 'scheduling',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/../testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../testing/src/jest-global-teardown.ts',
  // Database tests wait on Postgres, and the concurrency ones on each other.
  testTimeout: 60000,
  // Test files share the run's database and truncate it between tests.
  maxWorkers: 1,
};
