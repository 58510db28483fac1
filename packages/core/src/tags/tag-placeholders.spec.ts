import { ArgumentsError } from '../errors';
import { contextFromRef } from './tag-context';
import {
  hasTagPlaceholders,
  placeholderValuesFromContext,
  renderTagPlaceholders,
  type TagPlaceholderValues,
} from './tag-placeholders';

const SHA = '860c1904a1ce19322e91ac35af1ab07466440c37';
const values: TagPlaceholderValues = {
  version: '1.4.0',
  sha: SHA,
  branch: 'feature/login',
  date: new Date('2026-03-09T23:59:59Z'),
  projectName: 'web',
};

describe('renderTagPlaceholders', () => {
  it.each([
    ['latest', 'latest'],
    ['{version}', '1.4.0'],
    ['v{version}-{shortSha}', 'v1.4.0-860c190'],
    ['{sha}', SHA],
    ['{branch}', 'feature-login'],
    ['{date}', '20260309'],
    ['{projectName}-{date}', 'web-20260309'],
  ])('%s → %s', (template, expected) => {
    expect(renderTagPlaceholders(template, values)).toBe(expected);
  });

  it('makes a version with build metadata tag-safe', () => {
    expect(renderTagPlaceholders('{version}', { ...values, version: '1.0.0+build.7' })).toBe('1.0.0-build.7');
  });

  it.each<[string, Partial<TagPlaceholderValues>, string]>([
    [
      '{commit}',
      {},
      '{commit} is not a known placeholder; use {version}, {sha}, {shortSha}, {branch}, {date}, {projectName}',
    ],
    [
      '{version}',
      { version: undefined },
      '{version} has no value: no version is known; set "version" in the project\'s package.json',
    ],
    ['{shortSha}', { sha: undefined }, '{shortSha} has no value: no commit SHA is known'],
    ['{branch}', { branch: undefined }, '{branch} has no value: the build is not on a branch'],
    [
      '{projectName}',
      { projectName: undefined },
      '{projectName} has no value: no project name is known; {projectName} is available under Nx',
    ],
    ['-{version}', {}, 'it renders "-1.4.0", which is not a valid Docker tag: a tag cannot start with "." or "-"'],
  ])('%s is refused', (template, override, message) => {
    const run = (): string => renderTagPlaceholders(template, { ...values, ...override }, 'tags[1]');
    expect(run).toThrow(ArgumentsError);
    expect(run).toThrow(`tags[1]: "${template}": ${message}`);
  });

  it('takes the SHA, branch and date from a tag context', () => {
    const context = { ...contextFromRef('refs/heads/main'), sha: SHA, date: values.date, source: 'test' } as const;
    expect(
      renderTagPlaceholders(
        '{branch}-{shortSha}-{version}',
        placeholderValuesFromContext({ ...context, event: 'branch' }, { version: '2.0.0' }),
      ),
    ).toBe('main-860c190-2.0.0');
  });

  it.each([
    ['latest', false],
    ['{version}', true],
    ['v1', false],
  ])('hasTagPlaceholders(%s) is %s', (tag, expected) => {
    expect(hasTagPlaceholders(tag)).toBe(expected);
  });
});
