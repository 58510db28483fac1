/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", that CI
 * reads whatever the runner. Skipped tests are listed by name so none hides.
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
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
