/**
 * Unit tests sit beside the code; e2e tests run the real engine, registry and binaries.
 *
 * In-process imports of the workspace packages resolve to their TypeScript source, so a
 * change in core is seen by every adapter's tests without a build. The e2e tests still
 * need the build: they run the packed packages and the real nx, gulp, grunt and CLI.
 */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }];

/** `@dockpush/core` → packages/core/src/index.ts, and so on for each workspace package. */
const workspaceSources = {
  '^@dockpush/core$': '<rootDir>/packages/core/src/index.ts',
  '^@dockpush/core/errors$': '<rootDir>/packages/core/src/errors.ts',
  '^@dockpush/core/model$': '<rootDir>/packages/core/src/model.ts',
  '^@dockpush/core/testing$': '<rootDir>/packages/core/src/testing/index.ts',
  '^dockpush$': '<rootDir>/packages/dockpush/src/index.ts',
  '^@dockpush/nx$': '<rootDir>/packages/nx/src/index.ts',
  '^@dockpush/gulp$': '<rootDir>/packages/gulp/src/index.ts',
  '^@dockpush/grunt$': '<rootDir>/packages/grunt/src/index.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testMatch: ['<rootDir>/packages/*/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.js'],
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper: workspaceSources,
      testEnvironment: 'node',
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/e2e/**/*.e2e.ts'],
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper: workspaceSources,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/e2e/support/global-setup.ts',
      globalTeardown: '<rootDir>/e2e/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/e2e/support/jest-timeout.ts'],
      modulePathIgnorePatterns: ['<rootDir>/tmp/'],
      slowTestThreshold: 30,
    },
  ],
};
