#!/usr/bin/env node
/**
 * Writes src/executors/{push,release-publish}/schema.json from core's zod model (`pushArgsShape`), so the
 * executor's options are the model's, never hand-edited. Run after `npm run build`:
 *
 *   node packages/nx/scripts/generate-schema.js          # rewrite schema.json
 *   node packages/nx/scripts/generate-schema.js --check  # exit 1 when it is stale
 *
 * schema.spec.ts runs the same check in the unit tests.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const schemaFile = path.join(__dirname, '..', 'src', 'executors', 'push', 'schema.json');
const releasePublishSchemaFile = path.join(__dirname, '..', 'src', 'executors', 'release-publish', 'schema.json');

/** Where Nx users need more than the model says: tokens and the Nx defaults. */
const nxNotes = {
  repo: 'Accepts {projectName}, {projectRoot} and {workspaceRoot}.',
  source: 'Accepts {projectName}, {projectRoot} and {workspaceRoot}.',
  tags: "Each tag accepts {projectName}. Alias: tag (as in the CLI's --tag).",
  dryRun: 'NX_DRY_RUN=true does the same. Prints the plan and writes no file.',
  outputFile:
    'Default: {workspaceRoot}/dist/docker-push/{projectName}.json; list it in the target\'s outputs (["{options.outputFile}"]) so later tasks can read image.uri.latest.',
};

/** The push executor's options: the model's, with the Nx notes. */
function pushOptionsSchema() {
  const core = require('@dockpush/core/model');
  // The zod that built the model: toJSONSchema reads its internals.
  const coreDir = path.dirname(require.resolve('@dockpush/core/package.json'));
  const { z } = require(require.resolve('zod', { paths: [coreDir] }));
  const { $schema, ...model } = z.toJSONSchema(core.pushArgsShape, { io: 'input', target: 'draft-07' });
  // The CLI spells it --tag; under Nx both --tag and --tags work.
  model.properties.tags.aliases = ['tag'];
  for (const [name, note] of Object.entries(nxNotes)) {
    const property = model.properties[name];
    if (!property) throw new Error(`generate-schema: the model has no option "${name}"`);
    property.description = property.description ? `${property.description} ${note}` : note;
  }
  return { $schema, model };
}

/** The push executor's schema.json text, as it should be committed. */
function renderExecutorSchema() {
  const { $schema, model } = pushOptionsSchema();
  const schema = {
    $schema,
    version: 2,
    title: 'dockpush push executor',
    description:
      'Push a local Docker image to any registry or AWS ECR. Give exactly one of repo, image or ecrRepo. Generated from the @dockpush/core model by packages/nx/scripts/generate-schema.js: do not edit.',
    ...model,
    examples: [
      { repo: 'localhost:5000/{projectName}', source: '{projectName}:latest', tags: ['latest', '1.0.0'] },
      { ecrRepo: { repoName: 'team/app', awsRegion: 'us-east-1' }, source: 'app:latest' },
    ],
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** What `nx release publish` passes to every nx-release-publish target, beside the target's options. */
const releaseOptions = {
  nxReleaseVersionData: {
    type: 'object',
    description: 'Passed by nx release: the version it resolved for each project.',
    'x-priority': 'internal',
  },
  firstRelease: {
    type: 'boolean',
    description: 'Passed by nx release --first-release; changes nothing for an image.',
    'x-priority': 'internal',
  },
  registry: {
    type: 'string',
    description: "npm's option, passed by nx release publish; ignored.",
    'x-priority': 'internal',
  },
  otp: {
    type: ['string', 'number'],
    description: "npm's option, passed by nx release publish; ignored.",
    'x-priority': 'internal',
  },
  access: {
    type: 'string',
    description: "npm's option, passed by nx release publish; ignored.",
    'x-priority': 'internal',
  },
};

/** The release-publish executor's schema.json text: the push options plus what nx release passes. */
function renderReleasePublishSchema() {
  const { $schema, model } = pushOptionsSchema();
  model.properties.tags.description =
    'Tags pushed besides the released version, e.g. ["latest"]. Each tag accepts {projectName}. Alias: tag.';
  model.properties.dryRun.description = 'Push nothing and print the plan; nx release --dry-run turns it on.';
  const schema = {
    $schema,
    version: 2,
    title: 'dockpush release-publish executor',
    description:
      "A project's nx-release-publish target: push the version nx release resolved (from @nx/docker's version file when its release versioning is used), plus tags. Generated from the @dockpush/core model by packages/nx/scripts/generate-schema.js: do not edit.",
    ...model,
    properties: { ...model.properties, ...releaseOptions },
    examples: [
      { repo: 'registry.example.com/{projectName}', source: '{projectName}:latest', tags: ['latest'] },
      { ecrRepo: { repoName: 'team/app' }, source: 'app:latest' },
    ],
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

const generated = [
  [schemaFile, renderExecutorSchema],
  [releasePublishSchemaFile, renderReleasePublishSchema],
];

function main(argv) {
  for (const [file, render] of generated) {
    const expected = render();
    const relativeFile = path.relative(process.cwd(), file);
    if (argv.includes('--check')) {
      const actual = readFileSync(file, 'utf8');
      if (actual !== expected) {
        console.error(`${relativeFile} is stale: run node packages/nx/scripts/generate-schema.js`);
        process.exitCode = 1;
      }
      continue;
    }
    writeFileSync(file, expected);
    console.log(`wrote ${relativeFile}`);
  }
}

module.exports = { renderExecutorSchema, renderReleasePublishSchema, schemaFile, releasePublishSchemaFile };

if (require.main === module) main(process.argv.slice(2));
