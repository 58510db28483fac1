#!/usr/bin/env node
/**
 * The last line of `npm test`: the counts of every jest run it made (one per project,
 * each written by tools/jest-summary-reporter.js under tmp/test-results/), added up into
 * the one plain line CI reads, "tests: N passed, N failed, N skipped".
 *
 *   node tools/test-summary.js --reset   # forget the results of an earlier run
 *   node tools/test-summary.js           # print the totals; exit 1 if a test failed
 */
const { existsSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

const resultsDir = path.join(__dirname, '..', 'tmp', 'test-results');

/** Every results file under `dir`, found at any depth (`packages/core.json`, `e2e.json`). */
function resultFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The totals of the results files, with the names of the skipped tests. */
function sumResults(files) {
  const total = { passed: 0, failed: 0, skipped: 0, skippedTests: [] };
  for (const file of files) {
    const run = JSON.parse(readFileSync(file, 'utf8'));
    total.passed += run.passed;
    total.failed += run.failed;
    total.skipped += run.skipped;
    total.skippedTests.push(...run.skippedTests);
  }
  return total;
}

function main(argv) {
  if (argv.includes('--reset')) {
    rmSync(resultsDir, { recursive: true, force: true });
    return;
  }
  const files = resultFiles(resultsDir);
  const total = sumResults(files);
  if (total.skippedTests.length > 0) {
    process.stdout.write(`\nSKIPPED (${total.skipped}):\n${total.skippedTests.map((n) => `  - ${n}`).join('\n')}\n`);
  }
  const runs = files.map((f) => path.relative(resultsDir, f).replace(/\.json$/, '')).join(', ');
  process.stdout.write(`\nAll jest runs (${runs || 'none'}):\n`);
  process.stdout.write(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  if (total.failed > 0) process.exitCode = 1;
}

module.exports = { resultFiles, sumResults };

if (require.main === module) main(process.argv.slice(2));
