import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Two files at a time even on two cores: most of the suite's time is spent waiting on the processes it starts.
    maxWorkers: 2,
  },
});
