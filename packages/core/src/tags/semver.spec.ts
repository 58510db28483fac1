import { parseSemVer } from './semver';

describe('parseSemVer', () => {
  it.each([
    ['1.2.3', '1.2.3', []],
    ['v1.2.3', '1.2.3', []],
    ['v2.0.8-beta.67', '2.0.8-beta.67', ['beta', '67']],
    ['1.0.0-rc.1+build.5', '1.0.0-rc.1', ['rc', '1']],
    ['1.0.0+20130313144700', '1.0.0', []],
    ['0.1.2', '0.1.2', []],
    ['1.0.0-0A.is.legal', '1.0.0-0A.is.legal', ['0A', 'is', 'legal']],
  ])('%s is version %s', (text, version, prerelease) => {
    expect(parseSemVer(text)).toMatchObject({ raw: text, version, prerelease });
  });

  it('gives the numbers', () => {
    expect(parseSemVer('v10.20.30')).toMatchObject({ major: 10, minor: 20, patch: 30 });
  });

  it.each([
    'v1.2',
    '1',
    '1.2.3.4',
    '01.2.3',
    '1.02.3',
    '1.2.3-01',
    '1.2.3-',
    'release-7',
    'V1.2.3',
    '',
    '1.2.3-beta_1',
  ])('%j is not a semver version', (text) => {
    expect(parseSemVer(text)).toBeUndefined();
  });
});
