import { interpolateTokens, interpolateTokensDeep } from './interpolate-tokens';

const tokens = { workspaceRoot: '/ws', projectRoot: 'apps/api', projectName: 'api' };

describe('interpolateTokens', () => {
  it.each([
    ['localhost:5000/{projectName}', 'localhost:5000/api'],
    ['{workspaceRoot}/dist/{projectRoot}/push.json', '/ws/dist/apps/api/push.json'],
    ['{projectName}-{projectName}', 'api-api'],
    ['no tokens', 'no tokens'],
    ['{unknown}', '{unknown}'],
  ])('%s → %s', (input, expected) => {
    expect(interpolateTokens(input, tokens)).toBe(expected);
  });
});

describe('interpolateTokensDeep', () => {
  it('replaces inside arrays and nested objects, and leaves other values alone', () => {
    expect(
      interpolateTokensDeep(
        { tags: ['{projectName}', 'latest'], ecrRepo: { repoName: 'team/{projectName}' }, retries: 2, dryRun: false },
        tokens,
      ),
    ).toEqual({ tags: ['api', 'latest'], ecrRepo: { repoName: 'team/api' }, retries: 2, dryRun: false });
  });

  it('never touches the keys it is told to skip', () => {
    const auth = { username: 'u', password: 'p{projectName}' };
    expect(interpolateTokensDeep({ repo: '{projectName}', auth }, tokens, new Set(['auth']))).toEqual({
      repo: 'api',
      auth: { username: 'u', password: 'p{projectName}' },
    });
  });
});
