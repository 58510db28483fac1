const { describe, expect, it } = require('@jest/globals');
const path = require('node:path');
const { publishArgs } = require('./npm-publish');

describe('tools/release/npm-publish.js', () => {
  it.each([
    ['a plain publish', ['packages/core'], {}, []],
    [
      'the registry and dist-tag nx release passes',
      ['packages/nx', '--registry=http://127.0.0.1:4873/', '--tag=next'],
      {},
      ['--registry=http://127.0.0.1:4873/', '--tag=next'],
    ],
    ['--dryRun=true', ['packages/core', '--dryRun=true'], {}, ['--dry-run']],
    ['NX_DRY_RUN=true', ['packages/core'], { NX_DRY_RUN: 'true' }, ['--dry-run']],
    ['options npm has no use for here', ['packages/core', '--firstRelease=true', '--nxReleaseVersionData={}'], {}, []],
  ])('%s', (_, argv, env, extra) => {
    expect(publishArgs(argv, env)).toEqual(['publish', path.resolve(argv[0]), ...extra]);
  });

  it('needs a project root', () => {
    expect(publishArgs([], {})).toBeUndefined();
  });
});
