const { afterEach, beforeEach, describe, expect, it } = require('@jest/globals');
const { mkdtempSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const SummaryReporter = require('./jest-summary-reporter');
const { resultFiles, sumResults } = require('./test-summary');

/** What jest hands a reporter at the end of a run, reduced to what the reporter reads. */
function jestResults({ passed = 0, failed = 0, suiteErrors = 0, skipped = [] }) {
  return {
    numPassedTests: passed,
    numFailedTests: failed,
    numRuntimeErrorTestSuites: suiteErrors,
    numPendingTests: skipped.length,
    numTodoTests: 0,
    testResults: [{ testResults: skipped.map((fullName) => ({ status: 'pending', fullName })) }],
  };
}

describe('the totals of several jest runs', () => {
  const saved = process.env.DOCKPUSH_TEST_RESULTS;
  const realWrite = process.stdout.write;
  let printed;
  beforeEach(() => {
    printed = [];
    process.stdout.write = (text) => printed.push(String(text)) > 0;
  });
  afterEach(() => {
    process.stdout.write = realWrite;
    if (saved === undefined) delete process.env.DOCKPUSH_TEST_RESULTS;
    else process.env.DOCKPUSH_TEST_RESULTS = saved;
  });

  it('each run writes its counts where DOCKPUSH_TEST_RESULTS says, and the sum adds them all up', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-test-results-'));
    const runs = [
      ['packages/core.json', { passed: 10, skipped: ['core skips one'] }],
      ['packages/nx.json', { passed: 5, failed: 1, suiteErrors: 1 }],
      ['e2e.json', { passed: 3 }],
    ];
    for (const [file, counts] of runs) {
      process.env.DOCKPUSH_TEST_RESULTS = path.join(dir, file);
      new SummaryReporter().onRunComplete([], jestResults(counts));
    }

    const files = resultFiles(dir);
    expect(files.map((f) => path.relative(dir, f))).toEqual(['e2e.json', 'packages/core.json', 'packages/nx.json']);
    expect(sumResults(files)).toEqual({ passed: 18, failed: 2, skipped: 1, skippedTests: ['core skips one'] });
    expect(printed).toContain('\ntests: 5 passed, 2 failed, 0 skipped\n');
  });

  it('without DOCKPUSH_TEST_RESULTS a run only prints its line', () => {
    delete process.env.DOCKPUSH_TEST_RESULTS;
    new SummaryReporter().onRunComplete([], jestResults({ passed: 2 }));
    expect(printed).toContain('\ntests: 2 passed, 0 failed, 0 skipped\n');
  });

  it('no results at all sum to zero', () => {
    expect(resultFiles(path.join(tmpdir(), 'dockpush-no-such-dir'))).toEqual([]);
    expect(sumResults([])).toEqual({ passed: 0, failed: 0, skipped: 0, skippedTests: [] });
  });

  it('a results file is plain JSON counts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-test-results-'));
    mkdirSync(path.join(dir, 'packages'));
    process.env.DOCKPUSH_TEST_RESULTS = path.join(dir, 'packages', 'gulp.json');
    new SummaryReporter().onRunComplete([], jestResults({ passed: 1 }));
    expect(JSON.parse(readFileSync(process.env.DOCKPUSH_TEST_RESULTS, 'utf8'))).toEqual({
      passed: 1,
      failed: 0,
      skipped: 0,
      skippedTests: [],
    });
    writeFileSync(path.join(dir, 'notes.txt'), 'not a result');
    expect(resultFiles(dir).map((f) => path.basename(f))).toEqual(['gulp.json']);
  });
});
