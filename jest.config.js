/** Unit tests sit beside the code; e2e tests run the real engine, registry and binaries. */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }];

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testMatch: ['<rootDir>/packages/*/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/e2e/**/*.e2e.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      globalSetup: '<rootDir>/e2e/support/global-setup.ts',
      globalTeardown: '<rootDir>/e2e/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/e2e/support/jest-timeout.ts'],
      modulePathIgnorePatterns: ['<rootDir>/tmp/'],
      slowTestThreshold: 30,
    },
  ],
};
