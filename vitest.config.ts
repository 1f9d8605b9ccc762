import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that time what they watch (takeovers after a kill, a browser following live refreshes): they run one at a
 * time after the rest, so that a busy neighbour cannot make them miss. The rest run two files at a time: most of the
 * suite waits on the processes it starts (kumul serve, Slurm, rclone, PostgreSQL).
 */
const ALONE = ['test/service/failover.test.ts', 'test/web/dashboard.e2e.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE], maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
