import { explainInvalidRepository } from '@dockpush/core';
import { dockerRepositoryName } from './repository-name';

describe('dockerRepositoryName', () => {
  it.each([
    ['api', 'api'],
    ['demo-app', 'demo-app'],
    ['@acme/api', 'acme/api'],
    ['My App', 'my-app'],
    ['web__static', 'web__static'],
    ['a-.b', 'a-b'],
    ['-leading.and.trailing-', 'leading.and.trailing'],
    ['@@@', 'app'],
  ])('%s → %s', (projectName, expected) => {
    expect(dockerRepositoryName(projectName)).toBe(expected);
  });

  it.each(['@acme/api', 'My App', 'x..y', 'Ünïcode'])('makes a repository Docker accepts from %s', (projectName) => {
    expect(explainInvalidRepository(`localhost:5000/${dockerRepositoryName(projectName)}`)).toBeUndefined();
  });
});
