#!/usr/bin/env node
/**
 * Writes src/args/push-args.schema.json: the JSON Schema of the zod model (`pushArgsShape`), which
 * `parsePushArgs` checks valid arguments against without loading zod. Run after `npm run build`:
 *
 *   node packages/core/scripts/generate-args-schema.js          # rewrite the file
 *   node packages/core/scripts/generate-args-schema.js --check  # exit 1 when it is stale
 *
 * push-args-model.spec.ts runs the same check in the unit tests.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'src', 'args', 'push-args.schema.json');

/** The file's text as it should be committed, from the model in `modelModule`. */
function renderArgsSchema(modelModule = require('../dist/args/push-args-model.js')) {
  const { z } = require('zod');
  return `${JSON.stringify(z.toJSONSchema(modelModule.pushArgsShape, { io: 'input' }), null, 2)}\n`;
}

module.exports = { renderArgsSchema, file };

if (require.main === module) {
  const text = renderArgsSchema();
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== text) {
      console.error(`${file} is stale: run node packages/core/scripts/generate-args-schema.js`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
  }
}
