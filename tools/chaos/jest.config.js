module.exports = {
  displayName: 'chaos',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // The harness run starts its own Postgres, SQS endpoint and apps; nothing shared to set up.
  testTimeout: 180000,
  maxWorkers: 1,
};
