const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", that CI
 * reads whatever the runner. Skipped tests are listed by name so none hides.
 *
 * When DOCKPUSH_TEST_RESULTS names a file, the same counts are also written there as
 * JSON: `npm test` runs jest once per project (through Nx, which restores the file
 * from its cache with the rest of the task) and tools/test-summary.js adds them up.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = [];
    for (const file of results.testResults) {
      for (const t of file.testResults) {
        if (t.status === 'pending' || t.status === 'skipped' || t.status === 'todo') skipped.push(t.fullName);
      }
    }
    if (skipped.length > 0) {
      process.stdout.write(`\nSKIPPED (${skipped.length}):\n${skipped.map((n) => `  - ${n}`).join('\n')}\n`);
    }
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);

    const resultsFile = process.env.DOCKPUSH_TEST_RESULTS;
    if (resultsFile) {
      mkdirSync(path.dirname(resultsFile), { recursive: true });
      writeFileSync(resultsFile, `${JSON.stringify({ ...counts, skippedTests: skipped }, null, 2)}\n`);
    }
  }
}
module.exports = SummaryReporter;
