/**
 * Vitest reporter that ends the run with the line CI reads: `N passed, N failed, N skipped`.
 * A test file that fails to load or whose setup hooks fail counts as one failure; a run with no tests
 * counts as a failure.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const mod of testModules) {
      let testsFailed = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') testsFailed += 1;
        else skipped += 1;
      }
      failed += testsFailed;
      // A file that failed to load, or whose hooks (beforeAll) failed and so skipped its tests, counts once.
      if (testsFailed === 0 && (mod.errors().length > 0 || mod.state() === 'failed')) failed += 1;
    }
    if (passed + failed === 0) failed = 1;
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
